"""Caller identifiers: normalised first, then only ever handled inside an `Identifier` (P2, P3).

An `Identifier` never shows its value: not in `repr`, `str`, f-strings, logs or exception messages.
Code that must see the value (the encrypting vault, the pseudonym) asks for it with `reveal()`, which
is easy to find in review. Normalising first means `0612345678`, `06-12345678` and `+31612345678` are
one person for the daily limit (P10) and one value for a disclosure (P7).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

import phonenumbers

IdentifierKind = Literal["phone", "email", "ip", "reference"]
"""`reference`: a provider's id for the contact (CallSid, Connect ContactId, chat session id,
e-mail Message-ID). It leads back to a person through the provider, so it is an identifier too."""
DEFAULT_REGION = "NL"


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
    """
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidIdentifierError("not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidIdentifierError("not a possible phone number")
    return Identifier("phone", phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def email(raw: str) -> Identifier:
    """An e-mail address, lower-cased, its domain in IDNA (ASCII) form."""
    text = raw.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in text):
        raise InvalidIdentifierError("not an e-mail address")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidIdentifierError("not an e-mail domain") from None
    return Identifier("email", f"{local.lower()}@{ascii_domain.lower()}")


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
    """A provider reference, kept as given (trimmed)."""
    text = raw.strip()
    if not text or len(text) > 512:
        raise InvalidIdentifierError("not a provider reference")
    return Identifier("reference", text)
