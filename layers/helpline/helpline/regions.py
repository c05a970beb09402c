"""The region of a contact, as coarse as P8 allows: a Dutch province, `mobile`, `abroad:<country>`,
`abroad:other` for a small country or a number of no country.

Never a city or anything finer: a region must not help anyone find a person. The province comes from
the area code of a Dutch fixed-line number (`phonenumbers` knows cities, not provinces, so the
table below maps each of the 141 current Dutch area codes). Codes that cross a province border map
to the province of their largest part; a region is "the area of the number", an estimate, not the
caller's location. Mobile and non-geographic numbers are `mobile`; chat and e-mail are `unknown`.
"""

from __future__ import annotations

from typing import Final

from helpline.identifiers import Identifier

PROVINCES: Final = {
    "NL-GR": "Groningen",
    "NL-FR": "Fryslân",
    "NL-DR": "Drenthe",
    "NL-OV": "Overijssel",
    "NL-FL": "Flevoland",
    "NL-GE": "Gelderland",
    "NL-UT": "Utrecht",
    "NL-NH": "Noord-Holland",
    "NL-ZH": "Zuid-Holland",
    "NL-ZE": "Zeeland",
    "NL-NB": "Noord-Brabant",
    "NL-LI": "Limburg",
}

_AREA_CODES_BY_PROVINCE: Final = {
    "NL-GR": "50 594 595 596 597 598 599",
    "NL-FR": "58 511 512 513 514 515 516 517 518 519 561 562 566",
    "NL-DR": "522 524 528 591 592 593",
    "NL-OV": "38 53 74 521 523 529 541 546 547 548 570 572",
    "NL-FL": "36 320 321 527",
    "NL-GE": "24 26 55 313 314 315 316 317 318 341 342 344 345 418 481 487 488 525 543 544 545 571 573 "
    "575 577 578",
    "NL-UT": "30 33 343 346 347 348",
    "NL-NH": "20 23 35 72 75 222 223 224 226 227 228 229 251 252 255 294 297 299",
    "NL-ZH": "10 15 70 71 78 79 172 174 180 181 182 183 184 186 187",
    "NL-ZE": "111 113 114 115 117 118 166",
    "NL-NB": "13 40 73 76 161 162 164 165 167 168 411 412 413 416 485 486 492 493 497 499",
    "NL-LI": "43 45 46 77 475 478 495",
}
AREA_CODE_PROVINCE: Final = {
    code: PROVINCES[province] for province, codes in _AREA_CODES_BY_PROVINCE.items() for code in codes.split()
}
"""Dutch area code without the trunk 0 (`30` for 030) → province name."""

ABROAD_OTHER: Final = "abroad:other"
"""A country or territory too small to name (P8), or a number of no country (satellite, +800)."""

SMALL_COUNTRIES: Final = frozenset(
    [
        "AC",
        "AD",
        "AG",
        "AI",
        "AS",
        "AW",
        "AX",
        "BB",
        "BL",
        "BM",
        "BN",
        "BQ",
        "BS",
        "BT",
        "BZ",
        "CC",
        "CK",
        "CV",
        "CW",
        "CX",
        "DM",
        "EH",
        "FJ",
        "FK",
        "FM",
        "FO",
        "GD",
        "GF",
        "GG",
        "GI",
        "GL",
        "GP",
        "GU",
        "GY",
        "IM",
        "IO",
        "IS",
        "JE",
        "KI",
        "KM",
        "KN",
        "KY",
        "LC",
        "LI",
        "LU",
        "MC",
        "ME",
        "MF",
        "MH",
        "MO",
        "MP",
        "MQ",
        "MS",
        "MT",
        "MV",
        "NC",
        "NF",
        "NR",
        "NU",
        "PF",
        "PM",
        "PN",
        "PW",
        "RE",
        "SB",
        "SC",
        "SH",
        "SJ",
        "SM",
        "SR",
        "ST",
        "SX",
        "TA",
        "TC",
        "TK",
        "TO",
        "TV",
        "VA",
        "VC",
        "VG",
        "VI",
        "VU",
        "WF",
        "WS",
        "YT",
    ]
)
"""Countries and territories of fewer than about a million people (UN estimates, 2024): naming one
beside a contact's time to the second could point to a person (Tristan da Cunha has some 250), so their
contacts are `abroad:other` (P8)."""

REGIONS: Final = frozenset({*PROVINCES.values(), "mobile", "unknown", ABROAD_OTHER})
"""Every region value but `abroad:<ISO country>`."""

_MOBILE_LIKE: Final = frozenset(
    {
        "MOBILE",
        "VOIP",
        "UAN",
        "PERSONAL_NUMBER",
        "PAGER",
        "TOLL_FREE",
        "PREMIUM_RATE",
        "SHARED_COST",
        "VOICEMAIL",
    }
)
"""Number types (names of `phonenumbers.PhoneNumberType`) registered as `mobile`: not tied to a place."""
_FIXED_LINE: Final = frozenset({"FIXED_LINE", "FIXED_LINE_OR_MOBILE"})


def region_of(identifier: Identifier | None) -> str:
    """The region for the registration (P8) of a contact from `identifier`."""
    if identifier is None or identifier.kind != "phone":
        return "unknown"
    import phonenumbers  # only the voice path needs it (see `identifiers.phone`)

    try:
        number = phonenumbers.parse(identifier.reveal(), None)
    except phonenumbers.NumberParseException:
        return "unknown"
    if number.country_code is None:
        return "unknown"
    if number.country_code != 31:
        country = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
            number.country_code
        )
        if not country or country == "ZZ":
            return "unknown"
        if country == "001" or country in SMALL_COUNTRIES:  # 001: a number of no country (+800, +881 ...)
            return ABROAD_OTHER
        return f"abroad:{country}"
    kind = phonenumbers.PhoneNumberType.to_string(phonenumbers.number_type(number))
    if kind in _MOBILE_LIKE:
        return "mobile"
    if kind in _FIXED_LINE:
        national = phonenumbers.national_significant_number(number)
        province = AREA_CODE_PROVINCE.get(national[:2]) or AREA_CODE_PROVINCE.get(national[:3])
        return province or "unknown"
    return "unknown"
