"""RetentionSweeperFunction over moto: what is past its retention is physically removed (P7, P8).

The register keeps an anonymised record for RegisterRetentionDays (TTL), but its encrypted identifier
only for IdentifierRetentionDays: nothing but the sweep removes `identifier_ciphertext` from a record
(issue 8: "`identifier_retain_until` is written and never read"). It finds them through the sparse
`by-erase-month` index of template.yaml, so however long it did not run, one run erases all that is
due. Transcript rows have a TTL, which DynamoDB applies "within a few days"; the sweep deletes what it
has not yet. The statistics must not change when either happens.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext
from boto3.dynamodb.types import TypeSerializer
from conftest import create_table_from_template

from helpline import clock
from helpline.dal.dynamodb import to_item
from helpline.dal.retention import DynamoRetentionStore
from helpline.dal.transcripts import DynamoTranscriptStore
from helpline.logic import retention
from helpline.logic.retention import RetentionPolicy
from helpline.models.common import Channel
from helpline.models.contacts import ContactRecord

Handler = Callable[[dict[str, Any], Any], dict[str, int]]
CIPHERTEXT = "c2VjcmV0"


@pytest.fixture
def tables(contacts_table: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    transcripts = create_table_from_template("TranscriptsTable")
    monkeypatch.setenv("TRANSCRIPTS_TABLE", transcripts)
    monkeypatch.setenv("IDENTIFIER_RETENTION_DAYS", "365")
    monkeypatch.setenv("TRANSCRIPT_RETENTION_DAYS", "180")
    return {"contacts": contacts_table, "transcripts": transcripts}


@pytest.fixture
def sweeper(tables: dict[str, str], load_handler: Callable[[str], Handler]) -> Handler:
    return load_handler("functions/retention_sweeper/app.py")


def days_ago(days: int, at: timedelta = timedelta(hours=12)) -> datetime:
    """A receipt `days` UTC days before today, at `at` past midnight."""
    return retention.day_start(clock.now().date() - timedelta(days=days)) + at


def register(
    received: datetime,
    channel: Channel = "chat",
    started: datetime | None = None,
    parts: int = 0,
    identifier_days: int = 365,
) -> ContactRecord:
    """A contact as ingest stores it on receipt at `received`, with `parts` transcript rows; its
    identifier kept for `identifier_days` (what IdentifierRetentionDays was at its receipt)."""
    record = ContactRecord(
        channel=channel,
        line="web-chat",
        started_at=started or received,
        region="unknown",
        limit_outcome="allowed",
        identifier_ciphertext=CIPHERTEXT,
        identifier_retain_until=retention.retain_until(received, identifier_days),
        expires_at=retention.expiry_epoch(received, 730),
    )
    put_record(record)
    store = DynamoTranscriptStore(os.environ["TRANSCRIPTS_TABLE"])
    for seq in range(parts):
        store.append(record.id, seq, "contact", "Y2lwaGVy", received, retention.expiry_epoch(received, 180))
    return record


def put_record(record: ContactRecord) -> None:
    boto3.client("dynamodb").put_item(
        TableName=os.environ["CONTACTS_TABLE"],
        Item=to_item(record.model_dump(mode="json", exclude_none=True)),
    )


def item(record: ContactRecord) -> dict[str, Any]:
    return boto3.client("dynamodb").get_item(
        TableName=os.environ["CONTACTS_TABLE"], Key={"id": {"S": record.id}}, ConsistentRead=True
    )["Item"]


def parts_of(record: ContactRecord) -> int:
    return len(
        boto3.client("dynamodb").query(
            TableName=os.environ["TRANSCRIPTS_TABLE"],
            KeyConditionExpression="contact_id = :c",
            ExpressionAttributeValues={":c": {"S": record.id}},
        )["Items"]
    )


def test_the_sweep_removes_ciphertexts_past_retention_and_leaves_younger_ones(sweeper: Handler) -> None:
    """P7: receipt day + 365 before today: erased; receipt day + 365 = today: kept through today."""
    due_call = register(days_ago(366), channel="voice")
    due_mail = register(days_ago(366, timedelta(minutes=30)), channel="email", started=days_ago(373))
    last_day = register(days_ago(365, timedelta(0)), channel="voice")
    recent = register(days_ago(10))

    answer = sweeper({}, FakeLambdaContext())

    assert answer["identifiers_erased"] == 2
    for erased in (due_call, due_mail):
        stored = item(erased)
        assert "identifier_ciphertext" not in stored
        assert "erase_month" not in stored, "out of the sweep's index"
        assert stored["identifier_retain_until"] == {"S": erased.identifier_retain_until.isoformat()}  # type: ignore[union-attr]
        assert stored["expires_at"] == {"N": str(erased.expires_at)}, "the anonymised record stays (P8)"
    for kept in (last_day, recent):
        assert item(kept)["identifier_ciphertext"] == {"S": CIPHERTEXT}
        assert item(kept)["erase_month"] == {"S": kept.erase_month}


def test_erasing_an_identifier_also_deletes_transcript_rows_ttl_left_behind(sweeper: Handler) -> None:
    """Rows that expired half a year ago and are still there (TTL lagging far behind) go with the
    identifier of their contact."""
    lagging = register(days_ago(366), parts=2)
    answer = sweeper({}, FakeLambdaContext())
    assert (answer["identifiers_erased"], answer["transcript_parts_deleted"]) == (1, 2)
    assert parts_of(lagging) == 0


def test_the_sweep_deletes_expired_transcript_rows_that_ttl_has_not(sweeper: Handler) -> None:
    """P8: TTL deletes within days; from midnight of receipt day + 180 the rows must be gone."""
    expired = register(days_ago(180), parts=3)
    tomorrow = register(days_ago(179, timedelta(minutes=1)), parts=2)

    answer = sweeper({}, FakeLambdaContext())

    assert answer["transcript_parts_deleted"] == 3
    assert parts_of(expired) == 0
    assert parts_of(tomorrow) == 2
    assert item(expired)["identifier_ciphertext"] == {"S": CIPHERTEXT}, "its identifier has its own date"


def test_a_second_sweep_changes_nothing_and_answers_counts_only(sweeper: Handler) -> None:
    register(days_ago(366), parts=1)
    register(days_ago(181), parts=1)
    first = sweeper({}, FakeLambdaContext())
    assert (first["identifiers_erased"], first["transcript_parts_deleted"]) == (1, 2)
    again = sweeper({}, FakeLambdaContext())
    assert (again["identifiers_erased"], again["transcript_parts_deleted"]) == (0, 0)
    assert set(again) == {"identifiers_erased", "transcript_parts_deleted", "month_partitions_queried"}


def test_an_item_written_back_from_a_backup_is_erased_again(sweeper: Handler) -> None:
    """A restore brings the ciphertext back; the next sweep judges it again (its key, too, is gone by
    then: the key steward's part)."""
    record = register(days_ago(367))
    sweeper({}, FakeLambdaContext())
    assert "identifier_ciphertext" not in item(record)
    put_record(record)
    assert sweeper({}, FakeLambdaContext())["identifiers_erased"] == 1
    assert "identifier_ciphertext" not in item(record)


def test_a_sweep_missed_for_more_than_a_year_erases_what_fell_due_in_one_run(sweeper: Handler) -> None:
    """P7: an identifier due 400 days ago (the sweep failed all that time, or the local stack's clock
    moved on) goes in the next scheduled run, with no catch-up asked for; one not due yet stays. The
    record itself is still well within its 730 days (received 500 days ago, identifier kept 100)."""
    overlooked = register(days_ago(500), identifier_days=100)
    assert overlooked.identifier_retain_until == clock.now().date() - timedelta(days=400)
    not_due = register(days_ago(500), identifier_days=500)  # kept through today

    assert sweeper({}, FakeLambdaContext())["identifiers_erased"] == 1

    stored = item(overlooked)
    assert "identifier_ciphertext" not in stored
    assert "erase_month" not in stored
    assert "expires_at" in stored, "the anonymised record stays (P8)"
    kept = item(not_due)
    assert kept["identifier_ciphertext"] == {"S": CIPHERTEXT}
    assert kept["erase_month"] == {"S": clock.now().strftime("%Y-%m")}


def test_transcript_rows_ttl_left_for_longer_than_a_week_are_caught_up_with_a_longer_lookback(
    sweeper: Handler,
) -> None:
    """The transcript pass keeps its look-back (TTL is the rows' own deletion); `lookback_days` widens
    it once after a long gap."""
    overlooked = register(days_ago(180 + 40), parts=2)
    assert sweeper({}, FakeLambdaContext())["transcript_parts_deleted"] == 0
    assert sweeper({"lookback_days": 60}, FakeLambdaContext())["transcript_parts_deleted"] == 2
    assert parts_of(overlooked) == 0


@pytest.mark.parametrize("lookback", [0, -1, 36_501, "7", 7.5, True])
def test_a_bad_lookback_is_refused_naming_the_field(sweeper: Handler, lookback: object) -> None:
    with pytest.raises(ValueError, match=r"^lookback_days must be"):
        sweeper({"lookback_days": lookback}, FakeLambdaContext())


def test_every_page_of_the_index_is_followed(tables: dict[str, str]) -> None:
    """Seven records due among younger ones, read two index items a page."""
    due = [register(days_ago(366, timedelta(minutes=n))) for n in range(7)]
    young = [register(days_ago(364, timedelta(minutes=n))) for n in range(5)]
    store = DynamoRetentionStore(tables["contacts"], tables["transcripts"], page_size=2)

    counts = retention.sweep(store, RetentionPolicy(), clock.now())

    assert counts.identifiers_erased == 7
    assert all("identifier_ciphertext" not in item(record) for record in due)
    assert all("erase_month" not in item(record) for record in due)
    assert all("identifier_ciphertext" in item(record) for record in young)


# ---------------------------------------------------------------- the statistics do not move (P8)

_serializer = TypeSerializer()
STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Contacts/stream/2026-01-01T00:00:00.000"
TTL_DELETION = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
"""How a DynamoDB stream marks a REMOVE that TTL made (not an application's DeleteItem)."""


def stream_record(
    event_name: str, sequence: int, new: dict[str, Any] | None, old: dict[str, Any] | None = None
) -> dict[str, Any]:
    image = new or old or {}
    change: dict[str, Any] = {
        "Keys": {"id": _serializer.serialize(image["id"])},
        "SequenceNumber": f"{sequence:021d}",
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        change["NewImage"] = {key: _serializer.serialize(value) for key, value in new.items()}
    if old is not None:
        change["OldImage"] = {key: _serializer.serialize(value) for key, value in old.items()}
    record = {
        "eventID": str(sequence),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": change,
        "eventSourceARN": STREAM_ARN,
    }
    if event_name == "REMOVE":
        record["userIdentity"] = TTL_DELETION
    return record


def statistics() -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=os.environ["STATISTICS_TABLE"], ConsistentRead=True)[
        "Items"
    ]
    return sorted(items, key=lambda entry: (str(entry.get("pk")), str(entry.get("sk"))))


def test_ttl_removals_and_sweeps_never_change_the_statistics(
    aws: None, monkeypatch: pytest.MonkeyPatch, load_handler: Callable[[str], Handler]
) -> None:
    """A record that expires (TTL REMOVE, by the service) or loses its identifier (the sweep's MODIFY)
    stays counted as it was: retention erases data, not the history of the service (P8)."""
    monkeypatch.setenv("STATISTICS_TABLE", create_table_from_template("StatisticsTable"))
    aggregator = load_handler("functions/stats_aggregator/app.py")
    started = datetime(2026, 11, 29, 13, 20, tzinfo=UTC)
    contacts = []
    for n in range(6):
        registered = ContactRecord(
            id=f"{n:032x}",
            channel="chat",
            line="web-chat",
            started_at=started,
            region="Utrecht",
            limit_outcome="limited" if n == 0 else "allowed",
            identifier_ciphertext=CIPHERTEXT,
            identifier_retain_until=retention.retain_until(started, 365),
            expires_at=retention.expiry_epoch(started, 730),
        ).model_dump(mode="json", exclude_none=True)
        ended = {**registered, "ended_at": "2026-11-29T13:30:00Z", "duration_s": 600}
        contacts.append(ended)
        batch = [
            stream_record("INSERT", 2 * n, registered),
            stream_record("MODIFY", 2 * n + 1, ended, registered),
        ]
        assert aggregator({"Records": batch}, FakeLambdaContext()) == {"batchItemFailures": []}
    counted = statistics()
    assert counted, "the contacts were counted"

    swept = [
        stream_record(
            "MODIFY",
            100 + n,
            {k: v for k, v in image.items() if k not in {"identifier_ciphertext", "erase_month"}},
            image,
        )
        for n, image in enumerate(contacts)
    ]
    expired = [stream_record("REMOVE", 200 + n, None, image) for n, image in enumerate(contacts)]
    assert aggregator({"Records": swept + expired}, FakeLambdaContext()) == {"batchItemFailures": []}

    assert statistics() == counted
