"""Twilio Programmable Voice: verify a webhook, read a call, answer with TwiML.

Stdlib only. The `twilio` package is 51 MB (almost all of it the REST client), too big for a Lambda
layer, and the two things we need from it are small: the request signature (HMAC-SHA1, below) and a
few lines of TwiML. Tests cross-check both against `twilio` itself, which is a dev dependency.

Routes (DESIGN): `POST /webhooks/twilio/voice` (an incoming call: `incoming_call`, answered with
`routing_twiml` or `limited_twiml`) and `POST /webhooks/twilio/status` (status callbacks:
`status_callback`, answered with `empty_twiml`).

The caller's number (`From`) is read straight into an `Identifier` (P2) and the `CallSid` too: it
leads back to the number through Twilio's call log, so it is an identifier as well.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Final
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from helpline import identifiers
from helpline.identifiers import Identifier, InvalidIdentifierError
from helpline.models.addresses import normalise_address
from helpline.models.events import ContactEnded, ContactStarted, as_utc
from helpline.providers.errors import MalformedEvent, SignatureError

SIGNATURE_HEADER: Final = "X-Twilio-Signature"
MAX_FORM_FIELDS: Final = 200
"""A voice webhook has about 30 fields; far more is not Twilio (and parsing them costs time)."""

WITHHELD_CALLER_IDS: Final = frozenset(
    {"", "anonymous", "restricted", "private", "unknown", "unavailable", "blocked", "+266696687"}
)
"""What Twilio puts in `From` when a caller withholds their number (lower-cased; "+266696687" is the
placeholder Twilio uses for anonymous callers on some routes). Such a call has no identifier."""

NON_TERMINAL_STATUSES: Final = frozenset({"queued", "initiated", "ringing", "in-progress"})
TERMINAL_STATUSES: Final = frozenset({"completed", "busy", "no-answer", "canceled", "failed"})

XML_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>'
DEFAULT_LIMITED_MESSAGE_NL: Final = (
    "Je hebt vandaag al het maximale aantal keren gebeld. Morgen kun je ons weer bellen. Sterkte."
)
"""Spoken when the daily limit (P10) is reached: kind, short, and saying when they may call again."""

_DEFAULT_PORTS: Final = {"https": 443, "http": 80}


# --- signature -------------------------------------------------------------------------------------


def compute_signature(url: str, params: Sequence[tuple[str, str]], auth_token: str) -> str:
    """Twilio's signature of a request: base64(HMAC-SHA1(auth token, url + names and values)).

    The url is the full URL Twilio called, query string included. Then, for every distinct
    (name, value) pair sorted by name and then value, the name followed by the value. Twilio's own
    validator de-duplicates identical pairs (`sorted(set(...))`), so this does too. Blank values
    count: Twilio signs `FromCity=` as "FromCity", so the form must be parsed keeping blanks.
    """
    payload = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _url_variants(url: str) -> tuple[str, str]:
    """The URL without any port and with the scheme's default port, as twilio's RequestValidator.

    Twilio signs the URL as it was configured, and whether that included ":443" is not something the
    receiving end can know, so both forms are tried: a port, if present, is removed; if absent, the
    default port (443 for https, 80 otherwise) is added.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise SignatureError from None
    netloc = parts.netloc
    if port is None:
        default = _DEFAULT_PORTS.get(parts.scheme, 80)
        return parts.geturl(), parts._replace(netloc=f"{netloc}:{default}").geturl()
    host, _, _ = netloc.rpartition(":")
    return parts._replace(netloc=host).geturl(), parts.geturl()


def verify_signature(
    url: str, params: Sequence[tuple[str, str]], signature: str | None, auth_token: str
) -> None:
    """Raise `SignatureError` unless `signature` (the X-Twilio-Signature header) signs this request.

    `url` is the public URL Twilio called (see `public_url`), `params` the form fields as parsed by
    `parse_form` (blanks kept, order irrelevant). The URL is tried without and with its default port,
    like twilio's RequestValidator. Comparison is constant-time (`hmac.compare_digest`), so timing
    tells a forger nothing. A missing or empty signature, or a missing auth token, is refused:
    an unverified webhook must never register a contact or read a number.
    """
    if not signature or not auth_token:
        raise SignatureError
    try:
        given = signature.strip().encode("utf-8")
        matches = [
            hmac.compare_digest(compute_signature(variant, params, auth_token).encode("ascii"), given)
            for variant in _url_variants(url)
        ]
    except UnicodeEncodeError:  # a lone surrogate somewhere: no text Twilio can have signed
        raise SignatureError from None
    if not any(matches):
        raise SignatureError


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header, case-insensitively: API Gateway passes them as the client sent them."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def public_url(
    configured_base_url: str | None,
    headers: Mapping[str, str],
    stage: str | None,
    path: str,
    query: str | None,
) -> str:
    """The full public URL that Twilio called, and signed, for this request.

    `path` is the route's own path (`/webhooks/twilio/voice`), without stage or base path; `query` is
    the raw query string without "?" (None or "" when there is none).

    - With a configured public base URL (e.g. `https://api.example.org/prod`, or
      `https://hulp.example.org` for a custom domain) the URL is that base + path + query. Use this
      whenever Twilio is pointed at a custom domain: behind one, the request no longer shows the
      base path that Twilio saw.
    - Without one, the URL is rebuilt from the request the way API Gateway's execute-api endpoint
      receives it: `X-Forwarded-Proto` (default https) + "://" + `Host` + (":" + `X-Forwarded-Port`
      when it is not the scheme's default and `Host` names no port) + "/" + stage (execute-api URLs
      include the stage; the HTTP API `$default` stage does not appear) + path + query.

    Whether Twilio's configured URL had ":443" in it does not matter: `verify_signature` tries both.
    A missing `Host` gives a URL that will not verify, which is the right outcome.
    """
    suffix = (path if path.startswith("/") else "/" + path) + (f"?{query}" if query else "")
    if configured_base_url:
        return configured_base_url.rstrip("/") + suffix
    proto = (_header(headers, "X-Forwarded-Proto") or "https").split(",")[0].strip().lower()
    host = (_header(headers, "Host") or "").strip()
    port = (_header(headers, "X-Forwarded-Port") or "").split(",")[0].strip()
    has_port = host.rsplit("]", 1)[-1].find(":") >= 0
    if port and not has_port and port != str(_DEFAULT_PORTS.get(proto, 0)):
        host = f"{host}:{port}"
    stage_part = f"/{stage}" if stage and stage != "$default" else ""
    return f"{proto}://{host}{stage_part}{suffix}"


# --- form ------------------------------------------------------------------------------------------


def parse_form(body: str | None, is_base64: bool) -> list[tuple[str, str]]:
    """The form fields of a Twilio webhook, blank values kept (they are part of the signature).

    API Gateway may hand the body over base64-encoded (`isBase64Encoded`); it is decoded first.
    Lenient parsing (`strict_parsing=False`) as twilio's validator and every web framework do, but at
    most `MAX_FORM_FIELDS` fields.
    """
    if not body:
        return []
    text = body
    if is_base64:
        try:
            text = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise MalformedEvent("body is not base64-encoded UTF-8") from None
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise MalformedEvent("too many form fields") from None


def _fields(params: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Name → first value. Twilio sends each field once; a repeated one is not trusted further."""
    fields: dict[str, str] = {}
    for name, value in params:
        fields.setdefault(name, value)
    return fields


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise MalformedEvent(f"missing field {name}")
    return value


def _call_reference(fields: Mapping[str, str]) -> Identifier:
    try:
        return identifiers.reference(_required(fields, "CallSid"))
    except InvalidIdentifierError:
        raise MalformedEvent("field CallSid is not a call reference") from None


def caller_identifier(raw_from: str | None) -> Identifier | None:
    """The caller's number as an identifier, or None when the caller withheld it.

    Withheld caller IDs ("anonymous", "+266696687", blank, …) and anything that is not a phone number
    (a SIP or client address) give None rather than an error: a person is always connected ("fail
    open for people", DESIGN). Such a call cannot be counted for the daily limit (P10).
    """
    text = (raw_from or "").strip()
    if text.lower() in WITHHELD_CALLER_IDS:
        return None
    try:
        return identifiers.phone(text)
    except InvalidIdentifierError:
        return None


def incoming_call(params: Sequence[tuple[str, str]], now: datetime) -> ContactStarted:
    """A `ContactStarted` from Twilio's incoming-call webhook (fields `From`, `To`, `CallSid`).

    `To` is our own number: it becomes the line address, normalised as the line registry stores it.
    `From` is the caller (`caller_identifier`). Twilio's webhook has no start time, so `now` is used.
    """
    fields = _fields(params)
    to = _required(fields, "To")
    try:
        line_address = normalise_address("voice", to)
    except ValueError:
        raise MalformedEvent("field To is not a valid phone number") from None
    return ContactStarted(
        channel="voice",
        line_address=line_address,
        identifier=caller_identifier(fields.get("From")),
        provider_reference=_call_reference(fields),
        started_at=_utc(now),
    )


def status_callback(params: Sequence[tuple[str, str]], now: datetime) -> ContactEnded | None:
    """A `ContactEnded` for a terminal call status; None while the call is still going on.

    Terminal: completed, busy, no-answer, canceled, failed. `ended_at` is Twilio's `Timestamp`
    (RFC 2822) or, without one, `now`. `duration_s` is `CallDuration`; a call that did not complete
    and has none lasted 0 s; a completed call without one gets None (the domain computes it from the
    start). `sequence` is `SequenceNumber` (0 without), because Twilio may deliver callbacks twice
    and out of order. An unknown `CallStatus` is refused rather than guessed at.
    """
    fields = _fields(params)
    status = _required(fields, "CallStatus").lower()
    if status in NON_TERMINAL_STATUSES:
        return None
    if status not in TERMINAL_STATUSES:
        raise MalformedEvent("unknown CallStatus")
    reference = _call_reference(fields)
    ended_at = _utc(now)
    if timestamp := fields.get("Timestamp", "").strip():
        try:
            ended_at = _utc(parsedate_to_datetime(timestamp))
        except (TypeError, ValueError, IndexError, OverflowError):
            raise MalformedEvent("field Timestamp is not an RFC 2822 date") from None
    duration: int | None = None if status == "completed" else 0
    if raw_duration := fields.get("CallDuration", "").strip():
        duration = _non_negative_int(raw_duration, "CallDuration")
    sequence = 0
    if raw_sequence := fields.get("SequenceNumber", "").strip():
        sequence = _non_negative_int(raw_sequence, "SequenceNumber")
    return ContactEnded(
        channel="voice",
        provider_reference=reference,
        ended_at=ended_at,
        duration_s=duration,
        sequence=sequence,
    )


def _non_negative_int(raw: str, name: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise MalformedEvent(f"field {name} is not a whole number")
    return int(raw)


def _utc(value: datetime) -> datetime:
    """Aware UTC; a time without a zone (RFC 2822 "-0000") is taken to be UTC; never raises (`as_utc`
    clamps a time UTC cannot represent, which the domain then replaces by our receipt time)."""
    return as_utc(value)


# --- TwiML -----------------------------------------------------------------------------------------


def routing_twiml(queue: str) -> str:
    """Put the caller in the volunteers' queue (`<Enqueue>`). Never a `<Record>` (P1)."""
    return f"{XML_DECLARATION}<Response><Enqueue>{escape(queue)}</Enqueue></Response>"


def limited_twiml(message: str = DEFAULT_LIMITED_MESSAGE_NL) -> str:
    """Tell the caller, in Dutch, that today's limit is reached (P10), then hang up."""
    return f'{XML_DECLARATION}<Response><Say language="nl-NL">{escape(message)}</Say><Hangup/></Response>'


def empty_twiml() -> str:
    """The answer to a status callback: Twilio expects TwiML, and there is nothing to do."""
    return f"{XML_DECLARATION}<Response/>"
