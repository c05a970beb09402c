"""AuditFunction's handler over moto (P7): compliance lists the chain and has it verified."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext, response_json, rest_event
from conftest import create_table_from_template

from helpline.dal.audit import DynamoAuditLog
from helpline.logic.audit import AuditEvent

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def audit_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_table_from_template("AuditTable")
    monkeypatch.setenv("AUDIT_TABLE", name)
    return name


@pytest.fixture
def handler(audit_table: str, load_handler: Callable[[str], Handler]) -> Handler:
    return load_handler("functions/audit/app.py")


def append_events(table: str, count: int) -> None:
    log = DynamoAuditLog(table)
    for n in range(1, count + 1):
        log.append(
            AuditEvent(
                at=NOW,
                actor=f"mentor-{n}",
                action="transcript.read",
                subject="a" * 32,
                details={"purpose": "training"},
            )
        )


def get(
    handler: Handler, path: str, query: dict[str, str] | None = None, groups: Any = "[compliance]"
) -> Any:
    event = rest_event("GET", path, username="compliance-1", groups=groups)
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {key: [value] for key, value in (query or {}).items()} or None
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def test_compliance_lists_the_chain_oldest_first(handler: Handler, audit_table: str) -> None:
    append_events(audit_table, 4)
    status, body = get(handler, "/audit")
    assert status == 200
    assert body["next_token"] is None
    assert [(item["seq"], item["actor"]) for item in body["items"]] == [
        (1, "mentor-1"),
        (2, "mentor-2"),
        (3, "mentor-3"),
        (4, "mentor-4"),
    ]
    assert set(body["items"][0]) == {
        "seq",
        "at",
        "actor",
        "action",
        "subject",
        "details",
        "prev_hash",
        "hash",
    }


def test_pages_follow_next_token_until_none(handler: Handler, audit_table: str) -> None:
    append_events(audit_table, 5)
    seqs: list[int] = []
    query = {"limit": "2"}
    for _ in range(5):
        status, body = get(handler, "/audit", query)
        assert status == 200
        seqs.extend(item["seq"] for item in body["items"])
        if body["next_token"] is None:
            break
        query = {"limit": "2", "after": body["next_token"]}
    assert seqs == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "501"}, {"after": "-1"}, {"after": "x"}])
def test_a_bad_page_request_is_400(handler: Handler, query: dict[str, str]) -> None:
    assert get(handler, "/audit", query)[0] == 400


def test_an_intact_chain_verifies_clean(handler: Handler, audit_table: str) -> None:
    append_events(audit_table, 3)
    status, body = get(handler, "/audit/verify")
    assert status == 200
    assert body["ok"] is True
    assert body["entries"] == 3
    assert body["first_problem"] is None
    assert body["last_seq"] == 3


def test_an_empty_chain_verifies_clean(handler: Handler) -> None:
    status, body = get(handler, "/audit/verify")
    assert (status, body["ok"], body["entries"]) == (200, True, 0)


def test_an_item_changed_in_dynamodb_is_named(handler: Handler, audit_table: str) -> None:
    append_events(audit_table, 4)
    boto3.client("dynamodb").update_item(
        TableName=audit_table,
        Key={"chain": {"S": "audit"}, "seq": {"N": "3"}},
        UpdateExpression="SET details.purpose = :p",
        ExpressionAttributeValues={":p": {"S": "nothing to see"}},
    )
    status, body = get(handler, "/audit/verify")
    assert status == 200
    assert body["ok"] is False
    assert body["entries"] == 4
    assert body["first_problem"] == {
        "seq": 3,
        "position": 3,
        "kind": "changed",
        "detail": "its hash does not match its content",
    }


def test_an_item_deleted_in_dynamodb_is_named(handler: Handler, audit_table: str) -> None:
    append_events(audit_table, 4)
    boto3.client("dynamodb").delete_item(
        TableName=audit_table, Key={"chain": {"S": "audit"}, "seq": {"N": "2"}}
    )
    status, body = get(handler, "/audit/verify")
    assert status == 200
    assert (body["ok"], body["first_problem"]["seq"], body["first_problem"]["kind"]) == (False, 2, "removed")


@pytest.mark.parametrize("groups", ["[staff]", "[mentor]", "[admin]", "[volunteer]"])
def test_other_groups_are_403_on_both_routes(handler: Handler, audit_table: str, groups: str) -> None:
    append_events(audit_table, 1)
    for path in ("/audit", "/audit/verify"):
        status, body = get(handler, path, groups=groups)
        assert status == 403
        assert "items" not in body


def test_no_claims_is_401(handler: Handler) -> None:
    response = handler(rest_event("GET", "/audit", username=None), FakeLambdaContext())
    assert response["statusCode"] == 401
