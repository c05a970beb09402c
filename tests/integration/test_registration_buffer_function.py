"""RegistrationBufferFunction's handler over moto: idempotent stores, failures per message."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext, sqs_event

from helpline import clock

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture
def handler(contacts_table: str, load_handler: Callable[[str], Handler]) -> Handler:
    return load_handler("functions/registration_buffer/app.py")


def registration(**overrides: Any) -> str:
    return json.dumps({"kind": "registration", "record": record(**overrides)})


def record(**overrides: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "channel": "voice",
        "line": "national-helpline",
        "started_at": "2026-11-29T10:00:00Z",
        "ended_at": "2026-11-29T10:12:00Z",
        "duration_s": 720,
        "region": "mobile",
        "limit_outcome": "allowed",
        **overrides,
    }


def items(table: str) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=table)["Items"]


def test_a_batch_with_a_duplicate_stores_one_item(handler: Handler, contacts_table: str) -> None:
    body = registration()
    response = handler(sqs_event(body, body), FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    stored = items(contacts_table)
    assert len(stored) == 1
    assert stored[0]["id"] == {"S": json.loads(body)["record"]["id"]}
    assert stored[0]["month"] == {"S": "2026-11"}
    assert stored[0]["duration_s"] == {"N": "720"}


def test_a_redelivery_in_a_later_batch_is_a_success(handler: Handler, contacts_table: str) -> None:
    body = registration()
    handler(sqs_event(body), FakeLambdaContext())
    assert handler(sqs_event(body), FakeLambdaContext()) == {"batchItemFailures": []}
    assert len(items(contacts_table)) == 1


def test_the_stored_item_can_be_found_by_month(handler: Handler, contacts_table: str) -> None:
    body = registration()
    handler(sqs_event(body), FakeLambdaContext())
    found = boto3.client("dynamodb").query(
        TableName=contacts_table,
        IndexName="by-month",
        KeyConditionExpression="#m = :m",
        ExpressionAttributeNames={"#m": "month"},
        ExpressionAttributeValues={":m": {"S": "2026-11"}},
    )["Items"]
    assert [item["id"]["S"] for item in found] == [json.loads(body)["record"]["id"]]


def test_a_malformed_record_is_reported_and_the_others_are_stored(
    handler: Handler, contacts_table: str, caplog: pytest.LogCaptureFixture
) -> None:
    malformed = registration(caller_number="+31612345678")  # P8: not part of a registration
    good = registration()
    response = handler(
        sqs_event(malformed, good, message_ids=["bad-message", "good-message"]), FakeLambdaContext()
    )
    assert response == {"batchItemFailures": [{"itemIdentifier": "bad-message"}]}
    assert [item["id"]["S"] for item in items(contacts_table)] == [json.loads(good)["record"]["id"]]
    failures = [record for record in caplog.records if record.levelname == "ERROR"]
    assert [getattr(record, "message_id", None) for record in failures] == ["bad-message"]
    assert [getattr(record, "fields", None) for record in failures] == [["registration.record.(other)"]]
    # Logged by message id and field name, never with the body (P2): not even in `extra`.
    assert "+31612345678" not in "".join(str(vars(record)) for record in caplog.records)


def test_a_batch_of_only_malformed_records_reports_them_instead_of_raising(
    handler: Handler, contacts_table: str
) -> None:
    response = handler(sqs_event("not json", message_ids=["m-1"]), FakeLambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert items(contacts_table) == []


def test_a_storage_failure_is_reported_for_retry(handler: Handler, monkeypatch: pytest.MonkeyPatch) -> None:
    from helpline.settings import get_settings

    monkeypatch.setenv("CONTACTS_TABLE", "no-such-table")
    get_settings.cache_clear()
    response = handler(sqs_event(registration(), message_ids=["m-1"]), FakeLambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_a_redelivery_never_overwrites_what_was_stored(handler: Handler, contacts_table: str) -> None:
    """The put is conditional: an unconditional put would replace the item with the later copy."""
    first = registration(region="Utrecht")
    later_record = {**json.loads(first)["record"], "region": "unknown"}
    later = json.dumps({"kind": "registration", "record": later_record})
    assert handler(sqs_event(first), FakeLambdaContext()) == {"batchItemFailures": []}
    assert handler(sqs_event(later), FakeLambdaContext()) == {"batchItemFailures": []}
    assert [item["region"]["S"] for item in items(contacts_table)] == ["Utrecht"]


def test_an_end_is_applied_to_its_stored_registration(handler: Handler, contacts_table: str) -> None:
    stored = record(ended_at=None, duration_s=None)
    handler(sqs_event(json.dumps({"kind": "registration", "record": stored})), FakeLambdaContext())
    end = {"kind": "ended", "contact_id": stored["id"], "ended_at": "2026-11-29T10:05:00Z", "duration_s": 300}

    assert handler(sqs_event(json.dumps(end)), FakeLambdaContext()) == {"batchItemFailures": []}

    [item] = items(contacts_table)
    assert item["duration_s"] == {"N": "300"}
    assert item["ended_at"] == {"S": "2026-11-29T10:05:00Z"}


def test_an_end_before_its_registration_is_retried(handler: Handler, contacts_table: str) -> None:
    end = {
        "kind": "ended",
        "contact_id": uuid.uuid4().hex,
        "ended_at": "2026-11-29T10:05:00Z",
        "duration_s": 3,
    }
    response = handler(sqs_event(json.dumps(end), message_ids=["early-end"]), FakeLambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "early-end"}]}
    assert items(contacts_table) == []


def test_a_registration_that_waited_past_its_identifier_retention_is_stored_without_it(
    handler: Handler, contacts_table: str
) -> None:
    """P7: past its date the identifier is gone at once, also when its registration was still in the
    queue; the anonymised record (P8) and its TTL stay."""
    today = clock.now().date()
    expired = record(
        identifier_ciphertext="c2VjcmV0",
        identifier_retain_until=(today - timedelta(days=1)).isoformat(),
        expires_at=86_400 * 30_000,
    )
    kept = record(identifier_ciphertext="c2VjcmV0", identifier_retain_until=today.isoformat())
    bodies = [json.dumps({"kind": "registration", "record": r}) for r in (expired, kept)]

    assert handler(sqs_event(*bodies), FakeLambdaContext()) == {"batchItemFailures": []}

    stored = {item["id"]["S"]: item for item in items(contacts_table)}
    assert "identifier_ciphertext" not in stored[expired["id"]]
    assert stored[expired["id"]]["identifier_retain_until"] == {"S": expired["identifier_retain_until"]}
    assert stored[expired["id"]]["expires_at"] == {"N": str(86_400 * 30_000)}
    assert stored[kept["id"]]["identifier_ciphertext"] == {"S": "c2VjcmV0"}
