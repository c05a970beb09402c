"""The staff-API resolver with the line routes over an in-memory registry (no AWS).

Access first (401/403 before any validation), 400 naming bad fields without echoing values
(P2, P3), 500 without details.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from api_events import response_json, rest_event
from fakes_lines import InMemoryLineChangeStore, InMemoryLineRegistry
from fakes_memory_staff import InMemoryAuditLog

from helpline.api import StaffApiResolver, describe_validation_errors
from helpline.models.lines import Line
from helpline.routes.lines import create_lines_app

NOW = datetime(2026, 11, 29, 10, 0, 0, 500_000, tzinfo=UTC)
VALID = {"address": "030 123 4567", "kind": "helpline", "channel": "voice", "display_name": "X"}


@pytest.fixture
def repo() -> InMemoryLineRegistry:
    return InMemoryLineRegistry()


@pytest.fixture
def app(repo: InMemoryLineRegistry) -> StaffApiResolver:
    changes, audit = InMemoryLineChangeStore(), InMemoryAuditLog()
    return create_lines_app(
        repository=lambda: repo, clock=lambda: NOW, changes=lambda: changes, audit=lambda: audit
    )


def put(line_id: str, body: Any, groups: Any = "admin", username: str | None = "root") -> dict[str, Any]:
    return rest_event(
        "PUT",
        "/lines/{line_id}",
        f"/lines/{line_id}",
        username=username,
        groups=groups,
        body=body,
        path_parameters={"line_id": line_id},
    )


def test_put_as_admin_stores_and_answers_the_line(app: StaffApiResolver, repo: InMemoryLineRegistry) -> None:
    response = app.resolve(put("regio-utrecht", VALID, username="root"), None)
    assert response["statusCode"] == 200
    assert response_json(response) == {
        "line_id": "regio-utrecht",
        "kind": "helpline",
        "channel": "voice",
        "address": "+31301234567",
        "display_name": "X",
        "daily_limit": None,
        "queue": None,
        "updated_at": "2026-11-29T10:00:00Z",
        "updated_by": "root",
    }
    assert list(repo.items) == ["regio-utrecht"]


def test_get_lists_what_was_put(app: StaffApiResolver) -> None:
    app.resolve(put("b-line", VALID), None)
    app.resolve(put("a-line", {**VALID, "address": "030 123 4568"}), None)  # one line per address
    response = app.resolve(rest_event("GET", "/lines", groups="staff"), None)
    assert response["statusCode"] == 200
    assert [item["line_id"] for item in response_json(response)["items"]] == ["a-line", "b-line"]


def test_without_claims_the_answer_is_401(app: StaffApiResolver) -> None:
    response = app.resolve(rest_event("GET", "/lines", username=None), None)
    assert response["statusCode"] == 401
    assert response_json(response) == {"message": "Unauthorized"}


def test_access_is_checked_before_the_body_is_validated(
    app: StaffApiResolver, repo: InMemoryLineRegistry
) -> None:
    """A staff member with a bad body learns 403, not which fields would be wrong."""
    response = app.resolve(put("x", {"kind": "hotline"}, groups="staff"), None)
    assert response["statusCode"] == 403
    assert response_json(response) == {"message": "Forbidden: this route is for the groups admin"}
    assert repo.items == {}


def test_bad_input_is_400_naming_each_field_and_echoing_no_value(
    app: StaffApiResolver, repo: InMemoryLineRegistry
) -> None:
    body = {**VALID, "kind": "hotline", "address": "0612", "extra": "+31612345678"}
    response = app.resolve(put("Bad_Id", body), None)
    assert response["statusCode"] == 400
    answer = response_json(response)
    assert answer["message"] == "Invalid request"
    assert {error["field"] for error in answer["errors"]} == {
        "path.line_id",
        "body.kind",
        "body.address",
        "body.extra",
    }
    for value in ("hotline", "0612", "+31612345678", "Bad_Id"):
        assert value not in response["body"]
    assert repo.items == {}


def test_a_body_that_is_not_json_is_400(app: StaffApiResolver) -> None:
    response = app.resolve(put("x", "{not json"), None)
    assert response["statusCode"] == 400
    assert response_json(response)["errors"] == [{"field": "body", "problem": "Body is not valid JSON"}]


def test_a_missing_body_is_400(app: StaffApiResolver) -> None:
    response = app.resolve(put("x", None), None)
    assert response["statusCode"] == 400
    assert response_json(response)["errors"][0]["field"] == "body"


def test_an_unexpected_error_is_500_without_details() -> None:
    def broken() -> InMemoryLineRegistry:
        raise RuntimeError("table lines-abc unreachable at +31612345678")

    app = create_lines_app(repository=broken, clock=lambda: NOW)
    response = app.resolve(rest_event("GET", "/lines", groups="staff"), None)
    assert response["statusCode"] == 500
    assert response_json(response) == {"message": "Internal error"}


def test_a_resolver_answers_in_the_json_shape_powertools_uses(app: StaffApiResolver) -> None:
    for event in (
        rest_event("GET", "/lines", username=None),
        rest_event("GET", "/lines", groups="staff"),
    ):
        response = app.resolve(event, None)
        assert dict(response["multiValueHeaders"])["Content-Type"] == ["application/json"]
        assert response["isBase64Encoded"] is False


def test_pydantic_errors_lose_their_input() -> None:
    problems = describe_validation_errors(
        [
            {
                "type": "literal_error",
                "loc": ("body", "kind"),
                "msg": "Input should be 'a'",
                "input": "zz",
            },
            {
                "type": "x",
                "loc": ("body", "address"),
                "msg": "bad +31612345678",
                "input": "+31612345678",
            },
        ]
    )
    assert [problem.model_dump() for problem in problems] == [
        {"field": "body.kind", "problem": "Input should be 'a'"},
        {"field": "body.address", "problem": "Invalid value (x)"},
    ]


def test_stored_lines_are_returned_as_stored(app: StaffApiResolver, repo: InMemoryLineRegistry) -> None:
    line = Line.model_validate({**VALID, "line_id": "l", "updated_at": NOW, "updated_by": "u"})
    repo.put_line(line)
    response = app.resolve(rest_event("GET", "/lines", groups=["admin"]), None)
    assert [Line.model_validate(item) for item in response_json(response)["items"]] == [line]


def test_the_async_entry_point_checks_access_too(app: StaffApiResolver) -> None:
    """Fail closed whichever entry point a future handler uses."""
    denied = asyncio.run(app.resolve_async(rest_event("GET", "/lines", username=None), None))
    assert denied["statusCode"] == 401
    allowed = asyncio.run(app.resolve_async(rest_event("GET", "/lines", groups="staff"), None))
    assert allowed["statusCode"] == 200


@pytest.mark.parametrize(
    ("body", "groups", "status"),
    [
        (VALID, "admin", 200),
        (VALID, "volunteer", 403),
        ({"kind": "hotline"}, "admin", 400),
        (VALID, None, 401),
    ],
)
def test_no_staff_answer_may_be_kept_by_a_browser_or_proxy(
    app: StaffApiResolver, body: Any, groups: Any, status: int
) -> None:
    """Issue 10: every staff answer, a denial or a refusal too, is `Cache-Control: no-store` (P2, P3)."""
    event = put("regio-utrecht", body, groups=groups, username="root" if groups else None)
    response = app.resolve(event, None)
    assert response["statusCode"] == status
    assert response["multiValueHeaders"]["Cache-Control"] == ["no-store"]
    assert "Cache-Control" not in (response.get("headers") or {})


CONSOLE = "https://d111111abcdef8.cloudfront.net"


@pytest.mark.parametrize(
    ("origin", "groups", "readable"),
    [
        (CONSOLE, "staff", True),
        (CONSOLE, None, True),  # a 401 too: the console must see it to ask for a sign-in
        ("https://evil.example", "staff", False),
        (None, "staff", False),
    ],
)
def test_only_the_consoles_own_origin_may_read_an_answer(
    app: StaffApiResolver, origin: str | None, groups: Any, readable: bool
) -> None:
    """Issue 12: the console's origin, from the stage variable, exactly; never `*`, never another."""
    event = rest_event("GET", "/lines", groups=groups, username="u" if groups else None)
    event["stageVariables"] = {"consoleOrigin": CONSOLE}
    if origin is not None:
        event["headers"] = {**(event.get("headers") or {}), "Origin": origin}
    headers = app.resolve(event, None)["multiValueHeaders"]
    if readable:
        assert (headers["Access-Control-Allow-Origin"], headers["Vary"]) == ([CONSOLE], ["Origin"])
    else:
        assert "Access-Control-Allow-Origin" not in headers


# ------------------------------------------------ unreadable bodies: 400/415, never a 500 (issue: fuzzing)


def _with_content_type(event: dict[str, Any], content_type: str) -> dict[str, Any]:
    event["headers"] = {"Content-Type": content_type}
    event["multiValueHeaders"] = {"Content-Type": [content_type]}
    return event


def test_multipart_without_a_boundary_is_415_not_a_500(
    app: StaffApiResolver, repo: InMemoryLineRegistry
) -> None:
    event = _with_content_type(put("x-line", VALID), "multipart/form-data")
    response = app.resolve(event, None)
    assert response["statusCode"] == 415
    assert response_json(response) == {"message": "Send the body as application/json"}
    assert repo.items == {}


def test_a_body_that_is_not_utf8_is_400_not_a_500(app: StaffApiResolver) -> None:
    event = put("x-line", None)
    event["body"] = base64.b64encode(b"\xff\xfe{").decode()
    event["isBase64Encoded"] = True
    response = app.resolve(event, None)
    assert (response["statusCode"], response_json(response)) == (400, {"message": "Body is not valid UTF-8"})
    surrogate = put("x-line", '{"address": "\udcff"}')
    assert app.resolve(surrogate, None)["statusCode"] == 400


@pytest.mark.parametrize("depth", [33, 5_000, 100_000])
def test_json_nested_deeper_than_any_model_is_400_not_a_500(app: StaffApiResolver, depth: int) -> None:
    response = app.resolve(put("x-line", "[" * depth + "]" * depth), None)
    assert (response["statusCode"], response_json(response)) == (
        400,
        {"message": "Body is nested too deeply"},
    )


def test_a_body_that_is_not_json_stays_a_400_naming_the_body(app: StaffApiResolver) -> None:
    response = app.resolve(put("x-line", "{not json"), None)
    assert response["statusCode"] == 400
    assert response_json(response)["errors"] == [{"field": "body", "problem": "Body is not valid JSON"}]


def test_an_unreadable_body_from_a_stranger_is_still_401_first(app: StaffApiResolver) -> None:
    """Access before anything else: a caller without a token learns nothing about bodies (fail closed)."""
    event = _with_content_type(put("x-line", VALID, username=None), "multipart/form-data")
    assert app.resolve(event, None)["statusCode"] == 401


def test_a_chat_line_with_a_phone_number_is_422_naming_the_rule_not_the_value(app: StaffApiResolver) -> None:
    """The schema's `address` is any string; which fits the channel is a rule it cannot state."""
    body = {**VALID, "channel": "chat", "address": "+31612345678"}
    response = app.resolve(put("chat-line", body), None)
    assert response["statusCode"] == 422
    answer = response_json(response)
    assert answer["message"] == "Request breaks a rule"
    assert [error["field"] for error in answer["errors"]] == ["body.address"]
    assert "612345678" not in response["body"]


def test_a_broken_rule_beside_a_wrong_shape_is_400(app: StaffApiResolver) -> None:
    body = {**VALID, "channel": "chat", "address": "+31612345678", "daily_limit": "many"}
    assert app.resolve(put("chat-line", body), None)["statusCode"] == 400
