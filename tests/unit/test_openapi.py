"""openapi.json is generated from the routes, deterministically, and committed up to date."""

from __future__ import annotations

import json
from pathlib import Path

from helpline.openapi import TITLE, build_spec, render
from local_stack.template import load_template

OPENAPI_JSON = Path(__file__).resolve().parents[2] / "openapi.json"


def test_openapi_json_is_the_generated_spec() -> None:
    assert OPENAPI_JSON.read_text(encoding="utf-8") == render(build_spec()), "run `make openapi`"


def test_generation_is_deterministic() -> None:
    assert render(build_spec()) == render(build_spec())


def test_spec_declares_cognito_bearer_security_and_the_routes() -> None:
    spec = json.loads(render(build_spec()))
    assert spec["info"]["title"] == TITLE
    assert spec["components"]["securitySchemes"]["cognito"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": spec["components"]["securitySchemes"]["cognito"]["description"],
    }
    assert spec["security"] == [{"cognito": []}]
    documented = {
        (method.upper(), path) for path, operations in spec["paths"].items() for method in operations
    }
    assert documented == template_routes(), "every route of template.yaml is documented, and no other"


def template_routes() -> set[tuple[str, str]]:
    resources = load_template()["Resources"].values()
    return {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for resource in resources
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
    }


def test_validation_errors_are_documented_as_400_and_only_broken_rules_as_422() -> None:
    """Powertools' own 422 (HTTPValidationError) goes: a body that does not fit is 400. A 422 a route
    declares itself, for a rule no JSON Schema can state, stays in the document."""
    spec = build_spec()
    put = spec["paths"]["/lines/{line_id}"]["put"]
    assert "400" in put["responses"]
    assert "ErrorBody" in json.dumps(put["responses"]["422"])
    assert "422" not in spec["paths"]["/lines"]["get"]["responses"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_every_staff_route_documents_the_answers_the_resolver_gives_on_its_own() -> None:
    """404 where a path segment may match no route; 400 and 415 where a body may be unreadable."""
    spec = build_spec()
    for path, operations in spec["paths"].items():
        if path.startswith("/webhooks/"):
            continue
        for method, operation in operations.items():
            if "{" in path:
                assert "404" in operation["responses"], (method, path)
            if method in ("post", "put"):
                assert {"400", "415"} <= set(operation["responses"]), (method, path)


def test_the_webhooks_are_documented_without_cognito_and_with_their_signatures() -> None:
    spec = build_spec()
    chat = spec["paths"]["/webhooks/chat"]["post"]
    assert chat["security"] == []
    assert [p["name"] for p in chat["parameters"]] == ["X-Helpline-Signature"]
    body = chat["requestBody"]["content"]["application/json"]["schema"]
    assert body["discriminator"]["propertyName"] == "type"
    for name in ("ChatStartedEvent", "ChatMessageEvent", "ChatEndedEvent"):
        assert name in spec["components"]["schemas"]
    started = spec["components"]["schemas"]["ChatStartedEvent"]
    assert set(started["required"]) >= {"session_id", "channel", "client_ip", "timestamp"}
    for path in ("/webhooks/twilio/voice", "/webhooks/twilio/status"):
        operation = spec["paths"][path]["post"]
        assert operation["parameters"][0]["name"] == "X-Twilio-Signature"
        assert "text/xml" in operation["responses"]["200"]["content"]
