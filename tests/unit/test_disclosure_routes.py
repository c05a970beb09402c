"""The disclosure routes over the in-memory fakes: each lists in its OpenAPI responses exactly the
statuses it can answer, and answers the ones that are not obvious (415, 503) as documented (P6, P7)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_events import FakeLambdaContext, response_json, rest_event
from test_disclosure_logic import DISCLOSURE, LATER, NUMBER, World, legal_request

from helpline.logic.disclosures import DisclosureConfig
from helpline.routes.disclosures import create_disclosures_app

EXPECTED = {
    ("post", "/disclosures"): {"202", "400", "401", "403", "404", "410", "415", "422", "500", "503"},
    ("get", "/disclosures"): {"200", "401", "403", "500"},
    ("get", "/disclosures/{id}"): {"200", "400", "401", "403", "404", "500"},
    ("post", "/disclosures/{id}/approve"): {"200", "400", "401", "403", "404", "409", "415", "500", "503"},
    ("post", "/disclosures/{id}/reject"): {"200", "400", "401", "403", "404", "409", "415", "500", "503"},
    ("get", "/disclosures/{id}/result"): {"200", "400", "401", "403", "404", "409", "410", "500", "503"},
}
"""What each route can answer: 401/403 from the access check, 400 for a malformed path, query or
body, 415 for a body that is not JSON, the logic's own 403/404/409/410/422/503, and 500."""


def test_each_disclosure_route_lists_exactly_the_statuses_it_can_answer() -> None:
    spec = (
        create_disclosures_app()
        .get_openapi_schema()
        .model_dump(mode="json", by_alias=True, exclude_none=True)
    )
    listed = {
        (method, path): set(operation["responses"])
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    }
    # Powertools adds a 422 of its own to routes with parameters; ours is the one with our error body.
    ours = {
        route: {
            status
            for status in statuses
            if status != "422"
            or "HTTPValidationError" not in json.dumps(spec["paths"][route[1]][route[0]]["responses"]["422"])
        }
        for route, statuses in listed.items()
    }
    assert ours == EXPECTED


def app_over(world: World) -> Any:
    return create_disclosures_app(
        store=lambda: world.store,
        contacts=lambda: world.contacts,
        users=lambda: world.users,
        flow=lambda: world.workflow,
        tokens=lambda: world.sealer,
        results=lambda: world.sealer,
        audit=lambda: world.audit,
        config=lambda: DisclosureConfig(approvals_needed=1, approval_timeout_seconds=600),
        clock=lambda: LATER,
        new_id=lambda: DISCLOSURE,
    )


def call(world: World, method: str, resource: str, username: str, groups: str, **kwargs: Any) -> Any:
    event = rest_event(
        method,
        resource,
        resource.replace("{id}", DISCLOSURE),
        username=username,
        groups=groups,
        path_parameters={"id": DISCLOSURE} if "{id}" in resource else None,
        **kwargs,
    )
    response = app_over(world).resolve(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


@pytest.mark.parametrize(
    ("method", "resource", "groups"),
    [
        ("POST", "/disclosures", "professional"),
        ("POST", "/disclosures/{id}/approve", "compliance"),
        ("POST", "/disclosures/{id}/reject", "compliance"),
    ],
)
def test_a_body_that_is_not_json_is_415(method: str, resource: str, groups: str) -> None:
    world = World()
    event = rest_event(
        method,
        resource,
        resource.replace("{id}", DISCLOSURE),
        username="comp-1",
        groups=groups,
        body="reason=because",
        path_parameters={"id": DISCLOSURE} if "{id}" in resource else None,
    )
    event["headers"] = {"Content-Type": "text/plain"}
    event["multiValueHeaders"] = {"Content-Type": ["text/plain"]}
    response = app_over(world).resolve(event, FakeLambdaContext())
    assert response["statusCode"] == 415
    assert world.store.requests == {}


def test_a_result_that_fails_to_open_is_a_503_with_a_plain_message_and_is_kept() -> None:
    world = World()
    world.delivered()
    world.sealer.failures.fail("open")
    status, body = call(world, "GET", "/disclosures/{id}/result", "pro-1", "professional")
    assert status == 503
    assert "it is kept" in body["message"]
    status, body = call(world, "GET", "/disclosures/{id}/result", "pro-1", "professional")
    assert (status, body["identifier"]) == (200, NUMBER)


def test_an_approval_whose_callback_failed_is_a_503_and_the_same_approval_is_a_200() -> None:
    world = World()
    world.waiting()
    world.workflow.failures.fail("succeed")
    reason = {"reason": "demand checked"}
    status, body = call(world, "POST", "/disclosures/{id}/approve", "comp-1", "compliance", body=reason)
    assert status == 503
    assert "send the same decision again" in body["message"]
    status, body = call(world, "POST", "/disclosures/{id}/approve", "comp-2", "compliance", body=reason)
    assert (status, body["status"], body["callback_pending"]) == (200, "approved", False)
    assert world.actions().count("disclosure.approved") == 1


def test_a_request_whose_workflow_cannot_start_is_a_503() -> None:
    world = World()
    world.workflow.failures.fail("start")
    body = legal_request().model_dump(mode="json", exclude_none=True)
    status, answer = call(world, "POST", "/disclosures", "pro-1", "professional", body=body)
    assert status == 503, answer
    assert world.store.requests[DISCLOSURE].status == "failed"
