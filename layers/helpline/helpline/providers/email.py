"""E-mail: a raw MIME message, as SES stores it in S3, becomes a contact and its text.

SES receives the mail for our helpline mailboxes and writes it to S3; the ingest function reads the
object and calls `parse_message`. There is no signature to check here: only SES can write to that
bucket, which the template enforces.

But the `From` of a mail is whatever its sender typed (issue 9, P10): whether SES authenticated it is
judged apart, from SES's own `Authentication-Results` header only (`providers.mail_authentication`).

The sender's address is read straight into an `Identifier` (P3), and the Message-ID too: it names
the sender's mail system and often more, so it is an identifier as well. The body is stored word for
word, encrypted (P8).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email.errors import MessageError
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Final

from helpline import identifiers
from helpline.identifiers import Identifier, InvalidIdentifierError
from helpline.models.addresses import normalise_address
from helpline.models.events import ContactStarted, TranscriptPart, as_utc, valid_text
from helpline.providers.errors import MalformedEvent
from helpline.providers.mail_authentication import sender_authenticated

MAX_TRANSCRIPT_CHARS: Final = 200_000
"""At most this many characters of a body are stored: a mail to a helpline is a letter, not an
archive, and one record must stay well within what the store and the decrypting reader handle."""
TRUNCATION_MARKER: Final = "\n[…afgekapt]"
"""Ends a body that was cut at `MAX_TRANSCRIPT_CHARS` ("afgekapt": cut off), so a reader sees
that the text goes on. The marker is counted within the limit."""
BODY_PART_ID: Final = "body"
"""The `part_id` of the one transcript part of a mail. Not the Message-ID: `part_id` is stored in
clear, and a Message-ID is an identifier."""

MAX_RECIPIENTS: Final = 50
"""At most this many `To` and `Cc` addresses are looked at for a registered line: a mail to hundreds of
addresses is no letter to a helpline, and each address costs a lookup."""

_HEADER_ERRORS: Final = (MessageError, ValueError, IndexError, TypeError, AttributeError)
"""What the stdlib header parser can raise on hostile input; all mean "this header is unusable"."""


def _header(message: EmailMessage, name: str) -> object | None:
    try:
        header: object | None = message[name]
    except _HEADER_ERRORS:
        return None
    return header


def _unescaped(text: str) -> str:
    """A header value as the text its sender wrote.

    The parser reads a message from bytes and keeps every byte it cannot read as ASCII as a lone
    surrogate (`surrogateescape`). But RFC 6532 (SMTPUTF8) allows UTF-8 in headers, so `jösé@...` or
    `jan@exämple.nl` arrive exactly so: those bytes are decoded here as the UTF-8 they are. Bytes that
    are no UTF-8 (an old mail program writing Latin-1, which no standard allows) are read as Latin-1,
    in which every byte is a character: the mail is still taken in. Without this, such an address
    failed as "not an e-mail address" (the mail was deleted unread) or, in the local part, went through
    as a string no KMS call can encode (a `UnicodeEncodeError` after the contact's reference was
    claimed, outside all error handling).
    """
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no byte stands for: not from the parser, never mind
        return valid_text(text)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _addresses(message: EmailMessage, name: str) -> list[str]:
    """Every address in an address header (`From`, `To`, `Cc`): their `addr_spec`s, in order, as text
    (`_unescaped`).

    A header the parser finds no address in is read once more as one plain address (`parseaddr`).
    """
    header = _header(message, name)
    if header is None:
        return []
    try:
        addresses: Sequence[object] = getattr(header, "addresses", ())
        specs = [getattr(address, "addr_spec", "") for address in addresses]
    except _HEADER_ERRORS:
        specs = []
    specs = [spec.strip() for spec in specs if isinstance(spec, str) and spec.strip()]
    if not specs:
        _name, spec = parseaddr(str(header))
        specs = [spec.strip()] if spec.strip() else []
    return [_unescaped(spec) for spec in specs]


def _first_address(message: EmailMessage, name: str) -> str | None:
    """The first address in an address header (`From`, `To`): its `addr_spec`, or None.

    The first one with an "@" wins: a sender's mail program that writes `de Vries, Jan <jan@…>`
    unquoted makes "de Vries" parse as an address of its own, and the mail is still theirs.
    """
    specs = _addresses(message, name)
    return next((spec for spec in specs if "@" in spec), specs[0] if specs else None)


def _recipients(message: EmailMessage) -> list[str]:
    """The addresses in `To`, then `Cc`, normalised as the line registry stores mailboxes, each once,
    at most `MAX_RECIPIENTS`. What is not an address (a display name read as one) is skipped.

    Raises `MalformedEvent("missing To")` without any, `"To is not an e-mail address"` when none of
    them is one.
    """
    specs = [*_addresses(message, "To"), *_addresses(message, "Cc")]
    if not specs:
        raise MalformedEvent("missing To")
    recipients: list[str] = []
    for spec in specs:
        try:
            address = normalise_address("email", spec)
        except ValueError:
            continue
        if address not in recipients:
            recipients.append(address)
        if len(recipients) == MAX_RECIPIENTS:
            break
    if not recipients:
        raise MalformedEvent("To is not an e-mail address")
    return recipients


def _raw_headers(message: EmailMessage) -> list[tuple[str, str]]:
    """The message's headers as (name, raw value), top first, as text (`_unescaped`: SES may write an
    internationalised `header.from` in UTF-8); none when the parser cannot list them."""
    try:
        return [(_unescaped(str(name)), _unescaped(str(value))) for name, value in message.raw_items()]
    except _HEADER_ERRORS:
        return []


CONTENT_HEADERS: Final = frozenset(
    {
        "from",
        "sender",
        "reply-to",
        "to",
        "cc",
        "subject",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)
"""The headers the sender wrote that say what the mail is; not the trace headers that every receipt
adds anew (`Received`, `Return-Path`, SES's verdicts), so a mail SES receives twice has one digest."""
_HEADER_END: Final = re.compile(rb"\r?\n\r?\n")


def content_digest(message: EmailMessage, raw: bytes) -> str:
    """Hex SHA-256 of what the mail says: its `CONTENT_HEADERS` as written, in order, and its body bytes.

    The same for every delivery of the very same mail (S3 notifying twice, SES receiving it twice
    with new trace headers on top), different for any other mail, whatever `Message-ID` it claims.
    """
    digest = hashlib.sha256()
    for name, value in _raw_headers(message):
        if name.strip().lower() in CONTENT_HEADERS:
            line = f"{name.strip().lower()}:{value}\n".encode()
            digest.update(len(line).to_bytes(8, "big") + line)
    end = _HEADER_END.search(raw)
    digest.update(b"\0body\0" + (raw[end.end() :] if end else b""))
    return digest.hexdigest()


def _reference(message: EmailMessage, raw: bytes) -> Identifier:
    """The provider reference: the `Message-ID` and the mail's `content_digest`, "<id> sha256:<hex>".

    A Message-ID is only the sender's claim: anyone can send a new mail under an old one's id, and
    keyed by it alone that mail was appended to the old contact's transcript. With the digest, a
    different mail under the same id is a new contact, while a redelivery of the very same mail (the
    same S3 object notified twice, or SES receiving it twice) is still recognised and kept once. The
    Message-ID stays in the reference (sealed only, P3): it is how the sender's provider finds the mail
    for a disclosure (P7). Without a usable one (or when both do not fit in a reference), the
    reference is "sha256:<hex>".
    """
    suffix = "sha256:" + content_digest(message, raw)
    header = _header(message, "Message-ID")
    message_id = _unescaped(str(header)).strip() if header is not None else ""
    if message_id:
        try:
            return identifiers.reference(f"{message_id} {suffix}")
        except InvalidIdentifierError:
            pass
    return identifiers.reference(suffix)


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
    """A text part decoded; with an unknown charset, decoded as UTF-8 with replacements.

    A part that names no charset is US-ASCII by the book (RFC 2045), but a mail sent with SMTPUTF8
    (RFC 6532) is UTF-8 throughout, often without saying so: such a body that is valid UTF-8 is read as
    UTF-8, so that it is kept word for word (P8), not with every accented letter replaced.
    """
    try:
        if part.get_content_charset() is None:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                try:
                    return payload.decode("utf-8")
                except UnicodeDecodeError:
                    pass
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
    try:
        part = message.get_body(preferencelist=("plain",)) or message.get_body(preferencelist=("html",))
    except _HEADER_ERRORS:
        part = None
    if not isinstance(part, EmailMessage):
        return ""
    return valid_text(_content(part).replace("\r\n", "\n"))


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
    - sender authenticated: `sender_authenticated` on SES's header and the identifier's domain;
    - line address: the first address in `To` (else `Cc`), normalised as the line registry stores
      mailboxes; the other `To` and `Cc` addresses follow in `other_recipients`, so the domain can
      route by the helpline address among them (`logic.ingest.find_line`);
    - provider reference: `Message-ID` and the mail's content digest (`_reference`);
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
    line_address, *others = _recipients(message)
    authenticated = sender_authenticated(_raw_headers(message), identifier.reveal().rpartition("@")[2])
    reference = _reference(message, raw)
    sent_at = _sent_at(message, now)
    started = ContactStarted(
        channel="email",
        line_address=line_address,
        identifier=identifier,
        provider_reference=reference,
        started_at=sent_at,
        other_recipients=tuple(others),
        sender_authenticated=authenticated,
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
