"""The local stack runs the real template.yaml: everything it declares exists locally, as declared.

One stack for the module (moto's state is process-wide, so stacks in one process take turns).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from support import wait_until

from helpline import clock
from helpline.periods import next_period, period_of
from local_stack.stack import LocalStack, LocalStackConfig
from local_stack.template import REPO_ROOT, load_template, resources_of_type

TEMPLATE = load_template()


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    config = LocalStackConfig(api_port=0, outputs_path=None, stack_name="conformance")
    with LocalStack(config) as running:
        yield running


def _sorted(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: item[key])


@pytest.mark.parametrize("logical_id", list(resources_of_type(TEMPLATE, "AWS::DynamoDB::Table")))
def test_every_table_exists_with_the_template_keys(stack: LocalStack, logical_id: str) -> None:
    declared = TEMPLATE["Resources"][logical_id]["Properties"]
    dynamodb = stack.client("dynamodb")
    name = stack.provisioned.physical[logical_id]

    table = dynamodb.describe_table(TableName=name)["Table"]

    assert table["KeySchema"] == declared["KeySchema"]
    assert _sorted(table["AttributeDefinitions"], "AttributeName") == _sorted(
        declared["AttributeDefinitions"], "AttributeName"
    )
    local_indexes = {
        index["IndexName"]: index["KeySchema"] for index in table.get("GlobalSecondaryIndexes", [])
    }
    declared_indexes = {
        index["IndexName"]: index["KeySchema"] for index in declared.get("GlobalSecondaryIndexes", [])
    }
    assert local_indexes == declared_indexes
    if "StreamSpecification" in declared:
        assert (
            table["StreamSpecification"]["StreamViewType"]
            == declared["StreamSpecification"]["StreamViewType"]
        )
    else:
        assert not table.get("StreamSpecification", {}).get("StreamEnabled")
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if "TimeToLiveSpecification" in declared:
        assert ttl["TimeToLiveStatus"] == "ENABLED"
        assert ttl["AttributeName"] == declared["TimeToLiveSpecification"]["AttributeName"]
    else:
        assert ttl["TimeToLiveStatus"] == "DISABLED"


@pytest.mark.parametrize("logical_id", list(resources_of_type(TEMPLATE, "AWS::KMS::Key")))
def test_every_key_exists_with_its_spec_and_alias(stack: LocalStack, logical_id: str) -> None:
    declared = TEMPLATE["Resources"][logical_id]["Properties"]
    kms = stack.client("kms")
    key_id = stack.provisioned.physical[logical_id]

    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]

    assert metadata["KeySpec"] == declared["KeySpec"]
    assert metadata["KeyUsage"] == declared["KeyUsage"]
    aliases = [a["AliasName"] for a in kms.list_aliases(KeyId=key_id)["Aliases"]]
    assert len(aliases) == 1
    assert aliases[0].startswith("alias/conformance/")


def test_the_pseudonym_key_computes_macs(stack: LocalStack) -> None:
    kms = stack.client("kms")
    key_id = stack.provisioned.physical["PseudonymKey"]
    mac = kms.generate_mac(KeyId=key_id, MacAlgorithm="HMAC_SHA_256", Message=b"+31612345678")["Mac"]
    assert kms.verify_mac(KeyId=key_id, MacAlgorithm="HMAC_SHA_256", Message=b"+31612345678", Mac=mac)[
        "MacValid"
    ]


def test_queues_have_their_dead_letter_queues(stack: LocalStack) -> None:
    sqs = stack.client("sqs")
    for logical_id, resource in resources_of_type(TEMPLATE, "AWS::SQS::Queue").items():
        declared = resource["Properties"].get("RedrivePolicy")
        attributes = sqs.get_queue_attributes(
            QueueUrl=stack.provisioned.physical[logical_id], AttributeNames=["All"]
        )["Attributes"]
        if declared is None:
            assert "RedrivePolicy" not in attributes
            continue
        redrive = json.loads(attributes["RedrivePolicy"])
        dead_letter_id = declared["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert redrive["deadLetterTargetArn"].endswith(":conformance-" + dead_letter_id)
        assert int(redrive["maxReceiveCount"]) == declared["maxReceiveCount"]


def test_user_pool_has_every_group_and_a_demo_user_each(stack: LocalStack) -> None:
    declared = {
        r["Properties"]["GroupName"]
        for r in resources_of_type(TEMPLATE, "AWS::Cognito::UserPoolGroup").values()
    }
    groups = stack.client("cognito-idp").list_groups(UserPoolId=stack.provisioned.user_pool_id)["Groups"]
    assert {g["GroupName"] for g in groups} == declared
    assert declared == {"volunteer", "mentor", "staff", "professional", "compliance", "admin"}
    assert set(stack.outputs["DemoUsers"]) == declared | {"custodian"}, "and the custodian's own demo user"


def test_secrets_are_configured_and_reported(stack: LocalStack) -> None:
    secrets = stack.client("secretsmanager")
    for logical_id, resource in resources_of_type(TEMPLATE, "AWS::SecretsManager::Secret").items():
        output = resource["Metadata"]["LocalStack"]["Output"]
        value = secrets.get_secret_value(SecretId=stack.provisioned.physical[logical_id])["SecretString"]
        assert value
        assert stack.outputs[output] == value


def test_state_machine_is_the_definition_file_with_its_substitutions(stack: LocalStack) -> None:
    declared = TEMPLATE["Resources"]["DisclosureStateMachine"]["Properties"]
    arn = stack.provisioned.physical["DisclosureStateMachine"]

    machine = stack.client("stepfunctions").describe_state_machine(stateMachineArn=arn)

    file_definition = json.loads((REPO_ROOT / declared["DefinitionUri"]).read_text())
    local_definition = json.loads(machine["definition"])
    assert local_definition["States"].keys() == file_definition["States"].keys()
    assert machine["type"] == declared["Type"]
    assert "${" not in machine["definition"], "every substitution is applied"
    custodian = stack.config.custodian_stack_name
    assert local_definition["States"]["AskCustodian"]["Resource"].endswith(
        f":function:{custodian}-disclosure-decrypt"
    ), "the workflow asks the custodian's decrypt function, never one of its own"
    assert local_definition["States"]["RequestCustodianRelease"]["Resource"].endswith(
        f":function:{custodian}-release-intake"
    )


def _template_routes() -> set[tuple[str, str, bool]]:
    routes = set()
    default = TEMPLATE["Resources"]["HelplineApi"]["Properties"]["Auth"]["DefaultAuthorizer"]
    for resource in resources_of_type(TEMPLATE, "AWS::Serverless::Function").values():
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "Api":
                props = event["Properties"]
                authorizer = props.get("Auth", {}).get("Authorizer", default)
                routes.add((props["Method"].upper(), props["Path"], authorizer != "NONE"))
    return routes


def test_every_template_route_is_served_and_no_other(stack: LocalStack) -> None:
    served = {(route.method, route.path, route.authorized) for route in stack.routes}
    assert served == _template_routes()
    for method, path, authorized in served:
        concrete = path.replace("{line_id}", "some-line").replace("{id}", uuid.uuid4().hex)
        response = requests.request(method, stack.api_url + concrete, timeout=10)
        if authorized:
            assert response.status_code == 401, f"{method} {path} without a token"


def test_an_unknown_route_is_refused_like_api_gateway_does(stack: LocalStack) -> None:
    response = requests.get(stack.api_url + "/no-such-route", timeout=10)
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}


def test_a_tiny_state_machine_runs_a_lambda_task_in_process(stack: LocalStack) -> None:
    received: list[dict[str, Any]] = []

    def double(event: dict[str, Any], _context: object) -> dict[str, int]:
        received.append(event)
        return {"doubled": event["value"] * 2}

    stack.runtime.register_handler("tiny-double", double)
    definition = {
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:tiny-double",
                "End": True,
            }
        },
    }
    sfn = stack.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"tiny-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/tiny",
    )["stateMachineArn"]

    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"value": 21}))["executionArn"]

    def finished() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution)
        return described if described["status"] != "RUNNING" else None

    result = wait_until(finished)
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"doubled": 42}
    assert received == [{"value": 21}]


def test_a_message_on_the_registration_buffer_queue_reaches_its_handler(stack: LocalStack) -> None:
    contact_id = uuid.uuid4().hex
    record = {
        "id": contact_id,
        "channel": "voice",
        "line": "national-helpline",
        "started_at": "2026-11-29T10:00:00Z",
        "region": "mobile",
        "limit_outcome": "allowed",
    }
    stack.client("sqs").send_message(
        QueueUrl=stack.provisioned.physical["RegistrationBufferQueue"],
        MessageBody=json.dumps({"kind": "registration", "record": record}),
    )
    dynamodb = stack.client("dynamodb")
    table = stack.provisioned.physical["ContactsTable"]

    item = wait_until(lambda: dynamodb.get_item(TableName=table, Key={"id": {"S": contact_id}}).get("Item"))

    assert item["line"] == {"S": "national-helpline"}
    assert item["limit_outcome"] == {"S": "allowed"}
    assert item["month"] == {"S": "2026-11"}


def test_the_seeded_line_registry_is_listed(stack: LocalStack) -> None:
    staff = stack.outputs["DemoUsers"]["staff"]
    token = stack.id_token(staff["username"], staff["password"])
    started = time.monotonic()
    response = requests.get(stack.api_url + "/lines", headers={"Authorization": token}, timeout=10)
    assert response.status_code == 200, time.monotonic() - started
    kinds = {item["line_id"]: item["kind"] for item in response.json()["items"]}
    assert kinds == {
        "national-helpline": "helpline",
        "web-chat": "helpline",
        "email": "helpline",
        "office": "office",
    }


def test_concurrent_requests_never_see_each_others_caller(stack: LocalStack) -> None:
    """Handlers share one process locally; each request must still get its own event (its own groups)."""
    users = stack.outputs["DemoUsers"]
    tokens = {
        group: stack.id_token(users[group]["username"], users[group]["password"])
        for group in ("staff", "volunteer")
    }
    expected = {"staff": 200, "volunteer": 403}
    groups = ["staff", "volunteer"] * 15

    def call(group: str) -> tuple[str, int]:
        response = requests.get(
            stack.api_url + "/lines", headers={"Authorization": tokens[group]}, timeout=30
        )
        return group, response.status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(call, groups))

    assert [status for _, status in results] == [expected[group] for group, _ in results]


def test_the_api_is_browsable_at_swagger(stack: LocalStack) -> None:
    page = requests.get(stack.api_url + "/swagger/", timeout=10)
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    initializer = requests.get(stack.api_url + "/swagger/swagger-initializer.js", timeout=10).text
    assert '"/openapi.json"' in initializer
    assert requests.get(stack.api_url + "/swagger/swagger-ui-bundle.js", timeout=10).status_code == 200
    document = requests.get(stack.api_url + "/openapi.json", timeout=10)
    assert document.json() == json.loads((REPO_ROOT / "openapi.json").read_text())
    assert requests.get(stack.api_url + "/swagger/no-such-asset.js", timeout=10).status_code == 404
    escape = requests.get(stack.api_url + "/swagger/%2e%2e/%2e%2e/%2e%2e/pyproject.toml", timeout=10)
    assert escape.status_code == 404, "nothing outside the Swagger UI assets is served"


def test_the_custodians_stack_runs_beside_the_organisations(stack: LocalStack) -> None:
    """Issue 8: both templates are provisioned; the custodian has its own pool, group, user and API."""
    pool = stack.custodian.provisioned.user_pool_id
    assert pool
    assert pool != stack.provisioned.user_pool_id
    groups = stack.client("cognito-idp").list_groups(UserPoolId=pool)["Groups"]
    assert [g["GroupName"] for g in groups] == ["custodian"]
    assert stack.outputs["DemoUsers"]["custodian"]["username"] == "demo-custodian"
    assert stack.outputs["CustodianApiUrl"] == stack.custodian_api_url
    for path in ("/releases", f"/releases/{uuid.uuid4().hex}"):
        assert requests.get(stack.custodian_api_url + path, timeout=10).status_code == 401
    custodian = stack.outputs["DemoUsers"]["custodian"]
    token = stack.id_token(custodian["username"], custodian["password"], custodian=True)
    listed = requests.get(stack.custodian_api_url + "/releases", headers={"Authorization": token}, timeout=10)
    assert listed.status_code == 200
    assert (
        requests.get(stack.api_url + "/lines", headers={"Authorization": token}, timeout=10).status_code
        == 401
    )


def test_this_and_next_months_keys_exist_for_identifiers_and_transcripts(stack: LocalStack) -> None:
    """P7: the key stewards ran at start, so nothing waits for a key at the turn of a month."""
    this_month = period_of(clock.now())
    aliases = {a["AliasName"] for a in stack.client("kms").list_aliases()["Aliases"]}
    for prefix in (
        f"alias/{stack.config.custodian_stack_name}/identifiers",
        f"alias/{stack.config.stack_name}/transcripts",
    ):
        assert {f"{prefix}/{this_month}", f"{prefix}/{next_period(this_month)}"} <= aliases


def test_buckets_are_versioned_as_declared(stack: LocalStack) -> None:
    s3 = stack.client("s3")
    for logical_id, resource in resources_of_type(TEMPLATE, "AWS::S3::Bucket").items():
        declared = resource["Properties"].get("VersioningConfiguration", {}).get("Status")
        found = s3.get_bucket_versioning(Bucket=stack.provisioned.physical[logical_id]).get("Status")
        assert found == declared, logical_id


def test_the_console_signs_in_through_its_own_api(stack: LocalStack) -> None:
    """Issue 12: each API's console config names that API and its pool; a demo user signs in through
    the API's own `/console/cognito/` (the browser never talks to the stand-in) and the ID token it gets
    is the one that API's authorizer takes."""
    for api, group, path in (
        (stack.api_url, "staff", "/lines"),
        (stack.custodian_api_url, "custodian", "/releases"),
    ):
        config = requests.get(api + "/console/config.json", timeout=10).json()
        custodian = group == "custodian"
        assert config["apiUrl"] == api
        assert config["cognitoEndpoint"] == f"{api}/console/cognito/"
        assert config["audience"] == ("custodian" if custodian else "organisation")
        assert config["userPoolId"] == stack.outputs["CustodianUserPoolId" if custodian else "UserPoolId"]
        assert (
            config["userPoolClientId"]
            == stack.outputs["CustodianUserPoolClientId" if custodian else "UserPoolClientId"]
        )
        user = stack.outputs["DemoUsers"][group]
        body = {
            "AuthFlow": config["authFlow"],
            "ClientId": config["userPoolClientId"],
            "AuthParameters": {"USERNAME": user["username"], "PASSWORD": user["password"]},
        }
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        target = "AWSCognitoIdentityProviderService.InitiateAuth"
        answer = requests.post(
            config["cognitoEndpoint"], json=body, headers={**headers, "X-Amz-Target": target}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["Cache-Control"] == "no-store"
        token = answer.json()["AuthenticationResult"]["IdToken"]
        listed = requests.get(api + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert listed.status_code == 200
        wrong = {**body, "AuthParameters": {"USERNAME": user["username"], "PASSWORD": "not-the-password-1A"}}
        refused = requests.post(
            config["cognitoEndpoint"], json=wrong, headers={**headers, "X-Amz-Target": target}, timeout=10
        )
        assert refused.status_code == 400
        assert "NotAuthorized" in refused.text
        admin = requests.post(
            config["cognitoEndpoint"],
            json={"UserPoolId": config["userPoolId"]},
            headers={**headers, "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUsers"},
            timeout=10,
        )
        assert admin.status_code == 400
        assert "Users" not in admin.text
