"""E-mail: a raw MIME message, as SES stores it in S3, becomes a contact and its text.

SES receives the mail for our helpline mailboxes and writes it to S3; the ingest function reads the
object and calls `parse_message`. There is no signature to check here: only SES can write to that
bucket, which the template enforces.

The sender's address is read straight into an `Identifier` (P3), and the Message-ID too: it names
the sender's mail system and often more, so it is an identifier as well. The body is stored word for
word, encrypted (P8).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from email.errors import MessageError
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Final

from helpline import identifiers
from helpline.identifiers import Identifier, InvalidIdentifierError
from helpline.models.addresses import normalise_address
from helpline.models.events import ContactStarted, TranscriptPart, as_utc
from helpline.providers.errors import MalformedEvent

MAX_TRANSCRIPT_CHARS: Final = 200_000
"""At most this many characters of a body are stored: a mail to a helpline is a letter, not an
archive, and one record must stay well within what the store and the decrypting reader handle."""
TRUNCATION_MARKER: Final = "\n[…afgekapt]"
"""Ends a body that was cut at `MAX_TRANSCRIPT_CHARS` ("afgekapt": cut off), so a reader sees
that the text goes on. The marker is counted within the limit."""
BODY_PART_ID: Final = "body"
"""The `part_id` of the one transcript part of a mail. Not the Message-ID: `part_id` is stored in
clear, and a Message-ID is an identifier."""

_HEADER_ERRORS: Final = (MessageError, ValueError, IndexError, TypeError, AttributeError)
"""What the stdlib header parser can raise on hostile input; all mean "this header is unusable"."""


def _header(message: EmailMessage, name: str) -> object | None:
    try:
        header: object | None = message[name]
    except _HEADER_ERRORS:
        return None
    return header


def _first_address(message: EmailMessage, name: str) -> str | None:
    """The first address in an address header (`From`, `To`): its `addr_spec`, or None.

    The first one with an "@" wins: a sender's mail program that writes `de Vries, Jan <jan@…>`
    unquoted makes "de Vries" parse as an address of its own, and the mail is still theirs.
    """
    header = _header(message, name)
    if header is None:
        return None
    addresses: Sequence[object] = getattr(header, "addresses", ())
    specs = [getattr(address, "addr_spec", "") for address in addresses]
    specs = [spec.strip() for spec in specs if isinstance(spec, str) and spec.strip()]
    if not specs:
        _name, spec = parseaddr(str(header))
        specs = [spec.strip()] if spec.strip() else []
    return next((spec for spec in specs if "@" in spec), specs[0] if specs else None)


def _reference(message: EmailMessage, raw: bytes) -> Identifier:
    """The Message-ID; without a usable one, "sha256:" + the hex SHA-256 of the raw message.

    The hash is stable, so SES delivering the same object twice still yields one contact.
    """
    header = _header(message, "Message-ID")
    if header is not None:
        try:
            return identifiers.reference(str(header))
        except InvalidIdentifierError:
            pass
    return identifiers.reference("sha256:" + hashlib.sha256(raw).hexdigest())


def _sent_at(message: EmailMessage, now: datetime) -> datetime:
    """The `Date` header as aware UTC (zone-less: UTC); `now` when missing or unreadable.

    The sender's clock sets it, so it can be wrong; it is still the better answer to "when was
    this written" for a mail that waited in a queue. Any date parses, 1970, 2150 or 31 Dec 9999
    at -1400 (clamped by `as_utc`); whether it is believed is the domain's decision
    (`logic.retention.provider_time`), and retention never counts from it.
    """
    header = _header(message, "Date")
    try:
        value = getattr(header, "datetime", None)
    except _HEADER_ERRORS:
        value = None
    if not isinstance(value, datetime):
        return now.astimezone(UTC)
    return as_utc(value)


def _content(part: EmailMessage) -> str:
    """A text part decoded; with an unknown charset, decoded as UTF-8 with replacements."""
    try:
        content = part.get_content()
    except (LookupError, ValueError, KeyError):
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    if isinstance(content, bytes):
        return content.decode("utf-8", errors="replace")
    return content if isinstance(content, str) else ""


def body_text(message: EmailMessage) -> str:
    """The text/plain body; if there is none, the text/html body as is (verbatim storage, P8).

    Line ends become "\\n": CRLF is how mail travels (RFC 5322), not part of what was written.
    A mail with neither (only attachments) has the empty text. Attachments are never stored.
    """
    part = message.get_body(preferencelist=("plain",)) or message.get_body(preferencelist=("html",))
    if not isinstance(part, EmailMessage):
        return ""
    return _content(part).replace("\r\n", "\n")


def truncate(text: str) -> str:
    """`text`, or its first characters plus `TRUNCATION_MARKER` when longer than the limit.

    The result is never longer than `MAX_TRANSCRIPT_CHARS` characters.
    """
    if len(text) <= MAX_TRANSCRIPT_CHARS:
        return text
    return text[: MAX_TRANSCRIPT_CHARS - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER


def parse_message(raw: bytes, now: datetime) -> tuple[ContactStarted, TranscriptPart]:
    """The contact and its text from a raw MIME message (RFC 5322, as SES stores it).

    - identifier: the first address in `From` (missing → `MalformedEvent("missing From")`);
    - line address: the first address in `To`, normalised as the line registry stores mailboxes;
    - provider reference: `Message-ID`, or a SHA-256 of the raw bytes without one;
    - started at / sent at: `Date`, or `now`;
    - text: `body_text`, cut by `truncate`.
    """
    message = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    sender = _first_address(message, "From")
    if sender is None:
        raise MalformedEvent("missing From")
    try:
        identifier = identifiers.email(sender)
    except InvalidIdentifierError:
        raise MalformedEvent("From is not an e-mail address") from None
    mailbox = _first_address(message, "To")
    if mailbox is None:
        raise MalformedEvent("missing To")
    try:
        line_address = normalise_address("email", mailbox)
    except ValueError:
        raise MalformedEvent("To is not an e-mail address") from None
    reference = _reference(message, raw)
    sent_at = _sent_at(message, now)
    started = ContactStarted(
        channel="email",
        line_address=line_address,
        identifier=identifier,
        provider_reference=reference,
        started_at=sent_at,
    )
    part = TranscriptPart(
        channel="email",
        provider_reference=reference,
        sender="contact",
        text=truncate(body_text(message)),
        sent_at=sent_at,
        part_id=BODY_PART_ID,
    )
    return started, part
