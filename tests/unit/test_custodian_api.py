"""The custodian API's own permission table (P3, P7): its routes match the custodian's template, only the
group `custodian` opens them, and neither party's table opens the other's routes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from api_events import FakeLambdaContext, response_json, rest_event
from fakes_releases import InMemoryReleaseStore

from helpline.auth import (
    CUSTODIAN_GROUP,
    CUSTODIAN_ROUTE_PERMISSIONS,
    GROUPS,
    ROUTE_PERMISSIONS,
    Caller,
    Forbidden,
    authorize,
    check_permission,
)
from helpline.custodian_api import create_custodian_app
from local_stack.template import load_template

CUSTODIAN_TEMPLATE = Path(__file__).resolve().parents[2] / "infrastructure/custodian/template.yaml"
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def _custodian_template_routes() -> set[tuple[str, str]]:
    routes = set()
    for resource in load_template(CUSTODIAN_TEMPLATE)["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") == "Api":
                routes.add((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    return routes


def test_every_route_of_the_custodian_template_has_exactly_one_row() -> None:
    assert _custodian_template_routes() == set(CUSTODIAN_ROUTE_PERMISSIONS)


def test_every_route_the_custodian_resolver_serves_has_a_row() -> None:
    spec = create_custodian_app(lambda: InMemoryReleaseStore()).get_openapi_schema()
    served = {
        (method.upper(), path.replace("<", "{").replace(">", "}"))
        for path, item in (spec.paths or {}).items()
        for method in ("get", "post")
        if getattr(item, method) is not None
    }
    assert served == set(CUSTODIAN_ROUTE_PERMISSIONS)


def test_the_two_tables_share_no_route_and_no_group() -> None:
    """An organisation group never opens a custodian route, nor the custodian group an organisation one."""
    assert set(CUSTODIAN_ROUTE_PERMISSIONS).isdisjoint(ROUTE_PERMISSIONS)
    assert all(groups == {CUSTODIAN_GROUP} for groups in CUSTODIAN_ROUTE_PERMISSIONS.values())
    assert CUSTODIAN_GROUP not in GROUPS
    assert all(CUSTODIAN_GROUP not in groups for groups in ROUTE_PERMISSIONS.values())


@pytest.mark.parametrize("route", sorted(CUSTODIAN_ROUTE_PERMISSIONS))
def test_every_organisation_group_is_refused_on_every_custodian_route(route: tuple[str, str]) -> None:
    with pytest.raises(Forbidden):
        check_permission(Caller("all-hats", frozenset(GROUPS)), route, CUSTODIAN_ROUTE_PERMISSIONS)
    check_permission(Caller("officer", frozenset({CUSTODIAN_GROUP})), route, CUSTODIAN_ROUTE_PERMISSIONS)


def test_a_custodian_officer_is_refused_on_the_organisations_routes() -> None:
    officer = Caller("officer", frozenset({CUSTODIAN_GROUP}))
    for route in ROUTE_PERMISSIONS:
        with pytest.raises(Forbidden):
            check_permission(officer, route)


def test_the_concrete_path_finds_its_custodian_row_without_a_resource() -> None:
    event = rest_event(
        "POST",
        "/releases/{disclosure_id}/confirm",
        "/releases/" + "d" * 32 + "/confirm",
        groups="custodian",
        with_resource=False,
    )
    assert authorize(event, CUSTODIAN_ROUTE_PERMISSIONS).groups == {CUSTODIAN_GROUP}
    with pytest.raises(Forbidden):
        authorize(event)  # the organisation's table has no such route


def test_answers_are_not_cached_and_an_unknown_route_is_refused() -> None:
    app = create_custodian_app(lambda: InMemoryReleaseStore(), lambda: NOW)
    listed = app.resolve(rest_event("GET", "/releases", groups="custodian"), FakeLambdaContext())
    assert (listed["statusCode"], response_json(listed)) == (200, {"items": []})
    assert listed["multiValueHeaders"]["Cache-Control"] == ["no-store"]
    unknown = app.resolve(rest_event("DELETE", "/releases", groups="custodian"), FakeLambdaContext())
    assert unknown["statusCode"] == 403
    assert unknown["multiValueHeaders"]["Cache-Control"] == ["no-store"]


@pytest.mark.parametrize("groups", ["custodian", None])
def test_the_officers_console_origin_and_no_other_may_read_an_answer(groups: str | None) -> None:
    """The custodian's CloudFront console (its API's stage variable `consoleOrigin`), as on the
    organisation's API: answers and denials carry the header for that exact origin only."""
    console = "https://d111.cloudfront.net"
    app = create_custodian_app(lambda: InMemoryReleaseStore(), lambda: NOW)
    for origin, readable in ((console, True), ("https://evil.example", False)):
        event = rest_event("GET", "/releases", groups=groups, username="officer" if groups else None)
        event["stageVariables"] = {"consoleOrigin": console}
        event["headers"] = {**(event.get("headers") or {}), "Origin": origin}
        headers = app.resolve(event, FakeLambdaContext())["multiValueHeaders"]
        if readable:
            assert (headers["Access-Control-Allow-Origin"], headers["Vary"]) == ([console], ["Origin"])
        else:
            assert "Access-Control-Allow-Origin" not in headers
