"""LinesFunction's handler end to end over moto: events as API Gateway's REST proxy sends them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext, response_json, rest_event

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

UTRECHT = {
    "address": "030 123 4567",
    "kind": "helpline",
    "channel": "voice",
    "display_name": "Regio Utrecht",
}


@pytest.fixture
def handler(lines_table: str, load_handler: Callable[[str], Handler]) -> Handler:
    return load_handler("functions/lines/app.py")


def call(handler: Handler, event: dict[str, Any]) -> tuple[int, Any]:
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def put_line(line_id: str, body: Any, groups: Any = "[admin]") -> dict[str, Any]:
    return rest_event(
        "PUT",
        "/lines/{line_id}",
        f"/lines/{line_id}",
        username="admin-1",
        groups=groups,
        body=body,
        path_parameters={"line_id": line_id},
    )


def test_no_claims_is_401(handler: Handler) -> None:
    assert call(handler, rest_event("GET", "/lines", username=None)) == (
        401,
        {"message": "Unauthorized"},
    )


def test_a_volunteer_is_403(handler: Handler) -> None:
    status, body = call(handler, rest_event("GET", "/lines", groups="[volunteer]"))
    assert status == 403
    assert body == {"message": "Forbidden: this route is for the groups admin, staff"}


def test_staff_gets_200_with_the_items(handler: Handler) -> None:
    assert call(handler, put_line("regio-utrecht", UTRECHT))[0] == 200
    status, body = call(handler, rest_event("GET", "/lines", groups="staff,mentor"))
    assert status == 200
    assert [item["line_id"] for item in body["items"]] == ["regio-utrecht"]


def test_staff_gets_an_empty_list_from_an_empty_registry(handler: Handler) -> None:
    assert call(handler, rest_event("GET", "/lines", groups=["staff"])) == (200, {"items": []})


def test_admin_put_is_stored_normalised_and_then_listed(handler: Handler, lines_table: str) -> None:
    status, stored = call(handler, put_line("regio-utrecht", UTRECHT))
    assert status == 200
    assert stored["address"] == "+31301234567"
    assert stored["updated_by"] == "admin-1"

    item = boto3.client("dynamodb").get_item(TableName=lines_table, Key={"line_id": {"S": "regio-utrecht"}})[
        "Item"
    ]
    assert item["address"] == {"S": "+31301234567"}
    assert item["kind"] == {"S": "helpline"}

    status, listed = call(handler, rest_event("GET", "/lines", groups="[staff]"))
    assert status == 200
    assert listed["items"] == [stored]


def test_a_second_put_replaces_the_line(handler: Handler) -> None:
    call(handler, put_line("office", {**UTRECHT, "kind": "helpline"}))
    call(handler, put_line("office", {**UTRECHT, "kind": "office", "display_name": "Kantoor"}))
    _, listed = call(handler, rest_event("GET", "/lines", groups="staff"))
    assert [(item["line_id"], item["kind"]) for item in listed["items"]] == [("office", "office")]


def test_put_with_a_bad_kind_is_400_naming_kind_and_not_the_address(handler: Handler) -> None:
    status, body = call(handler, put_line("regio-utrecht", {**UTRECHT, "kind": "hotline"}))
    assert status == 400
    assert body["message"] == "Invalid request"
    assert [error["field"] for error in body["errors"]] == ["body.kind"]
    raw = str(body)
    assert "030 123 4567" not in raw
    assert "+31301234567" not in raw
    assert "hotline" not in raw


def test_put_as_staff_is_403_and_stores_nothing(handler: Handler) -> None:
    status, _ = call(handler, put_line("regio-utrecht", UTRECHT, groups="staff"))
    assert status == 403
    assert call(handler, rest_event("GET", "/lines", groups="staff"))[1] == {"items": []}


def test_the_handler_logs_neither_event_nor_body(handler: Handler, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # the level the template sets
    call(handler, put_line("regio-utrecht", UTRECHT))
    call(handler, put_line("regio-utrecht", {**UTRECHT, "kind": "hotline"}))
    call(handler, put_line("regio-utrecht", {**UTRECHT, "+31612345678": "key as value"}))
    invalid = [record for record in caplog.records if record.getMessage() == "Invalid request"]
    assert [getattr(record, "fields", None) for record in invalid] == [
        ["body.kind"],
        ["(unexpected field)"],
    ]
    logged = "".join(str(vars(record)) for record in caplog.records)
    for value in ("030 123 4567", "+31301234567", "Regio Utrecht", "hotline", "+31612345678"):
        assert value not in logged


def test_a_missing_table_setting_is_a_bare_500(handler: Handler, monkeypatch: pytest.MonkeyPatch) -> None:
    from helpline.settings import get_settings

    monkeypatch.delenv("LINES_TABLE")
    get_settings.cache_clear()
    assert call(handler, rest_event("GET", "/lines", groups="staff")) == (
        500,
        {"message": "Internal error"},
    )
