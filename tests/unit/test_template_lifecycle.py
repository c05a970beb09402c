"""Safe to update and delete (issue 11): read from what CloudFormation would deploy for both stacks.

Every KMS key, user pool, secret and data table survives deleting the stack and a replacing update
(the data and the keys that open it are never lost by a template change); every table is also
deletion-protected; every name a resource is given explicitly carries the stack name, so a second stack
under another name deploys beside the first.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_template_policies import (  # the same transform and resolution, imported not restated
    CUSTODIAN_STACK,
    ORG_STACK,
)

KEPT = (
    "AWS::KMS::Key",
    "AWS::Cognito::UserPool",
    "AWS::SecretsManager::Secret",
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
)
# Properties that name a resource, by type; the rest (Description, MetricName...) name nothing global.
NAME_PROPERTIES = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Cognito::UserPool": "UserPoolName",
    "AWS::Cognito::UserPoolClient": "ClientName",
    "AWS::ApiGateway::RestApi": "Name",
    "AWS::WAFv2::WebACL": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::SES::ReceiptRuleSet": "RuleSetName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
}
STACKS = {"org": ORG_STACK, "custodian": CUSTODIAN_STACK}


def _kept(deployed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in deployed["Resources"].items() if v["Type"] in KEPT}


@pytest.mark.parametrize("stack", STACKS)
def test_there_is_something_to_keep(stacks: dict[str, Any], stack: str) -> None:
    types = {r["Type"] for r in _kept(stacks[stack]).values()}
    assert {"AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::Cognito::UserPool"} <= types


@pytest.mark.parametrize("stack", STACKS)
def test_keys_pools_secrets_tables_and_buckets_survive_delete_and_replace(
    stacks: dict[str, Any], stack: str
) -> None:
    lost = {
        logical_id: (r.get("DeletionPolicy"), r.get("UpdateReplacePolicy"))
        for logical_id, r in _kept(stacks[stack]).items()
        if r.get("DeletionPolicy") != "Retain" or r.get("UpdateReplacePolicy") != "Retain"
    }
    assert lost == {}


@pytest.mark.parametrize("stack", STACKS)
def test_tables_are_deletion_protected(stacks: dict[str, Any], stack: str) -> None:
    tables = {k: v for k, v in stacks[stack]["Resources"].items() if v["Type"] == "AWS::DynamoDB::Table"}
    assert tables
    unprotected = [
        k for k, v in tables.items() if v["Properties"].get("DeletionProtectionEnabled") is not True
    ]
    assert unprotected == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_explicit_name_carries_the_stack_name(stacks: dict[str, Any], stack: str) -> None:
    fixed = {}
    named = 0
    for logical_id, resource in stacks[stack]["Resources"].items():
        key = NAME_PROPERTIES.get(resource["Type"])
        name = resource.get("Properties", {}).get(key) if key else None
        if name is None:
            continue
        named += 1
        text = str(name)
        # a name made of another resource's name (`/aws/lambda/<Function>`) is as unique as that one
        if STACKS[stack] not in text and not ("<" in text and ">" in text):
            fixed[logical_id] = text
    assert named > 5  # the check reads the names at all
    assert fixed == {}
