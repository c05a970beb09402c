"""The console's hosting (issue 12), read from what CloudFormation would deploy for each stack: the
organisation's (template.yaml, for its staff) and the custodian's (infrastructure/custodian/template.yaml,
for its officers) host the same build the same way. A private bucket that only the console's CloudFront
distribution reads (origin access control), HTTPS only, and strict security headers: a
Content-Security-Policy without 'unsafe-inline', HSTS, frame-ancestors 'none', no referrer. Each API
accepts its console's origin, and only that one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from test_template_policies import CUSTODIAN_ACCOUNT, ORG_ACCOUNT

from local_stack.console import CONTENT_SECURITY_POLICY as LOCAL_CSP
from local_stack.console import SECURITY_HEADERS as LOCAL_HEADERS
from local_stack.provision import NOT_PROVISIONED

COGNITO_ORIGIN = "https://cognito-idp.eu-west-1.amazonaws.com"


@dataclass(frozen=True)
class Hosting:
    """One stack as deployed, and its console's resources by logical id."""

    stack: dict[str, Any]
    account: str
    api: str
    bucket: str
    distribution: str

    @property
    def policy(self) -> str:
        return f"{self.bucket}Policy"

    @property
    def access_control(self) -> str:
        return self.bucket.replace("Bucket", "OriginAccessControl")

    @property
    def headers(self) -> str:
        return self.bucket.replace("Bucket", "SecurityHeaders")

    @property
    def distribution_arn(self) -> str:
        return f"arn:aws:cloudfront::{self.account}:distribution/<{self.distribution}>"

    @property
    def api_origin(self) -> str:
        return f"https://<{self.api}>.execute-api.eu-west-1.amazonaws.com"

    @property
    def console_origin(self) -> str:
        return f"https://<{self.distribution}.DomainName>"


@pytest.fixture(params=["org", "custodian"])
def hosting(request: pytest.FixtureRequest, stacks: dict[str, dict[str, Any]]) -> Hosting:
    """The organisation's console hosting, then the custodian's: the same checks on both."""
    if request.param == "org":
        return Hosting(stacks["org"], ORG_ACCOUNT, "HelplineApi", "ConsoleBucket", "ConsoleDistribution")
    return Hosting(
        stacks["custodian"],
        CUSTODIAN_ACCOUNT,
        "CustodianApi",
        "CustodianConsoleBucket",
        "CustodianConsoleDistribution",
    )


def _resource(h: Hosting, logical_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = h.stack["Resources"][logical_id]
    return resource


def _props(h: Hosting, logical_id: str) -> dict[str, Any]:
    props: dict[str, Any] = _resource(h, logical_id)["Properties"]
    return props


def _headers_policy(h: Hosting) -> dict[str, Any]:
    config: dict[str, Any] = _props(h, h.headers)["ResponseHeadersPolicyConfig"]
    return config


def _directives(policy: str) -> dict[str, list[str]]:
    directives = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        directives[name] = sources
    return directives


def _deployed_csp(h: Hosting) -> str:
    csp: str = _headers_policy(h)["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    return csp


# ---------------------------------------------------------------- bucket
def test_the_bucket_is_private_encrypted_versioned_and_retained(hosting: Hosting) -> None:
    bucket = _resource(hosting, hosting.bucket)
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


def test_only_the_console_distribution_reads_the_bucket(hosting: Hosting) -> None:
    policy = _props(hosting, hosting.policy)
    assert policy["Bucket"] == f"<{hosting.bucket}>"
    statements = policy["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Sid": "OnlyTheConsoleDistributionReads",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"<{hosting.bucket}.Arn>/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": hosting.distribution_arn}},
        }
    ]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# ---------------------------------------------------------------- CloudFront
def test_cloudfront_signs_every_request_to_the_bucket(hosting: Hosting) -> None:
    config = _props(hosting, hosting.access_control)["OriginAccessControlConfig"]
    assert config["OriginAccessControlOriginType"] == "s3"
    assert config["SigningBehavior"] == "always"
    assert config["SigningProtocol"] == "sigv4"
    distribution = _props(hosting, hosting.distribution)["DistributionConfig"]
    (origin,) = distribution["Origins"]
    assert origin["DomainName"] == f"<{hosting.bucket}.RegionalDomainName>"
    assert origin["OriginAccessControlId"] == f"<{hosting.access_control}.Id>"
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy identity besides OAC


def test_the_distribution_serves_the_console_over_https_only(hosting: Hosting) -> None:
    distribution = _props(hosting, hosting.distribution)["DistributionConfig"]
    assert distribution["Enabled"] is True
    assert distribution["DefaultRootObject"] == "index.html"
    assert distribution["HttpVersion"] in ("http2", "http2and3")
    behaviour = distribution["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["ResponseHeadersPolicyId"] == f"<{hosting.headers}>"
    assert "CacheBehaviors" not in distribution  # one behaviour: every file gets the headers


# ---------------------------------------------------------------- security headers
def test_the_csp_allows_nothing_inline_and_no_one_to_frame_the_console(hosting: Hosting) -> None:
    csp = _deployed_csp(hosting)
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
    assert _headers_policy(hosting)["SecurityHeadersConfig"]["ContentSecurityPolicy"]["Override"] is True


def test_the_console_connects_only_to_itself_the_api_and_cognito(hosting: Hosting) -> None:
    connect = _directives(_deployed_csp(hosting))["connect-src"]
    assert connect == ["'self'", hosting.api_origin, COGNITO_ORIGIN]


def test_hsts_no_referrer_nosniff_deny_and_the_rest(hosting: Hosting) -> None:
    security = _headers_policy(hosting)["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": 63072000,
        "IncludeSubdomains": True,
        "Override": True,
    }
    assert security["ReferrerPolicy"] == {"ReferrerPolicy": "no-referrer", "Override": True}
    assert security["ContentTypeOptions"] == {"Override": True}
    assert security["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    custom = {item["Header"]: item for item in _headers_policy(hosting)["CustomHeadersConfig"]["Items"]}
    assert custom["Permissions-Policy"]["Value"] == "camera=(), microphone=(), geolocation=()"
    assert custom["Cross-Origin-Opener-Policy"]["Value"] == "same-origin"
    assert all(item["Override"] for item in custom.values())


def test_the_local_console_gets_the_same_headers_as_the_deployed_one(hosting: Hosting) -> None:
    """`make run` shows what a deployment does: only connect-src differs (Cognito through the API)."""
    deployed, local = _directives(_deployed_csp(hosting)), _directives(LOCAL_CSP)
    assert deployed.pop("connect-src")[0] == local.pop("connect-src")[0] == "'self'"
    assert deployed == local
    security = _headers_policy(hosting)["SecurityHeadersConfig"]
    hsts = security["StrictTransportSecurity"]
    assert LOCAL_HEADERS["Strict-Transport-Security"] == (
        f"max-age={hsts['AccessControlMaxAgeSec']}; includeSubDomains"
    )
    assert LOCAL_HEADERS["Referrer-Policy"] == security["ReferrerPolicy"]["ReferrerPolicy"]
    assert LOCAL_HEADERS["X-Frame-Options"] == security["FrameOptions"]["FrameOption"]
    assert LOCAL_HEADERS["X-Content-Type-Options"] == "nosniff"
    for item in _headers_policy(hosting)["CustomHeadersConfig"]["Items"]:
        assert LOCAL_HEADERS[item["Header"]] == item["Value"]


# ---------------------------------------------------------------- the API accepts the console
def _api_body(h: Hosting) -> dict[str, Any]:
    body: dict[str, Any] = _props(h, h.api)["Body"]
    return body


def test_the_console_origin_is_a_stage_variable_of_the_api(hosting: Hosting) -> None:
    (stage,) = [
        r["Properties"]
        for r in hosting.stack["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Stage" and r["Properties"]["RestApiId"] == f"<{hosting.api}>"
    ]
    assert stage["Variables"] == {"consoleOrigin": hosting.console_origin}


def test_preflights_allow_the_console_origin_only(hosting: Hosting) -> None:
    paths = _api_body(hosting)["paths"]
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


def test_api_gateway_errors_are_readable_by_the_console_and_keep_their_body(hosting: Hosting) -> None:
    responses = _api_body(hosting)["x-amazon-apigateway-gateway-responses"]
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        parameters = responses[kind]["responseParameters"]
        assert (
            parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "stageVariables.consoleOrigin"
        )
        assert responses[kind]["responseTemplates"] == {
            "application/json": '{"message":$context.error.messageString}'
        }


def test_no_answer_allows_any_origin(hosting: Hosting) -> None:
    text = repr(_api_body(hosting))
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


def test_there_is_no_dependency_cycle_after_the_sam_transform(hosting: Hosting) -> None:
    """Both templates tell cfn-lint to skip E3004 on the console's distribution: cfn-lint reads the API
    before SAM splits it, so the console origin (for the Stage) and the API id (for the CSP) look like a
    cycle. What CloudFormation deploys has none."""
    resources = hosting.stack["Resources"]
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
        and resource["Properties"]["RestApiId"] == f"<{hosting.api}>"
    ]
    assert hosting.distribution in graph[stage]
    assert hosting.api in graph[hosting.headers]
    assert hosting.distribution not in graph[hosting.api]


# ---------------------------------------------------------------- outputs and the local stack
def test_make_deploy_console_finds_what_it_needs_in_the_outputs(hosting: Hosting) -> None:
    outputs = hosting.stack["Outputs"]
    assert outputs["ConsoleUrl"]["Value"] == f"{hosting.console_origin}/"
    assert outputs["ConsoleBucketName"]["Value"] == f"<{hosting.bucket}>"
    assert outputs["ConsoleDistributionId"]["Value"] == f"<{hosting.distribution}>"


def test_the_local_stack_skips_cloudfront_on_purpose() -> None:
    for resource_type in (
        "AWS::CloudFront::Distribution",
        "AWS::CloudFront::OriginAccessControl",
        "AWS::CloudFront::ResponseHeadersPolicy",
    ):
        assert NOT_PROVISIONED.get(resource_type), resource_type
