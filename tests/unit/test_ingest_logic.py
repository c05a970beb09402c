"""The ingestion rules (P2, P3, P8, P10, P11) with in-memory adapters: no AWS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from helpline import identifiers
from helpline.dal.memory import (
    FakeIdentifierVault,
    FakeTranscriptSealer,
    InMemoryContactStore,
    InMemoryLimitCounter,
    InMemoryLineDirectory,
    InMemoryOfficeContactStore,
    InMemoryReferenceIndex,
    InMemoryRegistrationBuffer,
    InMemoryTranscriptStore,
)
from helpline.logic.ingest import (
    IngestPolicy,
    IngestPorts,
    TranscriptPorts,
    UnknownContactError,
    UnknownLineError,
    add_transcript_part,
    admit_contact,
    end_contact,
)
from helpline.models.events import ContactEnded, ContactStarted, TranscriptPart
from helpline.models.lines import Line

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
NUMBER_FORMATS = ["+31612345678", "0612345678", "06-12345678"]
HELPLINE = Line(
    line_id="national-helpline",
    kind="helpline",
    channel="voice",
    address="+31881234000",
    display_name="Hulplijn",
    updated_at=NOW,
    updated_by="admin",
)
OFFICE = Line(
    line_id="office",
    kind="office",
    channel="voice",
    address="+31201234567",
    display_name="Kantoor",
    updated_at=NOW,
    updated_by="admin",
)
CHAT = Line(
    line_id="web-chat",
    kind="helpline",
    channel="chat",
    address="web-chat",
    display_name="Chat",
    updated_at=NOW,
    updated_by="admin",
)


@pytest.fixture
def ports() -> IngestPorts:
    return IngestPorts(
        lines=InMemoryLineDirectory([HELPLINE, OFFICE, CHAT]),
        vault=FakeIdentifierVault(),
        limits=InMemoryLimitCounter(),
        references=InMemoryReferenceIndex(),
        contacts=InMemoryContactStore(),
        buffer=InMemoryRegistrationBuffer(),
        office=InMemoryOfficeContactStore(),
    )


POLICY = IngestPolicy(default_daily_limit=3)


def call(number: str | None = "+31612345678", to: str = "+31881234000", sid: str = "CA1", at: datetime = NOW):
    return ContactStarted(
        channel="voice",
        line_address=to,
        identifier=identifiers.phone(number) if number else None,
        provider_reference=identifiers.reference(sid),
        started_at=at,
    )


def stored(ports: IngestPorts):
    return list(ports.contacts.items.values())  # type: ignore[attr-defined]


def test_an_allowed_call_is_registered_anonymously(ports: IngestPorts) -> None:
    admission = admit_contact(call("030 123 4567"), ports, POLICY, NOW)

    assert admission.allowed
    assert admission.contacts_last_24h == 1
    [record] = stored(ports)
    assert record.id == admission.contact_id
    assert record.line == "national-helpline"
    assert record.region == "Utrecht"
    assert record.limit_outcome == "allowed"
    assert record.identifier_ciphertext is not None
    assert record.identifier_retain_until == (NOW + timedelta(days=365)).date()
    sealed = ports.vault.sealed[record.identifier_ciphertext]  # type: ignore[attr-defined]
    assert sealed[0] == record.id
    assert sealed[2].reveal() == "+31301234567"
    assert "1234567" not in record.model_dump_json()


def test_the_fourth_call_in_24_hours_is_limited_whatever_the_number_format(ports: IngestPorts) -> None:
    """P10: the count works on the pseudonym of the normalised number."""
    answers = [
        admit_contact(call(number, sid=f"CA{i}"), ports, POLICY, NOW + timedelta(minutes=i))
        for i, number in enumerate([*NUMBER_FORMATS, "+31612345678"])
    ]

    assert [a.allowed for a in answers] == [True, True, True, False]
    assert [a.contacts_last_24h for a in answers] == [1, 2, 3, 3]
    outcomes = sorted(r.limit_outcome for r in stored(ports))
    assert outcomes == ["allowed", "allowed", "allowed", "limited"]


def test_the_window_rolls_after_24_hours(ports: IngestPorts) -> None:
    for i in range(3):
        admit_contact(call(sid=f"CA{i}"), ports, POLICY, NOW)
    later = NOW + timedelta(hours=24, seconds=1)
    assert admit_contact(call(sid="CA9", at=later), ports, POLICY, later).allowed


def test_a_line_can_have_its_own_limit(ports: IngestPorts) -> None:
    ports.lines.lines[0] = HELPLINE.model_copy(update={"daily_limit": 1})  # type: ignore[attr-defined]
    assert admit_contact(call(sid="CA1"), ports, POLICY, NOW).allowed
    assert not admit_contact(call(sid="CA2"), ports, POLICY, NOW).allowed


def test_a_provider_retry_is_answered_the_same_and_counted_once(ports: IngestPorts) -> None:
    first = admit_contact(call(sid="CA-retry"), ports, POLICY, NOW)
    again = admit_contact(call(sid="CA-retry"), ports, POLICY, NOW + timedelta(seconds=15))

    assert again.duplicate
    assert again.contact_id == first.contact_id
    assert again.allowed == first.allowed
    assert len(stored(ports)) == 1
    assert ports.vault.mac_calls == 1  # type: ignore[attr-defined]


def test_a_withheld_number_is_connected_but_cannot_be_counted(ports: IngestPorts) -> None:
    admission = admit_contact(call(None), ports, POLICY, NOW)
    assert admission.allowed
    [record] = stored(ports)
    assert record.limit_outcome == "unchecked"
    assert record.region == "unknown"


def test_kms_failure_lets_the_caller_through_and_still_registers(ports: IngestPorts) -> None:
    """Fail open for people: the MAC fails, the person is connected, the record says unchecked."""
    ports.vault.fail_next = 1  # type: ignore[attr-defined]
    admission = admit_contact(call(), ports, POLICY, NOW)
    assert admission.allowed
    [record] = stored(ports)
    assert record.limit_outcome == "unchecked"


def test_an_identifier_that_cannot_be_encrypted_is_not_stored(ports: IngestPorts) -> None:
    """Fail closed for data (P2): no ciphertext, and never the clear value."""
    vault: FakeIdentifierVault = ports.vault  # type: ignore[assignment]
    original = vault.seal

    def failing_seal(*args: object) -> str:
        vault.fail_next = 1
        return original(*args)  # type: ignore[arg-type]

    vault.seal = failing_seal  # type: ignore[method-assign]
    admit_contact(call(), ports, POLICY, NOW)
    [record] = stored(ports)
    assert record.identifier_ciphertext is None
    assert record.identifier_retain_until is None
    assert record.limit_outcome == "allowed"


def test_storage_failure_buffers_the_record_without_identifier(ports: IngestPorts) -> None:
    ports.contacts.fail_next = 1  # type: ignore[attr-defined]
    admission = admit_contact(call(), ports, POLICY, NOW)

    assert admission.allowed
    assert stored(ports) == []
    [message] = ports.buffer.messages  # type: ignore[attr-defined]
    body = json.loads(message)
    assert body["kind"] == "registration"
    assert body["record"]["id"] == admission.contact_id
    for form in [*NUMBER_FORMATS, "31612345678", "CA1"]:
        assert form not in message


def test_when_the_buffer_fails_too_the_caller_is_still_connected(ports: IngestPorts) -> None:
    ports.contacts.fail_next = 1  # type: ignore[attr-defined]
    ports.buffer.fail_next = 1  # type: ignore[attr-defined]
    assert admit_contact(call(), ports, POLICY, NOW).allowed


def test_an_office_call_is_kept_apart_in_clear_and_never_counted(ports: IngestPorts) -> None:
    """P11."""
    for i in range(5):
        admission = admit_contact(call(to="+31201234567", sid=f"CA{i}"), ports, POLICY, NOW)
        assert admission.allowed
        assert admission.line_kind == "office"
    assert stored(ports) == []
    assert ports.vault.mac_calls == 0  # type: ignore[attr-defined]
    offices = list(ports.office.items.values())  # type: ignore[attr-defined]
    assert len(offices) == 5
    assert offices[0].caller == "+31612345678"
    assert offices[0].expires_at == int((NOW + timedelta(days=30)).timestamp())


def test_an_unknown_line_is_registered_as_unknown_or_refused(ports: IngestPorts) -> None:
    admission = admit_contact(call(to="+31101234567"), ports, POLICY, NOW)
    assert admission.line_kind == "unknown"
    assert stored(ports)[0].line == "unknown"
    with pytest.raises(UnknownLineError):
        admit_contact(call(to="+31101234567", sid="CA2"), ports, POLICY, NOW, require_known_line=True)


def test_end_sets_duration_once_and_ignores_stale_callbacks(ports: IngestPorts) -> None:
    admission = admit_contact(call(sid="CA-end"), ports, POLICY, NOW)
    ref = identifiers.reference("CA-end")
    final = ContactEnded("voice", ref, NOW + timedelta(seconds=95), 95, sequence=3)

    assert end_contact(final, ports)
    assert not end_contact(final, ports), "a repeated callback changes nothing"
    assert not end_contact(ContactEnded("voice", ref, NOW, 1, sequence=2), ports), "an older one neither"

    record = ports.contacts.items[admission.contact_id]  # type: ignore[attr-defined]
    assert record.duration_s == 95
    assert record.ended_at == NOW + timedelta(seconds=95)


def test_end_without_duration_is_measured_from_the_start(ports: IngestPorts) -> None:
    admission = admit_contact(call(sid="chat-1"), ports, POLICY, NOW)
    end_contact(
        ContactEnded("chat", identifiers.reference("chat-1"), NOW + timedelta(minutes=7), None), ports
    )
    assert ports.contacts.items[admission.contact_id].duration_s == 420  # type: ignore[attr-defined]


def test_an_end_before_the_record_is_stored_waits_in_the_buffer(ports: IngestPorts) -> None:
    ports.contacts.fail_next = 1  # type: ignore[attr-defined]
    admission = admit_contact(call(sid="CA-late"), ports, POLICY, NOW)
    end_contact(ContactEnded("voice", identifiers.reference("CA-late"), NOW, 30, sequence=1), ports)
    kinds = [json.loads(m)["kind"] for m in ports.buffer.messages]  # type: ignore[attr-defined]
    assert kinds == ["registration", "ended"]
    assert json.loads(ports.buffer.messages[1])["contact_id"] == admission.contact_id  # type: ignore[attr-defined]


def test_an_end_for_an_unknown_contact_is_reported(ports: IngestPorts) -> None:
    with pytest.raises(UnknownContactError):
        end_contact(ContactEnded("voice", identifiers.reference("CA-never"), NOW, 3), ports)


def test_transcript_parts_are_sealed_in_order_and_stored_once(ports: IngestPorts) -> None:
    admission = admit_contact(call(sid="chat-7"), ports, POLICY, NOW)
    transcript_ports = TranscriptPorts(
        vault=ports.vault,
        references=ports.references,
        sealer=FakeTranscriptSealer(),
        transcripts=InMemoryTranscriptStore(),
    )
    ref = identifiers.reference("chat-7")
    first = TranscriptPart("chat", ref, "contact", "Ik voel me alleen.", NOW, part_id="m1")
    second = TranscriptPart(
        "chat", ref, "volunteer", "Fijn dat je er bent.", NOW + timedelta(seconds=4), "m2"
    )

    assert add_transcript_part(second, transcript_ports)
    assert add_transcript_part(first, transcript_ports)
    assert not add_transcript_part(first, transcript_ports), "a redelivered message is stored once"

    store = transcript_ports.transcripts.parts  # type: ignore[attr-defined]
    ordered = [store[key] for key in sorted(store)]
    texts = [transcript_ports.sealer.sealed[c][2] for _, c, _ in ordered]  # type: ignore[attr-defined]
    assert texts == ["Ik voel me alleen.", "Fijn dat je er bent."]
    assert {key[0] for key in store} == {admission.contact_id}
    assert all("alleen" not in c for _, c, _ in ordered)


def test_logs_carry_no_identifier(ports: IngestPorts, caplog: pytest.LogCaptureFixture) -> None:
    ports.contacts.fail_next = 1  # type: ignore[attr-defined]
    ports.vault.fail_next = 1  # type: ignore[attr-defined]
    with caplog.at_level("INFO"):
        admit_contact(call("06-12345678", sid="CAsecret"), ports, POLICY, NOW)
    text = " ".join(str(record.__dict__) for record in caplog.records)
    assert "contact_id" in text, "the log records and their extra fields were captured"
    for form in [*NUMBER_FORMATS, "31612345678", "CAsecret"]:
        assert form not in text
