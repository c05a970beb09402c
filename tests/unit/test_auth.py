"""Caller identity from the Cognito claims, and the one table of who may call which route."""

from __future__ import annotations

from typing import Any

import pytest
from api_events import rest_event

from helpline.auth import (
    GROUPS,
    ROUTE_PERMISSIONS,
    Caller,
    Forbidden,
    NotAuthenticated,
    authorize,
    caller_from_event,
    check_permission,
    parse_groups,
    route_key,
)
from helpline.openapi import build_spec
from local_stack.template import load_template


@pytest.mark.parametrize(
    "raw",
    [
        ["staff", "admin"],
        "staff,admin",
        "staff, admin",
        "[staff admin]",
        "[staff, admin]",
        '["staff","admin"]',
    ],
)
def test_groups_are_parsed_in_every_form_they_arrive_in(raw: Any) -> None:
    assert parse_groups(raw) == {"staff", "admin"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("admin", {"admin"}), ("[admin]", {"admin"}), ("", set()), ("[]", set()), (None, set())],
)
def test_single_and_empty_group_claims(raw: Any, expected: set[str]) -> None:
    assert parse_groups(raw) == expected


def test_an_unexpected_claim_type_gives_no_groups() -> None:
    assert parse_groups(42) == frozenset()


@pytest.mark.parametrize("raw", ["x,compliance", "[x,compliance]", "[staff x,compliance]", "helpdesk admin"])
def test_a_group_name_with_a_comma_cannot_forge_a_group(raw: str) -> None:
    """Issue 10: Cognito allows commas in group names, and API Gateway flattens the claim to a string;
    a string with any part that is not one of our groups grants nothing."""
    assert parse_groups(raw) == frozenset()
    assert parse_groups(["x,compliance"]) == {"x,compliance"}, "a JSON list keeps the name whole"


def test_caller_from_claims() -> None:
    event = rest_event("GET", "/lines", username="alice", groups="[staff mentor]")
    assert caller_from_event(event) == Caller("alice", frozenset({"staff", "mentor"}))


def test_no_authorizer_claims_is_not_authenticated() -> None:
    with pytest.raises(NotAuthenticated) as caught:
        caller_from_event(rest_event("GET", "/lines", username=None))
    assert caught.value.status == 401


@pytest.mark.parametrize("username", ["", "   "])
def test_claims_without_a_username_are_not_authenticated(username: str) -> None:
    with pytest.raises(NotAuthenticated):
        caller_from_event(rest_event("GET", "/lines", username=username, groups="staff"))


def test_a_volunteer_may_not_list_lines() -> None:
    with pytest.raises(Forbidden) as caught:
        check_permission(Caller("v", frozenset({"volunteer"})), ("GET", "/lines"))
    assert caught.value.status == 403
    assert caught.value.message == "Forbidden: this route is for the groups admin, staff"


@pytest.mark.parametrize("group", ["staff", "admin"])
def test_staff_and_admins_may_list_lines(group: str) -> None:
    check_permission(Caller("s", frozenset({group})), ("GET", "/lines"))


@pytest.mark.parametrize("group", sorted(GROUPS - {"admin"}))
def test_only_admins_may_change_a_line(group: str) -> None:
    with pytest.raises(Forbidden, match=r"for the groups admin$"):
        check_permission(Caller("s", frozenset({group})), ("PUT", "/lines/{line_id}"))
    check_permission(Caller("a", frozenset({group, "admin"})), ("PUT", "/lines/{line_id}"))


def test_a_route_without_a_row_is_open_to_nobody() -> None:
    """Fail closed (DESIGN.md): even an admin is refused where no rule allows it."""
    with pytest.raises(Forbidden, match="no group"):
        check_permission(Caller("a", frozenset(GROUPS)), ("DELETE", "/contacts/{id}"))
    with pytest.raises(Forbidden):
        check_permission(Caller("a", frozenset(GROUPS)), None)


def test_route_key_uses_the_resource_or_else_matches_the_path() -> None:
    event = rest_event("PUT", "/lines/{line_id}", "/lines/x", with_resource=True)
    assert route_key(event) == ("PUT", "/lines/{line_id}")
    bare = rest_event("PUT", "/lines/{line_id}", "/lines/x", with_resource=False)
    assert route_key(bare) == ("PUT", "/lines/{line_id}")
    assert route_key(rest_event("PUT", "/x", "/lines/x/y", with_resource=False)) is None


def test_authorize_returns_the_permitted_caller() -> None:
    caller = authorize(rest_event("GET", "/lines", username="bob", groups="staff"))
    assert caller.username == "bob"


def test_groups_in_the_table_are_cognito_groups() -> None:
    for allowed in ROUTE_PERMISSIONS.values():
        assert allowed
        assert allowed <= GROUPS


def _template_staff_routes() -> set[tuple[str, str]]:
    """Api events of template.yaml behind the Cognito authorizer (not `Authorizer: NONE`)."""
    routes = set()
    for resource in load_template()["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            properties = event["Properties"]
            if (properties.get("Auth") or {}).get("Authorizer") == "NONE":
                continue
            routes.add((properties["Method"].upper(), properties["Path"]))
    return routes


def test_every_staff_route_of_the_template_has_exactly_one_row() -> None:
    assert _template_staff_routes() == set(ROUTE_PERMISSIONS)


def test_every_route_a_resolver_serves_has_a_row() -> None:
    """A route missing from the table would answer 403 to everyone; catch that here."""
    served = {
        (method.upper(), path)
        for path, operations in build_spec()["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") != []  # the signed provider webhooks take no Cognito token
    }
    assert served == set(ROUTE_PERMISSIONS)
