"""Alarms that reach someone (issue 11): read from what CloudFormation would deploy.

Topics are encrypted under a key of the stack's own that CloudWatch may use (the AWS-managed SNS key
admits no service principal: an alarm would never be delivered); prod cannot be deployed without the
alarm and compliance addresses; every function's errors and throttles, the API's 5XX, the disclosure
workflow's failed and timed-out executions, the stream's lag and unchecked contacts are alarmed on, and
every alarm notifies the alarm topic.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_template_policies import ORG_ACCOUNT, ORG_STACK

from helpline import metrics
from local_stack.template import TEMPLATE_PATH, load_template


def _of_type(deployed: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in deployed["Resources"].items() if v["Type"] == resource_type}


def _metrics(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of a plain or metric-math alarm."""
    props = alarm["Properties"]
    if "MetricName" in props:
        dims = {d["Name"]: str(d["Value"]) for d in props.get("Dimensions", [])}
        return [(props["Namespace"], props["MetricName"], dims)]
    found = []
    for query in props.get("Metrics", []):
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            dims = {d["Name"]: str(d["Value"]) for d in metric.get("Dimensions", [])}
            found.append((metric["Namespace"], metric["MetricName"], dims))
    return found


def _all_metrics(deployed: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    return [m for alarm in _of_type(deployed, "AWS::CloudWatch::Alarm").values() for m in _metrics(alarm)]


@pytest.mark.parametrize("stack", ["org", "custodian"])
def test_topics_are_encrypted_under_an_own_key_cloudwatch_may_use(
    stack: str, request: pytest.FixtureRequest
) -> None:
    deployed = request.getfixturevalue(stack)
    topics = _of_type(deployed, "AWS::SNS::Topic")
    assert topics
    for topic_id, topic in topics.items():
        key_ref = str(topic["Properties"]["KmsMasterKeyId"])
        assert not key_ref.startswith("alias/aws/"), f"{topic_id} is under an AWS-managed key"
        key_id = key_ref.strip("<>")
        key = deployed["Resources"][key_id]
        assert key["Type"] == "AWS::KMS::Key"
        assert key.get("DeletionPolicy") == "Retain"
        statements = key["Properties"]["KeyPolicy"]["Statement"]
        cloudwatch = [
            s for s in statements if s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"
        ]
        assert cloudwatch, f"CloudWatch cannot publish to {topic_id}"
        assert any("kms:GenerateDataKey" in a for s in cloudwatch for a in s["Action"])
        assert all("kms:*" not in str(s["Action"]) for s in statements)


def test_the_compliance_topics_publisher_may_use_its_key(org: dict[str, Any]) -> None:
    key_id = str(org["Resources"]["ComplianceTopic"]["Properties"]["KmsMasterKeyId"]).strip("<>")
    statements = org["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    principals = {str(s["Principal"].get("AWS")) for s in statements}
    assert f"arn:aws:iam::{ORG_ACCOUNT}:role/{ORG_STACK}-disclosure-steps" in principals


def test_prod_needs_alarm_and_compliance_addresses_subscribed() -> None:
    template = load_template(TEMPLATE_PATH)
    for name in ("AlarmEmail", "ComplianceEmail"):
        assert name in template["Parameters"]
    assertions = str(template["Rules"])
    assert "prod" in assertions
    assert "AlarmEmail" in assertions
    assert "ComplianceEmail" in assertions
    resources = template["Resources"].values()
    subscriptions = {
        r["Properties"]["Endpoint"]["Ref"] for r in resources if r["Type"] == "AWS::SNS::Subscription"
    }
    assert subscriptions == {"AlarmEmail", "ComplianceEmail"}


def test_every_functions_errors_and_throttles_are_alarmed(org: dict[str, Any]) -> None:
    covered = {
        (metric, dims["FunctionName"])
        for namespace, metric, dims in _all_metrics(org)
        if namespace == "AWS/Lambda" and "FunctionName" in dims
    }
    for function_id in _of_type(org, "AWS::Lambda::Function"):
        for metric in ("Errors", "Throttles"):
            assert (metric, f"<{function_id}>") in covered, f"no alarm on {function_id} {metric}"


def test_api_workflow_stream_and_unchecked_contacts_are_alarmed(org: dict[str, Any]) -> None:
    metrics = {(namespace, metric) for namespace, metric, _ in _all_metrics(org)}
    assert ("AWS/ApiGateway", "5XXError") in metrics
    assert {("AWS/States", "ExecutionsFailed"), ("AWS/States", "ExecutionsTimedOut")} <= metrics
    assert ("AWS/Lambda", "IteratorAge") in metrics
    expressions = [
        str(query.get("Expression", ""))
        for alarm in _of_type(org, "AWS::CloudWatch::Alarm").values()
        for query in alarm["Properties"].get("Metrics", [])
    ]
    assert any("Helpline" in e and "unchecked" in e for e in expressions)
    api = org["Resources"]["HelplineApi"]["Properties"]["Name"]
    assert ("AWS/ApiGateway", "5XXError", {"ApiName": api, "Stage": "prod"}) in _all_metrics(org)


@pytest.mark.parametrize("stack", ["org", "custodian"])
def test_every_alarm_notifies_the_alarm_topic(stack: str, request: pytest.FixtureRequest) -> None:
    deployed = request.getfixturevalue(stack)
    for alarm_id, alarm in _of_type(deployed, "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == ["<AlarmTopic>"], alarm_id


def test_the_dashboard_shows_every_alarm(org: dict[str, Any]) -> None:
    (dashboard,) = _of_type(org, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    for alarm_id in _of_type(org, "AWS::CloudWatch::Alarm"):
        assert f"<{alarm_id}.Arn>" in body, f"{alarm_id} is not on the dashboard"


def test_the_dashboard_graphs_every_metric_the_code_emits(org: dict[str, Any]) -> None:
    """Each EMF metric of `helpline.metrics` is on the dashboard, grouped by the dimensions the code
    gives it (a SCHEMA that names other dimensions than the emitted ones shows nothing)."""
    (dashboard,) = _of_type(org, "AWS::CloudWatch::Dashboard").values()
    widgets = json.loads(dashboard["Properties"]["DashboardBody"])["widgets"]
    queries = [
        metric[0]["expression"]
        for widget in widgets
        for metric in widget["properties"].get("metrics", [])
        if isinstance(metric[0], dict)
    ]
    expected = {
        metrics.CONTACTS: "SCHEMA(Helpline, channel, outcome, service, stage)",
        metrics.BUFFERED_REGISTRATIONS: "SCHEMA(Helpline, channel, service, stage)",
        metrics.SCRUBBER_FAILURES: "SCHEMA(Helpline, service, stage)",
        metrics.DISCLOSURES: "SCHEMA(Helpline, service, stage, status)",
    }
    for name, schema in expected.items():
        assert any(f"SUM({name}) FROM {schema}" in query for query in queries), name
