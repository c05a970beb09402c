"""Web chat webhook: Stripe-like signature with a replay window, strict events, no IP in any message."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpline.models.events import ContactEnded, ContactStarted, TranscriptPart
from helpline.providers import chat
from helpline.providers.errors import MalformedEvent, PayloadTooLarge, SignatureError

SECRET = "whsec_test"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
IP = "203.0.113.77"
IPV6 = "2001:db8::1234:5678"
SESSION = "sess-7f3a9c1e-4b2d"


def started(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "chat.started",
        "session_id": SESSION,
        "channel": "hulplijn-chat",
        "client_ip": IP,
        "timestamp": "2026-03-01T12:59:58+01:00",
        **overrides,
    }


def message(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "chat.message",
        "session_id": SESSION,
        "message_id": "m-1",
        "sender": "contact",
        "text": "Ik kan niet slapen.",
        "timestamp": "2026-03-01T12:00:03.250Z",
        **overrides,
    }


def ended(**overrides: Any) -> dict[str, Any]:
    return {"type": "chat.ended", "session_id": SESSION, "timestamp": "2026-03-01T12:31:00Z", **overrides}


def body(document: Any) -> bytes:
    return json.dumps(document).encode()


# --- signature ---------------------------------------------------------------------------------


def test_a_signed_body_verifies() -> None:
    raw = body(started())
    chat.verify(raw, chat.sign(raw, SECRET, NOW), SECRET, NOW)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    """The documented format, computed independently of `sign`."""
    raw = body(ended())
    t = int(NOW.timestamp())
    digest = hmac.new(SECRET.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    assert chat.sign(raw, SECRET, t) == f"t={t},v1={digest}"
    assert chat.sign(raw, SECRET, NOW) == f"t={t},v1={digest}"
    chat.verify(raw, f"t={t},v1={digest}", SECRET, NOW)


def test_the_example_in_the_module_docstring_is_right() -> None:
    raw = b'{"type":"chat.ended","session_id":"s-1","timestamp":"2026-01-01T00:00:00Z"}'
    header = chat.sign(raw, "whsec_test", 1767225600)
    assert chat.__doc__ is not None
    assert header in chat.__doc__


def test_a_changed_body_fails() -> None:
    raw = body(message())
    header = chat.sign(raw, SECRET, NOW)
    with pytest.raises(SignatureError):
        chat.verify(body(message(text="Ik kan niet slapen!")), header, SECRET, NOW)


def test_a_changed_timestamp_fails() -> None:
    raw = body(message())
    signature = chat.sign(raw, SECRET, NOW).split(",")[1]
    with pytest.raises(SignatureError):
        chat.verify(raw, f"t={int(NOW.timestamp()) + 1},{signature}", SECRET, NOW)


def test_the_wrong_secret_fails() -> None:
    raw = body(started())
    with pytest.raises(SignatureError):
        chat.verify(raw, chat.sign(raw, "other", NOW), SECRET, NOW)


@pytest.mark.parametrize("offset", [-300, -1, 0, 1, 300])
def test_a_signature_within_the_window_verifies(offset: int) -> None:
    raw = body(ended())
    chat.verify(raw, chat.sign(raw, SECRET, NOW + timedelta(seconds=offset)), SECRET, NOW)


@pytest.mark.parametrize("offset", [-301, 301, -86_400, 86_400])
def test_a_stale_or_future_signature_fails(offset: int) -> None:
    """A captured request cannot be replayed after the window (nor signed ahead of it)."""
    raw = body(ended())
    with pytest.raises(SignatureError):
        chat.verify(raw, chat.sign(raw, SECRET, NOW + timedelta(seconds=offset)), SECRET, NOW)


def test_the_window_can_be_narrowed() -> None:
    raw = body(ended())
    header = chat.sign(raw, SECRET, NOW - timedelta(seconds=60))
    chat.verify(raw, header, SECRET, NOW, tolerance_s=60)
    with pytest.raises(SignatureError):
        chat.verify(raw, header, SECRET, NOW, tolerance_s=59)


def test_any_matching_v1_is_enough_and_unknown_schemes_are_ignored() -> None:
    raw = body(ended())
    t, v1 = chat.sign(raw, SECRET, NOW).split(",")
    wrong = "v1=" + "0" * 64
    chat.verify(raw, f"{t}, {wrong}, {v1.upper().replace('V1=', 'v1=')}, v2=abc", SECRET, NOW)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=,v1=",
        "v1=" + "0" * 64,  # no timestamp
        "t=1772366400",  # no v1
        "t=1772366400,v1=xyz",
        "t=1772366400,v1=" + "0" * 63,
        "t=abc,v1=" + "0" * 64,
        "t=-1772366400,v1=" + "0" * 64,
        "t=1772366400,t=1772366400,v1=" + "0" * 64,
        "t=99999999999999999999,v1=" + "0" * 64,
        "t=1772366400;v1=" + "0" * 64,
    ],
)
def test_a_missing_or_malformed_header_fails(header: str | None) -> None:
    with pytest.raises(SignatureError) as raised:
        chat.verify(body(ended()), header, SECRET, NOW)
    assert str(raised.value) == "invalid signature"


def test_an_empty_secret_verifies_nothing() -> None:
    raw = body(ended())
    with pytest.raises(SignatureError):
        chat.verify(raw, chat.sign(raw, "", NOW), "", NOW)


# --- events ------------------------------------------------------------------------------------


def test_chat_started_becomes_contact_started() -> None:
    event = chat.parse_event(body(started(channel=" hulplijn-chat ")))
    assert isinstance(event, ContactStarted)
    assert event.channel == "chat"
    assert event.line_address == "hulplijn-chat"
    assert event.identifier is not None
    assert event.identifier.kind == "ip"
    assert event.identifier.reveal() == IP
    assert event.provider_reference.kind == "reference"
    assert event.provider_reference.reveal() == SESSION
    assert event.started_at == datetime(2026, 3, 1, 11, 59, 58, tzinfo=UTC)
    assert event.started_at.tzinfo == UTC


def test_an_ipv6_client_is_kept_in_canonical_form() -> None:
    event = chat.parse_event(body(started(client_ip="2001:0DB8:0000::1234:5678")))
    assert isinstance(event, ContactStarted)
    assert event.identifier is not None
    assert event.identifier.reveal() == IPV6


def test_chat_message_becomes_a_transcript_part_word_for_word() -> None:
    text = "  Hoi.\nIk heet Anna <b>echt</b> & ik wil praten.  "
    event = chat.parse_event(body(message(text=text, sender="volunteer", message_id="m-42")))
    assert isinstance(event, TranscriptPart)
    assert event.channel == "chat"
    assert event.text == text  # P8: word for word
    assert event.sender == "volunteer"
    assert event.part_id == "m-42"
    assert event.provider_reference.reveal() == SESSION
    assert event.sent_at == datetime(2026, 3, 1, 12, 0, 3, 250_000, tzinfo=UTC)


def test_chat_ended_becomes_contact_ended_without_duration() -> None:
    event = chat.parse_event(body(ended()))
    assert isinstance(event, ContactEnded)
    assert event.channel == "chat"
    assert event.duration_s is None
    assert event.sequence == 0
    assert event.ended_at == datetime(2026, 3, 1, 12, 31, tzinfo=UTC)
    assert event.provider_reference.reveal() == SESSION


def test_a_text_of_exactly_8000_characters_is_accepted() -> None:
    event = chat.parse_event(body(message(text="a" * 8000)))
    assert isinstance(event, TranscriptPart)
    assert len(event.text) == 8000


def test_a_longer_text_is_too_large() -> None:
    with pytest.raises(PayloadTooLarge) as raised:
        chat.parse_event(body(message(text="a" * 8001)))
    assert str(raised.value) == "text longer than 8000 characters"


def test_a_body_over_the_limit_is_too_large() -> None:
    raw = body(message(text="a")) + b" " * chat.MAX_BODY_BYTES
    with pytest.raises(PayloadTooLarge):
        chat.parse_event(raw)


@pytest.mark.parametrize("raw", [b"", b"not json", b"{", b"\xff\xfe\x00", b"[" * 100_000 + b"]" * 100_000])
def test_a_body_that_is_not_json_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedEvent) as raised:
        chat.parse_event(raw)
    assert str(raised.value) == "body is not JSON"


@pytest.mark.parametrize("document", [[], "chat.started", 5, None])
def test_a_body_that_is_not_an_object_is_malformed(document: Any) -> None:
    with pytest.raises(MalformedEvent) as raised:
        chat.parse_event(body(document))
    assert str(raised.value) == "body is not a JSON object"


def test_an_unknown_type_is_malformed() -> None:
    with pytest.raises(MalformedEvent) as raised:
        chat.parse_event(body(started(type="chat.foo")))
    assert str(raised.value) == "unknown event type"


def test_a_missing_type_is_malformed() -> None:
    document = started()
    del document["type"]
    with pytest.raises(MalformedEvent) as raised:
        chat.parse_event(body(document))
    assert str(raised.value) == "missing field type"


@pytest.mark.parametrize(
    ("document", "fields"),
    [
        (message(sender="bot"), ["sender"]),
        (message(text=""), ["text"]),
        (message(message_id=""), ["message_id"]),
        ({k: v for k, v in started().items() if k != "session_id"}, ["session_id"]),
        (ended(timestamp="2026-03-01T12:31:00"), ["timestamp"]),  # no zone
        (ended(timestamp="gisteren"), ["timestamp"]),
        (message(sender="bot", text=5), ["sender", "text"]),
    ],
)
def test_a_validation_error_names_the_fields(document: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(MalformedEvent) as raised:
        chat.parse_event(body(document))
    for field in fields:
        assert f"{field}:" in str(raised.value)


def test_an_extra_field_is_refused_without_naming_it() -> None:
    """Its name is input too: it could be an e-mail address or a phone number."""
    with pytest.raises(MalformedEvent) as raised:
        chat.parse_event(body(started(**{"jan@example.nl": IP})))
    assert "unexpected field" in str(raised.value)
    assert "jan@example.nl" not in str(raised.value)
    assert IP not in str(raised.value)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (started(channel="Hulplijn Chat"), "channel is not a chat channel slug"),
        (started(client_ip="203.0.113.777"), "client_ip is not an IP address"),
        (started(session_id="   "), "session_id is blank"),
    ],
)
def test_bad_values_are_named_but_not_shown(document: dict[str, Any], problem: str) -> None:
    with pytest.raises(MalformedEvent) as raised:
        chat.parse_event(body(document))
    assert str(raised.value) == problem


# --- identifier leaks (P3) ---------------------------------------------------------------------

LEAK_FORMS = (IP, "203.0.113", IPV6, "2001:0DB8", "db8::1234", SESSION)


def assert_no_leak(text: str) -> None:
    for form in LEAK_FORMS:
        assert form.lower() not in text.lower()


def test_events_never_show_the_ip_or_the_session() -> None:
    for document in (started(), started(client_ip=IPV6), message(), ended()):
        event = chat.parse_event(body(document))
        for text in (repr(event), str(event), f"{event}"):
            assert_no_leak(text)


@pytest.mark.parametrize(
    "document",
    [
        started(client_ip=IP + "x"),
        started(client_ip=IP * 10),
        started(client_ip=[IP]),
        started(session_id=SESSION * 50),
        started(session_id=[SESSION]),
        started(channel=IP),
        message(sender=IP),
        message(message_id=SESSION * 50),
        ended(timestamp=IP),
        started(**{SESSION: IP}),
        {"type": IP, "session_id": SESSION},
    ],
)
def test_error_messages_never_show_the_ip_or_the_session(document: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent) as raised:
        chat.parse_event(body(document))
    assert_no_leak(str(raised.value))
    assert_no_leak(repr(raised.value))


# --- OpenAPI -----------------------------------------------------------------------------------


def test_the_models_have_a_json_schema_for_openapi() -> None:
    schema = chat.ChatEventAdapter.json_schema()
    assert schema["discriminator"]["propertyName"] == "type"
    assert set(schema["$defs"]) == {"ChatStartedEvent", "ChatMessageEvent", "ChatEndedEvent"}
    text = schema["$defs"]["ChatMessageEvent"]["properties"]["text"]
    assert text["maxLength"] == 8000
    assert schema["$defs"]["ChatEndedEvent"]["additionalProperties"] is False


# --- absurd timestamps (P7, P8: retention is counted from our receipt, never from these) ----------


@pytest.mark.parametrize(
    ("timestamp", "claimed"),
    [
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC)),
        ("2150-01-01T00:00:00Z", datetime(2150, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        # Beyond what UTC can hold: converting them overflowed; now they are clamped to the ends.
        ("9999-12-31T23:59:59-14:00", datetime.max.replace(tzinfo=UTC)),
        ("0001-01-01T00:00:00+14:00", datetime.min.replace(tzinfo=UTC)),
    ],
)
def test_an_absurd_timestamp_is_parsed_as_a_claim_without_an_exception(
    timestamp: str, claimed: datetime
) -> None:
    """A person in crisis must be connected: chat.started is never refused for its clock. The claim is
    passed on as is (clamped only where UTC cannot represent it); the domain decides whether to believe it."""
    for document in (started(timestamp=timestamp), message(timestamp=timestamp), ended(timestamp=timestamp)):
        event = chat.parse_event(body(document))
        at = event.started_at if isinstance(event, ContactStarted) else None
        at = event.sent_at if isinstance(event, TranscriptPart) else at
        at = event.ended_at if isinstance(event, ContactEnded) else at
        assert at == claimed
        assert at is not None
        assert at.tzinfo == UTC


@pytest.mark.parametrize("timestamp", ["0000-01-01T00:00:00Z", "+10000-01-01T00:00:00Z", 1e20])
def test_a_timestamp_that_is_no_time_at_all_is_a_400_naming_the_field_not_the_value(
    timestamp: object,
) -> None:
    """Our own format: what is not ISO 8601 with a zone is refused before anything is claimed."""
    with pytest.raises(MalformedEvent) as raised:
        chat.parse_event(body(started(timestamp=timestamp)))
    assert "timestamp:" in str(raised.value)
    assert str(timestamp) not in str(raised.value)


@pytest.mark.parametrize("field", ["session_id", "message_id", "text"])
def test_a_string_that_is_no_text_is_refused_naming_the_field_only(field: str) -> None:
    """P3, P8: JSON can carry a lone surrogate ("\\ud83d"); no such string can be keyed or encrypted,
    so it is refused (400) before anything is claimed, and the refusal shows no value."""
    document = {
        "type": "chat.message",
        "session_id": "s-1",
        "message_id": "m-1",
        "sender": "contact",
        "text": "hoi",
        "timestamp": "2026-03-01T12:00:00Z",
    }
    raw = json.dumps(document).replace(f'"{document[field]}"', '"0612345678\\ud83d"').encode()
    with pytest.raises(MalformedEvent) as raised:
        chat.parse_event(raw)
    assert str(raised.value).startswith(f"invalid event: {field}: ")
    assert "0612345678" not in str(raised.value)
