"""E-mail: a raw MIME message, as SES stores it in S3, becomes a contact and its text.

SES receives the mail for our helpline mailboxes and writes it to S3; the ingest function reads the
object and calls `parse_message`. There is no signature to check here: only SES can write to that
bucket, which the template enforces.

But the `From` of a mail is whatever its sender typed (issue 9: three forged mails `From: victim@...`
used up the victim's daily limit, P10). SES checks SPF, DKIM and DMARC on receipt (the receipt rule's
`ScanEnabled: true`) and writes its verdicts into the stored message as an `Authentication-Results`
header on top (RFC 8601). The S3 notification carries only the object's name, never the receipt's
verdicts, so that header is our only source: `sender_authenticated` reads it, strictly.

The sender's address is read straight into an `Identifier` (P3), and the Message-ID too: it names
the sender's mail system and often more, so it is an identifier as well. The body is stored word for
word, encrypted (P8).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from collections.abc import Iterable, Sequence
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

SES_AUTHSERV_ID: Final = "amazonses.com"
"""The authserv-id SES writes first in its `Authentication-Results` header."""
AUTHENTICATION_RESULTS: Final = "authentication-results"
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


def _addresses(message: EmailMessage, name: str) -> list[str]:
    """Every address in an address header (`From`, `To`, `Cc`): their `addr_spec`s, in order.

    A header the parser finds no address in is read once more as one plain address (`parseaddr`).
    """
    header = _header(message, name)
    if header is None:
        return []
    addresses: Sequence[object] = getattr(header, "addresses", ())
    specs = [getattr(address, "addr_spec", "") for address in addresses]
    specs = [spec.strip() for spec in specs if isinstance(spec, str) and spec.strip()]
    if not specs:
        _name, spec = parseaddr(str(header))
        specs = [spec.strip()] if spec.strip() else []
    return specs


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


# ---------------------------------------------------------------- SES's verdicts (issue 9, P10)

_RESULT: Final = re.compile(r"\s*([a-z0-9_-]+)\s*(?:/\s*[0-9]+\s*)?=\s*([a-z0-9_-]+)(?=\s|$)", re.IGNORECASE)
"""The start of a resinfo (RFC 8601): `method[/version] = result`, any case, any spacing."""
_PROPERTY: Final = re.compile(
    r'"(?:[^"\\]|\\.)*"|([a-z0-9_-]+)\s*\.\s*([a-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s";]+)',
    re.IGNORECASE,
)
"""A `ptype.property = value` of a resinfo; a quoted string (a `reason="..."`) is consumed whole, so
that nothing inside it can pass for a property."""


def _without_comments(value: str) -> str:
    """`value` with its comments (nested parentheses, RFC 5322) each replaced by one space.

    Comments are free text (SES writes "(spfCheck: domain of ... designates ...)" in them): they may
    hold a ";" or a "dmarc=pass", and must count for nothing. Quoted strings are kept as they are.
    An unclosed comment runs to the end.
    """
    kept: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                kept.append(char)
        elif char == "\\" and (quoted or depth):
            escaped = True
            if depth == 0:
                kept.append(char)
        elif depth:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                kept.append(" ")
        elif quoted:
            kept.append(char)
            quoted = char != '"'
        elif char == "(":
            depth = 1
        else:
            kept.append(char)
            quoted = char == '"'
    return "".join(kept)


def _split_unquoted(value: str) -> list[str]:
    """`value` split at each ";" outside a quoted string."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _domain(value: str) -> str:
    return value.strip().strip('"').strip().rstrip(".").lower()


def _ses_results(headers: Iterable[tuple[str, str]]) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """SES's results by method (`spf`, `dkim`, `dmarc`, ...): each result, lower-cased, with its
    properties (`header.from` → its value). Empty when the topmost `Authentication-Results` is not SES's.
    """
    top = next(
        (str(value) for name, value in headers if name.strip().lower() == AUTHENTICATION_RESULTS), None
    )
    if top is None:
        return {}
    authserv, *resinfos = _split_unquoted(_without_comments(top))
    if _domain(authserv.split()[0] if authserv.split() else "") != SES_AUTHSERV_ID:
        return {}
    results: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for resinfo in resinfos:
        start = _RESULT.match(resinfo)
        if start is None:
            continue  # "none", or something unreadable: no result
        properties = {
            f"{found.group(1)}.{found.group(2)}".lower(): found.group(3)
            for found in _PROPERTY.finditer(resinfo, start.end())
            if found.group(1) is not None
        }
        results.setdefault(start.group(1).lower(), []).append((start.group(2).lower(), properties))
    return results


def sender_authenticated(headers: Iterable[tuple[str, str]], from_domain: str) -> bool:
    """Whether SES authenticated the `From` address: SPF or DKIM passed, and DMARC passed for exactly
    `from_domain` (the domain of the address we take as the sender). Only then does the daily limit
    count the mail under that address (P10, issue 9): anyone can write anyone's address in `From`.

    `headers` are the message's (name, raw value) pairs, top first. Which header counts:

    - Only the topmost `Authentication-Results`, and only when its authserv-id is SES's
      (`amazonses.com`). SES prepends its trace headers on receipt, and with scanning on (the
      template's receipt rule) it always adds this one, so SES's is the first. Every one below it
      was written by the sender or a server before SES, and a sender can write
      `amazonses.com; dmarc=pass` as easily as anything else. If the topmost is not SES's, SES
      wrote none: not authenticated.
    - SPF or DKIM alone is not enough: SPF checks the envelope sender and DKIM any signing domain,
      neither of which need be the `From` domain. DMARC pass means one of them passed aligned with
      the `From` domain (RFC 7489), so it is required; every DMARC result must be `pass`, and its
      `header.from` must be `from_domain` (a mail with two `From` headers or addresses may have had
      DMARC checked on another one than ours).
    - `Received-SPF` is not read: it repeats the SPF result and says nothing of alignment.
      `X-SES-Spam-Verdict` and `X-SES-Virus-Verdict` say nothing about who sent the mail.

    Methods, results and properties are read in any case and with any spacing (RFC 8601 allows
    CFWS); comments count for nothing. Pure, and never logs or raises with a header value: those
    hold the sender's address (P3).
    """
    results = _ses_results(headers)
    dmarc = results.get("dmarc", [])
    if not dmarc:
        return False
    domain = _domain(from_domain)
    for result, properties in dmarc:
        if result != "pass" or _domain(properties.get("header.from", "")) != domain or not domain:
            return False
    return any(result == "pass" for method in ("spf", "dkim") for result, _ in results.get(method, []))


def _raw_headers(message: EmailMessage) -> list[tuple[str, str]]:
    """The message's headers as (name, raw value), top first; none when the parser cannot list them."""
    try:
        return [(str(name), str(value)) for name, value in message.raw_items()]
    except _HEADER_ERRORS:
        return []


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
    - sender authenticated: `sender_authenticated` on SES's header and the identifier's domain;
    - line address: the first address in `To` (else `Cc`), normalised as the line registry stores
      mailboxes; the other `To` and `Cc` addresses follow in `other_recipients`, so the domain can
      route by the helpline address among them (`logic.ingest.find_line`);
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
