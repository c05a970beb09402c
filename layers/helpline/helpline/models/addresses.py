"""Normalise a line's address (the organisation's own number or channel, never a caller's).

One canonical form per channel, so that the ingest path can look a line up by the address a provider
reports. Error messages never repeat the value: the same functions may one day see input that should
not end up in a response or a log.
"""

from __future__ import annotations

import re
from typing import Final

from helpline.models.common import Channel

DEFAULT_PHONE_REGION: Final = "NL"
CHAT_CHANNEL_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Deliberately loose: the mail provider judges deliverability; we only need one canonical form.
EMAIL_PATTERN: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_MAX_LENGTH: Final = 254


def normalise_phone_number(raw: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164 (`+31201234567`) from a national or international notation; region NL by default.

    `phonenumbers` is imported on first use: the chat and e-mail functions load this module for its
    other rules and never parse a number (see `helpline.identifiers.phone`).
    """
    import phonenumbers

    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_email_address(raw: str) -> str:
    """Lower-case, because providers report mailbox names in whatever case the sender typed."""
    address = raw.strip().lower()
    if len(address) > EMAIL_MAX_LENGTH or not EMAIL_PATTERN.match(address):
        raise ValueError("not an e-mail address")
    return address


def normalise_chat_channel(raw: str) -> str:
    """A chat channel is named by a slug, as the chat platform configures it."""
    channel = raw.strip()
    if not CHAT_CHANNEL_PATTERN.match(channel):
        raise ValueError("a chat channel is a slug: a-z, 0-9 and '-', at most 63 characters")
    return channel


def normalise_address(channel: Channel, raw: str) -> str:
    """The canonical address of a line on `channel`."""
    if channel == "voice":
        return normalise_phone_number(raw)
    if channel == "email":
        return normalise_email_address(raw)
    return normalise_chat_channel(raw)
