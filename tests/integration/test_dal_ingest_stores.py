"""The stores behind ingest against moto: contact end (P8), encrypted transcripts (P8), office
contacts kept apart (P11), and the registration buffer (fail open for people, closed for data)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from conftest import create_table_from_template

from helpline.dal.buffer import SqsRegistrationBuffer, registration_buffer, sqs_client
from helpline.dal.contacts import DynamoContactsRepository, contacts_repository
from helpline.dal.limits import DynamoLimitCounter, limit_counter, slot_expiry
from helpline.dal.office import DynamoOfficeContactStore, office_contact_store
from helpline.dal.transcripts import DynamoTranscriptStore, transcript_store
from helpline.logic.ports import (
    ContactStore,
    DependencyError,
    OfficeContactStore,
    RegistrationBuffer,
    TranscriptStore,
)
from helpline.models.buffer import BufferedEnd, BufferedRegistration
from helpline.models.contacts import ContactRecord
from helpline.models.office import OfficeContact
from helpline.settings import MissingSettingError, Settings

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def record() -> ContactRecord:
    return ContactRecord(
        channel="voice", line="hulplijn", started_at=NOW, region="Utrecht", limit_outcome="allowed"
    )


def item(table: str, **key: dict[str, str]) -> Mapping[str, object]:
    return boto3.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True).get("Item", {})


# ---------------------------------------------------------------- contacts


def test_mark_ended_sets_end_and_length(contacts_table: str) -> None:
    store: ContactStore = contacts_repository()
    stored = record()
    store.put_if_absent(stored)
    assert store.mark_ended(stored.id, NOW + timedelta(minutes=12, microseconds=5), 720) is True
    saved = item(contacts_table, id={"S": stored.id})
    assert saved["ended_at"] == {"S": "2026-11-29T10:12:00Z"}, "the format the model stores"
    assert saved["duration_s"] == {"N": "720"}
    assert saved["started_at"] == {"S": "2026-11-29T10:00:00Z"}


def test_mark_ended_without_a_length(contacts_table: str) -> None:
    store = DynamoContactsRepository(contacts_table)
    stored = record()
    store.put_if_absent(stored)
    assert store.mark_ended(stored.id, NOW + timedelta(minutes=1), None) is True
    assert "duration_s" not in item(contacts_table, id={"S": stored.id})


def test_mark_ended_never_creates_a_record(contacts_table: str) -> None:
    """The end may overtake the registration (it waits in the buffer): it must not make a stub."""
    store = DynamoContactsRepository(contacts_table)
    assert store.mark_ended("0" * 32, NOW, 30) is False
    assert item(contacts_table, id={"S": "0" * 32}) == {}


def test_contacts_failures_are_dependency_errors(aws: None) -> None:
    store = DynamoContactsRepository("no-such-table")
    with pytest.raises(DependencyError, match=r"^dynamodb: PutItem failed$"):
        store.put_if_absent(record())
    with pytest.raises(DependencyError, match=r"^dynamodb: UpdateItem failed$"):
        store.mark_ended("0" * 32, NOW, 1)


# ---------------------------------------------------------------- transcripts


@pytest.fixture
def transcripts_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_table_from_template("TranscriptsTable")
    monkeypatch.setenv("TRANSCRIPTS_TABLE", name)
    return name


EXPIRES_AT = int(datetime(2027, 5, 28, tzinfo=UTC).timestamp())
"""Midnight UTC of receipt day + TRANSCRIPT_RETENTION_DAYS, as the domain computes it (logic.retention)."""


def test_a_transcript_part_is_stored_once_with_the_expiry_it_is_given(transcripts_table: str) -> None:
    """P8: every row carries its TTL, counted from our receipt by the domain, never from `sent_at`."""
    store: TranscriptStore = transcript_store()
    contact_id = "c" * 32
    sent_long_ago = datetime(1970, 1, 1, tzinfo=UTC)
    assert store.append(contact_id, 0, "visitor", "Y2lwaGVy", sent_long_ago, EXPIRES_AT) is True
    assert store.append(contact_id, 0, "visitor", "b3RoZXI=", NOW, EXPIRES_AT) is False, "a redelivery"
    assert (
        store.append(contact_id, 1, "volunteer", "YW5zd2Vy", NOW + timedelta(seconds=5), EXPIRES_AT) is True
    )
    assert item(transcripts_table, contact_id={"S": contact_id}, seq={"N": "0"}) == {
        "contact_id": {"S": contact_id},
        "seq": {"N": "0"},
        "sender": {"S": "visitor"},
        "ciphertext": {"S": "Y2lwaGVy"},
        "sent_at": {"S": "1970-01-01T00:00:00Z"},
        "expires_at": {"N": str(EXPIRES_AT)},
    }


def test_transcript_failures_are_dependency_errors(aws: None) -> None:
    with pytest.raises(DependencyError, match=r"^dynamodb: PutItem failed$"):
        DynamoTranscriptStore("no-such-table").append("c" * 32, 0, "visitor", "eA==", NOW, EXPIRES_AT)


# ---------------------------------------------------------------- office (P11)


@pytest.fixture
def office_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_table_from_template("OfficeContactsTable")
    monkeypatch.setenv("OFFICE_CONTACTS_TABLE", name)
    return name


def test_an_office_contact_is_stored_with_its_caller(office_table: str) -> None:
    """P11: no encryption on office lines; the TTL deletes it when its purpose has passed."""
    store: OfficeContactStore = office_contact_store()
    contact = OfficeContact(
        channel="voice", line="kantoor", caller="+31201234567", started_at=NOW, expires_at=1_800_000_000
    )
    store.put(contact)
    store.put(contact)
    assert item(office_table, id={"S": contact.id}) == {
        "id": {"S": contact.id},
        "channel": {"S": "voice"},
        "line": {"S": "kantoor"},
        "caller": {"S": "+31201234567"},
        "purpose": {"S": "office contact"},
        "started_at": {"S": "2026-11-29T10:00:00Z"},
        "expires_at": {"N": "1800000000"},
    }


def test_office_failures_are_dependency_errors(aws: None) -> None:
    contact = OfficeContact(channel="email", line="kantoor", caller=None, started_at=NOW, expires_at=1)
    with pytest.raises(DependencyError, match=r"^dynamodb: PutItem failed$"):
        DynamoOfficeContactStore("no-such-table").put(contact)


# ---------------------------------------------------------------- registration buffer


@pytest.fixture
def queue_url(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    sqs_client.cache_clear()
    url = boto3.client("sqs").create_queue(QueueName="registration-buffer")["QueueUrl"]
    monkeypatch.setenv("REGISTRATION_BUFFER_QUEUE_URL", url)
    yield url
    sqs_client.cache_clear()


def test_deferred_work_is_queued_as_its_json(queue_url: str) -> None:
    buffer: RegistrationBuffer = registration_buffer()
    registration = BufferedRegistration(record=record())
    end = BufferedEnd(contact_id=registration.record.id, ended_at=NOW + timedelta(minutes=3), duration_s=180)
    buffer.defer(registration)
    buffer.defer(end)
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    bodies = sorted((json.loads(message["Body"]) for message in messages), key=lambda body: body["kind"])
    assert bodies == [json.loads(end.model_dump_json()), json.loads(registration.model_dump_json())]


def test_a_queue_failure_is_a_dependency_error(queue_url: str) -> None:
    missing = queue_url.rsplit("/", 1)[0] + "/no-such-queue"
    with pytest.raises(DependencyError, match=r"^sqs: SendMessage failed$"):
        SqsRegistrationBuffer(missing).defer(BufferedRegistration(record=record()))


def test_retention_settings_have_defaults_and_every_name_is_reported() -> None:
    defaults = Settings({})
    assert (defaults.identifier_retention_days, defaults.office_retention_days) == (365, 30)
    for variable, setting in [
        ("IDENTIFIER_KEY_ARN", "identifier_key_arn"),
        ("TRANSCRIPT_KEY_ARN", "transcript_key_arn"),
        ("PSEUDONYM_KEY_ID", "pseudonym_key_id"),
        ("REFERENCES_TABLE", "references_table"),
        ("TRANSCRIPTS_TABLE", "transcripts_table"),
        ("OFFICE_CONTACTS_TABLE", "office_contacts_table"),
        ("REGISTRATION_BUFFER_QUEUE_URL", "registration_buffer_queue_url"),
    ]:
        with pytest.raises(MissingSettingError, match=variable):
            getattr(defaults, setting)
        assert getattr(Settings({variable: "x"}), setting) == "x"


# ---------------------------------------------------------------- limit slots given back (P10)


@pytest.fixture
def limit_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_table_from_template("ContactLimitTable")
    monkeypatch.setenv("CONTACT_LIMIT_TABLE", name)
    return name


def test_a_released_slot_frees_the_place_of_a_contact_that_was_never_kept(limit_table: str) -> None:
    """P10: a contact whose record could be neither stored nor buffered gives its slot back, so it
    does not count against the person; the person's other slots stay."""
    counter = limit_counter()
    pseudonym = "p" * 64
    assert counter.admit(pseudonym, 2, NOW) == (True, 1)
    later = NOW + timedelta(hours=2)
    assert counter.admit(pseudonym, 2, later) == (True, 2)
    assert counter.admit(pseudonym, 2, later)[0] is False

    counter.release(pseudonym, later)

    slots = boto3.client("dynamodb").scan(TableName=limit_table)["Items"]
    assert [int(slot["expires_at"]["N"]) for slot in slots] == [slot_expiry(int(NOW.timestamp()))]
    assert counter.admit(pseudonym, 2, later) == (True, 2), "the place is free again"


def test_a_release_without_its_slot_changes_nothing(limit_table: str) -> None:
    """P10: only the slot taken at that moment, and only that person's, is given back."""
    counter = limit_counter()
    counter.admit("p" * 64, 3, NOW)
    counter.release("p" * 64, NOW + timedelta(hours=5))  # no slot of that hour
    counter.release("q" * 64, NOW)  # another person's
    assert len(boto3.client("dynamodb").scan(TableName=limit_table)["Items"]) == 1


def test_a_failing_release_is_a_dependency_error(aws: None) -> None:
    """P10: a failure names the operation, never the pseudonym."""
    with pytest.raises(DependencyError, match=r"^dynamodb: BatchGetItem failed$"):
        DynamoLimitCounter("no-such-table").release("p" * 64, NOW)
