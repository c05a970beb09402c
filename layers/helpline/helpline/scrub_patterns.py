"""Contact details and numbers in free text, found by pattern alone (P2, P3, P5, P8).

`helpline.scrub.pre_scrub` is this module's `replace_contact_details`: it runs before deduce in the
report scrubber, and on its own where free text must not carry an identifier (a disclosure request's
description, `logic.disclosures.identifiers_in`). So everything that leads straight back to a person
by way of a channel is caught here, with no word list and without loading deduce: phone numbers
(Dutch, Belgian, German, any `+` or `00` number), e-mail addresses (also written as `jan [at] example
[dot] com` or `jan&#64;example.com`), web addresses, IP addresses (v4 and v6), IBAN and BSN numbers,
Dutch licence plates and social media handles. Each is replaced by an unnumbered tag in deduce's style
(`[TELEFOONNUMMER]`); deduce then sees the tag, not the detail.

HTML first: a mail body arrives as HTML (`Kerkstraat&nbsp;5`, `jan&#64;example.com`), and every
pattern after it, ours and deduce's, must see the text a reader sees. Tags are dropped (block tags
become line breaks), entities decoded, and non-breaking spaces and hyphens made plain.
"""

from __future__ import annotations

import html
import ipaddress
import re
from typing import Final


def words(text: str) -> frozenset[str]:
    """A word list written as one string, for the eye: lists of Dutch words read better so."""
    return frozenset(text.split())


# ---------------------------------------------------------------- HTML as text

_HTML_TAG: Final = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>", re.DOTALL)
_HTML_DROPPED: Final = re.compile(r"<(script|style|head)\b[^>]*>.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_HTML_BLOCK: Final = re.compile(
    r"</?(?:br|p|div|li|ul|ol|tr|table|h[1-6]|blockquote|pre|hr|section|article|body|html)\b", re.IGNORECASE
)
_HTML_CELL: Final = re.compile(r"</?(?:td|th)\b", re.IGNORECASE)
_BLANK_LINES: Final = re.compile(r"[ \t]*\n(?:[ \t]*\n)+")
_ENTITY: Final = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_PLAIN: Final = str.maketrans(
    {
        "\u00a0": " ",  # no-break space (&nbsp;)
        "\u2007": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen (&#8209;)
        "\u2012": "-",
        "\u2013": "-",  # en dash
        "\u00ad": None,  # soft hyphen
        "\u200b": None,  # zero-width space
    }
)


def _tag_as_text(tag: re.Match[str]) -> str:
    text = tag.group(0)
    if _HTML_BLOCK.match(text):
        return "\n"
    return " " if _HTML_CELL.match(text) else ""


def html_to_text(text: str) -> str:
    """`text` as a reader sees it: tags dropped, entities decoded, special spaces and hyphens plain.

    A text with no tag in it keeps its angle brackets (`ik <3 jou`); entities are decoded in any text.
    """
    if _HTML_TAG.search(text):
        text = _HTML_DROPPED.sub(" ", text)
        text = _HTML_TAG.sub(_tag_as_text, text)
        text = _BLANK_LINES.sub("\n", text).strip()
    text = _ENTITY.sub(lambda entity: html.unescape(entity.group(0)), text)
    return text.translate(_PLAIN)


# ---------------------------------------------------------------- e-mail and web addresses

_EMAIL: Final = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_TLD: Final = r"(?:com|net|org|nl|be|de|eu|fr|uk|co|io|me|nu|info|biz|email|online|live|example|ch|lu|at)"
_AT_WORD: Final = r"(?:at|apenstaartje|apestaartje|apenstaart)"
_DOT_WORD: Final = r"(?:dot|punt)"
_OPEN: Final = r"\s*[\[({<]\s*"
_CLOSE: Final = r"\s*[\])}>]\s*"
_AT: Final = rf"(?:{_OPEN}(?:{_AT_WORD}|@){_CLOSE}|\s+{_AT_WORD}\s+|\s*@\s*)"
_DOT: Final = rf"(?:{_OPEN}(?:{_DOT_WORD}|\.){_CLOSE}|\s+{_DOT_WORD}\s+|\s*\.\s*)"
_OBFUSCATED_EMAIL: Final = re.compile(
    # Local part (its dots may be written out too), an @ in words or brackets, a domain ending in a
    # known top-level domain: the domain is what keeps `ik zit at home` out.
    # Repetitions are bounded, so a long run of `a . a . a` costs linear time, not quadratic.
    rf"(?<![\w.+-])[\w+-]{{1,64}}(?:{_DOT}[\w+-]{{1,64}}){{0,4}}?{_AT}[\w-]{{1,63}}(?:{_DOT}[\w-]{{1,63}}){{0,3}}?"
    rf"{_DOT}{_TLD}(?![\w-])",
    re.IGNORECASE,
)
_URL: Final = re.compile(
    # A bare domain's labels are at most 63 characters (as in DNS) and few: bounded, so a long run
    # of `ab-ab-ab` or `1.1.1.1` costs linear time.
    r"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>\"']+"
    r"|\b[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,8}\.(?:nl|com|org|net|eu|be|de|info|io)(?:/[^\s<>\"']*)?\b"
)

# ---------------------------------------------------------------- IP addresses

_IPV4: Final = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d]|\.\d)"
)
_IPV6_CANDIDATE: Final = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f.]{0,15}(?![\w:])")


def _ipv6(candidate: re.Match[str]) -> str:
    """An IPv6 address only if it parses as one: a time `12:30:45` does not."""
    text = candidate.group(0).rstrip(".")
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return candidate.group(0)
    return "[IPADRES]" + candidate.group(0)[len(text) :]


# ---------------------------------------------------------------- account and citizen numbers

_SEP: Final = r"[ \t.\-]?"
_IBAN: Final = re.compile(
    # Two letters, two check digits, then 11-30 letters or digits, in groups of four or not.
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_NINE: Final = _SEP.join([r"\d"] * 9)
_NINE_DIGITS: Final = re.compile(rf"(?<![\d\w])({_NINE})(?![\d\w])")


def is_bsn(candidate: str) -> bool:
    """The elfproef (11-test) of a Burgerservicenummer."""
    digits = re.sub(r"\D", "", candidate)
    if len(digits) != 9:
        return False
    total = sum(int(d) * f for d, f in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return total % 11 == 0


def _bsn(match: re.Match[str]) -> str:
    return "[BSN]" if is_bsn(match.group(1)) else match.group(0)


# ---------------------------------------------------------------- phone numbers

_GAP: Final = r"[ \t.\-()/]{0,2}"
_PHONE: Final = re.compile(
    r"(?<![\w+])(?:"
    # The Netherlands, international: +31 / 0031, an optional (0), then nine digits.
    rf"(?:\+|00)\s?31{_GAP}(?:\(0\){_GAP})?\(?\d(?:{_GAP}\d){{8}}"
    # Any other country: + or 00 and a country code, then 7 to 13 digits (+32 470 12 34 56,
    # +49 (0)221 1234567, 0049 171 9876543).
    rf"|(?:\+|00)\s?[1-9]\d{{0,2}}{_GAP}(?:\(0\){_GAP})?\(?\d(?:{_GAP}\d){{6,12}}"
    # National, ten digits: Dutch (06-12345678, 030 123 45 67, (030) 1234567) and Belgian mobile
    # (0470 12 34 56, 0476/12.34.56).
    rf"|\(?0\d(?:{_GAP}\d){{8}}"
    # German, eleven or twelve digits: mobile (0151 23456789) and landline ((0221) 1234567).
    r"|\(?0[1-9]\d{1,4}\)?[\s./-]?\d(?:[\s./-]?\d){5,8}"
    # Belgian landline, nine digits: 09 234 56 78, 02 123 45 67.
    r"|0[1-9](?:[ ./-]?\d){7}"
    # Dutch service numbers: 0800 / 0900 / 0900-xxxx.
    r"|0[89]0\d[\s.\-]?\d{3,7}"
    r")(?!\d|[:.,]\d)"
)
_SERVICE: Final = re.compile(r"0[89]0\d")
_DATE_START: Final = re.compile(r"\(?\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?!\d)")


def _phone(match: re.Match[str]) -> str:
    """A phone number of 9 to 15 digits (8 for 0800/0900), unless it starts as a date."""
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    shortest = 8 if _SERVICE.match(text) else 9
    if _DATE_START.match(text) or not shortest <= digits <= 15:
        return text
    return "[TELEFOONNUMMER]"


# ---------------------------------------------------------------- licence plates and handles

_L: Final = "[A-Za-z]"  # not re.IGNORECASE: case folding 14 alternatives costs a cold start 15 ms
_D: Final = r"\d"
_SIDECODES: Final = words(
    # Dutch sidecodes 1-14 (L a letter, D a digit).
    "LL-DD-DD DD-DD-LL DD-LL-DD LL-DD-LL LL-LL-DD DD-LL-LL DD-LLL-D D-LLL-DD LL-DDD-L L-DDD-LL LLL-DD-L "
    "L-DD-LLL D-LL-DDD DDD-LL-D"
)
_PLATE: Final = re.compile(
    r"(?<![\w-])(?:"
    + "|".join(
        "-".join("".join(_L if c == "L" else _D for c in group) for group in code.split("-"))
        for code in sorted(_SIDECODES)
    )
    + r")(?![\w-])"
)
_AT_HANDLE: Final = re.compile(r"(?<![\w@.+/-])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?")
_PLATFORM: Final = (
    r"(?:snapchat|snap|insta(?:gram)?|tik\s?tok|twitter|facebook|fb|discord|telegram|roblox|fortnite"
    r"|minecraft|steam|twitch|youtube|threads|bereal|pinterest|reddit|kik|gamertag|gebruikersnaam"
    r"|username|accountnaam|schermnaam|nickname)"
)
_HANDLE_AFTER_PLATFORM: Final = re.compile(
    rf"\b{_PLATFORM}(?:[\s-]?(?:naam|name|account|profiel|id|handle))?"
    r"(?P<connector>\s*[:=]\s*|\s+(?:is|was|heet|heette)(?:\s+(?:ze|hij|zij|ik|het|die))?\s*:?\s+|\s+)"
    r"(?P<handle>@?[A-Za-z0-9_][\w.#-]*[\w#])",
    re.IGNORECASE,
)
_NOT_A_HANDLE: Final = words(
    "ze hij zij ik het die dat de een er niet nog al echt heel erg wel ook zo privé prive openbaar weg "
    "verwijderd gehackt nep vol leeg nieuw oud gesloten dicht open uit aan zijn haar mijn jouw je hun "
    "geblokkeerd actief offline online"
)


def _handle(match: re.Match[str]) -> str:
    """A handle after the platform's name: one that looks like one (digits, `_`, `.`, `#`, a leading
    `@`), or any word but a plain Dutch one after an explicit `is` / `heet` / `:`."""
    handle = match.group("handle")
    looks_like_one = any(c.isdigit() or c in "_.#@" for c in handle)
    explicit = bool(match.group("connector").strip())
    if looks_like_one or (explicit and handle.lower() not in _NOT_A_HANDLE):
        start = match.start("handle") - match.start()
        return match.group(0)[:start] + "[ACCOUNT]"
    return match.group(0)


# ---------------------------------------------------------------- the pass


def replace_contact_details(text: str) -> str:
    """`text` read as text (HTML decoded), with every contact detail and number replaced by its tag.

    The order matters: e-mail before web addresses (an address contains a domain), IP addresses
    before phone numbers, IBAN before phone numbers (its digits would pass for one), phone numbers
    before BSN (a BSN's nine digits are found inside a spaced phone number by chance), and
    handles last (an e-mail address and a web address hold an `@` too).
    """
    text = html_to_text(text)
    text = _EMAIL.sub("[EMAILADRES]", text)
    text = _OBFUSCATED_EMAIL.sub("[EMAILADRES]", text)
    text = _URL.sub("[URL]", text)
    text = _IPV6_CANDIDATE.sub(_ipv6, text)
    text = _IPV4.sub("[IPADRES]", text)
    text = _IBAN.sub("[IBAN]", text)
    text = _PHONE.sub(_phone, text)
    text = _NINE_DIGITS.sub(_bsn, text)
    text = _PLATE.sub("[KENTEKEN]", text)
    text = _AT_HANDLE.sub("[ACCOUNT]", text)
    return _HANDLE_AFTER_PLATFORM.sub(_handle, text)
