"""Every function of both templates is a function of the stand-in, invocable with a real AWS client.

An Amazon Connect contact flow invokes its Lambda function directly, not through the API, so rehearsing
a flow against the local stack needs `aws lambda invoke` (and `list-functions`) to work there.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from running_stack import RunningStack

from local_stack.stack import CUSTODIAN_TEMPLATE_PATH
from local_stack.template import TEMPLATE_PATH, load_template, resources_of_type

pytestmark = pytest.mark.e2e


def _lambda(stack: RunningStack) -> Any:
    return boto3.client(
        "lambda",
        region_name=stack.outputs["Region"],
        endpoint_url=stack.outputs["AwsEndpoint"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def test_list_functions_names_every_function_of_both_templates(local_stack: RunningStack) -> None:
    listed = {
        function["FunctionName"]
        for page in _lambda(local_stack).get_paginator("list_functions").paginate()
        for function in page["Functions"]
    }
    expected = {
        local_stack.outputs[resources][logical_id]
        for resources, template in (
            ("Resources", TEMPLATE_PATH),
            ("CustodianResources", CUSTODIAN_TEMPLATE_PATH),
        )
        for logical_id in resources_of_type(load_template(template), "AWS::Serverless::Function")
    }
    assert len(expected) >= 20
    assert listed == expected


def test_invoke_runs_the_handler_in_process(local_stack: RunningStack) -> None:
    """A scheduled function answers through `lambda:Invoke` as on AWS (here: the audit checkpoint)."""
    client = _lambda(local_stack)
    name = local_stack.outputs["Resources"]["AuditCheckpointFunction"]
    answer = client.invoke(FunctionName=name, Payload=json.dumps({"source": "aws.events"}).encode())
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert isinstance(json.loads(answer["Payload"].read()), dict)


def test_invoking_a_function_that_does_not_exist_is_resource_not_found(local_stack: RunningStack) -> None:
    with pytest.raises(ClientError) as refused:
        _lambda(local_stack).invoke(FunctionName="no-such-function", Payload=b"{}")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
