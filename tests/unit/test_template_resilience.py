"""Nothing dropped silently (issue 11): read from what CloudFormation would deploy for both stacks.

Every asynchronous path (S3 notifications, EventBridge rules and schedules, DynamoDB streams) ends in a
dead-letter queue or an on-failure destination when its retries run out; every such queue has an alarm
on its depth that reaches the alarm topic; every queue a function consumes stays invisible at least six
times that function's timeout, so a slow batch is not handed out twice.
"""

from __future__ import annotations

from typing import Any

import pytest

ASYNC_SOURCES = ("s3.amazonaws.com", "events.amazonaws.com")


def _of_type(deployed: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in deployed["Resources"].items() if v["Type"] == resource_type}


def _function_id(reference: str) -> str:
    """`<FooFunction.Arn>` or `<FooFunction>` -> FooFunction."""
    return reference.strip("<>").split(".")[0]


def _queue_id(arn: str) -> str:
    return _function_id(arn)


def _async_functions(deployed: dict[str, Any]) -> set[str]:
    """Functions that S3 or EventBridge (rules and schedules) invoke asynchronously."""
    found = set()
    for permission in _of_type(deployed, "AWS::Lambda::Permission").values():
        props = permission["Properties"]
        if props.get("Principal") in ASYNC_SOURCES:
            found.add(_function_id(str(props["FunctionName"])))
    return found


def _on_failure(deployed: dict[str, Any], function: str) -> str | None:
    for config in _of_type(deployed, "AWS::Lambda::EventInvokeConfig").values():
        props = config["Properties"]
        if _function_id(str(props["FunctionName"])) == function:
            return props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    return None


def _dead_letter_queues(deployed: dict[str, Any]) -> set[str]:
    """Every queue that holds what failed: redrive targets, on-failure destinations, EventBridge DLQs."""
    queues = set()
    for queue in _of_type(deployed, "AWS::SQS::Queue").values():
        target = queue["Properties"].get("RedrivePolicy", {}).get("deadLetterTargetArn")
        if target:
            queues.add(_queue_id(target))
    for config in _of_type(deployed, "AWS::Lambda::EventInvokeConfig").values():
        destination = (
            config["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        )
        if destination:
            queues.add(_queue_id(destination))
    for mapping in _of_type(deployed, "AWS::Lambda::EventSourceMapping").values():
        destination = (
            mapping["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        )
        if destination:
            queues.add(_queue_id(destination))
    for rule in _of_type(deployed, "AWS::Events::Rule").values():
        for target in rule["Properties"].get("Targets", []):
            arn = target.get("DeadLetterConfig", {}).get("Arn")
            if arn:
                queues.add(_queue_id(arn))
    return queues


@pytest.mark.parametrize("stack", ["org", "custodian"])
def test_every_asynchronously_invoked_function_has_an_on_failure_destination(
    stacks: dict[str, dict[str, Any]], stack: str
) -> None:
    deployed = stacks[stack]
    functions = _async_functions(deployed)
    if stack == "org":
        assert {"EmailIntakeFunction", "ConnectEventsFunction", "RetentionSweeperFunction"} <= functions
    missing = {f for f in functions if not _on_failure(deployed, f)}
    assert not missing, f"asynchronous functions without an on-failure destination: {sorted(missing)}"


@pytest.mark.parametrize("stack", ["org", "custodian"])
def test_every_eventbridge_target_has_a_dead_letter_queue(
    stacks: dict[str, dict[str, Any]], stack: str
) -> None:
    for rule_id, rule in _of_type(stacks[stack], "AWS::Events::Rule").items():
        for target in rule["Properties"].get("Targets", []):
            assert target.get("DeadLetterConfig", {}).get("Arn"), (
                f"{rule_id} delivers without a dead-letter queue"
            )


def test_every_stream_consumer_retries_boundedly_and_keeps_what_fails(
    stacks: dict[str, dict[str, Any]],
) -> None:
    mappings = _of_type(stacks["org"], "AWS::Lambda::EventSourceMapping")
    streams = {
        k: v["Properties"]
        for k, v in mappings.items()
        if "StreamArn" in str(v["Properties"]["EventSourceArn"])
    }
    assert streams, "the statistics aggregator reads the contacts stream"
    for mapping_id, props in streams.items():
        assert props["DestinationConfig"]["OnFailure"]["Destination"], mapping_id
        assert 0 <= props["MaximumRetryAttempts"] <= 100, mapping_id
        assert props["BisectBatchOnFunctionError"] is True, mapping_id


@pytest.mark.parametrize("stack", ["org", "custodian"])
def test_every_dead_letter_queue_has_an_alarm_on_its_depth(
    stacks: dict[str, dict[str, Any]], stack: str
) -> None:
    deployed = stacks[stack]
    alarmed = {}
    for alarm in _of_type(deployed, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if (
            props.get("Namespace") != "AWS/SQS"
            or props.get("MetricName") != "ApproximateNumberOfMessagesVisible"
        ):
            continue
        for dimension in props.get("Dimensions", []):
            if dimension["Name"] == "QueueName":
                alarmed[_queue_id(str(dimension["Value"]))] = props
    queues = _dead_letter_queues(deployed)
    if stack == "org":
        assert len(queues) >= 5
    for queue in queues:
        assert queue in alarmed, f"{queue} has no alarm on its depth"
        props = alarmed[queue]
        assert props["Threshold"] == 0, queue
        assert props["ComparisonOperator"] == "GreaterThanThreshold", queue
        assert props["AlarmActions"], f"the alarm on {queue} reaches no one"


def test_every_consumed_queue_outlasts_six_function_timeouts(stacks: dict[str, dict[str, Any]]) -> None:
    deployed = stacks["org"]
    default_timeout = 3
    mappings = _of_type(deployed, "AWS::Lambda::EventSourceMapping").values()
    consumed = [m["Properties"] for m in mappings if ".Arn>" in str(m["Properties"]["EventSourceArn"])]
    assert consumed, "the registration buffer is consumed from SQS"
    for props in consumed:
        queue = _queue_id(str(props["EventSourceArn"]))
        function = _function_id(str(props["FunctionName"]))
        timeout = deployed["Resources"][function]["Properties"].get("Timeout", default_timeout)
        visibility = deployed["Resources"][queue]["Properties"].get("VisibilityTimeout", 30)
        assert visibility >= 6 * timeout, f"{queue}: {visibility} s visibility < 6 x {function}'s {timeout} s"
