"""What the providers tell us, in one vocabulary (DESIGN: "Providers are adapters").

Each provider adapter (Twilio, Amazon Connect, web chat, e-mail) verifies its request and turns it into
these events; nothing past the adapter knows a provider's field names. Identifiers travel only inside
`Identifier` (P2, P3), so an event can be logged or put in an exception without leaking one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from helpline.identifiers import Identifier
from helpline.models.common import Channel

Sender = Literal["contact", "volunteer"]

EARLIEST: Final = datetime.min.replace(tzinfo=UTC)
LATEST: Final = datetime.max.replace(tzinfo=UTC)


def as_utc(value: datetime) -> datetime:
    """A provider's time as aware UTC, whatever it is; a time without a zone is taken as UTC.

    Never raises: a time that UTC cannot represent (year 1 east of Greenwich, year 9999 west of it) is
    clamped to the first or last representable moment. Such a time is absurd anyway, and the domain
    replaces it by our receipt time (`helpline.logic.retention.provider_time`); what must not happen
    is an `OverflowError` that turns a person's contact into a 5xx.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return EARLIEST if value.year == 1 else LATEST


@dataclass(frozen=True)
class ContactStarted:
    """A person reaches one of our lines: a call comes in, a chat starts, an e-mail arrives."""

    channel: Channel
    line_address: str | None
    """Our number, chat channel or mailbox that was contacted, normalised as the line registry stores it;
    None when the provider does not say (an Amazon Connect chat whose flow names no line): the contact
    is still registered (P8), on the line `unknown`."""
    identifier: Identifier | None
    """The caller's number, IP or e-mail address; None when withheld (an anonymous caller ID)."""
    provider_reference: Identifier
    """The provider's id for this contact (kind `reference`): how later events find the contact."""
    started_at: datetime
    """The provider's time of the start (aware UTC), as it claims it: kept only when plausible, and
    never used to count retention, which runs from our receipt (`logic.retention`)."""
    other_recipients: tuple[str, ...] = ()
    """E-mail: the other addresses the mail was sent to (`To`, then `Cc`, normalised), after
    `line_address`; the line is the first registered helpline among them all (`logic.ingest`)."""
    sender_authenticated: bool | None = None
    """E-mail: whether SES authenticated the sender (SPF or DKIM, with DMARC alignment); only then
    does the daily limit count the mail under its address (P10). None on channels without it."""
    reference_sealed_alone: bool = True
    """Without an `identifier`, whether the provider reference is still sealed, for a disclosure (P7):
    a withheld caller ID is known to the telephone provider, who can find it by the reference. False
    where nothing identifying stands behind the reference (an Amazon Connect web chat: Connect holds
    no address of the person): such a record keeps no ciphertext at all."""


@dataclass(frozen=True)
class ContactEnded:
    """A contact ended. Providers repeat and reorder these: `sequence` orders them."""

    channel: Channel
    provider_reference: Identifier
    ended_at: datetime
    duration_s: int | None
    sequence: int = 0


@dataclass(frozen=True)
class TranscriptPart:
    """One chat message or e-mail body, kept word for word but only encrypted (P8)."""

    channel: Channel
    provider_reference: Identifier
    sender: Sender
    text: str
    sent_at: datetime
    """The provider's time of the message, as it claims it (see `ContactStarted.started_at`)."""
    part_id: str = ""
    """The provider's id for this message: a redelivered message (the same id) is stored once
    (`logic.conversation.add_transcript_part`). Without one, every delivery is a part of its own."""


_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (the replacement character).

    JSON (`"\\ud83d"`) and the e-mail parser (raw bytes it cannot decode) can hand over strings
    that are no valid Unicode; they cannot be encoded as UTF-8, so encrypting or hashing them would
    raise `UnicodeEncodeError` halfway through an intake (P8: a message is kept word for word, and
    what was no character is kept as the replacement character).
    """
    return _LONE_SURROGATE.sub("\ufffd", text)
