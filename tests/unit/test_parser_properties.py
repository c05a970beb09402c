"""Property tests of every provider parser, phone normalisation and region derivation (hypothesis).

For arbitrary input and for input that is nearly valid, each parser either returns its domain events or
raises one of the refusals it documents, and nothing else: any other exception would turn a person's
contact into a 5xx, or (as the e-mail `UnicodeEncodeError` did) fail an intake halfway. A refusal's
message never echoes an input value (P2, P3: it may reach a response, a log line or a trace): the
inputs are seeded with phone numbers in the forms `+31612345678`, `0612345678` and `06-12345678`, and
none of them may appear in `str()` or `repr()` of the refusal. What a parser returns can always be
keyed and encrypted: every identifier in it is valid Unicode (`.encode()` works). Region derivation
gives every number a region the record accepts (P8).

Deterministic in CI (`derandomize=True`, no example database) and fast: the whole file runs in a few
seconds.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, Final
from urllib.parse import unquote_plus, urlencode

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpline import identifiers
from helpline.identifiers import Identifier, InvalidIdentifierError
from helpline.models.contacts import ContactRecord
from helpline.models.events import ContactEnded, ContactStarted, TranscriptPart
from helpline.providers import chat, connect, email, twilio
from helpline.providers.errors import MalformedEvent, PayloadTooLarge, SignatureError
from helpline.providers.mail_authentication import sender_authenticated
from helpline.regions import ABROAD_OTHER, region_of

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRET = "whsec_properties"

FAST = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
QUICK = settings(FAST, max_examples=60)

# --- what the inputs are made of ----------------------------------------------------------------------

SUBSCRIBER = st.integers(min_value=10_000_000, max_value=99_999_999).map(str)
PHONE_FORMS: Final = ("+316{}", "06{}", "06-{}")
PHONES = st.builds(lambda form, digits: form.format(digits), st.sampled_from(PHONE_FORMS), SUBSCRIBER)
"""A Dutch mobile number in one of the three forms people write it in: what must never be echoed."""
KNOWN_PHONES: Final = ("+31612345678", "0612345678", "06-12345678")

LONE_SURROGATES = st.integers(min_value=0xD800, max_value=0xDFFF).map(chr)
ODD_TEXT = st.lists(st.one_of(st.characters(), LONE_SURROGATES), max_size=40).map("".join)
"""Any code point, lone surrogates included: JSON ("\\ud83d") and byte parsers can produce them."""
VALUES = st.one_of(PHONES, st.sampled_from(KNOWN_PHONES), ODD_TEXT)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), VALUES)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(VALUES, children, max_size=4)),
    max_leaves=10,
)


def phones_in(*values: object) -> set[str]:
    """Every phone number form that occurs in the inputs (found by their own text), plus the fixed
    ones, so that a check for echoes is a check for exactly what was put in."""
    text = json.dumps(values, default=repr, ensure_ascii=False)
    found = {phone for phone in KNOWN_PHONES if phone in text}
    for form in PHONE_FORMS:
        prefix = form.format("")
        start = text.find(prefix)
        while start >= 0:
            candidate = text[start : start + len(prefix) + 8]
            if candidate[len(prefix) :].isdigit() and len(candidate) == len(prefix) + 8:
                found.add(candidate)
            start = text.find(prefix, start + 1)
    return found


def assert_refusal_shows_no_input(error: BaseException, *inputs: object) -> None:
    shown = f"{error} {error!r} {getattr(error, 'problem', '')}"
    for phone in phones_in(*inputs):
        assert phone not in shown, "a refusal echoes an input value"


def test_the_echo_check_finds_an_echo() -> None:
    """P2: the check the properties rely on: an input's phone number in a refusal's message is found."""
    with pytest.raises(AssertionError):
        assert_refusal_shows_no_input(MalformedEvent("field From is 06-87654321"), {"From": "06-87654321"})
    with pytest.raises(AssertionError):
        assert_refusal_shows_no_input(MalformedEvent("+31612345678"), "To=%2B31612345678", "+31612345678")


def assert_storable(*events: object) -> None:
    """Every identifier an event carries can be keyed and encrypted (no lone surrogate), and the
    event's text shows none of them."""
    for event in events:
        for value in vars(event).values():
            if isinstance(value, Identifier):
                value.reveal().encode("utf-8")
                ours = {getattr(event, "line_address", None), *getattr(event, "other_recipients", ())}
                if len(value.reveal()) >= 3 and value.reveal() not in ours:  # our own address is no secret
                    assert value.reveal() not in repr(event)
        if isinstance(event, TranscriptPart):
            event.text.encode("utf-8")
            event.part_id.encode("utf-8")


def parses_or_refuses(
    parse: Callable[[], object], refusals: tuple[type[BaseException], ...], *inputs: object
) -> object | None:
    try:
        return parse()
    except refusals as error:
        assert_refusal_shows_no_input(error, *inputs)
        return None


# --- Twilio form bodies -------------------------------------------------------------------------------

TWILIO_FIELDS = st.sampled_from(
    ["To", "From", "CallSid", "CallStatus", "Timestamp", "CallDuration", "SequenceNumber", "AccountSid"]
)
TWILIO_VALUES = st.one_of(
    VALUES,
    st.sampled_from(["completed", "busy", "ringing", "no-answer", "anonymous", "+266696687", "", " "]),
    st.sampled_from(["Sun, 01 Mar 2026 12:00:00 +0000", "Fri, 31 Dec 9999 23:59:59 -1400", "gisteren"]),
    st.integers(min_value=-5, max_value=10**15).map(str),
)
TWILIO_CALL: Final = {
    "To": "+31881234000",
    "From": "+31612345678",
    "CallSid": "CA1",
    "CallStatus": "completed",
}


def twilio_form(changes: dict[str, str], extra: list[tuple[str, str]]) -> str:
    """A voice webhook's form with some fields changed and some added (what is no UTF-8 goes as bytes)."""
    return urlencode([*(TWILIO_CALL | changes).items(), *extra], errors="surrogatepass")


TWILIO_FORMS = st.builds(
    twilio_form,
    st.dictionaries(TWILIO_FIELDS, TWILIO_VALUES, max_size=3),
    st.lists(st.tuples(TWILIO_FIELDS, TWILIO_VALUES), max_size=3),
)


def twilio_events(body: str, is_base64: bool) -> None:
    params = twilio.parse_form(body, is_base64=is_base64)
    for step in (twilio.incoming_call, twilio.status_callback):
        event = parses_or_refuses(lambda step=step: step(params, NOW), (MalformedEvent,), body, params)  # type: ignore[misc]
        if event is not None:
            assert isinstance(event, ContactStarted | ContactEnded)
            assert_storable(event)


@FAST
@given(body=st.one_of(TWILIO_FORMS, ODD_TEXT, st.text(max_size=300)), is_base64=st.booleans())
def test_a_twilio_form_parses_or_is_refused_as_malformed(body: str, is_base64: bool) -> None:
    """P2: a form becomes a call or its end, or is refused as malformed (400), naming no number."""
    if is_base64 and body and not body.isascii():
        body = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode()
    parses_or_refuses(lambda: twilio_events(body, is_base64), (MalformedEvent,), body, unquote_plus(body))


@QUICK
@given(
    url=st.one_of(st.text(max_size=60), st.just("https://[::1/webhooks"), st.just("https://h:99999/x")),
    params=st.lists(st.tuples(TWILIO_FIELDS, TWILIO_VALUES), max_size=5),
    signature=st.one_of(st.none(), st.text(max_size=40)),
    token=st.text(max_size=20),
)
def test_a_twilio_signature_verifies_or_is_refused(
    url: str, params: list[tuple[str, str]], signature: str | None, token: str
) -> None:
    """P2: any request verifies or is refused with the one fixed message (403), never a crash."""
    parses_or_refuses(
        lambda: twilio.verify_signature(url, params, signature, token), (SignatureError,), url, params
    )


# --- Amazon Connect events ----------------------------------------------------------------------------

CONNECT_FIELDS = st.sampled_from(
    ["Channel", "ContactId", "CustomerEndpoint", "SystemEndpoint", "InitiationTimestamp", "Attributes"]
)
ENDPOINTS = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({"Address": VALUES, "Type": st.sampled_from(["TELEPHONE_NUMBER", "VOIP", ""])}),
)
CONNECT_VALUES = st.one_of(
    JSON_VALUES,
    ENDPOINTS,
    st.sampled_from(["VOICE", "CHAT", "TASK", "chat", "2026-03-01T12:00:00Z", "9999-12-31T23:59:59-14:00"]),
    st.fixed_dictionaries({"lineAddress": VALUES}),
)


DISCONNECTED: Final = {
    "eventType": "DISCONNECTED",
    "channel": "CHAT",
    "contactId": "4a573372-1f28-4e26-b97b-777777777777",
    "initiationTimestamp": "2026-03-01T11:00:00Z",
    "disconnectTimestamp": "2026-03-01T11:20:00.500Z",
}


def flow_event(changes: dict[str, Any], parameters: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "Attributes": {},
        "Channel": "VOICE",
        "ContactId": "4a573372-1f28-4e26-b97b-777777777777",
        "CustomerEndpoint": {"Address": "+31612345678", "Type": "TELEPHONE_NUMBER"},
        "SystemEndpoint": {"Address": "+31207990000", "Type": "TELEPHONE_NUMBER"},
        "InitiationMethod": "INBOUND",
    }
    data.update(changes)
    return {"Details": {"ContactData": data, "Parameters": parameters}, "Name": "ContactFlowEvent"}


@FAST
@given(
    event=st.one_of(
        st.dictionaries(VALUES, JSON_VALUES, max_size=3),
        st.builds(
            flow_event,
            st.dictionaries(CONNECT_FIELDS, CONNECT_VALUES, max_size=4),
            st.one_of(JSON_VALUES, st.fixed_dictionaries({"lineAddress": VALUES})),
        ),
    )
)
def test_a_connect_flow_event_parses_or_is_refused_as_malformed(event: dict[str, Any]) -> None:
    """P2, P8: a flow event becomes a contact or is refused naming only the field; the caller is
    connected either way (`ingress.connect`)."""
    started = parses_or_refuses(lambda: connect.contact_flow_event(event, NOW), (MalformedEvent,), event)
    if started is not None:
        assert isinstance(started, ContactStarted)
        assert_storable(started)


@FAST
@given(
    detail=st.one_of(
        JSON_VALUES,
        st.dictionaries(
            st.sampled_from(
                [
                    "eventType",
                    "EventType",
                    "channel",
                    "contactId",
                    "disconnectTimestamp",
                    "initiationTimestamp",
                ]
            ),
            st.one_of(CONNECT_VALUES, st.sampled_from(["DISCONNECTED", "disconnected", "QUEUED"])),
            max_size=2,
        ).map(lambda changes: DISCONNECTED | changes),
    ),
    time=st.one_of(st.none(), VALUES),
)
def test_a_connect_contact_event_parses_or_is_refused_as_malformed(detail: Any, time: Any) -> None:
    """P2, P8: a contact event ends a contact (never a negative length), is ignored, or is refused."""
    event = {"detail-type": "Amazon Connect Contact Event", "detail": detail, "time": time}
    ended = parses_or_refuses(lambda: connect.disconnected_event(event), (MalformedEvent,), event)
    if ended is not None:
        assert isinstance(ended, ContactEnded)
        assert ended.duration_s is None or ended.duration_s >= 0
        assert_storable(ended)


# --- web chat webhook JSON ----------------------------------------------------------------------------

CHAT_FIELDS = st.sampled_from(
    ["type", "session_id", "channel", "client_ip", "timestamp", "message_id", "sender", "text", "extra"]
)
CHAT_VALUES = st.one_of(
    st.sampled_from(
        [
            "chat.started",
            "chat.message",
            "chat.ended",
            "contact",
            "volunteer",
            "hulplijn-chat",
            "203.0.113.9",
            "::ffff:203.0.113.9",
            "2026-03-01T12:00:00Z",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "2026-03-01T12:00:00",
        ]
    ),
    VALUES,
    JSON_VALUES,
)


def chat_document(kind: str, changes: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {"type": kind, "session_id": "sess-1", "timestamp": "2026-03-01T12:00:00Z"}
    if kind == "chat.started":
        document |= {"channel": "hulplijn-chat", "client_ip": "203.0.113.9"}
    if kind == "chat.message":
        document |= {"message_id": "m7", "sender": "contact", "text": "Hoi"}
    return document | {field: value for field, value in changes.items() if field in document}


@FAST
@given(
    raw=st.one_of(
        st.binary(max_size=200),
        st.builds(json.dumps, JSON_VALUES).map(str.encode),
        st.builds(
            chat_document,
            st.sampled_from(["chat.started", "chat.message", "chat.ended"]),
            st.dictionaries(CHAT_FIELDS, CHAT_VALUES, max_size=2),
        ).map(lambda document: json.dumps(document).encode()),
    )
)
def test_a_chat_webhook_body_parses_or_is_refused(raw: bytes) -> None:
    """P3, P8: a body becomes an event, or is refused (400/413) naming fields, never their values."""
    event = parses_or_refuses(
        lambda: chat.parse_event(raw), (MalformedEvent, PayloadTooLarge), raw.decode("utf-8", "replace")
    )
    if event is not None:
        assert isinstance(event, ContactStarted | TranscriptPart | ContactEnded)
        assert_storable(event)


@QUICK
@given(header=st.one_of(st.none(), VALUES, st.text(alphabet="tv1=,0123456789abcdef ", max_size=90)))
def test_a_chat_signature_verifies_or_is_refused(header: str | None) -> None:
    """P3: any signature header verifies or is refused with the one fixed message."""
    parses_or_refuses(lambda: chat.verify(b"{}", header, SECRET, NOW), (SignatureError,), header)


# --- e-mail: raw MIME as SES stores it ----------------------------------------------------------------

ADDRESSES = st.one_of(
    st.sampled_from(
        [
            "jan@example.nl",
            "jösé@example.nl",
            "jan@exämple.nl",
            "Jan <JAN@EXÄMPLE.NL>",
            "jan@straße.de",
            "undisclosed-recipients:;",
            "de Vries, Jan <jan@example.nl>",
            "jan@",
            "@example.nl",
        ]
    ),
    st.builds(lambda phone: f"{phone}@sms.example.nl", PHONES),
    PHONES,
    st.text(max_size=30),
)
HEADER_BYTES = st.one_of(
    ADDRESSES.map(lambda text: text.encode("utf-8")),
    st.binary(max_size=30).filter(lambda raw: b"\n" not in raw and b"\r" not in raw),
)


@st.composite
def raw_mails(draw: st.DrawFn) -> bytes:
    """A mail's bytes: headers from pieces (UTF-8, Latin-1, garbage, phone numbers), then a body."""
    lines = []
    for name in draw(
        st.lists(
            st.sampled_from(
                [b"From", b"To", b"Cc", b"Message-ID", b"Date", b"Content-Type", b"Authentication-Results"]
            ),
            max_size=8,
        )
    ):
        lines.append(name + b": " + draw(HEADER_BYTES))
    body = draw(st.one_of(st.binary(max_size=80), VALUES.map(lambda t: t.encode("utf-8", "surrogatepass"))))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@st.composite
def smtputf8_mails(draw: st.DrawFn) -> bytes:
    """A nearly valid mail as an SMTPUTF8 sender writes it: UTF-8 (or Latin-1) straight in its headers."""
    sender = draw(ADDRESSES).encode(draw(st.sampled_from(["utf-8", "latin-1"])), "replace")
    message_id = draw(st.one_of(PHONES, st.just("<id@example.nl>"), st.just("<ïd@exämple.nl>")))
    body = draw(st.text(max_size=40)).encode("utf-8")
    return (
        b"From: "
        + sender
        + b"\r\nTo: hulp@hulplijn.example.org\r\nMessage-ID: "
        + message_id.encode()
        + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + body
    )


def well_formed_mail(sender: str, to: str, message_id: str, text: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = message_id
    message.set_content(text)
    return message.as_bytes()


@FAST
@given(
    raw=st.one_of(
        st.binary(max_size=300),
        raw_mails(),
        smtputf8_mails(),
        st.builds(
            well_formed_mail,
            st.sampled_from(["jan@example.nl", "Jan <jan@exämple.nl>", "jösé@example.nl"]),
            st.sampled_from(["hulp@hulplijn.example.org", "a@b.nl, c@d.nl"]),
            st.one_of(PHONES, st.just("<id@example.nl>")),
            st.text(max_size=60),
        ),
    )
)
def test_a_raw_mail_parses_or_is_refused_as_malformed(raw: bytes) -> None:
    """P3, P8: a mail becomes a contact and its text, or is refused naming only the header; what it
    yields can be keyed and encrypted (the UTF-8 sender that failed in KMS would fail here)."""
    parsed = parses_or_refuses(
        lambda: email.parse_message(raw, NOW), (MalformedEvent,), raw.decode("utf-8", "replace")
    )
    if parsed is not None:
        started, part = parsed  # type: ignore[misc]
        assert_storable(started, part)
        assert started.provider_reference == part.provider_reference


@QUICK
@given(value=st.one_of(VALUES, st.builds(lambda d: f"amazonses.com; dmarc=pass header.from={d}", VALUES)))
def test_the_ses_verdict_is_a_yes_or_a_no_never_an_error(value: str) -> None:
    """P10: whatever SES's header says, the verdict is a bool, never an exception."""
    assert sender_authenticated([("Authentication-Results", value)], "example.nl") in (True, False)


# --- phone normalisation and region derivation ----------------------------------------------------------


@FAST
@given(
    raw=st.one_of(PHONES, VALUES, st.from_regex(r"\A[+0-9() -]{0,25}\Z")),
    region=st.sampled_from(["NL", "BE", "ZZ"]),
)
def test_a_phone_number_is_normalised_or_refused_without_showing_it(raw: str, region: str) -> None:
    """P2, P10: a number is one E.164 value or refused, and neither the value nor the refusal shows it."""
    try:
        identifier = identifiers.phone(raw, region)
    except InvalidIdentifierError as error:
        assert_refusal_shows_no_input(error, raw)
        return
    assert identifier.kind == "phone"
    assert identifier.reveal().startswith("+")
    assert identifier.reveal()[1:].isdigit()
    assert raw not in repr(identifier) or len(raw) < 3


@pytest.mark.parametrize(
    "raw", ["+31612345678", "0612345678", "06-12345678", "06 1234 5678", "+31 (0)6 12345678"]
)
def test_the_forms_of_one_number_are_one_identifier(raw: str) -> None:
    """P10: one person, one pseudonym, however the number is written."""
    assert identifiers.phone(raw).reveal() == "+31612345678"


@FAST
@given(raw=st.one_of(VALUES, ADDRESSES))
def test_other_identifiers_are_normalised_or_refused_without_showing_the_value(raw: str) -> None:
    """P3: e-mail and IP addresses and references are valid text or refused without the value."""
    for make in (identifiers.email, identifiers.ip_address, identifiers.reference):
        try:
            identifier = make(raw)
        except InvalidIdentifierError as error:
            assert_refusal_shows_no_input(error, raw)
            continue
        identifier.reveal().encode("utf-8")


def record_with(region: str) -> ContactRecord:
    return ContactRecord(
        channel="voice", line="unknown", started_at=NOW, region=region, limit_outcome="unchecked"
    )


CALLING_CODES = sorted(
    {phonenumbers.country_code_for_region(region) for region in phonenumbers.SUPPORTED_REGIONS}
    | set(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
)


@FAST
@given(code=st.sampled_from(CALLING_CODES), national=st.from_regex(r"\A[0-9]{2,14}\Z"))
def test_every_number_gets_a_region_the_record_accepts(code: int, national: str) -> None:
    """P8: a region the record refused would lose the contact after its reference and limit slot were
    claimed (issue 10). Whatever the number, its region is one the record takes."""
    try:
        identifier = identifiers.phone(f"+{code}{national}")
    except InvalidIdentifierError:
        return
    assert record_with(region_of(identifier)).region == region_of(identifier)


@pytest.mark.parametrize("code", [800, 808, 870, 878, 881, 882, 883, 888, 979, 290, 690])
def test_non_geographic_and_tiny_countries_are_abroad_other(code: int) -> None:
    """+800/+870/+881/+882/+883 and the like belong to no country; +290 (Tristan da Cunha, St Helena)
    and +690 (Tokelau) to countries so small a region would point to a person (`SMALL_COUNTRIES`)."""
    region = phonenumbers.region_code_for_country_code(code)
    example = (
        phonenumbers.example_number_for_non_geo_entity(code)
        if region == "001"
        else phonenumbers.example_number(region)
    )
    assert example is not None
    number = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    assert region_of(identifiers.phone(number)) == ABROAD_OTHER
    assert record_with(ABROAD_OTHER).region == ABROAD_OTHER


@pytest.mark.parametrize("region", sorted(phonenumbers.SUPPORTED_REGIONS))
def test_each_countrys_example_numbers_get_a_region_the_record_accepts(region: str) -> None:
    """P8: every country's fixed and mobile numbers get a region the record takes."""
    for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        identifier = identifiers.phone(
            phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        )
        assert record_with(region_of(identifier)).region == region_of(identifier)


@QUICK
@given(
    identifier=st.one_of(
        st.none(), st.builds(Identifier, st.sampled_from(["email", "ip", "reference", "phone"]), VALUES)
    )
)
def test_region_derivation_never_raises_and_is_always_accepted(identifier: Identifier | None) -> None:
    """P8: any identifier, or none, has a region the record takes."""
    region = region_of(identifier)
    assert record_with(region).region == region
