"""Caller identifiers: normalised first, then only ever handled inside an `Identifier` (P2, P3).

An `Identifier` never shows its value: not in `repr`, `str`, f-strings, logs or exception messages.
Code that must see the value (the encrypting vault, the pseudonym) asks for it with `reveal()`, which
is easy to find in review. Normalising first means `0612345678`, `06-12345678` and `+31612345678` are
one person for the daily limit (P10) and one value for a disclosure (P7).
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

IdentifierKind = Literal["phone", "email", "ip", "reference"]
"""`reference`: a provider's id for the contact (CallSid, Connect ContactId, chat session id,
e-mail Message-ID). It leads back to a person through the provider, so it is an identifier too."""
DEFAULT_REGION = "NL"
MAX_REFERENCE_LENGTH = 512
MAX_LABEL_LENGTH = 63
MAX_DOMAIN_LENGTH = 253
_IDEOGRAPHIC_STOPS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
"""Dots other scripts write between labels, read as "." (as IDNA does)."""


class InvalidIdentifierError(ValueError):
    """The raw value is not a usable identifier. The message names the kind, never the value."""


@dataclass(frozen=True, slots=True)
class Identifier:
    """A normalised identifier whose value stays hidden unless `reveal()` is called."""

    kind: IdentifierKind
    _value: str = field(repr=False)

    def reveal(self) -> str:
        """The value in clear: only for encrypting, keyed hashing and the region lookup."""
        return self._value

    def __repr__(self) -> str:
        return f"Identifier({self.kind}, <redacted>)"

    __str__ = __repr__

    def __format__(self, _spec: str) -> str:
        return repr(self)


def phone(raw: str, default_region: str = DEFAULT_REGION) -> Identifier:
    """A phone number in E.164 (`+31612345678`), parsed with `phonenumbers`.

    Numbers are kept as the network presents them even if `phonenumbers` thinks them invalid (a new
    range, a test range): a caller's number must never fail a call.

    `phonenumbers` is imported here, not at the top: chat and e-mail functions never parse a number
    and should not pay for its import in their cold start (voice functions import it before their
    SnapStart snapshot, `warm_phone_numbers`).
    """
    import phonenumbers

    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidIdentifierError("not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidIdentifierError("not a possible phone number")
    return Identifier("phone", phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def warm_phone_numbers() -> None:
    """Import `phonenumbers` and load the Dutch metadata.

    The voice functions register this to run before their SnapStart snapshot, so that a restored
    environment has it loaded and the first caller does not wait for it.
    """
    phone("+31201234567")


def _is_text(value: str) -> bool:
    """Whether `value` is valid Unicode: no lone surrogate (what JSON or a byte parser may produce).

    Such a value cannot be encoded as UTF-8, so keying, counting or encrypting it would raise
    `UnicodeEncodeError` halfway through an intake: it is refused here, as not an identifier.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _ascii_label(label: str) -> str:
    """One domain label in its ASCII form (IDNA), lower case.

    Python's `idna` codec (IDNA 2003) is used, which also maps compatibility forms (full-width
    letters) and case as UTS 46 does. Where IDNA 2003 would turn the label into another name (ß to
    "ss", final sigma to sigma, joiners dropped) the label is kept as written and Punycode-encoded, as
    IDNA 2008 does: `straße.de` and `strasse.de` are different domains, and a disclosure (P7) must
    name the address the mail came from. Raises `UnicodeError` for a label DNS cannot hold.
    """
    if not label:
        raise UnicodeError("empty label")
    written = unicodedata.normalize("NFKC", label).lower()
    encoded = label.encode("idna").decode("ascii").lower()
    if written.isascii() or encoded.encode("ascii").decode("idna") == written:
        return encoded
    punycode = "xn--" + written.encode("punycode").decode("ascii")
    if len(punycode) > MAX_LABEL_LENGTH:
        raise UnicodeError("label too long")
    return punycode


def email(raw: str) -> Identifier:
    """An e-mail address: its local part in NFC and lower case, its domain in IDNA (ASCII) form.

    A UTF-8 local part (`jösé@example.nl`, RFC 6531 SMTPUTF8) is kept in Unicode, normalised to NFC
    so that one address typed two ways is one person for the daily limit (P10); an internationalised
    domain (`jan@exämple.nl`) becomes its ASCII form (`xn--exmple-cua.nl`), so that both spellings of
    it are one address too (`_ascii_label`).
    """
    text = raw.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in text) or not _is_text(text):
        raise InvalidIdentifierError("not an e-mail address")
    return Identifier("email", f"{unicodedata.normalize('NFC', local).lower()}@{ascii_domain(domain)}")


def ascii_domain(domain: str) -> str:
    """A domain name in its ASCII (IDNA) form, lower case, without the root's dot (`_ascii_label`).

    Raises `InvalidIdentifierError` for what cannot be a domain (an empty or too long label).
    """
    if not _is_text(domain):
        raise InvalidIdentifierError("not an e-mail domain")
    labels = domain.translate(_IDEOGRAPHIC_STOPS).split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()  # the root's dot: `example.nl.` is `example.nl`
    try:
        ascii_name = ".".join(_ascii_label(label) for label in labels)
    except UnicodeError:
        raise InvalidIdentifierError("not an e-mail domain") from None
    if len(ascii_name) > MAX_DOMAIN_LENGTH:
        raise InvalidIdentifierError("not an e-mail domain")
    return ascii_name


def ip_address(raw: str) -> Identifier:
    """An IP address in canonical form (IPv4 dotted, IPv6 compressed; IPv4-mapped IPv6 as IPv4)."""
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        raise InvalidIdentifierError("not an IP address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return Identifier("ip", str(address))


def reference(raw: str) -> Identifier:
    """A provider reference, kept as given (trimmed): 1 to 512 characters of valid Unicode."""
    text = raw.strip()
    if not text or len(text) > MAX_REFERENCE_LENGTH or not _is_text(text):
        raise InvalidIdentifierError("not a provider reference")
    return Identifier("reference", text)
