"""Amazon Connect adapter: raw event values, every channel and endpoint type, no number in any output."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from helpline.models.events import ContactEnded, ContactStarted
from helpline.providers import connect
from helpline.providers.errors import MalformedEvent

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CALLER = "+31612345678"
CALLER_FORMATS = ("+31612345678", "0612345678", "06-12345678", "612345678", "12345678")
OUR_NUMBER = "+31207990000"
CONTACT_ID = "4a573372-1f28-4e26-b97b-XXXXXXXXXXXX".replace("X", "7")


def flow_event(**contact_data: Any) -> dict[str, Any]:
    """The contact-flow event as in the AWS Lambda docs (research notes, issue 3 §4)."""
    data: dict[str, Any] = {
        "Attributes": {},
        "Channel": "VOICE",
        "ContactId": CONTACT_ID,
        "InitialContactId": "11111111-2222-3333-4444-555555555555",
        "PreviousContactId": "11111111-2222-3333-4444-555555555555",
        "CustomerEndpoint": {"Address": CALLER, "Type": "TELEPHONE_NUMBER"},
        "SystemEndpoint": {"Address": OUR_NUMBER, "Type": "TELEPHONE_NUMBER"},
        "InitiationMethod": "INBOUND",
        "InstanceARN": "arn:aws:connect:eu-central-1:123456789012:instance/abc",
        "Queue": None,
        "MediaStreams": {"Customer": {"Audio": None}},
    }
    data.update(contact_data)
    return {"Details": {"ContactData": data, "Parameters": {}}, "Name": "ContactFlowEvent"}


def contact_event(**detail: Any) -> dict[str, Any]:
    """The EventBridge "Amazon Connect Contact Event" sample for DISCONNECTED."""
    base: dict[str, Any] = {
        "eventType": "DISCONNECTED",
        "contactId": CONTACT_ID,
        "initialContactId": CONTACT_ID,
        "channel": "VOICE",
        "instanceArn": "arn:aws:connect:eu-central-1:123456789012:instance/abc",
        "initiationMethod": "INBOUND",
        "initiationTimestamp": "2021-08-04T17:17:53.000Z",
        "connectedToSystemTimestamp": "2021-08-04T17:17:54.000Z",
        "disconnectTimestamp": "2021-08-04T17:18:37.000Z",
        "queueInfo": {
            "queueArn": "arn:q",
            "queueType": "STANDARD",
            "enqueueTimestamp": "2021-08-04T17:17:55.000Z",
        },
        "agentInfo": {"agentArn": "arn:a", "connectedToAgentTimestamp": "2021-08-04T17:18:00.000Z"},
    }
    base.update(detail)
    return {
        "version": "0",
        "id": "e1",
        "detail-type": "Amazon Connect Contact Event",
        "source": "aws.connect",
        "account": "111122223333",
        "time": "2021-08-04T17:43:48Z",
        "region": "eu-central-1",
        "resources": [],
        "detail": base,
    }


def assert_no_caller_number(text: str) -> None:
    for form in CALLER_FORMATS:
        assert form not in text
    assert CONTACT_ID not in text


# --- contact flow ------------------------------------------------------------------------------


def test_a_voice_contact_becomes_contact_started() -> None:
    started = connect.contact_flow_event(flow_event(), NOW)
    assert isinstance(started, ContactStarted)
    assert started.channel == "voice"
    assert started.line_address == OUR_NUMBER
    assert started.identifier is not None
    assert started.identifier.kind == "phone"
    assert started.identifier.reveal() == CALLER
    assert started.provider_reference.kind == "reference"
    assert started.provider_reference.reveal() == CONTACT_ID  # ContactId, not InitialContactId
    assert started.started_at == NOW


@pytest.mark.parametrize("raw", ["0612345678", "06-12345678", "+31 6 12345678"])
def test_the_caller_number_is_normalised(raw: str) -> None:
    event = flow_event(CustomerEndpoint={"Address": raw, "Type": "TELEPHONE_NUMBER"})
    identifier = connect.contact_flow_event(event, NOW).identifier
    assert identifier is not None
    assert identifier.reveal() == CALLER


def test_our_number_is_normalised_like_the_line_registry() -> None:
    event = flow_event(SystemEndpoint={"Address": "020-799 0000", "Type": "TELEPHONE_NUMBER"})
    assert connect.contact_flow_event(event, NOW).line_address == OUR_NUMBER


@pytest.mark.parametrize(
    "endpoint",
    [
        None,
        {"Address": None, "Type": "TELEPHONE_NUMBER"},
        {"Address": "anonymous", "Type": "TELEPHONE_NUMBER"},
        {"Address": "", "Type": "TELEPHONE_NUMBER"},
        {"Address": CALLER, "Type": "VOIP"},
        {"Address": "jan@example.nl", "Type": "EMAIL_ADDRESS"},
        {"Address": CALLER},
        "not a mapping",
    ],
)
def test_a_withheld_or_non_phone_customer_has_no_identifier(endpoint: Any) -> None:
    assert connect.contact_flow_event(flow_event(CustomerEndpoint=endpoint), NOW).identifier is None


def chat_flow_event(**contact_data: Any) -> dict[str, Any]:
    """A CHAT contact's flow event as Connect sends it: no endpoints at all (the Lambda developer
    guide's and @types/aws-lambda's `ConnectContactFlowEvent`: `CustomerEndpoint` and
    `SystemEndpoint` are null for a chat), initiated through the `StartChatContact` API."""
    data: dict[str, Any] = {
        "Attributes": {},
        "Channel": "CHAT",
        "ContactId": CONTACT_ID,
        "CustomerEndpoint": None,
        "InitialContactId": CONTACT_ID,
        "InitiationMethod": "API",
        "InstanceARN": "arn:aws:connect:eu-central-1:123456789012:instance/abc",
        "PreviousContactId": CONTACT_ID,
        "Queue": None,
        "SystemEndpoint": None,
        "MediaStreams": {"Customer": {"Audio": None}},
    }
    data.update(contact_data)
    return {"Details": {"ContactData": data, "Parameters": {}}, "Name": "ContactFlowEvent"}


def test_a_connect_chat_without_any_endpoint_is_a_contact_on_the_unknown_line() -> None:
    """P8: Connect sends a chat with `SystemEndpoint` and `CustomerEndpoint` null. It was refused as
    malformed, so the flow connected the person but no Connect chat was ever registered."""
    started = connect.contact_flow_event(chat_flow_event(), NOW)
    assert started.channel == "chat"
    assert started.line_address is None
    assert started.identifier is None
    assert started.reference_sealed_alone is False, "nothing to recover behind a web chat's ContactId"
    assert started.provider_reference.reveal() == CONTACT_ID
    assert started.started_at == NOW


def test_a_connect_chat_takes_its_line_from_a_contact_attribute() -> None:
    """P8 (the entry): set by a "Set contact attributes" block, or by the widget's StartChatContact."""
    event = chat_flow_event(Attributes={"lineAddress": "hulplijn-chat", "customerName": "Jan"})
    assert connect.contact_flow_event(event, NOW).line_address == "hulplijn-chat"


def test_the_flow_parameter_names_the_line_before_a_contact_attribute() -> None:
    """P8: the block's own parameter is the more specific naming of the entry."""
    event = chat_flow_event(Attributes={"lineAddress": "uit-attribuut"})
    event["Details"]["Parameters"] = {"lineAddress": "uit-parameter"}
    assert connect.contact_flow_event(event, NOW).line_address == "uit-parameter"


@pytest.mark.parametrize("line", ["Geen Slug!", "", "   ", 42, None, {"a": 1}])
def test_a_chat_line_that_is_no_slug_is_the_unknown_line_not_a_refusal(line: object) -> None:
    """P8: a line name that is no line is the line `unknown`: the chat is registered all the same."""
    event = chat_flow_event(Attributes={"lineAddress": line})
    assert connect.contact_flow_event(event, NOW).line_address is None


def test_an_sms_chat_has_the_chatters_number_as_its_identifier() -> None:
    """A Connect chat over SMS or WhatsApp carries the person's number: counted (P10), sealed (P2)."""
    event = chat_flow_event(CustomerEndpoint={"Address": "06-12345678", "Type": "TELEPHONE_NUMBER"})
    started = connect.contact_flow_event(event, NOW)
    assert started.identifier is not None
    assert started.identifier.reveal() == CALLER


@pytest.mark.parametrize(
    "system",
    [
        None,
        {"Address": CALLER + "0", "Type": "TELEPHONE_NUMBER"},
        {"Address": "06-12345678999", "Type": "TELEPHONE_NUMBER"},
        {"Type": "TELEPHONE_NUMBER"},
    ],
)
def test_a_call_without_a_usable_system_endpoint_is_a_contact_on_the_unknown_line(system: object) -> None:
    """P8: registered all the same (never refused for our own number), and nothing shows the number."""
    started = connect.contact_flow_event(flow_event(SystemEndpoint=system), NOW)
    assert started.line_address is None
    assert started.reference_sealed_alone is True, "a caller's ContactId still leads to the number (P7)"
    for text in (repr(started), str(started)):
        assert_no_caller_number(text)


def test_a_chat_contact_takes_its_line_from_the_flow_parameter() -> None:
    event = flow_event(Channel="CHAT", CustomerEndpoint=None, SystemEndpoint=None)
    event["Details"]["Parameters"] = {"lineAddress": "hulplijn-chat"}
    started = connect.contact_flow_event(event, NOW)
    assert started.channel == "chat"
    assert started.line_address == "hulplijn-chat"
    assert started.identifier is None


def test_the_initiation_timestamp_is_used_when_present() -> None:
    event = flow_event(InitiationTimestamp="2026-03-01T12:59:00+01:00")
    started_at = connect.contact_flow_event(event, NOW).started_at
    assert started_at == datetime(2026, 3, 1, 11, 59, tzinfo=UTC)
    assert started_at.tzinfo == UTC


@pytest.mark.parametrize("channel", ["TASK", "EMAIL", "SMS", ""])
def test_other_channels_are_refused(channel: str) -> None:
    """Powertools' enum would raise KeyError on TASK; we refuse it with a clear message."""
    with pytest.raises(MalformedEvent) as raised:
        connect.contact_flow_event(flow_event(Channel=channel), NOW)
    assert "Channel" in str(raised.value)


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({}, "missing Details"),
        ({"Details": {}}, "missing Details.ContactData"),
        (flow_event(ContactId=None), "missing Details.ContactData.ContactId"),
        (flow_event(ContactId="x" * 600), "Details.ContactData.ContactId is not a contact reference"),
        (flow_event(InitiationTimestamp="gisteren"), "InitiationTimestamp is not an ISO 8601 time"),
    ],
)
def test_a_malformed_flow_event(event: dict[str, Any], problem: str) -> None:
    with pytest.raises(MalformedEvent) as raised:
        connect.contact_flow_event(event, NOW)
    assert str(raised.value) == problem


def test_an_unknown_initiation_method_does_not_matter() -> None:
    """Powertools' enum lacks QUEUE_TRANSFER; we never read it."""
    started = connect.contact_flow_event(flow_event(InitiationMethod="QUEUE_TRANSFER"), NOW)
    assert started.channel == "voice"


def test_the_contact_started_never_shows_the_number_or_contact_id() -> None:
    for raw in ("+31612345678", "0612345678", "06-12345678"):
        event = flow_event(CustomerEndpoint={"Address": raw, "Type": "TELEPHONE_NUMBER"})
        started = connect.contact_flow_event(event, NOW)
        for text in (repr(started), str(started), f"{started}"):
            assert_no_caller_number(text)


@pytest.mark.parametrize(
    "event",
    [
        flow_event(ContactId=CONTACT_ID * 20),
        flow_event(InitiationTimestamp=CALLER),
        flow_event(Channel=CALLER),
    ],
)
def test_error_messages_never_show_the_number(event: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent) as raised:
        connect.contact_flow_event(event, NOW)
    assert_no_caller_number(str(raised.value))
    assert_no_caller_number(repr(raised.value))


# --- flow response -----------------------------------------------------------------------------


def test_the_flow_response_is_a_flat_string_map() -> None:
    assert connect.flow_response(True, 3, "") == {"allowed": "true", "contactsLast24h": "3", "message": ""}
    response = connect.flow_response(False, None, "Morgen weer.")
    assert response == {"allowed": "false", "contactsLast24h": "", "message": "Morgen weer."}
    assert all(isinstance(value, str) for value in response.values())


# --- EventBridge contact events ----------------------------------------------------------------


def test_disconnected_becomes_contact_ended() -> None:
    ended = connect.disconnected_event(contact_event())
    assert isinstance(ended, ContactEnded)
    assert ended.channel == "voice"
    assert ended.provider_reference.reveal() == CONTACT_ID
    assert ended.ended_at == datetime(2021, 8, 4, 17, 18, 37, tzinfo=UTC)
    assert ended.duration_s == 44
    assert ended.sequence == 0


def test_keys_and_values_are_read_case_insensitively() -> None:
    event = contact_event()
    detail = event.pop("detail")
    detail["EventType"] = detail.pop("eventType").lower()
    detail["Channel"] = "Chat"
    detail.pop("channel")
    event["Detail"] = detail
    ended = connect.disconnected_event(event)
    assert ended is not None
    assert ended.channel == "chat"


@pytest.mark.parametrize("event_type", ["INITIATED", "CONNECTED_TO_AGENT", "QUEUED", "COMPLETED", ""])
def test_other_event_types_are_ignored(event_type: str) -> None:
    assert connect.disconnected_event(contact_event(eventType=event_type)) is None


@pytest.mark.parametrize("channel", ["TASK", "EMAIL"])
def test_contacts_on_other_channels_are_ignored(channel: str) -> None:
    assert connect.disconnected_event(contact_event(channel=channel)) is None


def test_duration_is_never_negative() -> None:
    event = contact_event(initiationTimestamp="2021-08-04T17:20:00Z")
    ended = connect.disconnected_event(event)
    assert ended is not None
    assert ended.duration_s == 0


def test_whole_seconds_are_counted_down() -> None:
    event = contact_event(initiationTimestamp="2021-08-04T17:17:52.900Z")
    ended = connect.disconnected_event(event)
    assert ended is not None
    assert ended.duration_s == 44


def test_without_initiation_there_is_no_duration() -> None:
    event = contact_event()
    del event["detail"]["initiationTimestamp"]
    ended = connect.disconnected_event(event)
    assert ended is not None
    assert ended.duration_s is None


def test_without_disconnect_timestamp_the_event_time_is_the_end() -> None:
    event = contact_event()
    del event["detail"]["disconnectTimestamp"]
    ended = connect.disconnected_event(event)
    assert ended is not None
    assert ended.ended_at == datetime(2021, 8, 4, 17, 43, 48, tzinfo=UTC)
    assert ended.duration_s is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"contactId": None}, "missing detail.contactId"),
        ({"contactId": ""}, "missing detail.contactId"),
        ({"channel": None}, "missing detail.channel"),
        ({"disconnectTimestamp": "x"}, "detail.disconnectTimestamp is not an ISO 8601 time"),
    ],
)
def test_a_malformed_disconnected_event(change: dict[str, Any], problem: str) -> None:
    event = contact_event(**change)
    with pytest.raises(MalformedEvent) as raised:
        connect.disconnected_event(event)
    assert str(raised.value) == problem


def test_an_event_without_detail_is_malformed() -> None:
    with pytest.raises(MalformedEvent) as raised:
        connect.disconnected_event({"detail-type": "Amazon Connect Contact Event"})
    assert str(raised.value) == "missing detail"


def test_the_contact_ended_never_shows_the_contact_id() -> None:
    ended = connect.disconnected_event(contact_event())
    assert CONTACT_ID not in repr(ended)
    assert CONTACT_ID not in str(ended)


def test_the_input_event_is_not_modified() -> None:
    event = flow_event()
    before = copy.deepcopy(event)
    connect.contact_flow_event(event, NOW)
    assert event == before


def test_an_initiation_time_utc_cannot_hold_is_clamped_not_raised() -> None:
    """Year 9999 west of Greenwich overflowed the conversion to UTC, failing the contact flow."""
    started = connect.contact_flow_event(flow_event(InitiationTimestamp="9999-12-31T23:59:59-14:00"), NOW)
    assert started.started_at == datetime.max.replace(tzinfo=UTC)


def test_a_clamped_time_gives_no_duration() -> None:
    """A length computed from a clamped time would be millennia long: better none (the domain then
    measures it from the registered start)."""
    ended = connect.disconnected_event(contact_event(initiationTimestamp="0001-01-01T00:00:00+14:00"))
    assert ended is not None
    assert ended.duration_s is None
