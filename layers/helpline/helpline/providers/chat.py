"""The web chat platform's webhook: our own format, signed like Stripe's.

Route: ``POST /webhooks/chat``, ``Content-Type: application/json``, one event per request, body at
most 256 KiB (``MAX_BODY_BYTES``; larger → 413).

Signature
---------
Header ``X-Helpline-Signature: t=<unix seconds>,v1=<hex>`` where
``<hex> = lowercase hex of HMAC-SHA256(key = shared secret as UTF-8, message = "<t>." + raw body bytes)``.
``<t>`` is the decimal Unix time (seconds) at which the platform signed; the message is those exact
digits, a full stop, and the request body byte for byte as sent. The header may carry several ``v1=``
entries (e.g. while a secret is being rotated); one matching is enough. Parts are separated by commas;
spaces around them are ignored. A request is refused (403, body ``invalid signature``) when the header is
missing or malformed, no ``v1`` matches, or ``t`` is more than 300 s before or after our clock (so a
captured request cannot be replayed later). ``sign()`` produces the header.

Example: secret ``whsec_test``, t = 1767225600, body
``{"type":"chat.ended","session_id":"s-1","timestamp":"2026-01-01T00:00:00Z"}`` (no spaces, no
newline), signed message ``1767225600.{"type":"chat.ended",...}``, header
``t=1767225600,v1=0dadaee5a31ad4ba180afa587e059ce14e751e2552b5b9c8333de00d4eaef3a9``.

Events (JSON objects; unknown fields are refused; timestamps are ISO 8601 with a zone, e.g.
``2026-01-01T12:00:00Z`` or ``2026-01-01T13:00:00+01:00``)
-------------------------------------------------------------------------------------------------
``chat.started``: a person opened a chat::

    {"type": "chat.started", "session_id": "<1-512 chars>", "channel": "<our chat channel slug>",
     "client_ip": "<IPv4 or IPv6 of the person>", "timestamp": "<ISO 8601>"}

``chat.message``: one message in the chat, from the person or the volunteer::

    {"type": "chat.message", "session_id": "<1-512 chars>", "message_id": "<1-512 chars, unique per
     message; a redelivery with the same id is stored once>", "sender": "contact" | "volunteer",
     "text": "<1-8000 characters>", "timestamp": "<ISO 8601>"}

``chat.ended``: the chat was closed::

    {"type": "chat.ended", "session_id": "<1-512 chars>", "timestamp": "<ISO 8601>"}

Messages are kept in the order of their ``timestamp``, and messages with the same ``timestamp`` (a
platform that sends whole seconds) in the order they arrive: send them in the order they were
written. A ``message_id`` sent again is recognised however late, and keeps its first place.

A ``timestamp`` is the platform's claim of when the event happened. Any well-formed one is accepted,
from year 0001 to 9999 in any zone, so a chat is never refused for its clock (a person in crisis must
be connected); the helpline keeps it only when it lies within a day before and five minutes after our
receipt, and uses the receipt time otherwise. Retention is always counted from our receipt, never from
a ``timestamp``. A ``timestamp`` that is not ISO 8601 with a zone is refused with 400 naming the field.

``channel`` is the slug of one of our chat lines (a-z, 0-9, '-', at most 63). ``session_id`` ties the
events of one chat together. A text longer than 8000 characters is refused with 413 ("text longer
than 8000 characters"); other problems with 400 and a message naming the fields, never their values.

Privacy: the client IP is read straight into an `Identifier` and stored only encrypted (P3); the
session id leads back to it through the platform, so it is an identifier as well; the text is
stored word for word, encrypted (P8).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from pydantic import AwareDatetime, ConfigDict, Field, TypeAdapter, ValidationError

from helpline import identifiers
from helpline.identifiers import InvalidIdentifierError
from helpline.models.addresses import CHAT_CHANNEL_PATTERN, normalise_address
from helpline.models.common import DEFERRED, Model
from helpline.models.events import ContactEnded, ContactStarted, TranscriptPart, as_utc, valid_text
from helpline.providers.errors import MalformedEvent, PayloadTooLarge, SignatureError

SIGNATURE_HEADER: Final = "X-Helpline-Signature"
TOLERANCE_S: Final = 300
MAX_BODY_BYTES: Final = 256 * 1024
MAX_TEXT_CHARS: Final = 8000
MAX_ID_CHARS: Final = 512
"""As `identifiers.reference` accepts: a session id is a provider reference."""

_HEADER_PART: Final = re.compile(r"^([a-z][a-z0-9]{0,15})=([!-~]{1,256})$")
_DIGITS: Final = re.compile(r"^[0-9]{1,12}$")
_HEX: Final = re.compile(r"^[0-9a-fA-F]{64}$")

SessionId = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS, json_schema_extra={"pattern": r"\S"})]
IP_ADDRESS_SCHEMA: Final = {"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
"""What the OpenAPI document says of `client_ip`. The document's patterns and formats are checked by
`parse_event` itself (each refusal a 400 naming the field), not by the model, so they appear here."""


# --- signature -------------------------------------------------------------------------------------


def _digest(raw_body: bytes, secret: str, timestamp: str) -> str:
    message = timestamp.encode("ascii") + b"." + raw_body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(raw_body: bytes, secret: str, timestamp: datetime | int) -> str:
    """The `X-Helpline-Signature` header value for `raw_body` signed at `timestamp`.

    For the chat platform (and tests): ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``.
    """
    seconds = int(timestamp.timestamp()) if isinstance(timestamp, datetime) else int(timestamp)
    t = str(seconds)
    return f"t={t},v1={_digest(raw_body, secret, t)}"


def verify(
    raw_body: bytes, header: str | None, secret: str, now: datetime, tolerance_s: int = TOLERANCE_S
) -> None:
    """Raise `SignatureError` unless `header` signs `raw_body` with `secret`, within `tolerance_s`.

    The replay window is symmetric: a signature from more than `tolerance_s` seconds ago is stale,
    one from further in the future was not made by a platform with a sane clock. Every `v1` is
    compared in constant time (`hmac.compare_digest`). An empty secret verifies nothing: a webhook
    that anybody can sign must not register contacts.
    """
    if not header or not secret:
        raise SignatureError
    timestamp: str | None = None
    candidates: list[str] = []
    for part in header.split(","):
        match = _HEADER_PART.match(part.strip())
        if match is None:
            raise SignatureError
        key, value = match.groups()
        if key == "t":
            if timestamp is not None or not _DIGITS.match(value):
                raise SignatureError
            timestamp = value
        elif key == "v1":
            if not _HEX.match(value):
                raise SignatureError
            candidates.append(value.lower())
        # Other schemes (a future "v2") are ignored, as Stripe does, so the platform can add one first.
    if timestamp is None or not candidates:
        raise SignatureError
    if abs(now.timestamp() - int(timestamp)) > tolerance_s:
        raise SignatureError
    expected = _digest(raw_body, secret, timestamp).encode("ascii")
    matches = [hmac.compare_digest(expected, candidate.encode("ascii")) for candidate in candidates]
    if not any(matches):
        raise SignatureError


# --- events ----------------------------------------------------------------------------------------


class _Event(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChatStartedEvent(_Event):
    """A person opened a chat on one of our chat lines."""

    type: Literal["chat.started"]
    session_id: SessionId
    channel: Annotated[
        str,
        Field(
            min_length=1,
            max_length=63,
            description="Our chat channel slug.",
            json_schema_extra={"pattern": CHAT_CHANNEL_PATTERN.pattern},
        ),
    ]
    client_ip: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            description="The person's IP address (P3).",
            json_schema_extra=IP_ADDRESS_SCHEMA,
        ),
    ]
    timestamp: AwareDatetime


class ChatMessageEvent(_Event):
    """One message, from the person (`contact`) or the volunteer."""

    type: Literal["chat.message"]
    session_id: SessionId
    message_id: Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]
    sender: Literal["contact", "volunteer"]
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
    timestamp: AwareDatetime


class ChatEndedEvent(_Event):
    """The chat was closed."""

    type: Literal["chat.ended"]
    session_id: SessionId
    timestamp: AwareDatetime


ChatEvent = Annotated[ChatStartedEvent | ChatMessageEvent | ChatEndedEvent, Field(discriminator="type")]
"""The webhook body: one of the three events, chosen by `type` (for OpenAPI: `ChatEventAdapter`)."""

ChatEventAdapter: Final[TypeAdapter[ChatStartedEvent | ChatMessageEvent | ChatEndedEvent]] = TypeAdapter(
    ChatEvent, config=DEFERRED
)


def _problem(error: dict[str, Any]) -> str:
    """One validation problem as "field: what is wrong", without the offending value.

    Pydantic's messages describe the expectation, not the input, but the input is checked for anyway
    (belt and braces: a session id or IP must not come back in a 400). A forbidden extra field is
    not named: its name is itself input and could be anything.
    """
    kind = str(error.get("type", "invalid"))
    location = [str(part) for part in error.get("loc", ())]
    if location and location[0].startswith("chat."):
        location = location[1:]  # the union tag pydantic puts first
    if kind == "extra_forbidden":
        return "unexpected field"
    field = ".".join(location) or "body"
    message = str(error.get("msg", kind))
    value = error.get("input")
    if isinstance(value, str) and len(value) >= 3 and value in message:
        message = kind
    return f"{field}: {message}"


def _validate(document: object) -> ChatStartedEvent | ChatMessageEvent | ChatEndedEvent:
    if not isinstance(document, dict):
        raise MalformedEvent("body is not a JSON object")
    kind = document.get("type")
    if kind is None:
        raise MalformedEvent("missing field type")
    if kind not in ("chat.started", "chat.message", "chat.ended"):
        raise MalformedEvent("unknown event type")
    text = document.get("text")
    if kind == "chat.message" and isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
        raise PayloadTooLarge(f"text longer than {MAX_TEXT_CHARS} characters")
    try:
        return ChatEventAdapter.validate_python(document)
    except ValidationError as error:
        problems = sorted({_problem(dict(detail)) for detail in error.errors(include_input=True)})
        raise MalformedEvent("invalid event: " + "; ".join(problems)) from None


def parse_event(raw_body: bytes) -> ContactStarted | TranscriptPart | ContactEnded:
    """The domain event for a (verified) webhook body. Call `verify` first.

    - chat.started → `ContactStarted` (channel chat, line address = the channel slug as the line
      registry normalises it, identifier = the client IP, reference = the session id);
    - chat.message → `TranscriptPart` (part id = message id, so a redelivery is stored once; the
      parts are ordered by `logic.conversation.add_transcript_part`);
    - chat.ended → `ContactEnded` with no duration (the domain computes it from the start) and
      sequence 0 (a chat ends once).

    What JSON can carry but is no text (a lone surrogate, ``"\\ud83d"``) is refused by the model
    (400, naming the field); no such string ever reaches the keyed hash or the encryption.
    """
    if len(raw_body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(raw_body)
    except (ValueError, RecursionError):
        raise MalformedEvent("body is not JSON") from None
    event = _validate(document)
    try:
        reference = identifiers.reference(event.session_id)
    except InvalidIdentifierError:
        problem = "session_id is blank" if not event.session_id.strip() else "session_id is not text"
        raise MalformedEvent(problem) from None
    at = as_utc(event.timestamp)
    if isinstance(event, ChatStartedEvent):
        try:
            line_address = normalise_address("chat", event.channel)
        except ValueError:
            raise MalformedEvent("channel is not a chat channel slug") from None
        try:
            identifier = identifiers.ip_address(event.client_ip)
        except InvalidIdentifierError:
            raise MalformedEvent("client_ip is not an IP address") from None
        return ContactStarted(
            channel="chat",
            line_address=line_address,
            identifier=identifier,
            provider_reference=reference,
            started_at=at,
        )
    if isinstance(event, ChatMessageEvent):
        return TranscriptPart(
            channel="chat",
            provider_reference=reference,
            sender=event.sender,
            text=valid_text(event.text),
            sent_at=at,
            part_id=valid_text(event.message_id),
        )
    return ContactEnded(
        channel="chat", provider_reference=reference, ended_at=at, duration_s=None, sequence=0
    )
