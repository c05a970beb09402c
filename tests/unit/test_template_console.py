"""The console's hosting (issue 12), read from what CloudFormation would deploy for the organisation:
a private bucket that only the console's CloudFront distribution reads (origin access control), HTTPS
only, and strict security headers: a Content-Security-Policy without 'unsafe-inline', HSTS,
frame-ancestors 'none', no referrer. The API accepts the console's origin, and only that one.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from local_stack.console import CONTENT_SECURITY_POLICY as LOCAL_CSP
from local_stack.console import SECURITY_HEADERS as LOCAL_HEADERS
from local_stack.provision import NOT_PROVISIONED

DISTRIBUTION_ARN = "arn:aws:cloudfront::444455556666:distribution/<ConsoleDistribution>"
API_ORIGIN = "https://<HelplineApi>.execute-api.eu-west-1.amazonaws.com"
COGNITO_ORIGIN = "https://cognito-idp.eu-west-1.amazonaws.com"
CONSOLE_ORIGIN = "https://<ConsoleDistribution.DomainName>"


def _resource(org: dict[str, Any], logical_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = org["Resources"][logical_id]
    return resource


def _props(org: dict[str, Any], logical_id: str) -> dict[str, Any]:
    props: dict[str, Any] = _resource(org, logical_id)["Properties"]
    return props


def _headers_policy(org: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = _props(org, "ConsoleSecurityHeaders")["ResponseHeadersPolicyConfig"]
    return config


def _directives(policy: str) -> dict[str, list[str]]:
    directives = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        directives[name] = sources
    return directives


def _deployed_csp(org: dict[str, Any]) -> str:
    csp: str = _headers_policy(org)["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    return csp


# ---------------------------------------------------------------- bucket
def test_the_bucket_is_private_encrypted_versioned_and_retained(org: dict[str, Any]) -> None:
    bucket = _resource(org, "ConsoleBucket")
    assert bucket["Type"] == "AWS::S3::Bucket"
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"
    props = bucket["Properties"]
    assert "BucketName" not in props  # CloudFormation names it: two stacks in one account never collide
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}


def test_only_the_console_distribution_reads_the_bucket(org: dict[str, Any]) -> None:
    policy = _props(org, "ConsoleBucketPolicy")
    assert policy["Bucket"] == "<ConsoleBucket>"
    statements = policy["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Sid": "OnlyTheConsoleDistributionReads",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": "<ConsoleBucket.Arn>/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": DISTRIBUTION_ARN}},
        }
    ]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# ---------------------------------------------------------------- CloudFront
def test_cloudfront_signs_every_request_to_the_bucket(org: dict[str, Any]) -> None:
    config = _props(org, "ConsoleOriginAccessControl")["OriginAccessControlConfig"]
    assert config["OriginAccessControlOriginType"] == "s3"
    assert config["SigningBehavior"] == "always"
    assert config["SigningProtocol"] == "sigv4"
    distribution = _props(org, "ConsoleDistribution")["DistributionConfig"]
    (origin,) = distribution["Origins"]
    assert origin["DomainName"] == "<ConsoleBucket.RegionalDomainName>"
    assert origin["OriginAccessControlId"] == "<ConsoleOriginAccessControl.Id>"
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy identity besides OAC


def test_the_distribution_serves_the_console_over_https_only(org: dict[str, Any]) -> None:
    distribution = _props(org, "ConsoleDistribution")["DistributionConfig"]
    assert distribution["Enabled"] is True
    assert distribution["DefaultRootObject"] == "index.html"
    assert distribution["HttpVersion"] in ("http2", "http2and3")
    behaviour = distribution["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["ResponseHeadersPolicyId"] == "<ConsoleSecurityHeaders>"
    assert "CacheBehaviors" not in distribution  # one behaviour: every file gets the headers


# ---------------------------------------------------------------- security headers
def test_the_csp_allows_nothing_inline_and_no_one_to_frame_the_console(org: dict[str, Any]) -> None:
    csp = _deployed_csp(org)
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "*" not in csp
    directives = _directives(csp)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["font-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert _headers_policy(org)["SecurityHeadersConfig"]["ContentSecurityPolicy"]["Override"] is True


def test_the_console_connects_only_to_itself_the_api_and_cognito(org: dict[str, Any]) -> None:
    assert _directives(_deployed_csp(org))["connect-src"] == ["'self'", API_ORIGIN, COGNITO_ORIGIN]


def test_hsts_no_referrer_nosniff_deny_and_the_rest(org: dict[str, Any]) -> None:
    security = _headers_policy(org)["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": 63072000,
        "IncludeSubdomains": True,
        "Override": True,
    }
    assert security["ReferrerPolicy"] == {"ReferrerPolicy": "no-referrer", "Override": True}
    assert security["ContentTypeOptions"] == {"Override": True}
    assert security["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    custom = {item["Header"]: item for item in _headers_policy(org)["CustomHeadersConfig"]["Items"]}
    assert custom["Permissions-Policy"]["Value"] == "camera=(), microphone=(), geolocation=()"
    assert custom["Cross-Origin-Opener-Policy"]["Value"] == "same-origin"
    assert all(item["Override"] for item in custom.values())


def test_the_local_console_gets_the_same_headers_as_the_deployed_one(org: dict[str, Any]) -> None:
    """`make run` shows what a deployment does: only connect-src differs (Cognito through the API)."""
    deployed, local = _directives(_deployed_csp(org)), _directives(LOCAL_CSP)
    assert deployed.pop("connect-src")[0] == local.pop("connect-src")[0] == "'self'"
    assert deployed == local
    security = _headers_policy(org)["SecurityHeadersConfig"]
    hsts = security["StrictTransportSecurity"]
    assert LOCAL_HEADERS["Strict-Transport-Security"] == (
        f"max-age={hsts['AccessControlMaxAgeSec']}; includeSubDomains"
    )
    assert LOCAL_HEADERS["Referrer-Policy"] == security["ReferrerPolicy"]["ReferrerPolicy"]
    assert LOCAL_HEADERS["X-Frame-Options"] == security["FrameOptions"]["FrameOption"]
    assert LOCAL_HEADERS["X-Content-Type-Options"] == "nosniff"
    for item in _headers_policy(org)["CustomHeadersConfig"]["Items"]:
        assert LOCAL_HEADERS[item["Header"]] == item["Value"]


# ---------------------------------------------------------------- the API accepts the console
def _api_body(org: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = _props(org, "HelplineApi")["Body"]
    return body


def test_the_console_origin_is_a_stage_variable_of_the_api(org: dict[str, Any]) -> None:
    (stage,) = [
        r["Properties"]
        for r in org["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Stage" and r["Properties"]["RestApiId"] == "<HelplineApi>"
    ]
    assert stage["Variables"] == {"consoleOrigin": CONSOLE_ORIGIN}


def test_preflights_allow_the_console_origin_only(org: dict[str, Any]) -> None:
    paths = _api_body(org)["paths"]
    assert paths
    for path, methods in paths.items():
        options = methods["options"]
        parameters = options["x-amazon-apigateway-integration"]["responses"]["default"]["responseParameters"]
        assert (
            parameters["method.response.header.Access-Control-Allow-Origin"] == "stageVariables.consoleOrigin"
        )
        allowed = parameters["method.response.header.Access-Control-Allow-Headers"].strip("'").split(",")
        assert set(allowed) == {"Authorization", "Content-Type"}, path
        assert "security" not in options or options["security"] in ([], [{"NONE": []}]), path


def test_api_gateway_errors_are_readable_by_the_console_and_keep_their_body(org: dict[str, Any]) -> None:
    responses = _api_body(org)["x-amazon-apigateway-gateway-responses"]
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        parameters = responses[kind]["responseParameters"]
        assert (
            parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "stageVariables.consoleOrigin"
        )
        assert responses[kind]["responseTemplates"] == {
            "application/json": '{"message":$context.error.messageString}'
        }


def test_no_answer_allows_any_origin(org: dict[str, Any]) -> None:
    text = repr(_api_body(org))
    assert "Allow-Origin" in text
    assert not re.search(r"Allow-Origin[^,]*'\*'", text)


def _references(value: Any, found: set[str]) -> set[str]:
    """Every `<Resource>` or `<Resource.Attribute>` a resolved value names."""
    if isinstance(value, dict):
        for item in value.values():
            _references(item, found)
    elif isinstance(value, list):
        for item in value:
            _references(item, found)
    elif isinstance(value, str):
        found.update(
            name.split(".")[0] for name in re.findall(r"<([A-Za-z0-9]+(?:\.[A-Za-z0-9.]+)?)>", value)
        )
    return found


def test_there_is_no_dependency_cycle_after_the_sam_transform(org: dict[str, Any]) -> None:
    """template.yaml tells cfn-lint to skip E3004 on ConsoleDistribution: cfn-lint reads HelplineApi
    before SAM splits it, so the console origin (for the Stage) and the API id (for the CSP) look like a
    cycle. What CloudFormation deploys has none."""
    resources = org["Resources"]
    graph = {
        name: {ref for ref in _references(resource, set()) if ref in resources and ref != name}
        | set(resource.get("DependsOn", []) if isinstance(resource.get("DependsOn"), list) else [])
        for name, resource in resources.items()
    }
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in done:
            return
        assert name not in visiting, " -> ".join([*trail, name])
        visiting.add(name)
        for dependency in graph[name]:
            visit(dependency, [*trail, name])
        visiting.discard(name)
        done.add(name)

    for name in resources:
        visit(name, [])
    # The edges cfn-lint cannot see apart: the stage names the distribution, which names the RestApi.
    (stage,) = [
        name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::ApiGateway::Stage"
        and resource["Properties"]["RestApiId"] == "<HelplineApi>"
    ]
    assert "ConsoleDistribution" in graph[stage]
    assert "HelplineApi" in graph["ConsoleSecurityHeaders"]
    assert "ConsoleDistribution" not in graph["HelplineApi"]


# ---------------------------------------------------------------- outputs and the local stack
@pytest.mark.parametrize(
    ("output", "value"),
    [
        ("ConsoleUrl", "https://<ConsoleDistribution.DomainName>/"),
        ("ConsoleBucketName", "<ConsoleBucket>"),
        ("ConsoleDistributionId", "<ConsoleDistribution>"),
    ],
)
def test_make_deploy_console_finds_what_it_needs_in_the_outputs(
    org: dict[str, Any], output: str, value: str
) -> None:
    assert org["Outputs"][output]["Value"] == value


def test_the_local_stack_skips_cloudfront_on_purpose() -> None:
    for resource_type in (
        "AWS::CloudFront::Distribution",
        "AWS::CloudFront::OriginAccessControl",
        "AWS::CloudFront::ResponseHeadersPolicy",
    ):
        assert NOT_PROVISIONED.get(resource_type), resource_type
