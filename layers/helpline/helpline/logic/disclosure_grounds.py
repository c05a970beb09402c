"""The grounds of a disclosure request (P6, P7) and its free text (P2, P3): pure rules, no ports.

Grounds that mean something (P6, P7): a demand names who else is in danger by a category that is never
the person themselves, and its date lies between the contact's month and today; a consent names a user
of the organisation's pool who recorded it, between the contact's start and now, and how. Each failed
rule is a reason for a 422 naming the field and the rule, never quoting the value (`refusal`,
`timing_refusal`); `logic.disclosure_requests` raises it.

No identifier is stored with a request (P2, P3: a caller's number, IP address or e-mail address exists
only encrypted). Field by field, what a request's text may carry and what happens to a contact detail
(a phone number, an e-mail address plain or obfuscated, an IP address, a web address, a handle, an IBAN
or BSN) in it:

- `legal_order.reference`, `.officer_of_justice`, `.prosecutor_office`: **refused** (422). They are the
  particulars of a legal document, stored as written and checked by the custodian's officer against the
  demand itself; silently altering one would misstate the demand, so an identifier there is a mistake
  the professional must correct (`particulars_refusal`).
- `consent.recorded_by`: **refused** (422), before the user pool is asked: it must name a member of
  staff, and a caller's number typed into it must not travel on to Cognito.
- `third_party_danger.description`, `consent.statement`: **scrubbed**. They are the professional's own
  account; what matters in them is the danger or the consent, never a contact detail, so each detail
  is replaced by a tag (`[TELEFOONNUMMER]`, `[EMAILADRES]`, `[IPADRES]`, ...) and the rest is kept
  (`scrubbed_request`).
- A decision's reason (approve, reject) and the custodian officer's reason of a refusal: **scrubbed**,
  likewise (`scrubbed_text`).
- `basis`, `third_party_danger.category`: free text in the schema only so that a wrong value is refused
  with its reason; only one of the closed set is ever stored.

Scrubbing uses `helpline.scrub.pre_scrub` (regex only; it loads no language model, so the disclosures
path stays light), whose contract is: contact details in, tags out. An IP address pass of our own runs
before it, as a net. Scrubbed text is cut to the field's length afterwards (a tag is longer than what it
replaces), so what is stored always fits its model.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime, timedelta
from typing import Final

from helpline.models.disclosures import (
    BASES,
    REASON_MAX,
    STATEMENT_MAX,
    THIRD_PARTY_CATEGORIES,
    DisclosureRequestIn,
    ThirdPartyDanger,
)
from helpline.periods import period_of, period_start
from helpline.scrub import pre_scrub

SELF_CATEGORIES: Final = frozenset(
    {
        "self",
        "myself",
        "himself",
        "herself",
        "themselves",
        "themself",
        "person",
        "the_person",
        "person_themselves",
        "the_person_themselves",
        "caller",
        "the_caller",
        "chatter",
        "mailer",
        "contact",
        "danger_to_self",
        "zelf",
        "zichzelf",
        "beller",
        "de_beller",
        "persoon",
        "de_persoon",
    }
)
"""Categories that would name the person themselves: refused with P7, not as an unknown category."""
NOBODY_CATEGORIES: Final = frozenset(
    {
        "none",
        "nobody",
        "nobody_else",
        "no_one",
        "no_one_else",
        "noone",
        "no_third_party",
        "no_third_parties",
        "n/a",
        "na",
        "not_applicable",
        "niemand",
        "niemand_anders",
        "geen",
        "geen_derden",
    }
)
"""Categories that say nobody else is at risk: refused with P6."""

_NOBODY_ELSE: Final = re.compile(
    r"\b(?:"
    # English: "nobody else is at risk", "no third party in danger", "no danger to others", ...
    r"(?:no[- ]?one|nobody|no other (?:person|people)|no others|no third[- ]part(?:y|ies))"
    r"(?: else)?\s+(?:(?:is|are|was|were)\s+)?(?:at risk|in danger|endangered|threatened)"
    r"|no (?:danger|risk|threat) to (?:others|anyone|anybody|other people|third parties)"
    r"|not a (?:danger|risk|threat) to (?:others|anyone|anybody|other people)"
    r"|only (?:a )?(?:danger|risk|threat) to (?:him|her|them)sel(?:f|ves)"
    r"|(?:danger|risk|threat) to (?:him|her|them)sel(?:f|ves) only"
    # Dutch: "niemand anders in gevaar", "geen gevaar voor derden", "alleen een gevaar voor zichzelf".
    r"|niemand anders (?:is |loopt )?(?:in )?gevaar"
    r"|geen (?:gevaar|risico|dreiging) voor (?:derden|anderen|een ander|andere personen)"
    r"|geen derden in gevaar"
    r"|(?:alleen|enkel|uitsluitend) (?:een )?(?:gevaar|risico) voor (?:zich)?zelf"
    r"|(?:alleen|enkel|uitsluitend) voor (?:zich)?zelf (?:een )?(?:gevaar|risico)"
    r")\b",
    re.IGNORECASE,
)
"""Phrases of a description that say nobody else is at risk. A heuristic behind the rule, not the rule:
the category is the rule; this catches a description that contradicts it (the defect of issue 9)."""

IP_TAG: Final = "[IPADRES]"
_IDENTIFIER_TAGS: Final = (
    ("[TELEFOONNUMMER]", "a phone number"),
    ("[EMAILADRES]", "an e-mail address"),
    (IP_TAG, "an IP address"),
    ("[URL]", "a web address"),
    ("[IBAN]", "a bank account number"),
    ("[BSN]", "a citizen service number (BSN)"),
    ("[ACCOUNT]", "a social media handle"),
    ("[KENTEKEN]", "a licence plate"),
)
"""Tags of `scrub_contact_details` with the kind a refusal names. A tag `pre_scrub` may add that is not
listed still counts, as "an identifier"."""
_TAG: Final = re.compile(r"\[[A-Z][A-Z_-]*\]")
"""A tag in deduce's style, as `pre_scrub` writes them."""
_IPV4: Final = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?!\.?\d)"
)
_IPV6_CANDIDATE: Final = re.compile(r"(?<![\w:])[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?![\w:])")
"""Two colons among hex digits, not inside a word; `_ipv6` keeps only what parses as an IPv6 address."""
CUT_MARK: Final = "…"

NL_AHEAD_OF_UTC: Final = timedelta(hours=2)
"""The Netherlands are at most two hours ahead of UTC (CEST): a demand dated today there is never
dated later than the UTC date two hours on. No time-zone database needed."""


# ---------------------------------------------------------------- free text (P2, P3)


def _ipv6(match: re.Match[str]) -> str:
    candidate = match.group(0)
    trimmed = candidate.rstrip(".:") if not candidate.endswith("::") else candidate.rstrip(".")
    try:
        ipaddress.IPv6Address(trimmed)
    except ValueError:
        return candidate
    return IP_TAG + candidate[len(trimmed) :]


def scrub_contact_details(text: str) -> str:
    """`text` with every contact detail replaced by a tag (P2, P3): IP addresses (v4 and v6) by our own
    pass first, then `helpline.scrub.pre_scrub` (phone numbers in every format, e-mail addresses plain
    and obfuscated, web addresses, handles, IBAN and BSN numbers)."""
    text = _IPV4.sub(IP_TAG, text)
    text = _IPV6_CANDIDATE.sub(_ipv6, text)
    return pre_scrub(text)


def fitted(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, marked `…` where it was cut. Applied after scrubbing, never
    before: a cut before could split an identifier so the scrubber no longer sees it."""
    if len(text) <= limit:
        return text
    return text[: limit - len(CUT_MARK)].rstrip() + CUT_MARK


def scrubbed_text(text: str, limit: int = REASON_MAX) -> str:
    """Free text as it may be stored: contact details replaced by tags, cut to `limit` (P2, P3)."""
    return fitted(scrub_contact_details(text), limit)


def scrubbed_request(request: DisclosureRequestIn) -> DisclosureRequestIn:
    """`request` with its free text scrubbed: the danger's description and the consent statement
    (see the module's docstring for why these are scrubbed and the legal order's particulars refused)."""
    changes: dict[str, object] = {}
    danger = request.third_party_danger
    if danger is not None:
        changes["third_party_danger"] = danger.model_copy(
            update={"description": scrubbed_text(danger.description, STATEMENT_MAX)}
        )
    consent = request.consent
    if consent is not None:
        changes["consent"] = consent.model_copy(
            update={"statement": scrubbed_text(consent.statement, STATEMENT_MAX)}
        )
    return request.model_copy(update=changes)


def identifiers_in(text: str) -> list[str]:
    """The kinds of contact detail in `text` (P2, P3), by what `scrub_contact_details` tags. Kinds only:
    a refusal names the kind, never the value."""
    scrubbed = scrub_contact_details(text)
    if len(_TAG.findall(scrubbed)) <= len(_TAG.findall(text)):
        return []  # changed at most as HTML read as text: no detail replaced
    found = [kind for tag, kind in _IDENTIFIER_TAGS if scrubbed.count(tag) > text.count(tag)]
    return found or ["an identifier"]


def identifier_refusal(field: str, text: str, why: str) -> str | None:
    """The reason to refuse `field` when its text holds a contact detail, or None. `why`: why this field
    is refused rather than scrubbed."""
    kinds = identifiers_in(text)
    if not kinds:
        return None
    return (
        f"Refused: {field} contains {' and '.join(kinds)}; an identifier is kept only encrypted (P2, P3), "
        f"never in a request's text, and {why}: leave it out"
    )


PARTICULARS: Final = ("reference", "officer_of_justice", "prosecutor_office")


def particulars_refusal(request: DisclosureRequestIn) -> str | None:
    """An identifier in the legal order's particulars is refused, not scrubbed: they are stored as
    written, since the custodian's officer checks them against the demand (P7)."""
    order = request.legal_order
    if order is None:
        return None
    for name in PARTICULARS:
        reason = identifier_refusal(
            f"legal_order.{name}",
            str(getattr(order, name)),
            "the particulars of a demand are kept as written, never altered",
        )
        if reason is not None:
            return reason
    return None


# ---------------------------------------------------------------- grounds (P6, P7)


def normalised_category(category: str) -> str:
    """`Danger to self` and `danger-to-self` as `danger_to_self`: how a category is compared."""
    return re.sub(r"[\s\-]+", "_", category.strip().lower())


def danger_refusal(danger: ThirdPartyDanger) -> str | None:
    """Who else is in danger (P6): a known category other than the person themselves (P7), and a
    description that does not say nobody else is at risk. A contact detail in the description is
    scrubbed before it is stored (`scrubbed_request`), not refused."""
    category = normalised_category(danger.category)
    if category in SELF_CATEGORIES:
        return (
            "Refused: third_party_danger.category names the person themselves. A person who is a danger "
            "only to themselves stays anonymous (P7); anonymity is broken only when third parties are in "
            "danger (P6)"
        )
    if category in NOBODY_CATEGORIES:
        return (
            "Refused: third_party_danger.category says nobody else is in danger. Anonymity is broken only "
            "when third parties are in danger (P6); a person who is a danger only to themselves stays "
            "anonymous (P7)"
        )
    if category not in THIRD_PARTY_CATEGORIES:
        return (
            "Refused: third_party_danger.category must say who else is in danger (P6), one of: "
            + ", ".join(THIRD_PARTY_CATEGORIES)
        )
    if _NOBODY_ELSE.search(danger.description):
        return (
            "Refused: third_party_danger.description says nobody else is in danger. Anonymity is broken "
            "only when third parties are in danger (P6); a person who is a danger only to themselves "
            "stays anonymous (P7)"
        )
    return None


def refusal(request: DisclosureRequestIn) -> str | None:
    """The reason a request has no legal basis (P6, P7) or carries an identifier where one is refused
    (P2, P3), or None.

    Only what the request itself shows; `timing_refusal` checks its dates against the contact and our
    clock, and `request_disclosure` asks the user pool about the consent's recorder.
    """
    if request.danger_to_self_only:
        return (
            "Refused: a person who is a danger only to themselves stays anonymous (P7); "
            "anonymity is broken only to protect third parties"
        )
    if request.basis is None:
        return "Refused: a disclosure needs a legal basis: legal_order_126nc or consent (P7)"
    if request.basis not in BASES:
        return "Refused: the only legal bases are legal_order_126nc and consent (P7)"
    if request.basis == "legal_order_126nc":
        if request.legal_order is None:
            return "Refused: basis legal_order_126nc needs the legal_order (art. 126nc Sv demand)"
        if request.third_party_danger is None:
            return (
                "Refused: a disclosure on a legal order needs third_party_danger: "
                "who else is in danger, by category and description (P6)"
            )
        return danger_refusal(request.third_party_danger) or particulars_refusal(request)
    if request.consent is None:
        return (
            "Refused: basis consent needs the consent record (who recorded it, when, how, and what was "
            "consented to)"
        )
    return identifier_refusal(
        "consent.recorded_by",
        request.consent.recorded_by,
        "it names the member of staff who recorded the consent",
    )


def latest_plausible_date(now: datetime) -> date:
    """The latest date a document issued in the Netherlands can bear at `now` (see NL_AHEAD_OF_UTC)."""
    return (now + NL_AHEAD_OF_UTC).date()


def timing_refusal(request: DisclosureRequestIn, contact_started_at: datetime, now: datetime) -> str | None:
    """The dates of the grounds must be plausible (P7), on our clock (`helpline.clock`), or a reason.

    A demand is not dated in the future, nor before the month (key period, `helpline.periods`) in which
    the contact was made: a demand names the data of a period, so its own month is the finest grain it
    can be held to. A consent is not recorded in the future, nor before the contact started; to the
    minute, since a person types the time they wrote down and our clock counts seconds.
    """
    order = request.legal_order
    if request.basis == "legal_order_126nc" and order is not None:
        if order.issued_on > latest_plausible_date(now):
            return (
                "Refused: legal_order.issued_on is in the future (on our clock); a demand is dated on or "
                "before the day it is presented (P7)"
            )
        if order.issued_on < period_start(period_of(contact_started_at)).date():
            return (
                "Refused: legal_order.issued_on is before the month in which the contact was made; "
                "a demand for its identifying data cannot predate it (P7)"
            )
    consent = request.consent
    if request.basis == "consent" and consent is not None:
        if consent.recorded_at > now:
            return "Refused: consent.recorded_at is in the future (on our clock)"
        if consent.recorded_at < contact_started_at.replace(second=0, microsecond=0):
            return (
                "Refused: consent.recorded_at is before the contact started; consent to break the "
                "anonymity of a contact is given during or after it (P7)"
            )
    return None
