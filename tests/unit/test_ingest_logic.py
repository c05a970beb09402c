"""The ingestion rules (P2, P3, P8, P10, P11) with in-memory adapters: no AWS."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from fakes_memory import (
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

from helpline import identifiers
from helpline.ingress import chat as chat_ingress
from helpline.ingress import connect as connect_ingress
from helpline.ingress import email as mail_ingress
from helpline.logic.conversation import TranscriptPorts, add_transcript_part, end_contact
from helpline.logic.ingest import (
    IngestPolicy,
    IngestPorts,
    RegistrationNotKeptError,
    UnknownContactError,
    UnknownLineError,
    admit_contact,
)
from helpline.logic.ports import DependencyError
from helpline.models.contacts import ContactRecord
from helpline.models.events import ContactEnded, ContactStarted, TranscriptPart
from helpline.models.lines import Line
from helpline.models.office import BODY_MAX_BYTES
from helpline.providers import chat as chat_provider

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

    def failing_seal(*args: object, **kwargs: object) -> str:
        vault.fail_next = 1
        return original(*args, **kwargs)  # type: ignore[arg-type]

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
    assert (admission.kept, admission.buffered) == (True, True)  # counted as buffered (`metrics`)
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
    admission = admit_contact(call(), ports, POLICY, NOW)
    assert admission.allowed
    assert (admission.kept, admission.buffered) == (False, False)


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

    later = NOW + timedelta(seconds=96)
    assert end_contact(final, ports, later)
    assert not end_contact(final, ports, later), "a repeated callback changes nothing"
    assert not end_contact(ContactEnded("voice", ref, NOW, 1, sequence=2), ports, later), (
        "an older one neither"
    )

    record = ports.contacts.items[admission.contact_id]  # type: ignore[attr-defined]
    assert record.duration_s == 95
    assert record.ended_at == NOW + timedelta(seconds=95)


def test_end_without_duration_is_measured_from_the_start(ports: IngestPorts) -> None:
    admission = admit_contact(call(sid="chat-1"), ports, POLICY, NOW)
    end_contact(
        ContactEnded("chat", identifiers.reference("chat-1"), NOW + timedelta(minutes=7), None),
        ports,
        NOW + timedelta(minutes=7),
    )
    assert ports.contacts.items[admission.contact_id].duration_s == 420  # type: ignore[attr-defined]


def test_an_end_before_the_record_is_stored_waits_in_the_buffer(ports: IngestPorts) -> None:
    ports.contacts.fail_next = 1  # type: ignore[attr-defined]
    admission = admit_contact(call(sid="CA-late"), ports, POLICY, NOW)
    end_contact(ContactEnded("voice", identifiers.reference("CA-late"), NOW, 30, sequence=1), ports, NOW)
    kinds = [json.loads(m)["kind"] for m in ports.buffer.messages]  # type: ignore[attr-defined]
    assert kinds == ["registration", "ended"]
    assert json.loads(ports.buffer.messages[1])["contact_id"] == admission.contact_id  # type: ignore[attr-defined]


def test_an_end_for_an_unknown_contact_is_reported(ports: IngestPorts) -> None:
    with pytest.raises(UnknownContactError):
        end_contact(ContactEnded("voice", identifiers.reference("CA-never"), NOW, 3), ports, NOW)


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

    assert add_transcript_part(second, transcript_ports, POLICY, NOW + timedelta(seconds=5))
    assert add_transcript_part(first, transcript_ports, POLICY, NOW + timedelta(seconds=5))
    assert not add_transcript_part(first, transcript_ports, POLICY, NOW + timedelta(seconds=9)), (
        "a redelivered message is stored once"
    )

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


# ---------------------------------------------------------------- retention from our receipt (P7, P8)

RECEIVED = datetime(2026, 11, 29, 23, 59, 30, tzinfo=UTC)
"""Our clock when the event arrives: every retention counts from its day, never from a provider's time."""
CHAT_SECRET = "whsec_unit"
ABSURD_CHAT_TIMES = [
    "1970-01-01T00:00:00Z",
    "2150-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-14:00",  # beyond UTC: overflowed before
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",  # before UTC's year 1: overflowed before
]
ABSURD_MAIL_DATES = [
    "Thu, 01 Jan 1970 00:00:00 +0000",
    "Wed, 01 Jan 2150 00:00:00 +0000",
    "Fri, 31 Dec 9999 23:59:59 +0000",
    "Fri, 31 Dec 9999 23:59:59 -1400",
    "Mon, 01 Jan 0001 00:00:00 +1400",
]


def transcripts_for(ports: IngestPorts) -> TranscriptPorts:
    return TranscriptPorts(
        vault=ports.vault,
        references=ports.references,
        sealer=FakeTranscriptSealer(),
        transcripts=InMemoryTranscriptStore(),
    )


def assert_retention_from_receipt(record: ContactRecord, ports: IngestPorts) -> None:
    assert record.identifier_retain_until == date(2027, 11, 29), "receipt day + 365"
    assert record.expires_at == int(datetime(2028, 11, 28, tzinfo=UTC).timestamp()), "receipt day + 730"
    assert record.identifier_ciphertext is not None
    assert ports.vault.periods[record.identifier_ciphertext] == "2026-11", "the receipt month's key"  # type: ignore[attr-defined]


def assert_nothing_claimed_without_its_record(ports: IngestPorts) -> None:
    """Every claimed reference names a stored record, and every used limit slot has one (P10)."""
    records = ports.contacts.items  # type: ignore[attr-defined]
    for entry in ports.references.entries.values():  # type: ignore[attr-defined]
        assert entry.contact_id in records
    slots = sum(len(times) for times in ports.limits.windows.values())  # type: ignore[attr-defined]
    assert slots == sum(1 for record in records.values() if record.limit_outcome == "allowed")


def chat_request(document: dict[str, object]) -> dict[str, object]:
    raw = json.dumps(document).encode()
    return {
        "body": raw.decode(),
        "headers": {"X-Helpline-Signature": chat_provider.sign(raw, CHAT_SECRET, RECEIVED)},
    }


def handle_chat(
    ports: IngestPorts, transcripts: TranscriptPorts, document: dict[str, object]
) -> dict[str, object]:
    return chat_ingress.handle(
        chat_request(document),
        lambda: ports,
        lambda: transcripts,
        lambda: POLICY,
        RECEIVED,
        secret=lambda: CHAT_SECRET,
    )


@pytest.mark.parametrize("timestamp", ABSURD_CHAT_TIMES)
def test_an_absurd_chat_timestamp_is_replaced_by_receipt_and_retention_counts_from_receipt(
    ports: IngestPorts, timestamp: str
) -> None:
    """Issue 8: a chat `timestamp` in year 9999 gave 502 after the reference was claimed and a limit slot
    used. Now every event is answered as usual, the record and the part are dated by our receipt, and
    nothing is claimed without its record."""
    transcripts = transcripts_for(ports)
    session = {"session_id": f"sess-{timestamp}", "timestamp": timestamp}
    opened = {"type": "chat.started", "channel": "web-chat", "client_ip": "203.0.113.9", **session}
    said = {"type": "chat.message", "message_id": "m1", "sender": "contact", "text": "Hoi", **session}

    answers = [
        handle_chat(ports, transcripts, opened),
        handle_chat(ports, transcripts, said),
        handle_chat(ports, transcripts, {"type": "chat.ended", **session}),
    ]

    assert [answer["statusCode"] for answer in answers] == [200, 201, 200]
    assert json.loads(str(answers[0]["body"]))["allowed"] is True
    [record] = stored(ports)
    assert record.started_at == RECEIVED.replace(microsecond=0)
    assert record.ended_at == RECEIVED.replace(microsecond=0)
    assert_retention_from_receipt(record, ports)
    assert_nothing_claimed_without_its_record(ports)
    [(key, (_, ciphertext, sent_at))] = transcripts.transcripts.parts.items()  # type: ignore[attr-defined]
    assert sent_at == RECEIVED
    assert transcripts.transcripts.expires_at[key] == int(datetime(2027, 5, 28, tzinfo=UTC).timestamp())  # type: ignore[attr-defined]
    assert transcripts.sealer.periods[ciphertext] == "2026-11"  # type: ignore[attr-defined]


class InMemoryRawMail:
    """A versioned bucket of one key: each put adds a version; erasing removes every one."""

    def __init__(self) -> None:
        self.versions: dict[tuple[str, str], list[bytes]] = {}

    def put(self, bucket: str, key: str, raw: bytes) -> None:
        self.versions.setdefault((bucket, key), []).append(raw)

    def read(self, bucket: str, key: str) -> bytes:
        return self.versions[(bucket, key)][-1]

    def delete_every_version(self, bucket: str, key: str) -> int:
        return len(self.versions.pop((bucket, key), []))


def mail_with_date(date_header: str, message_id: str) -> bytes:
    return (
        f"From: Iemand <iemand@example.org>\r\nTo: hulp@hulplijn.example.org\r\nDate: {date_header}\r\n"
        f"Message-ID: {message_id}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Ik wil iets vertellen.\r\n"
    ).encode()


@pytest.fixture
def mail_ports(ports: IngestPorts) -> IngestPorts:
    mailbox = Line(
        line_id="mail",
        kind="helpline",
        channel="email",
        address="hulp@hulplijn.example.org",
        display_name="Mail",
        updated_at=NOW,
        updated_by="admin",
    )
    ports.lines.lines.append(mailbox)  # type: ignore[attr-defined]
    return ports


@pytest.mark.parametrize("date_header", ABSURD_MAIL_DATES)
def test_an_absurd_mail_date_is_replaced_by_receipt_and_retention_counts_from_receipt(
    mail_ports: IngestPorts, date_header: str
) -> None:
    """Issue 8: `Date: ... 2150` kept a transcript until 2151, `1970` set a TTL DynamoDB never acts on."""
    transcripts = transcripts_for(mail_ports)
    mail = InMemoryRawMail()
    mail.put("bucket", "mail/1", mail_with_date(date_header, "<m1@example.org>"))

    helpline = mail_ingress.receive(
        "bucket", "mail/1", mail, lambda: mail_ports, lambda: transcripts, lambda: POLICY, RECEIVED
    )

    assert helpline is True
    [record] = stored(mail_ports)
    assert record.started_at == RECEIVED.replace(microsecond=0)
    assert_retention_from_receipt(record, mail_ports)
    assert_nothing_claimed_without_its_record(mail_ports)
    [(key, (_, _, sent_at))] = transcripts.transcripts.parts.items()  # type: ignore[attr-defined]
    assert sent_at == RECEIVED
    assert transcripts.transcripts.expires_at[key] == int(datetime(2027, 5, 28, tzinfo=UTC).timestamp())  # type: ignore[attr-defined]
    assert mail.versions == {}, "the raw mail is gone once stored (P3)"


def test_a_plausible_mail_date_is_kept_as_the_fact_but_retention_still_counts_from_receipt(
    mail_ports: IngestPorts,
) -> None:
    """Written three days before we received it (it waited in a queue): the date stands, the clock is ours."""
    transcripts = transcripts_for(mail_ports)
    mail = InMemoryRawMail()
    mail.put("bucket", "mail/2", mail_with_date("Thu, 26 Nov 2026 21:00:00 +0000", "<m2@example.org>"))

    mail_ingress.receive(
        "bucket", "mail/2", mail, lambda: mail_ports, lambda: transcripts, lambda: POLICY, RECEIVED
    )

    [record] = stored(mail_ports)
    assert record.started_at == datetime(2026, 11, 26, 21, tzinfo=UTC)
    assert_retention_from_receipt(record, mail_ports)


def test_a_mail_that_cannot_be_understood_is_still_deleted(mail_ports: IngestPorts) -> None:
    mail = InMemoryRawMail()
    mail.put("bucket", "mail/3", b"\x00\xff not a mail")
    mail.put("bucket", "mail/3", b"\x00\xff a second version")
    assert not mail_ingress.receive(
        "bucket",
        "mail/3",
        mail,
        lambda: mail_ports,
        lambda: transcripts_for(mail_ports),
        lambda: POLICY,
        RECEIVED,
    )
    assert mail.versions == {}
    assert stored(mail_ports) == []


def test_a_mail_whose_body_cannot_be_stored_is_kept_for_the_retry(mail_ports: IngestPorts) -> None:
    """A failure raises so the notification is retried; only a complete intake deletes the raw mail."""
    transcripts = transcripts_for(mail_ports)
    transcripts.transcripts.fail_next = 1  # type: ignore[attr-defined]
    mail = InMemoryRawMail()
    mail.put("bucket", "mail/4", mail_with_date("Sun, 29 Nov 2026 23:50:00 +0000", "<m4@example.org>"))
    with pytest.raises(DependencyError):
        mail_ingress.receive(
            "bucket", "mail/4", mail, lambda: mail_ports, lambda: transcripts, lambda: POLICY, RECEIVED
        )
    assert list(mail.versions) == [("bucket", "mail/4")]

    assert mail_ingress.receive(
        "bucket", "mail/4", mail, lambda: mail_ports, lambda: transcripts, lambda: POLICY, RECEIVED
    )
    assert len(stored(mail_ports)) == 1, "the retry is a provider retry: one contact"
    assert len(transcripts.transcripts.parts) == 1  # type: ignore[attr-defined]
    assert mail.versions == {}


@pytest.mark.parametrize(
    "started_at",
    [datetime(1970, 1, 1, tzinfo=UTC), datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC)],
)
def test_registration_never_raises_for_a_timestamp(ports: IngestPorts, started_at: datetime) -> None:
    """Voice and Connect too: the provider's start is judged before anything is claimed."""
    admission = admit_contact(call(at=started_at), ports, POLICY, RECEIVED)
    assert admission.allowed
    [record] = stored(ports)
    assert record.started_at == RECEIVED.replace(microsecond=0)
    assert_retention_from_receipt(record, ports)
    assert_nothing_claimed_without_its_record(ports)


def test_a_plausible_start_is_kept_but_does_not_move_retention(ports: IngestPorts) -> None:
    """A call that started 30 s before midnight and reached us after it: the start stands, the
    retention counts from the day we received it."""
    started = datetime(2026, 11, 29, 23, 59, 50, tzinfo=UTC)
    admit_contact(call(at=started), ports, POLICY, datetime(2026, 11, 30, 0, 0, 5, tzinfo=UTC))
    [record] = stored(ports)
    assert record.started_at == started
    assert record.identifier_retain_until == date(2027, 11, 30)


def test_an_end_before_the_start_or_out_of_all_reason_is_kept_in_order(ports: IngestPorts) -> None:
    admission = admit_contact(call(sid="CA-odd"), ports, POLICY, NOW)
    ref = identifiers.reference("CA-odd")
    end_contact(
        ContactEnded("voice", ref, datetime.max.replace(tzinfo=UTC), None, 1),
        ports,
        NOW + timedelta(minutes=3),
    )
    record = ports.contacts.items[admission.contact_id]  # type: ignore[attr-defined]
    assert record.ended_at == NOW + timedelta(minutes=3)
    assert record.duration_s == 180
    assert not end_contact(ContactEnded("voice", ref, NOW - timedelta(hours=2), None, 1), ports, NOW)


def test_a_sealed_identifier_the_record_refuses_is_dropped_but_the_record_is_stored(
    ports: IngestPorts,
) -> None:
    """Closed for data, open for the register: a claimed reference always gets its record."""
    ports.vault.seal = lambda *args, **kwargs: "not base64!"  # type: ignore[method-assign]
    admit_contact(call(), ports, POLICY, NOW)
    [record] = stored(ports)
    assert record.identifier_ciphertext is None
    assert record.identifier_retain_until is None
    assert_nothing_claimed_without_its_record(ports)


# ---------------------------------------------------------------- e-mail: authenticated senders (issue 9)

VICTIM = "slachtoffer@example.nl"
MAILBOX = "hulp@hulplijn.example.org"
OFFICE_MAILBOX = "kantoor@hulplijn.example.org"
SES_PASS = "amazonses.com; spf=pass; dkim=pass header.i=@example.nl; dmarc=pass header.from=example.nl"
SES_FAIL = "amazonses.com; spf=fail; dkim=fail; dmarc=fail header.from=example.nl"
MAIL_LINES = [
    Line(
        line_id="mail",
        kind="helpline",
        channel="email",
        address=MAILBOX,
        display_name="Mail",
        updated_at=NOW,
        updated_by="admin",
    ),
    Line(
        line_id="office-mail",
        kind="office",
        channel="email",
        address=OFFICE_MAILBOX,
        display_name="Kantoor",
        updated_at=NOW,
        updated_by="admin",
    ),
]


def a_mail(
    message_id: str,
    *,
    verdict: str | None = SES_PASS,
    to: str = MAILBOX,
    cc: str | None = None,
    body: str = "Hoi",
) -> bytes:
    """A mail as SES stores it: its `Authentication-Results` on top, when it wrote one."""
    head = f"Authentication-Results: {verdict}\r\n" if verdict is not None else ""
    copy = f"Cc: {cc}\r\n" if cc else ""
    return (
        f"{head}From: <{VICTIM}>\r\nTo: {to}\r\n{copy}Message-ID: <{message_id}@example.nl>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def mail_started(authenticated: bool | None, ref: str, **extra: object) -> ContactStarted:
    return ContactStarted(
        channel="email",
        line_address=MAILBOX,
        identifier=identifiers.email(VICTIM),
        provider_reference=identifiers.reference(ref),
        started_at=NOW,
        sender_authenticated=authenticated,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def routed(ports: IngestPorts) -> IngestPorts:
    ports.lines.lines.extend(MAIL_LINES)  # type: ignore[attr-defined]
    return ports


def test_an_authenticated_sender_is_counted_and_limited(routed: IngestPorts) -> None:
    answers = [admit_contact(mail_started(True, f"a{i}"), routed, POLICY, NOW) for i in range(4)]
    assert [a.allowed for a in answers] == [True, True, True, False]
    assert sorted(r.limit_outcome for r in stored(routed)) == ["allowed", "allowed", "allowed", "limited"]


@pytest.mark.parametrize("authenticated", [False, None])
def test_an_unauthenticated_mail_is_taken_in_but_never_counted(
    routed: IngestPorts, authenticated: bool | None
) -> None:
    """Issue 9: its From may be anyone's. Not counted under that address's pseudonym, nor under any
    other: no MAC is asked for and no limit slot written, however many arrive (fail open for people)."""
    answers = [admit_contact(mail_started(authenticated, f"f{i}"), routed, POLICY, NOW) for i in range(10)]
    assert all(a.allowed and a.contacts_last_24h is None for a in answers)
    assert {r.limit_outcome for r in stored(routed)} == {"unauthenticated"}
    assert routed.limits.windows == {}  # type: ignore[attr-defined]
    assert routed.vault.mac_calls == 0  # type: ignore[attr-defined]
    assert all(r.identifier_ciphertext for r in stored(routed)), "still sealed, for a disclosure (P7)"
    assert_nothing_claimed_without_its_record(routed)


def test_forged_mails_do_not_limit_the_real_sender(routed: IngestPorts) -> None:
    for i in range(3):
        admit_contact(mail_started(False, f"forged{i}"), routed, POLICY, NOW)
    real = admit_contact(mail_started(True, "real"), routed, POLICY, NOW + timedelta(minutes=1))
    assert real.allowed
    assert real.contacts_last_24h == 1


def test_the_seal_says_whether_the_sender_was_authenticated(routed: IngestPorts) -> None:
    vault: FakeIdentifierVault = routed.vault  # type: ignore[assignment]
    admit_contact(mail_started(True, "yes"), routed, POLICY, NOW)
    admit_contact(mail_started(False, "no"), routed, POLICY, NOW)
    admit_contact(call(), routed, POLICY, NOW)
    by_channel = {
        (r.channel, r.limit_outcome): vault.authenticated[r.identifier_ciphertext] for r in stored(routed)
    }
    assert by_channel == {
        ("email", "allowed"): True,
        ("email", "unauthenticated"): False,
        ("voice", "allowed"): None,
    }


def test_a_voice_call_is_counted_whatever_the_mail_rules(routed: IngestPorts) -> None:
    """`sender_authenticated` is e-mail's: other channels count as before."""
    assert [admit_contact(call(sid=f"V{i}"), routed, POLICY, NOW).allowed for i in range(4)] == [
        True,
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("first", "others", "line"),
    [
        (OFFICE_MAILBOX, (MAILBOX,), "mail"),  # the office in To, the helpline in Cc: the helpline
        (MAILBOX, (OFFICE_MAILBOX,), "mail"),
        ("iemand@elders.example", (OFFICE_MAILBOX, "ander@elders.example"), "office-mail"),
        ("iemand@elders.example", ("ander@elders.example",), "unknown"),
    ],
)
def test_a_mail_to_several_addresses_goes_to_the_helpline_among_them(
    routed: IngestPorts, first: str, others: tuple[str, ...], line: str
) -> None:
    event = mail_started(True, "multi", other_recipients=others)
    event = ContactStarted(**{**event.__dict__, "line_address": first})
    admission = admit_contact(event, routed, POLICY, NOW)
    if line == "office-mail":
        assert admission.line_kind == "office"
        assert stored(routed) == []
        [office] = routed.office.items.values()  # type: ignore[attr-defined]
        assert office.line == "office-mail"
    else:
        assert [r.line for r in stored(routed)] == [line]
        assert routed.office.items == {}  # type: ignore[attr-defined]


def test_an_office_mail_keeps_its_body_apart_from_helpline_data(routed: IngestPorts) -> None:
    """P11: used for its purpose, so its text is kept with it, in clear, in the office table only."""
    transcripts = transcripts_for(routed)
    mail = InMemoryRawMail()
    mail.put("bucket", "o/1", a_mail("o1", to=OFFICE_MAILBOX, body="Graag een factuur."))

    helpline = mail_ingress.receive(
        "bucket", "o/1", mail, lambda: routed, lambda: transcripts, lambda: POLICY, NOW
    )

    assert helpline is False
    [office] = routed.office.items.values()  # type: ignore[attr-defined]
    assert (office.caller, office.body) == (VICTIM, "Graag een factuur.\n")
    assert office.expires_at == int((NOW + timedelta(days=30)).timestamp())
    assert stored(routed) == []
    assert transcripts.transcripts.parts == {}  # type: ignore[attr-defined]
    assert routed.limits.windows == {}  # type: ignore[attr-defined]
    assert mail.versions == {}


def test_a_long_office_body_is_cut_to_what_an_item_holds(routed: IngestPorts) -> None:
    event = ContactStarted(**{**mail_started(True, "long").__dict__, "line_address": OFFICE_MAILBOX})
    admit_contact(event, routed, POLICY, NOW, office_text="é" * 300_000)
    [office] = routed.office.items.values()  # type: ignore[attr-defined]
    assert len(office.body.encode()) <= BODY_MAX_BYTES
    assert office.body.endswith("[…afgekapt]")


def test_an_office_mail_that_cannot_be_stored_is_retried_and_kept_once(routed: IngestPorts) -> None:
    """A call's office record may be lost in an outage; a mail's text may not, since the raw mail is
    deleted after intake: the failure raises, and the retry keeps it under the id claimed first."""
    transcripts = transcripts_for(routed)
    mail = InMemoryRawMail()
    mail.put("bucket", "o/2", a_mail("o2", to=OFFICE_MAILBOX, body="Over mijn bestelling."))
    routed.office.fail_next = 1  # type: ignore[attr-defined]
    with pytest.raises(DependencyError):
        mail_ingress.receive("bucket", "o/2", mail, lambda: routed, lambda: transcripts, lambda: POLICY, NOW)
    assert list(mail.versions) == [("bucket", "o/2")]

    later = NOW + timedelta(minutes=5)
    assert not mail_ingress.receive(
        "bucket", "o/2", mail, lambda: routed, lambda: transcripts, lambda: POLICY, later
    )
    [(office_id, office)] = routed.office.items.items()  # type: ignore[attr-defined]
    [entry] = routed.references.entries.values()  # type: ignore[attr-defined]
    assert office_id == entry.contact_id
    assert office.body == "Over mijn bestelling.\n"
    assert mail.versions == {}
    # A third delivery of the same mail changes nothing.
    mail.put("bucket", "o/2", a_mail("o2", to=OFFICE_MAILBOX, body="Over mijn bestelling."))
    mail_ingress.receive("bucket", "o/2", mail, lambda: routed, lambda: transcripts, lambda: POLICY, later)
    assert list(routed.office.items) == [office_id]  # type: ignore[attr-defined]


def test_an_office_call_that_cannot_be_stored_still_connects(routed: IngestPorts) -> None:
    routed.office.fail_next = 1  # type: ignore[attr-defined]
    assert admit_contact(call(to="+31201234567"), routed, POLICY, NOW).allowed


def test_three_forged_mails_and_the_real_one_through_the_intake(routed: IngestPorts) -> None:
    """The issue's case end to end in memory: the fourth, authenticated mail is let through and its
    body kept (encrypted); the forged ones are taken in too, answered, and counted nowhere."""
    transcripts = transcripts_for(routed)
    mail = InMemoryRawMail()
    for i in range(3):
        mail.put("bucket", f"m/{i}", a_mail(f"forged{i}", verdict=SES_FAIL))
        assert mail_ingress.receive(
            "bucket", f"m/{i}", mail, lambda: routed, lambda: transcripts, lambda: POLICY, NOW
        )
    mail.put("bucket", "m/real", a_mail("real"))
    assert mail_ingress.receive(
        "bucket", "m/real", mail, lambda: routed, lambda: transcripts, lambda: POLICY, NOW
    )

    outcomes = sorted(r.limit_outcome for r in stored(routed))
    assert outcomes == ["allowed", "unauthenticated", "unauthenticated", "unauthenticated"]
    assert len(transcripts.transcripts.parts) == 4  # type: ignore[attr-defined]
    assert [len(slots) for slots in routed.limits.windows.values()] == [1]  # type: ignore[attr-defined]


def test_the_intake_never_logs_the_sender_or_the_verdict(
    routed: IngestPorts, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    transcripts = transcripts_for(routed)
    mail = InMemoryRawMail()
    mail.put("bucket", "m/log", a_mail("log", verdict=SES_PASS, cc=OFFICE_MAILBOX))
    mail_ingress.receive("bucket", "m/log", mail, lambda: routed, lambda: transcripts, lambda: POLICY, NOW)
    assert "Mail registered" in caplog.text
    logged = "\n".join(str(record.__dict__) for record in caplog.records)
    for value in (VICTIM, "slachtoffer", "example.nl", "dmarc", "log@"):
        assert value not in logged


@pytest.mark.parametrize(
    ("number", "region"),
    [
        ("+8816 3123 4567", "abroad:other"),  # Iridium satellite: a number of no country
        ("+870 773 123 456", "abroad:other"),  # Inmarsat
        ("+800 1234 5678", "abroad:other"),  # international freephone
        ("+290 8123", "abroad:other"),  # Tristan da Cunha: some 250 people
        ("+690 3010", "abroad:other"),  # Tokelau
        ("+352 621 123 456", "abroad:other"),  # Luxembourg: fewer than a million
        ("+32 470 12 34 56", "abroad:BE"),
        ("+49 30 1234567", "abroad:DE"),
    ],
)
def test_a_number_of_no_country_or_a_small_one_is_registered_as_abroad_other(
    ports: IngestPorts, number: str, region: str
) -> None:
    """Issue 10, P8: such a contact used to be refused by the record (`abroad:001`) after its reference
    and limit slot were claimed, and lost; and a tiny country beside a time to the second could point
    to a person. Now it is registered, as coarsely as P8 needs."""
    admission = admit_contact(call(number, sid="CA-" + number), ports, POLICY, NOW)
    assert admission.allowed
    [record] = stored(ports)
    assert record.region == region
    assert record.identifier_ciphertext is not None


# ---------------------------------------------------------------- Amazon Connect chats (P8)


def connect_chat_event(contact_id: str, **attributes: str) -> dict[str, object]:
    """A CHAT contact's flow event as Connect sends it: no endpoint of either side."""
    return {
        "Name": "ContactFlowEvent",
        "Details": {
            "Parameters": {},
            "ContactData": {
                "Attributes": dict(attributes),
                "Channel": "CHAT",
                "ContactId": contact_id,
                "InitialContactId": contact_id,
                "InitiationMethod": "API",
                "CustomerEndpoint": None,
                "SystemEndpoint": None,
                "Queue": None,
            },
        },
    }


def test_a_connect_chat_is_registered_unchecked_without_ciphertext_and_connected(ports: IngestPorts) -> None:
    """P8: every Connect chat used to be refused as malformed (no SystemEndpoint), connected but never
    registered. Now it is registered on the line `unknown`, not counted (nothing to count it by, P10)
    and without any ciphertext (Connect holds no address of a web chatter, P3, P7)."""
    answer = connect_ingress.contact_flow(
        connect_chat_event("chat-contact-1"), lambda: ports, lambda: POLICY, NOW
    )

    assert answer["allowed"] == "true"
    [record] = stored(ports)
    assert (record.channel, record.line, record.region) == ("chat", "unknown", "unknown")
    assert record.limit_outcome == "unchecked"
    assert record.identifier_ciphertext is None
    assert record.identifier_retain_until is None
    assert ports.vault.seal_calls == 0  # type: ignore[attr-defined]
    assert ports.limits.windows == {}  # type: ignore[attr-defined]
    assert_nothing_claimed_without_its_record(ports)


def test_a_connect_chat_on_a_registered_chat_line_is_registered_on_it(ports: IngestPorts) -> None:
    """P8: the entry is the chat line the flow names (`lineAddress`), when it names one."""
    connect_ingress.contact_flow(
        connect_chat_event("chat-contact-2", lineAddress="web-chat"), lambda: ports, lambda: POLICY, NOW
    )
    [record] = stored(ports)
    assert record.line == "web-chat"


def test_a_connect_chat_invoked_twice_is_one_record(ports: IngestPorts) -> None:
    """P8: a flow may invoke the function again (a retry, a second block): one contact, one record."""
    for _ in range(2):
        connect_ingress.contact_flow(connect_chat_event("chat-contact-3"), lambda: ports, lambda: POLICY, NOW)
    assert len(stored(ports)) == 1


def test_a_withheld_number_still_seals_the_call_reference_for_a_disclosure(ports: IngestPorts) -> None:
    """Only a web chat goes without ciphertext: behind a withheld caller's reference the telephone
    provider still knows the number (P7)."""
    admit_contact(call(None), ports, POLICY, NOW)
    [record] = stored(ports)
    assert record.identifier_ciphertext is not None


# ---------------------------------------------------------------- transcript order (P8)


def chat_parts(ports: IngestPorts) -> TranscriptPorts:
    admit_contact(call(sid="chat-order"), ports, POLICY, NOW)
    return transcripts_for(ports)


def texts_in_order(transcripts: TranscriptPorts) -> list[str]:
    """The stored parts' texts in `seq` order, as the reader's Query returns them."""
    store = transcripts.transcripts.parts  # type: ignore[attr-defined]
    return [transcripts.sealer.sealed[store[key][1]][2] for key in sorted(store)]  # type: ignore[attr-defined]


def test_m7_and_m16_sent_in_the_same_millisecond_are_both_stored_in_send_order(ports: IngestPorts) -> None:
    """P8: `seq` came from the send time plus a CRC of the part id; m7 and m16 got the same number and
    m16 was dropped as a duplicate of m7. Now the contact's counter tells them apart, in arrival order."""
    transcripts = chat_parts(ports)
    ref = identifiers.reference("chat-order")
    m7 = TranscriptPart("chat", ref, "contact", "Ik kan niet slapen.", NOW, part_id="m7")
    m16 = TranscriptPart("chat", ref, "contact", "Al weken niet.", NOW, part_id="m16")

    assert add_transcript_part(m7, transcripts, POLICY, NOW)
    assert add_transcript_part(m16, transcripts, POLICY, NOW)

    assert texts_in_order(transcripts) == ["Ik kan niet slapen.", "Al weken niet."]


@pytest.mark.parametrize("again", ["m7", "m16"])
def test_a_redelivery_of_m7_or_m16_is_stored_once(ports: IngestPorts, again: str) -> None:
    """P8: word for word means once: a redelivered message, however late, is not stored again."""
    transcripts = chat_parts(ports)
    ref = identifiers.reference("chat-order")
    parts = {
        "m7": TranscriptPart("chat", ref, "contact", "Ik kan niet slapen.", NOW, part_id="m7"),
        "m16": TranscriptPart("chat", ref, "contact", "Al weken niet.", NOW, part_id="m16"),
    }
    add_transcript_part(parts["m7"], transcripts, POLICY, NOW)
    add_transcript_part(parts["m16"], transcripts, POLICY, NOW)

    later = NOW + timedelta(seconds=30)
    assert not add_transcript_part(parts[again], transcripts, POLICY, later)
    assert not add_transcript_part(parts[again], transcripts, POLICY, later + timedelta(hours=1))

    assert texts_in_order(transcripts) == ["Ik kan niet slapen.", "Al weken niet."]


def test_many_messages_in_one_second_keep_their_send_order(ports: IngestPorts) -> None:
    """P8: a platform that sends whole seconds: forty messages in one second read in the order sent."""
    transcripts = chat_parts(ports)
    ref = identifiers.reference("chat-order")
    for i in range(40):
        add_transcript_part(
            TranscriptPart("chat", ref, "contact", f"t{i}", NOW, f"m{i}"), transcripts, POLICY, NOW
        )
    assert texts_in_order(transcripts) == [f"t{i}" for i in range(40)]


def test_a_message_redelivered_late_keeps_its_place_by_send_time(ports: IngestPorts) -> None:
    """P8: m1 failed and arrives again after m2: it is still read first, being sent first."""
    transcripts = chat_parts(ports)
    ref = identifiers.reference("chat-order")
    m1 = TranscriptPart("chat", ref, "contact", "eerst", NOW, part_id="m1")
    m2 = TranscriptPart("chat", ref, "volunteer", "daarna", NOW + timedelta(seconds=2), part_id="m2")
    transcripts.sealer.fail_next = 1  # type: ignore[attr-defined]
    with pytest.raises(DependencyError):
        add_transcript_part(m1, transcripts, POLICY, NOW)
    assert add_transcript_part(m2, transcripts, POLICY, NOW + timedelta(seconds=2))
    assert add_transcript_part(m1, transcripts, POLICY, NOW + timedelta(seconds=5))
    assert not add_transcript_part(m1, transcripts, POLICY, NOW + timedelta(seconds=6))
    assert texts_in_order(transcripts) == ["eerst", "daarna"]


def test_a_part_that_failed_after_its_number_is_stored_under_it_once_when_redelivered(
    ports: IngestPorts,
) -> None:
    """P8: nothing is lost when storing fails after the part got its number: the redelivery stores it
    under that number, once, and the counter moved only once."""
    transcripts = chat_parts(ports)
    ref = identifiers.reference("chat-order")
    part = TranscriptPart("chat", ref, "contact", "Hallo?", NOW, part_id="m1")
    transcripts.transcripts.fail_next = 1  # type: ignore[attr-defined]
    with pytest.raises(DependencyError):
        add_transcript_part(part, transcripts, POLICY, NOW)
    assert add_transcript_part(part, transcripts, POLICY, NOW + timedelta(seconds=3))
    assert not add_transcript_part(part, transcripts, POLICY, NOW + timedelta(seconds=4))
    assert len(transcripts.transcripts.parts) == 1  # type: ignore[attr-defined]
    assert ports.references.parts == {next(iter(ports.references.entries)): 1}  # type: ignore[attr-defined]


def test_every_seq_sorts_after_the_parts_numbered_by_the_old_scheme(ports: IngestPorts) -> None:
    """P8: reads keep working for a chat that went on across the change: an old part's `seq` was its send
    time in ms * 1000 + CRC (below 2.6e17 even in year 9999); every new one is above all of them."""
    transcripts = chat_parts(ports)
    ref = identifiers.reference("chat-order")
    add_transcript_part(TranscriptPart("chat", ref, "contact", "nieuw", NOW, "m9"), transcripts, POLICY, NOW)
    [(_, seq)] = transcripts.transcripts.parts  # type: ignore[attr-defined]
    old_scheme_max = int(datetime.max.replace(tzinfo=UTC).timestamp() * 1000) * 1000 + 999
    assert seq > old_scheme_max


def test_m7_and_m16_through_the_chat_webhook(ports: IngestPorts) -> None:
    """P8, through the webhook: both answered 201 (stored), their redeliveries 200 (already there)."""
    transcripts = transcripts_for(ports)
    session = {"session_id": "sess-m7-m16", "timestamp": "2026-11-29T23:59:00Z"}
    opened = {"type": "chat.started", "channel": "web-chat", "client_ip": "203.0.113.9", **session}
    m7 = {"type": "chat.message", "message_id": "m7", "sender": "contact", "text": "een", **session}
    m16 = {"type": "chat.message", "message_id": "m16", "sender": "contact", "text": "twee", **session}

    codes = [handle_chat(ports, transcripts, event)["statusCode"] for event in (opened, m7, m16, m16, m7)]

    assert codes == [200, 201, 201, 200, 200]
    assert texts_in_order(transcripts) == ["een", "twee"]


# ---------------------------------------------------------------- all or nothing (P8, P10)


def test_when_neither_store_nor_buffer_works_the_reference_and_slot_are_given_back(
    ports: IngestPorts,
) -> None:
    """P8, P10: left claimed, a provider retry was answered "duplicate" for a contact that existed
    nowhere, and the contact counted against the person's limit."""
    ports.contacts.fail_next = 1  # type: ignore[attr-defined]
    ports.buffer.fail_next = 1  # type: ignore[attr-defined]

    first = admit_contact(call(sid="CA-lost"), ports, POLICY, NOW)

    assert first.allowed, "fail open: the person is connected"
    assert not first.kept
    assert ports.references.entries == {}  # type: ignore[attr-defined]
    assert ports.limits.windows == {}  # type: ignore[attr-defined]

    retry = admit_contact(call(sid="CA-lost"), ports, POLICY, NOW + timedelta(seconds=10))
    assert not retry.duplicate
    assert retry.kept
    assert retry.contacts_last_24h == 1, "the lost contact did not count"
    assert [r.id for r in stored(ports)] == [retry.contact_id]
    assert_nothing_claimed_without_its_record(ports)


def test_a_limited_contact_that_cannot_be_kept_gives_back_its_reference_and_takes_no_slot(
    ports: IngestPorts,
) -> None:
    """P10: a limited contact takes no slot, so there is none to give back; its reference is."""
    for i in range(3):
        admit_contact(call(sid=f"CA-full{i}"), ports, POLICY, NOW)
    ports.contacts.fail_next = 1  # type: ignore[attr-defined]
    ports.buffer.fail_next = 1  # type: ignore[attr-defined]

    admission = admit_contact(call(sid="CA-fourth"), ports, POLICY, NOW)

    assert not admission.allowed
    assert not admission.kept
    assert_nothing_claimed_without_its_record(ports)


@pytest.mark.parametrize("failing", ["seal", "pseudonym", "settle", "put"])
def test_an_unforeseen_error_after_the_claim_gives_everything_back_and_raises(
    ports: IngestPorts, failing: str
) -> None:
    """P8, P10: a bug or a value no adapter expected (the e-mail local part that raised UnicodeEncodeError in
    KMS): whatever it is, nothing stays claimed without its record, and the error reaches the handler."""

    def broken(*args: object, **kwargs: object) -> object:
        raise UnicodeEncodeError("utf-8", "x", 0, 1, "surrogates not allowed")

    target = {
        "seal": (ports.vault, "seal"),
        "pseudonym": (ports.vault, "pseudonym"),
        "settle": (ports.references, "settle"),
        "put": (ports.contacts, "put_if_absent"),
    }[failing]
    setattr(target[0], target[1], broken)

    with pytest.raises(UnicodeEncodeError):
        admit_contact(call(sid="CA-bug"), ports, POLICY, NOW)

    assert ports.references.entries == {}  # type: ignore[attr-defined]
    assert ports.limits.windows == {}  # type: ignore[attr-defined]
    assert_nothing_claimed_without_its_record(ports)


def test_a_release_that_fails_too_is_logged_and_the_person_still_connected(
    ports: IngestPorts, caplog: pytest.LogCaptureFixture
) -> None:
    """Fail open for people (DESIGN), P2: when even the release fails, the person is connected, an
    operator is alerted by a critical log line, and that line names no identifier."""
    ports.contacts.fail_next = 1  # type: ignore[attr-defined]
    ports.buffer.fail_next = 1  # type: ignore[attr-defined]

    def down(*args: object) -> None:
        raise DependencyError("dynamodb: DeleteItem failed")

    ports.references.release = down  # type: ignore[method-assign]
    ports.limits.release = down  # type: ignore[method-assign]
    with caplog.at_level("INFO"):
        admission = admit_contact(call("06-12345678", sid="CAsecret"), ports, POLICY, NOW)

    assert admission.allowed
    assert not admission.kept
    critical = [r.getMessage() for r in caplog.records if r.levelname == "CRITICAL"]
    assert "Reference of an unkept contact not given back" in critical
    assert "Limit slot of an unkept contact not given back" in critical
    logged = " ".join(str(record.__dict__) for record in caplog.records)
    for form in [*NUMBER_FORMATS, "31612345678", "CAsecret"]:
        assert form not in logged


def test_a_reference_claimed_by_a_later_contact_is_not_given_back(ports: IngestPorts) -> None:
    """P8: the release is conditional on the contact id: it never removes another contact's claim."""
    entry_key = ports.vault.reference_key(identifiers.reference("CA-other"))
    admit_contact(call(sid="CA-other"), ports, POLICY, NOW)
    ports.references.release(entry_key, "0" * 32)
    assert entry_key in ports.references.entries  # type: ignore[attr-defined]


def test_an_office_call_that_cannot_be_stored_gives_its_reference_back(routed: IngestPorts) -> None:
    """P11, all or nothing: an office record that was not stored leaves no reference claimed either."""
    routed.office.fail_next = 1  # type: ignore[attr-defined]
    admission = admit_contact(call(to="+31201234567", sid="CA-office"), routed, POLICY, NOW)
    assert admission.allowed
    assert not admission.kept
    assert routed.references.entries == {}  # type: ignore[attr-defined]
    retry = admit_contact(call(to="+31201234567", sid="CA-office"), routed, POLICY, NOW)
    assert not retry.duplicate
    assert list(routed.office.items) == [retry.contact_id]  # type: ignore[attr-defined]


def test_a_chat_start_that_cannot_be_kept_answers_503_and_its_retry_registers_it(ports: IngestPorts) -> None:
    """P8: the platform retries on 5xx; answered 200, its messages would have found no contact (404)."""
    transcripts = transcripts_for(ports)
    session = {"session_id": "sess-lost", "timestamp": "2026-11-29T23:59:00Z"}
    opened = {"type": "chat.started", "channel": "web-chat", "client_ip": "203.0.113.9", **session}
    said = {"type": "chat.message", "message_id": "m1", "sender": "contact", "text": "Hoi", **session}
    ports.contacts.fail_next = 1  # type: ignore[attr-defined]
    ports.buffer.fail_next = 1  # type: ignore[attr-defined]

    assert handle_chat(ports, transcripts, opened)["statusCode"] == 503
    assert_nothing_claimed_without_its_record(ports)

    assert handle_chat(ports, transcripts, opened)["statusCode"] == 200
    assert handle_chat(ports, transcripts, said)["statusCode"] == 201
    [record] = stored(ports)
    [(contact_id, _)] = transcripts.transcripts.parts  # type: ignore[attr-defined]
    assert contact_id == record.id
    assert_nothing_claimed_without_its_record(ports)


def test_a_mail_whose_registration_cannot_be_kept_is_retried_and_no_body_kept_before(
    routed: IngestPorts,
) -> None:
    """P8: the intake raises so S3 retries; no body is kept under a contact that exists nowhere, the
    raw mail waits, and the retry registers the mail and keeps its body once."""
    transcripts = transcripts_for(routed)
    mail = InMemoryRawMail()
    mail.put("bucket", "m/lost", a_mail("lost"))
    routed.contacts.fail_next = 1  # type: ignore[attr-defined]
    routed.buffer.fail_next = 1  # type: ignore[attr-defined]

    with pytest.raises(RegistrationNotKeptError):
        mail_ingress.receive(
            "bucket", "m/lost", mail, lambda: routed, lambda: transcripts, lambda: POLICY, NOW
        )
    assert transcripts.transcripts.parts == {}, "no body under a contact that exists nowhere"  # type: ignore[attr-defined]
    assert list(mail.versions) == [("bucket", "m/lost")], "the raw mail waits for the retry"
    assert_nothing_claimed_without_its_record(routed)

    assert mail_ingress.receive(
        "bucket", "m/lost", mail, lambda: routed, lambda: transcripts, lambda: POLICY, NOW
    )
    [record] = stored(routed)
    assert [key[0] for key in transcripts.transcripts.parts] == [record.id]  # type: ignore[attr-defined]
    assert_nothing_claimed_without_its_record(routed)


# ---------------------------------------------------------------- e-mail edge cases (P3, P8)


def raw_mail(sender: bytes, message_id: str = "<edge@example.nl>", body: str = "Hoi", top: str = "") -> bytes:
    """A mail as an SMTPUTF8 sender writes it: UTF-8 straight in the headers (RFC 6532)."""
    return (
        top.encode()
        + b"From: "
        + sender
        + f"\r\nTo: {MAILBOX}\r\nMessage-ID: {message_id}\r\nDate: Sun, 29 Nov 2026 11:00:00 +0000\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n".encode()
    )


@pytest.mark.parametrize(
    ("sender", "identifier"),
    [
        ("jösé@example.nl".encode(), "jösé@example.nl"),
        ("José <jösé@example.nl>".encode(), "jösé@example.nl"),
        ("jan@exämple.nl".encode(), "jan@xn--exmple-cua.nl"),
        ("Jan <JAN@EXÄMPLE.NL>".encode(), "jan@xn--exmple-cua.nl"),
    ],
)
def test_a_mail_from_a_utf8_address_is_registered_and_its_body_kept(
    routed: IngestPorts, sender: bytes, identifier: str
) -> None:
    """A UTF-8 local part raised UnicodeEncodeError in the vault after the reference was claimed (the
    retry then stored the body under a contact that was never registered); a UTF-8 domain made the
    mail be deleted unread. Both are taken in now, the address in one normal form (P3, P10)."""
    transcripts = transcripts_for(routed)
    mail = InMemoryRawMail()
    mail.put("bucket", "m/utf8", raw_mail(sender))

    assert mail_ingress.receive(
        "bucket", "m/utf8", mail, lambda: routed, lambda: transcripts, lambda: POLICY, NOW
    )

    [record] = stored(routed)
    sealed = routed.vault.sealed[record.identifier_ciphertext]  # type: ignore[attr-defined]
    assert sealed[2].reveal() == identifier
    assert [key[0] for key in transcripts.transcripts.parts] == [record.id]  # type: ignore[attr-defined]
    assert mail.versions == {}
    assert_nothing_claimed_without_its_record(routed)


def test_both_spellings_of_an_idn_domain_count_as_one_sender(routed: IngestPorts) -> None:
    """P10: `exämple.nl` and `xn--exmple-cua.nl` are one domain, so one sender, one count (and SES's
    DMARC verdict is matched in either spelling)."""
    transcripts = transcripts_for(routed)
    mail = InMemoryRawMail()
    verdict = "Authentication-Results: amazonses.com; spf=pass; dmarc=pass header.from={}\r\n"
    for i, (sender, domain) in enumerate(
        [("jan@exämple.nl", "exämple.nl"), ("jan@xn--exmple-cua.nl", "xn--exmple-cua.nl")] * 2
    ):
        mail.put("bucket", f"m/{i}", raw_mail(sender.encode(), f"<idn{i}@x>", top=verdict.format(domain)))
        mail_ingress.receive(
            "bucket", f"m/{i}", mail, lambda: routed, lambda: transcripts, lambda: POLICY, NOW
        )
    assert sorted(r.limit_outcome for r in stored(routed)) == ["allowed", "allowed", "allowed", "limited"]


def test_a_new_mail_under_an_old_message_id_is_a_new_contact(routed: IngestPorts) -> None:
    """P3, P8: a Message-ID is only the sender's claim: a new mail reusing one was appended to the old
    contact's transcript. Now it is a contact of its own, with its own body."""
    transcripts = transcripts_for(routed)
    mail = InMemoryRawMail()
    mail.put("bucket", "m/old", raw_mail(b"jan@example.nl", "<same@example.nl>", body="Eerste brief"))
    mail.put("bucket", "m/new", raw_mail(b"ander@example.nl", "<same@example.nl>", body="Iets heel anders"))

    for key in ("m/old", "m/new"):
        assert mail_ingress.receive(
            "bucket", key, mail, lambda: routed, lambda: transcripts, lambda: POLICY, NOW
        )

    records = stored(routed)
    assert len(records) == 2
    by_contact = {key[0] for key in transcripts.transcripts.parts}  # type: ignore[attr-defined]
    assert by_contact == {r.id for r in records}, "one body under each contact"


def test_the_same_mail_delivered_again_is_one_contact(routed: IngestPorts) -> None:
    """P8: S3 notifying twice, or SES receiving the same mail twice (new trace headers on top): one
    contact, one body."""
    transcripts = transcripts_for(routed)
    mail = InMemoryRawMail()
    same = raw_mail(b"jan@example.nl", "<once@example.nl>", body="Een keer")
    trace = "Received: from mx{} by inbound-smtp.eu-west-1.amazonaws.com\r\nX-SES-Spam-Verdict: PASS\r\n"
    deliveries = [("m/a", same), ("m/a", same), ("m/b", trace.format(1).encode() + same)]
    deliveries.append(("m/c", trace.format(2).encode() + same))
    for key, raw in deliveries:
        mail.put("bucket", key, raw)
        mail_ingress.receive("bucket", key, mail, lambda: routed, lambda: transcripts, lambda: POLICY, NOW)
    assert len(stored(routed)) == 1
    assert len(transcripts.transcripts.parts) == 1  # type: ignore[attr-defined]
    assert mail.versions == {}
