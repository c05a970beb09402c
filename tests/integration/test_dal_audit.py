"""The audit chain on AuditTable over moto (P4, P9): hashes link, and concurrent appends keep seq unique."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import boto3
import pytest
from conftest import create_table_from_template

from helpline.dal.audit import DynamoAuditLog, audit_log
from helpline.logic.audit import GENESIS_HASH, AuditEvent, verify_chain

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def audit_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_table_from_template("AuditTable")
    monkeypatch.setenv("AUDIT_TABLE", name)
    return name


def event(actor: str) -> AuditEvent:
    return AuditEvent(
        at=NOW, actor=actor, action="transcript.read", subject="a" * 32, details={"purpose": "x"}
    )


def test_appends_link_each_entry_to_the_one_before(audit_table: str) -> None:
    log = audit_log()
    appended = [log.append(event(f"mentor-{n}")) for n in range(4)]
    stored = log.entries()
    assert stored == appended
    assert [e.seq for e in stored] == [1, 2, 3, 4]
    assert stored[0].prev_hash == GENESIS_HASH
    for previous, entry in pairwise(stored):
        assert entry.prev_hash == previous.hash
    assert verify_chain(stored).ok
    assert log.entries(after_seq=2) == stored[2:]


class RacingClient:
    """A DynamoDB client whose first PutItem is overtaken by another writer's whole append."""

    def __init__(self, rival: DynamoAuditLog) -> None:
        self._client = boto3.client("dynamodb")
        self._rival = rival
        self.puts = 0

    def put_item(self, **kwargs: Any) -> Any:
        self.puts += 1
        if self.puts == 1:
            self._rival.append(event("rival"))  # reads the same tail, takes the same seq first
        return self._client.put_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_concurrent_append_keeps_seq_unique_and_the_chain_linked(audit_table: str) -> None:
    rival = DynamoAuditLog(audit_table)
    rival.append(event("first"))
    racing = RacingClient(rival)
    mine = DynamoAuditLog(audit_table, client=racing)  # type: ignore[arg-type]

    entry = mine.append(event("me"))

    assert racing.puts == 2, "the first put lost the race and was retried on the new tail"
    stored = rival.entries()
    assert [(e.seq, e.actor) for e in stored] == [(1, "first"), (2, "rival"), (3, "me")]
    assert entry == stored[-1]
    assert verify_chain(stored).ok


def test_a_tampered_item_is_found_by_the_chain_check(audit_table: str) -> None:
    log = audit_log()
    for n in range(3):
        log.append(event(f"mentor-{n}"))
    boto3.client("dynamodb").update_item(
        TableName=audit_table,
        Key={"chain": {"S": "audit"}, "seq": {"N": "2"}},
        UpdateExpression="SET actor = :a",
        ExpressionAttributeValues={":a": {"S": "someone-else"}},
    )
    problem = verify_chain(log.entries()).first_problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (2, "changed")
