"""Floods contained (issue 11): read from what CloudFormation would deploy for both stacks.

The API stage throttles the staff routes by default and each webhook path with its own, higher bucket;
a regional WAF web ACL on the stage limits each client IP, generously on the webhook paths (providers
send from few addresses) and apart from the staff API; the contact-path functions keep reserved
capacity; the custodian's decrypt function is capped small.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_template_policies import (  # the same transform and resolution, imported not restated
    CUSTODIAN_ACCOUNT,
    CUSTODIAN_STACK,
    ORG_ACCOUNT,
    ORG_STACK,
    _deploy,
)

from local_stack.provision import NOT_PROVISIONED
from local_stack.template import TEMPLATE_PATH

WEBHOOK_PATHS = {"/webhooks/twilio/voice", "/webhooks/twilio/status", "/webhooks/chat"}
CONTACT_PATH_FUNCTIONS = (
    "TwilioWebhookFunction",
    "ConnectContactFunction",
    "ChatWebhookFunction",
    "EmailIntakeFunction",
    "RegistrationBufferFunction",
)


def _of_type(deployed: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in deployed["Resources"].items() if v["Type"] == resource_type}


def _api_stage(org: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, v["Properties"])
        for k, v in _of_type(org, "AWS::ApiGateway::Stage").items()
        if v["Properties"]["RestApiId"] == "<HelplineApi>"
    ]
    return found


def _method_settings(org: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    _, stage = _api_stage(org)
    return {(s["ResourcePath"], s["HttpMethod"]): s for s in stage["MethodSettings"]}


def _path(resource_path: str) -> str:
    """`/~1webhooks~1chat` (a method setting's: `/`, then the path with `~1` for `/`) -> /webhooks/chat."""
    return resource_path[1:].replace("~1", "/")


def test_the_staff_routes_are_throttled_by_default(stacks: dict[str, Any]) -> None:
    default = _method_settings(stacks["org"])[("/*", "*")]
    assert int(default["ThrottlingRateLimit"]) > 0
    assert int(default["ThrottlingBurstLimit"]) >= int(default["ThrottlingRateLimit"])
    # still never logging bodies (P2, P3)
    assert default["DataTraceEnabled"] is False


def test_each_webhook_path_has_its_own_higher_bucket(stacks: dict[str, Any]) -> None:
    settings = _method_settings(stacks["org"])
    default = settings[("/*", "*")]
    webhooks = {_path(path): s for (path, _), s in settings.items() if path != "/*"}
    assert set(webhooks) == WEBHOOK_PATHS
    for path, setting in webhooks.items():
        assert setting["HttpMethod"] == "POST", path
        assert int(setting["ThrottlingRateLimit"]) > int(default["ThrottlingRateLimit"]), path
        assert int(setting["ThrottlingBurstLimit"]) > int(default["ThrottlingBurstLimit"]), path
        assert setting["DataTraceEnabled"] is False, path


def test_every_webhook_path_throttled_is_a_route_of_the_api(stacks: dict[str, Any]) -> None:
    routes = set()
    for permission in _of_type(stacks["org"], "AWS::Lambda::Permission").values():
        source = str(permission["Properties"].get("SourceArn", ""))
        if "/webhooks/" in source:
            routes.add("/" + source.split("/", 3)[3])
    assert routes == WEBHOOK_PATHS


def _rules(org: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (acl,) = _of_type(org, "AWS::WAFv2::WebACL").values()
    return {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}


def test_the_web_acl_is_regional_and_allows_by_default(stacks: dict[str, Any]) -> None:
    (acl,) = _of_type(stacks["org"], "AWS::WAFv2::WebACL").values()
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL"
    assert "Allow" in props["DefaultAction"]
    # no sampled requests: they would show callers' IP addresses (P2, P3)
    assert props["VisibilityConfig"]["SampledRequestsEnabled"] is False
    assert all(r["VisibilityConfig"]["SampledRequestsEnabled"] is False for r in props["Rules"])


def _scope(statement: dict[str, Any]) -> tuple[bool, str]:
    """(negated, search string) of a rate rule's scope-down on the URI path."""
    scope = statement["ScopeDownStatement"]
    negated = "NotStatement" in scope
    match = scope["NotStatement"]["Statement"] if negated else scope
    byte_match = match["ByteMatchStatement"]
    assert "UriPath" in byte_match["FieldToMatch"]
    return negated, byte_match["SearchString"]


def test_webhooks_and_staff_api_are_rate_limited_per_ip_apart(stacks: dict[str, Any]) -> None:
    rules = _rules(stacks["org"])
    assert set(rules) == {"webhooks-per-ip", "staff-api-per-ip"}
    limits = {}
    for name, rule in rules.items():
        assert "Block" in rule["Action"], name
        rate = rule["Statement"]["RateBasedStatement"]
        assert rate["AggregateKeyType"] == "IP", name
        limits[name] = int(rate["Limit"])
        negated, search = _scope(rate)
        assert search == "/webhooks/", name
        assert negated is (name == "staff-api-per-ip"), name
    # generous for the providers' few addresses: far above the staff limit
    assert limits["webhooks-per-ip"] >= 10 * limits["staff-api-per-ip"]
    assert limits["staff-api-per-ip"] >= 100


def test_the_web_acl_guards_the_api_stage(stacks: dict[str, Any]) -> None:
    org = stacks["org"]
    stage_id, stage = _api_stage(org)
    assert stage["StageName"] == "prod"
    (association,) = _of_type(org, "AWS::WAFv2::WebACLAssociation").values()
    (acl_id,) = _of_type(org, "AWS::WAFv2::WebACL")
    props = association["Properties"]
    assert props["WebACLArn"] == f"<{acl_id}.Arn>"
    # the stage's Ref is its name; referring to it makes the association wait for the stage
    stage_arn = f"arn:aws:apigateway:eu-west-1::/restapis/<HelplineApi>/stages/<{stage_id}>"
    assert props["ResourceArn"] == stage_arn


@pytest.mark.parametrize("function", CONTACT_PATH_FUNCTIONS)
def test_contact_paths_keep_reserved_capacity(stacks: dict[str, Any], function: str) -> None:
    props = stacks["org"]["Resources"][function]["Properties"]
    assert int(props["ReservedConcurrentExecutions"]) >= 1


def test_reservations_leave_the_account_its_unreserved_minimum() -> None:
    """At the defaults, a standard 1000-execution account keeps more than the 100 Lambda requires."""
    org = _deploy_defaults()
    reserved = sum(
        int(r["Properties"].get("ReservedConcurrentExecutions", 0))
        for r in _of_type(org, "AWS::Lambda::Function").values()
    )
    assert 0 < reserved <= 1000 - 100 - 200  # and room left for the staff and background functions


def _deploy_defaults() -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        return _deploy(
            TEMPLATE_PATH,
            ORG_ACCOUNT,
            ORG_STACK,
            {"Stage": "prod", "CustodianAccountId": CUSTODIAN_ACCOUNT, "CustodianStackName": CUSTODIAN_STACK},
        )


def test_the_custodians_decrypt_function_is_capped_small(stacks: dict[str, Any]) -> None:
    props = stacks["custodian"]["Resources"]["DisclosureDecryptFunction"]["Properties"]
    assert 1 <= int(props["ReservedConcurrentExecutions"]) <= 2


def test_the_local_stack_skips_waf_on_purpose() -> None:
    for resource_type in ("AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation"):
        assert NOT_PROVISIONED.get(resource_type), resource_type
