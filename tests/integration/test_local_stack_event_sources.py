"""The local stack delivers every non-HTTP event source to in-process handlers, as Lambda would.

Runs a small template (fixtures/machinery.yaml) whose functions record each event they receive.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import wait_until

from local_stack.stack import LocalStack, LocalStackConfig

FIXTURE = Path(__file__).parent / "fixtures" / "machinery.yaml"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    config = LocalStackConfig(
        api_port=0,
        template_path=FIXTURE,
        outputs_path=None,
        seed_path=None,
        stack_name="machinery",
    )
    with LocalStack(config) as running:
        yield running


def seen_by(stack: LocalStack, function_logical_id: str) -> list[dict[str, Any]]:
    items = stack.client("dynamodb").scan(TableName=stack.provisioned.physical["SeenTable"])["Items"]
    name = stack.provisioned.physical[function_logical_id]
    return [json.loads(item["event"]["S"]) for item in items if item["function"]["S"] == name]


def test_dynamodb_stream_record_reaches_its_function(stack: LocalStack) -> None:
    table = stack.provisioned.physical["WatchedTable"]
    stack.client("dynamodb").put_item(TableName=table, Item={"id": {"S": "stream-1"}})

    events = wait_until(lambda: seen_by(stack, "StreamFunction"))

    record = events[0]["Records"][0]
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"]["id"] == {"S": "stream-1"}
    assert record["eventSourceARN"].startswith("arn:aws:dynamodb:")


def test_s3_object_created_reaches_its_function(stack: LocalStack) -> None:
    bucket = stack.provisioned.physical["Inbox"]
    stack.client("s3").put_object(Bucket=bucket, Key="message-1", Body=b"MIME")

    events = wait_until(lambda: seen_by(stack, "MailFunction"))

    record = events[0]["Records"][0]
    assert record["eventName"].startswith("ObjectCreated")
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["key"] == "message-1"


def test_eventbridge_rule_delivers_matching_events_only(stack: LocalStack) -> None:
    def contact_event(kind: str) -> dict[str, str]:
        return {
            "Source": "aws.connect",
            "DetailType": "Amazon Connect Contact Event",
            "Detail": json.dumps({"eventType": kind}),
        }

    stack.client("events").put_events(Entries=[contact_event("CONNECTED"), contact_event("DISCONNECTED")])

    events = wait_until(lambda: seen_by(stack, "RuleFunction"))

    assert [e["detail"]["eventType"] for e in events] == ["DISCONNECTED"]
    assert events[0]["detail-type"] == "Amazon Connect Contact Event"


def test_sqs_failure_is_retried_then_dead_lettered(stack: LocalStack) -> None:
    sqs = stack.client("sqs")
    sqs.send_message(QueueUrl=stack.provisioned.physical["WorkQueue"], MessageBody="ok-message")
    # One batch at a time: without ReportBatchItemFailures a failing batch is retried whole, as on AWS.
    wait_until(
        lambda: any(r["body"] == "ok-message" for e in seen_by(stack, "QueueFunction") for r in e["Records"])
    )
    sqs.send_message(QueueUrl=stack.provisioned.physical["WorkQueue"], MessageBody="always-fail")
    dead_letters = stack.provisioned.physical["WorkDeadLetterQueue"]

    def dead_lettered() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=dead_letters, WaitTimeSeconds=1).get("Messages", [])

    moved = wait_until(dead_lettered, timeout_s=20)

    assert [m["Body"] for m in moved] == ["always-fail"]
    bodies = [r["body"] for e in seen_by(stack, "QueueFunction") for r in e["Records"]]
    assert bodies.count("ok-message") == 1, "a succeeded message is deleted, not redelivered"
    assert bodies.count("always-fail") == 2, "tried maxReceiveCount (2) times before the DLQ"


def test_a_stack_that_fails_to_start_leaves_the_process_as_it_was(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "Resources:\n  Mystery:\n    Type: AWS::Made::Up\n",
        encoding="utf-8",
    )
    from moto.core.config import default_user_config

    environ_before = dict(os.environ)
    config_before = dict(default_user_config.get("stepfunctions", {}))
    config = LocalStackConfig(api_port=0, template_path=broken, outputs_path=None, seed_path=None)

    with pytest.raises(NotImplementedError, match="AWS::Made::Up"):
        LocalStack(config).start()

    assert dict(os.environ) == environ_before
    assert default_user_config.get("stepfunctions", {}) == config_before
