"""Amazon Connect: the contact-flow invocation and the EventBridge contact events.

Connect calls our function directly from a contact flow (`InvokeLambdaFunction`, no HTTP, no
signature: IAM decides who may invoke it) with a `ContactFlowEvent`; `contact_flow_event` reads it
and `flow_response` shapes the answer. The end of a contact arrives separately, as an EventBridge
"Amazon Connect Contact Event" with `eventType` DISCONNECTED: `disconnected_event`.

Raw dictionary values are read, not Powertools' `ConnectContactFlowEvent`: its enums know only some
channels, initiation methods and endpoint types and raise `KeyError` on the rest (TASK,
QUEUE_TRANSFER, VOIP…), and a contact flow must not fail on a value we do not even need.

The caller's number is read straight into an `Identifier` (P2); the ContactId leads back to it
through Connect's contact records, so it is an identifier too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from helpline import identifiers
from helpline.identifiers import Identifier, InvalidIdentifierError
from helpline.models.addresses import normalise_address
from helpline.models.common import Channel
from helpline.models.events import EARLIEST, LATEST, ContactEnded, ContactStarted, as_utc
from helpline.providers.errors import MalformedEvent

CHANNELS: Final[Mapping[str, Channel]] = {"VOICE": "voice", "CHAT": "chat"}
"""Connect channels that are helpline contacts; TASK and EMAIL are not (yet) ours."""

LINE_ADDRESS_PARAMETER: Final = "lineAddress"
"""Names the line when Connect gives no `SystemEndpoint`, as for every chat: a function input
parameter of the `InvokeLambdaFunction` block (`Details.Parameters`), else a contact attribute of that
name (`Details.ContactData.Attributes`, set by a "Set contact attributes" block or by the chat
widget's `StartChatContact`). Its value is the chat line's address in the line registry (its slug)."""

DISCONNECTED: Final = "DISCONNECTED"


def _mapping(value: object, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedEvent(f"missing {name}")
    return value


def _text(value: object) -> str | None:
    """A non-blank string, stripped; anything else (null, a number, blank) is None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _timestamp(value: object, name: str) -> datetime | None:
    """An ISO 8601 time as aware UTC (a zone-less one is taken as UTC); None when absent."""
    text = _text(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedEvent(f"{name} is not an ISO 8601 time") from None
    return as_utc(parsed)  # never raises: year 9999 at -14:00 is clamped, and judged by the domain


def _channel(value: object, name: str) -> Channel:
    text = _text(value)
    if text is None:
        raise MalformedEvent(f"missing {name}")
    channel = CHANNELS.get(text.upper())
    if channel is None:
        raise MalformedEvent(f"unsupported {name}")
    return channel


def _reference(value: object, name: str) -> Identifier:
    text = _text(value)
    if text is None:
        raise MalformedEvent(f"missing {name}")
    try:
        return identifiers.reference(text)
    except InvalidIdentifierError:
        raise MalformedEvent(f"{name} is not a contact reference") from None


def _customer_identifier(endpoint: object) -> Identifier | None:
    """The caller's number from `CustomerEndpoint`, or None.

    None when Connect gives no endpoint (chat), a type other than TELEPHONE_NUMBER, or an address
    that is no phone number (a withheld caller ID such as "anonymous"): a person is always
    connected ("fail open for people", DESIGN), at the cost of not counting them for P10.
    """
    if not isinstance(endpoint, Mapping):
        return None
    if _text(endpoint.get("Type")) != "TELEPHONE_NUMBER":
        return None
    address = _text(endpoint.get("Address"))
    if address is None:
        return None
    try:
        return identifiers.phone(address)
    except InvalidIdentifierError:
        return None


def _line_address(channel: Channel, details: Mapping[str, Any], data: Mapping[str, Any]) -> str | None:
    """The contacted line's address, normalised as the line registry stores it, or None.

    From `SystemEndpoint.Address` (our number, for a call), else the flow's `lineAddress` parameter or
    contact attribute (`LINE_ADDRESS_PARAMETER`). None when none is there or it is no address of the
    channel: Connect sends a chat with `SystemEndpoint: null` and `CustomerEndpoint: null` (only an
    SMS or WhatsApp chat has endpoints), and such a contact is still registered, on the line
    `unknown` (P8), instead of being refused as malformed and never registered at all.
    """
    system = data.get("SystemEndpoint")
    candidates = [system.get("Address") if isinstance(system, Mapping) else None]
    for source in (details.get("Parameters"), data.get("Attributes")):
        if isinstance(source, Mapping):
            candidates.append(source.get(LINE_ADDRESS_PARAMETER))
    for candidate in candidates:
        raw = _text(candidate)
        if raw is None:
            continue
        try:
            return normalise_address(channel, raw)
        except ValueError:
            continue
    return None


def contact_flow_event(event: Mapping[str, Any], now: datetime) -> ContactStarted:
    """A `ContactStarted` from a contact flow's Lambda invocation (`Details.ContactData`).

    - channel: `Channel` VOICE → voice, CHAT → chat; anything else is refused;
    - line address: `_line_address` (None: the line `unknown`);
    - identifier: `CustomerEndpoint` (`_customer_identifier`): a caller's number, or an SMS or
      WhatsApp chatter's; None for a web chat, whose record then keeps no ciphertext either
      (`reference_sealed_alone`: Connect holds no address of a web chatter to recover, P3, P7) and
      is not counted (P10: there is nothing to count it by; the record says `unchecked`);
    - provider reference: `ContactId` (this contact, not `InitialContactId`: a transfer is a new
      contact in Connect and is registered as such);
    - started at: `InitiationTimestamp` if Connect sends one, else `now`.

    Refused (`MalformedEvent`, whose problem names the field, never its value): no `Details` or
    `ContactData`, an unsupported `Channel`, no usable `ContactId`, an `InitiationTimestamp` that is
    not ISO 8601. The caller is connected all the same (`helpline.ingress.connect`).
    """
    details = _mapping(event.get("Details"), "Details")
    data = _mapping(details.get("ContactData"), "Details.ContactData")
    channel = _channel(data.get("Channel"), "Details.ContactData.Channel")
    reference = _reference(data.get("ContactId"), "Details.ContactData.ContactId")
    started_at = _timestamp(data.get("InitiationTimestamp"), "InitiationTimestamp")
    identifier = _customer_identifier(data.get("CustomerEndpoint"))
    return ContactStarted(
        channel=channel,
        line_address=_line_address(channel, details, data),
        identifier=identifier,
        provider_reference=reference,
        started_at=started_at or now.astimezone(UTC),
        reference_sealed_alone=channel != "chat",
    )


def flow_response(allowed: bool, contacts_last_24h: int | None, message: str) -> dict[str, str]:
    """The contact flow's answer: a flat string→string map (the `STRING_MAP` response type).

    The flow reads `$.External.allowed` ("true"/"false") to route or play `$.External.message`;
    `contactsLast24h` is the count for P10, "" when unknown (no caller ID). Nothing identifying
    goes back into Connect's flow logs.
    """
    return {
        "allowed": "true" if allowed else "false",
        "contactsLast24h": "" if contacts_last_24h is None else str(contacts_last_24h),
        "message": message,
    }


def _folded(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Keys lower-cased: Connect's samples mix `eventType`/`EventType`, `channel`/`Channel`."""
    return {str(key).lower(): value for key, value in mapping.items()}


def disconnected_event(event: Mapping[str, Any]) -> ContactEnded | None:
    """A `ContactEnded` for an EventBridge contact event with `eventType` DISCONNECTED, else None.

    Other event types (INITIATED, QUEUED, …) and contacts on channels we do not register (TASK,
    EMAIL) are None: EventBridge delivers them to us too, and an error would only make it retry.
    `ended_at` is `disconnectTimestamp` (else the event's `time`); `duration_s` is disconnect minus
    initiation in whole seconds, never negative, None unless both timestamps are there. Connect delivers these
    events best-effort, possibly twice; there is one DISCONNECTED per contact, so `sequence` is 0.
    """
    detail = _folded(_mapping(_folded(event).get("detail"), "detail"))
    if (_text(detail.get("eventtype")) or "").upper() != DISCONNECTED:
        return None
    raw_channel = _text(detail.get("channel"))
    if raw_channel is None:
        raise MalformedEvent("missing detail.channel")
    channel = CHANNELS.get(raw_channel.upper())
    if channel is None:
        return None
    reference = _reference(detail.get("contactid"), "detail.contactId")
    disconnected_at = _timestamp(detail.get("disconnecttimestamp"), "detail.disconnectTimestamp")
    started_at = _timestamp(detail.get("initiationtimestamp"), "detail.initiationTimestamp")
    ended_at = disconnected_at or _timestamp(_folded(event).get("time"), "time")
    if ended_at is None:
        raise MalformedEvent("missing detail.disconnectTimestamp")
    duration = None
    clamped = {EARLIEST, LATEST}
    if disconnected_at is not None and started_at is not None and not {disconnected_at, started_at} & clamped:
        duration = max(0, int((disconnected_at - started_at).total_seconds()))
    return ContactEnded(
        channel=channel, provider_reference=reference, ended_at=ended_at, duration_s=duration, sequence=0
    )
