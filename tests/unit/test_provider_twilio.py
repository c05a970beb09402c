"""Twilio voice adapter: signatures as Twilio computes them, calls read without leaking the number.

Signatures are produced by twilio's own `RequestValidator` (a dev dependency), so the stdlib
implementation is checked against the reference, not against itself.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from helpline.models.events import ContactEnded, ContactStarted
from helpline.providers import twilio
from helpline.providers.errors import MalformedEvent, SignatureError

TOKEN = "test-auth-token-0123456789abcdef"
URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/webhooks/twilio/voice"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CALLER = "+31612345678"
CALLER_FORMATS = ("+31612345678", "0612345678", "06-12345678", "612345678", "12345678")
"""The caller's number in every notation a leak could take (P2)."""
OUR_NUMBER = "+31207990000"
CALL_SID = "CA0123456789abcdef0123456789abcdef"


def call_params(**overrides: str) -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": CALL_SID,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": CALLER,
        "To": OUR_NUMBER,
        "FromCity": "",
        "FromCountry": "NL",
        **overrides,
    }


def as_form(params: dict[str, str]) -> list[tuple[str, str]]:
    return list(params.items())


def twilio_signature(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


def assert_no_caller_number(text: str) -> None:
    for form in CALLER_FORMATS:
        assert form not in text


# --- signature ---------------------------------------------------------------------------------


def test_a_request_signed_by_twilio_verifies() -> None:
    params = call_params()
    twilio.verify_signature(URL, as_form(params), twilio_signature(URL, params), TOKEN)


def test_the_stdlib_signature_equals_twilios() -> None:
    params = call_params(Extra="a&b=c ü")
    assert twilio.compute_signature(URL, as_form(params), TOKEN) == twilio_signature(URL, params)


def test_params_are_sorted_so_their_order_does_not_matter() -> None:
    params = call_params()
    signature = twilio_signature(URL, params)
    twilio.verify_signature(URL, list(reversed(as_form(params))), signature, TOKEN)


@pytest.mark.parametrize("name", ["From", "To", "CallSid", "CallStatus", "FromCity"])
def test_one_changed_param_fails(name: str) -> None:
    params = call_params()
    signature = twilio_signature(URL, params)
    tampered = call_params(**{name: params[name] + "9"})
    with pytest.raises(SignatureError):
        twilio.verify_signature(URL, as_form(tampered), signature, TOKEN)


def test_an_added_param_fails() -> None:
    params = call_params()
    signature = twilio_signature(URL, params)
    with pytest.raises(SignatureError):
        twilio.verify_signature(URL, [*as_form(params), ("Digits", "1")], signature, TOKEN)


def test_the_wrong_auth_token_fails() -> None:
    params = call_params()
    with pytest.raises(SignatureError):
        twilio.verify_signature(URL, as_form(params), twilio_signature(URL, params), "other-token")


@pytest.mark.parametrize(
    "url",
    [
        URL.replace("/prod/", "/dev/"),
        URL.replace("https://", "http://"),
        URL + "?x=1",
        URL.replace("abc123", "abc124"),
    ],
)
def test_a_different_url_fails(url: str) -> None:
    params = call_params()
    with pytest.raises(SignatureError):
        twilio.verify_signature(url, as_form(params), twilio_signature(URL, params), TOKEN)


@pytest.mark.parametrize("signature", [None, "", "   ", "not base64!", "1eWH3CUwcxpseiyMpK4e72NC2aQ="])
def test_a_missing_or_bogus_signature_fails(signature: str | None) -> None:
    with pytest.raises(SignatureError) as raised:
        twilio.verify_signature(URL, as_form(call_params()), signature, TOKEN)
    assert str(raised.value) == "invalid signature"


def test_an_empty_auth_token_verifies_nothing() -> None:
    params = call_params()
    with pytest.raises(SignatureError):
        twilio.verify_signature(URL, as_form(params), twilio_signature(URL, params, token=""), "")


@pytest.mark.parametrize(
    ("signed_url", "received_url"),
    [
        (URL, URL.replace(".com/", ".com:443/")),
        (URL.replace(".com/", ".com:443/"), URL),
        ("http://localhost/dev/webhooks/twilio/voice", "http://localhost:80/dev/webhooks/twilio/voice"),
        ("http://localhost:80/dev/webhooks/twilio/voice", "http://localhost/dev/webhooks/twilio/voice"),
        ("https://h.example/a?b=1", "https://h.example:443/a?b=1"),
    ],
)
def test_the_default_port_may_be_present_or_absent(signed_url: str, received_url: str) -> None:
    params = call_params()
    signature = twilio_signature(signed_url, params)
    assert RequestValidator(TOKEN).validate(received_url, params, signature)  # the reference agrees
    twilio.verify_signature(received_url, as_form(params), signature, TOKEN)


def test_a_non_default_port_is_not_interchangeable_with_the_default() -> None:
    params = call_params()
    signature = twilio_signature("https://h.example:8443/a", params)
    with pytest.raises(SignatureError):
        twilio.verify_signature("https://h.example:443/a", as_form(params), signature, TOKEN)


def test_a_url_with_an_invalid_port_fails_as_a_signature() -> None:
    with pytest.raises(SignatureError):
        twilio.verify_signature("https://h.example:99999/a", [], "x", TOKEN)


# --- form --------------------------------------------------------------------------------------


def test_blank_values_are_kept_because_twilio_signs_them() -> None:
    params = call_params()
    form = twilio.parse_form(urlencode(params), is_base64=False)
    assert ("FromCity", "") in form
    signature = twilio_signature(URL, params)
    twilio.verify_signature(URL, form, signature, TOKEN)
    without_blank = [(k, v) for k, v in form if v]
    with pytest.raises(SignatureError):
        twilio.verify_signature(URL, without_blank, signature, TOKEN)


def test_a_base64_body_is_decoded_first() -> None:
    params = call_params(Extra="café")
    body = base64.b64encode(urlencode(params).encode()).decode()
    form = twilio.parse_form(body, is_base64=True)
    assert dict(form) == params
    twilio.verify_signature(URL, form, twilio_signature(URL, params), TOKEN)


def test_an_empty_body_has_no_fields() -> None:
    assert twilio.parse_form("", is_base64=False) == []
    assert twilio.parse_form(None, is_base64=True) == []


def test_a_body_that_is_not_base64_is_malformed() -> None:
    with pytest.raises(MalformedEvent):
        twilio.parse_form("From=%2B31612345678&&&", is_base64=True)


def test_too_many_fields_are_malformed() -> None:
    with pytest.raises(MalformedEvent):
        twilio.parse_form("&".join(f"f{i}=1" for i in range(twilio.MAX_FORM_FIELDS + 1)), False)


# --- public URL --------------------------------------------------------------------------------

HEADERS = {"Host": "abc123.execute-api.eu-west-1.amazonaws.com", "X-Forwarded-Proto": "https"}


def test_the_url_is_rebuilt_from_headers_with_the_stage() -> None:
    assert twilio.public_url(None, HEADERS, "prod", "/webhooks/twilio/voice", None) == URL


def test_the_rebuilt_url_verifies_a_twilio_signature() -> None:
    params = call_params()
    url = twilio.public_url(None, {"host": HEADERS["Host"]}, "prod", "/webhooks/twilio/voice", "")
    twilio.verify_signature(url, as_form(params), twilio_signature(URL, params), TOKEN)


def test_a_configured_base_url_wins() -> None:
    url = twilio.public_url("https://hulp.example.org/", HEADERS, "prod", "/webhooks/twilio/voice", "a=1")
    assert url == "https://hulp.example.org/webhooks/twilio/voice?a=1"


@pytest.mark.parametrize(
    ("headers", "stage", "expected"),
    [
        ({"Host": "h.example"}, None, "https://h.example/p"),
        ({"Host": "h.example", "X-Forwarded-Port": "443"}, "$default", "https://h.example/p"),
        ({"Host": "127.0.0.1", "X-Forwarded-Proto": "http", "X-Forwarded-Port": "3000"}, None,
         "http://127.0.0.1:3000/p"),
        ({"Host": "127.0.0.1:3000", "X-Forwarded-Port": "3000"}, "dev", "https://127.0.0.1:3000/dev/p"),
        ({"HOST": "h.example", "x-forwarded-proto": "HTTP"}, "dev", "http://h.example/dev/p"),
    ],
)  # fmt: skip
def test_the_url_from_headers(headers: dict[str, str], stage: str | None, expected: str) -> None:
    assert twilio.public_url(None, headers, stage, "/p", None) == expected


# --- incoming call -----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["+31612345678", "0612345678", "06-12345678", "0031 6 12345678"])
def test_the_caller_number_is_normalised_to_e164(raw: str) -> None:
    started = twilio.incoming_call(as_form(call_params(From=raw)), NOW)
    assert started.identifier is not None
    assert started.identifier.kind == "phone"
    assert started.identifier.reveal() == CALLER


@pytest.mark.parametrize(
    "raw", ["anonymous", "Anonymous", "+266696687", "", "  ", "restricted", "client:alice", "sip:x@y"]
)
def test_a_withheld_caller_id_has_no_identifier(raw: str) -> None:
    started = twilio.incoming_call(as_form(call_params(From=raw)), NOW)
    assert started.identifier is None


def test_a_missing_from_is_a_withheld_caller_id() -> None:
    params = call_params()
    del params["From"]
    assert twilio.incoming_call(as_form(params), NOW).identifier is None


def test_an_incoming_call_becomes_contact_started() -> None:
    started = twilio.incoming_call(as_form(call_params(To="020 799 0000")), NOW)
    assert isinstance(started, ContactStarted)
    assert started.channel == "voice"
    assert started.line_address == OUR_NUMBER  # as the line registry normalises it
    assert started.provider_reference.kind == "reference"
    assert started.provider_reference.reveal() == CALL_SID
    assert started.started_at == NOW


@pytest.mark.parametrize("field", ["CallSid", "To"])
@pytest.mark.parametrize("absent", ["missing", "blank"])
def test_a_call_without_callsid_or_to_is_malformed(field: str, absent: str) -> None:
    params = call_params()
    if absent == "missing":
        del params[field]
    else:
        params[field] = " "
    with pytest.raises(MalformedEvent) as raised:
        twilio.incoming_call(as_form(params), NOW)
    assert str(raised.value) == f"missing field {field}"


def test_an_invalid_to_is_malformed_without_echoing_it() -> None:
    with pytest.raises(MalformedEvent) as raised:
        twilio.incoming_call(as_form(call_params(To="0612345")), NOW)
    assert "To" in str(raised.value)
    assert "0612345" not in str(raised.value)


def test_the_contact_started_never_shows_the_number_or_the_callsid() -> None:
    """P2: the event can be logged or put in an exception without leaking the caller's number."""
    for raw in ("+31612345678", "0612345678", "06-12345678"):
        started = twilio.incoming_call(as_form(call_params(From=raw)), NOW)
        for text in (repr(started), str(started), f"{started}", f"{started.identifier}"):
            assert_no_caller_number(text)
            assert CALL_SID not in text


def test_error_messages_never_show_the_number() -> None:
    bad_inputs = [
        call_params(To=CALLER + "99"),
        {"From": CALLER, "To": "06-12345678999", "CallSid": CALL_SID},
        {"From": CALLER, "CallSid": CALLER},
        {"From": CALLER, "CallSid": "x" * 600, "To": OUR_NUMBER},
    ]
    for params in bad_inputs:
        with pytest.raises(MalformedEvent) as raised:
            twilio.incoming_call(as_form(params), NOW)
        assert_no_caller_number(str(raised.value))
        assert_no_caller_number(repr(raised.value))


# --- status callback ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["queued", "initiated", "ringing", "in-progress"])
def test_a_non_terminal_status_is_not_an_end(status: str) -> None:
    assert twilio.status_callback(as_form(call_params(CallStatus=status)), NOW) is None


def test_a_completed_call_ends_at_twilios_timestamp() -> None:
    params = call_params(
        CallStatus="completed",
        CallDuration="754",
        Timestamp="Sun, 01 Mar 2026 11:45:30 +0100",
        SequenceNumber="3",
    )
    ended = twilio.status_callback(as_form(params), NOW)
    assert isinstance(ended, ContactEnded)
    assert ended.channel == "voice"
    assert ended.provider_reference.reveal() == CALL_SID
    assert ended.ended_at == datetime(2026, 3, 1, 10, 45, 30, tzinfo=UTC)
    assert ended.ended_at.tzinfo == UTC
    assert ended.duration_s == 754
    assert ended.sequence == 3


def test_without_timestamp_or_sequence_now_and_zero_are_used() -> None:
    ended = twilio.status_callback(as_form(call_params(CallStatus="busy")), NOW)
    assert ended is not None
    assert ended.ended_at == NOW
    assert ended.sequence == 0


@pytest.mark.parametrize("status", ["busy", "no-answer", "canceled", "failed"])
def test_a_call_that_never_connected_lasted_zero_seconds(status: str) -> None:
    ended = twilio.status_callback(as_form(call_params(CallStatus=status)), NOW)
    assert ended is not None
    assert ended.duration_s == 0


def test_a_completed_call_without_duration_leaves_it_to_the_domain() -> None:
    ended = twilio.status_callback(as_form(call_params(CallStatus="completed")), NOW)
    assert ended is not None
    assert ended.duration_s is None


def test_out_of_order_callbacks_carry_their_sequence() -> None:
    late = call_params(CallStatus="completed", SequenceNumber="4", CallDuration="60")
    early = call_params(CallStatus="ringing", SequenceNumber="1")
    ended = twilio.status_callback(as_form(late), NOW)
    assert twilio.status_callback(as_form(early), NOW + timedelta(seconds=5)) is None
    assert ended is not None
    assert ended.sequence == 4


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"CallStatus": "exploded"}, "unknown CallStatus"),
        ({"CallStatus": ""}, "missing field CallStatus"),
        ({"CallStatus": "completed", "CallSid": ""}, "missing field CallSid"),
        ({"CallStatus": "completed", "CallDuration": "-5"}, "field CallDuration is not a whole number"),
        ({"CallStatus": "completed", "SequenceNumber": "x"}, "field SequenceNumber is not a whole number"),
        ({"CallStatus": "completed", "Timestamp": "yesterday"}, "field Timestamp is not an RFC 2822 date"),
    ],
)
def test_a_malformed_status_callback(overrides: dict[str, str], problem: str) -> None:
    with pytest.raises(MalformedEvent) as raised:
        twilio.status_callback(as_form(call_params(**overrides)), NOW)
    assert str(raised.value) == problem


def test_the_contact_ended_never_shows_the_callsid() -> None:
    ended = twilio.status_callback(as_form(call_params(CallStatus="completed")), NOW)
    assert CALL_SID not in repr(ended)
    assert_no_caller_number(repr(ended))


# --- TwiML -------------------------------------------------------------------------------------


def canonical(xml: str) -> str:
    return ET.canonicalize(xml.split("?>", 1)[-1])


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314 - our own TwiML, not untrusted input


def child(root: ET.Element, tag: str) -> ET.Element:
    element = root.find(tag)
    assert element is not None
    return element


def test_routing_twiml_equals_twilios() -> None:
    reference = VoiceResponse()
    reference.enqueue("hulplijn <nl> & co")
    ours = twilio.routing_twiml("hulplijn <nl> & co")
    assert ours.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert canonical(ours) == canonical(str(reference))
    assert child(parse(ours), "Enqueue").text == "hulplijn <nl> & co"
    assert "<Record" not in ours  # P1: never recorded


def test_limited_twiml_says_the_message_in_dutch_and_hangs_up() -> None:
    reference = VoiceResponse()
    reference.say('a < b & "c"', language="nl-NL")
    reference.hangup()
    ours = twilio.limited_twiml('a < b & "c"')
    assert canonical(ours) == canonical(str(reference))


def test_the_default_limited_message_is_kind_dutch_and_says_when_to_call_again() -> None:
    message = twilio.DEFAULT_LIMITED_MESSAGE_NL
    assert "Morgen" in message or "morgen" in message
    assert len(message) < 200
    say = child(parse(twilio.limited_twiml()), "Say")
    assert say.text == message
    assert say.get("language") == "nl-NL"


def test_empty_twiml_is_an_empty_response() -> None:
    root = parse(twilio.empty_twiml())
    assert root.tag == "Response"
    assert list(root) == []


@pytest.mark.parametrize(
    ("timestamp", "ended_at"),
    [
        ("Thu, 01 Jan 1970 00:00:00 +0000", datetime(1970, 1, 1, tzinfo=UTC)),
        ("Fri, 31 Dec 9999 23:59:59 -1400", datetime.max.replace(tzinfo=UTC)),
    ],
)
def test_an_absurd_callback_timestamp_is_passed_on_without_an_exception(
    timestamp: str, ended_at: datetime
) -> None:
    """A status callback must never fail on Twilio's clock: a time UTC cannot hold (it overflowed) is
    clamped, and the domain replaces any implausible one by our receipt time."""
    ended = twilio.status_callback(as_form(call_params(CallStatus="completed", Timestamp=timestamp)), NOW)
    assert ended is not None
    assert ended.ended_at == ended_at
