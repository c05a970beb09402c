"""The leak test: after contacts through every provider, no identifier is anywhere (P2, P3).

Runs after the other e2e modules of the session (file order), over everything they fed in: every log
line of the stack, every response, every DynamoDB item outside its ciphertext attributes, every
message in every queue, every Step Functions execution history.
"""

from __future__ import annotations

import json

import pytest
from ingest_support import Ingest
from running_stack import RunningStack

CIPHERTEXT_ATTRIBUTES = {"identifier_ciphertext", "ciphertext"}
IN_CLEAR_BY_POLICY = {"OfficeContactsTable"}  # P11: an office contact's number may be visible


@pytest.fixture(scope="module")
def ingest(local_stack: RunningStack) -> Ingest:
    return Ingest(local_stack)


@pytest.fixture(scope="module")
def fed() -> set[str]:
    if len(Ingest.fed) < 10:
        pytest.fail("the ingestion tests did not run first: nothing to look for")
    return Ingest.fed


def leaks(text: str, fed: set[str]) -> list[str]:
    return sorted(value for value in fed if value in text)


def test_the_identifiers_fed_in_include_every_format(fed: set[str]) -> None:
    assert {"+31612345678", "0612345678", "06-12345678"} <= fed
    assert "203.0.113.77" in fed
    assert "iemand.anoniem@example.nl" in fed


def test_no_identifier_in_the_logs(local_stack: RunningStack, fed: set[str]) -> None:
    log = local_stack.log()
    assert "Contact registered" in log, "the handlers' log lines are in this log"
    assert leaks(log, fed) == []


def test_no_identifier_in_any_response(fed: set[str]) -> None:
    assert len(Ingest.responses) > 10
    assert leaks("\n".join(Ingest.responses), fed) == []


def test_no_identifier_in_any_table(ingest: Ingest, fed: set[str]) -> None:
    scanned = 0
    for logical_id in ingest.outputs["Resources"]:
        if not logical_id.endswith("Table") or logical_id in IN_CLEAR_BY_POLICY:
            continue
        for item in ingest.items(logical_id):
            visible = {k: v for k, v in item.items() if k not in CIPHERTEXT_ATTRIBUTES}
            assert leaks(json.dumps(visible), fed) == [], logical_id
            scanned += 1
    assert scanned > 10


def test_no_identifier_in_any_queue(ingest: Ingest, fed: set[str]) -> None:
    sqs = ingest.client("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        assert leaks(json.dumps(messages), fed) == [], url


def test_no_identifier_in_any_workflow_history(ingest: Ingest, fed: set[str]) -> None:
    sfn = ingest.client("stepfunctions")
    for machine in sfn.list_state_machines()["stateMachines"]:
        for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
            history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
            assert leaks(json.dumps(history, default=str), fed) == [], execution["executionArn"]
