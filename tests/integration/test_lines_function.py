"""LinesFunction's handler end to end over moto: events as API Gateway's REST proxy sends them.

Four eyes on lines (DESIGN.md "No single insider", P11): an office line, or a change of kind or
address, is a proposal that changes nothing until a second admin approves; both steps are on the
audit chain; an address belongs to one line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext, response_json, rest_event
from conftest import create_table_from_template

from local_stack.template import load_template

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

UTRECHT = {
    "address": "030 123 4567",
    "kind": "helpline",
    "channel": "voice",
    "display_name": "Regio Utrecht",
}


OFFICE = {
    "address": "020 123 4567",
    "kind": "office",
    "channel": "voice",
    "display_name": "Kantoor",
}

LINE_CHANGES_TABLE = {
    # What the lead is asked to declare in template.yaml; used until the template has it.
    "AttributeDefinitions": [{"AttributeName": "change_id", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "change_id", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}


@pytest.fixture
def audit_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_table_from_template("AuditTable")
    monkeypatch.setenv("AUDIT_TABLE", name)
    return name


@pytest.fixture
def line_changes_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    if "LineChangesTable" in load_template()["Resources"]:
        name = create_table_from_template("LineChangesTable")
    else:
        name = "LineChangesTable-test"
        boto3.client("dynamodb").create_table(TableName=name, **LINE_CHANGES_TABLE)  # type: ignore[arg-type]
    monkeypatch.setenv("LINE_CHANGES_TABLE", name)
    return name


@pytest.fixture
def handler(
    lines_table: str, audit_table: str, line_changes_table: str, load_handler: Callable[[str], Handler]
) -> Handler:
    return load_handler("functions/lines/app.py")


def call(handler: Handler, event: dict[str, Any]) -> tuple[int, Any]:
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def put_line(line_id: str, body: Any, groups: Any = "[admin]", username: str = "admin-1") -> dict[str, Any]:
    return rest_event(
        "PUT",
        "/lines/{line_id}",
        f"/lines/{line_id}",
        username=username,
        groups=groups,
        body=body,
        path_parameters={"line_id": line_id},
    )


def decide(change_id: str, decision: str, username: str, body: Any = None) -> dict[str, Any]:
    return rest_event(
        "POST",
        f"/lines/changes/{{change_id}}/{decision}",
        f"/lines/changes/{change_id}/{decision}",
        username=username,
        groups="[admin]",
        body=body if body is not None else {},
        path_parameters={"change_id": change_id},
    )


def lines(handler: Handler) -> dict[str, dict[str, Any]]:
    _, listed = call(handler, rest_event("GET", "/lines", groups="staff"))
    return {item["line_id"]: item for item in listed["items"]}


def audit_steps(audit_table: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    items = boto3.client("dynamodb").query(
        TableName=audit_table,
        KeyConditionExpression="#c = :c",
        ExpressionAttributeNames={"#c": "chain"},
        ExpressionAttributeValues={":c": {"S": "audit"}},
    )["Items"]
    return [
        (
            item["actor"]["S"],
            item["action"]["S"],
            item["subject"]["S"],
            {key: value["S"] for key, value in item["details"]["M"].items()},
        )
        for item in items
    ]


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


def test_a_second_put_of_name_and_limit_replaces_the_line_at_once_and_is_audited(
    handler: Handler, audit_table: str
) -> None:
    assert call(handler, put_line("regio-utrecht", UTRECHT))[0] == 200
    status, stored = call(
        handler, put_line("regio-utrecht", {**UTRECHT, "display_name": "U", "daily_limit": 5})
    )
    assert status == 200
    assert lines(handler)["regio-utrecht"] == stored
    assert [(action, details) for _, action, _, details in audit_steps(audit_table)] == [
        ("line.created", {"kind": "helpline", "channel": "voice", "address": "+31301234567"}),
        ("line.updated", {"kind": "helpline", "channel": "voice", "fields": "display_name,daily_limit"}),
    ]


def test_an_office_line_waits_for_a_second_admin_and_both_steps_are_audited(
    handler: Handler, audit_table: str, line_changes_table: str
) -> None:
    status, accepted = call(handler, put_line("office", OFFICE, username="admin-1"))
    assert status == 202
    assert accepted == {"change_id": accepted["change_id"], "status": "pending"}
    change_id = accepted["change_id"]
    assert "office" not in lines(handler)  # no effect yet

    status, listed = call(handler, rest_event("GET", "/lines/changes", username="admin-2", groups="[admin]"))
    assert status == 200
    [pending] = listed["items"]
    assert (pending["change_id"], pending["status"], pending["proposed_by"]) == (
        change_id,
        "pending",
        "admin-1",
    )
    assert pending["reasons"] == ["office_line_created"]

    status, refused = call(handler, decide(change_id, "approve", "admin-1"))
    assert status == 403
    assert "proposer" in refused["message"]
    assert "office" not in lines(handler)

    status, applied = call(handler, decide(change_id, "approve", "admin-2"))
    assert status == 200
    assert (applied["status"], applied["decided_by"]) == ("applied", "admin-2")
    assert lines(handler)["office"]["kind"] == "office"
    assert lines(handler)["office"]["address"] == "+31201234567"

    assert call(handler, decide(change_id, "approve", "admin-3"))[0] == 409  # no longer pending
    steps = [(actor, action, subject) for actor, action, subject, _ in audit_steps(audit_table)]
    assert steps == [
        ("admin-1", "line.change_proposed", "office"),
        ("admin-2", "line.change_approved", "office"),
        ("admin-2", "line.change_applied", "office"),
    ]
    item = boto3.client("dynamodb").get_item(
        TableName=line_changes_table, Key={"change_id": {"S": change_id}}
    )
    assert item["Item"]["status"] == {"S": "applied"}
    assert item["Item"]["version"] == {"N": "2"}


def test_turning_a_helpline_into_an_office_line_is_a_proposal(handler: Handler) -> None:
    call(handler, put_line("regio-utrecht", UTRECHT))
    status, accepted = call(handler, put_line("regio-utrecht", {**UTRECHT, "kind": "office"}))
    assert status == 202
    assert lines(handler)["regio-utrecht"]["kind"] == "helpline"
    call(handler, decide(accepted["change_id"], "approve", "admin-2"))
    assert lines(handler)["regio-utrecht"]["kind"] == "office"


def test_a_rejected_proposal_changes_nothing_and_is_audited(handler: Handler, audit_table: str) -> None:
    change_id = call(handler, put_line("office", OFFICE))[1]["change_id"]
    assert call(handler, decide(change_id, "reject", "admin-2"))[0] == 400  # a reason is required
    status, rejected = call(handler, decide(change_id, "reject", "admin-2", {"reason": "Niet afgesproken"}))
    assert status == 200
    assert (rejected["status"], rejected["reason"]) == ("rejected", "Niet afgesproken")
    assert "office" not in lines(handler)
    assert call(handler, decide(change_id, "approve", "admin-3"))[0] == 409
    assert [action for _, action, _, _ in audit_steps(audit_table)] == [
        "line.change_proposed",
        "line.change_rejected",
    ]


def test_a_duplicate_address_is_409_naming_the_line_that_holds_it(handler: Handler) -> None:
    call(handler, put_line("regio-utrecht", UTRECHT))
    for body in ({**UTRECHT, "address": "+31 30 1234567"}, {**UTRECHT, "kind": "office"}):
        status, refused = call(handler, put_line("second", body))
        assert status == 409
        assert "'regio-utrecht'" in refused["message"]
    assert set(lines(handler)) == {"regio-utrecht"}


def test_an_approval_is_409_when_the_address_was_taken_meanwhile(handler: Handler) -> None:
    change_id = call(handler, put_line("office", OFFICE))[1]["change_id"]
    assert call(handler, put_line("helpline-x", {**UTRECHT, "address": OFFICE["address"]}))[0] == 200
    status, refused = call(handler, decide(change_id, "approve", "admin-2"))
    assert status == 409
    assert "'helpline-x'" in refused["message"]
    assert lines(handler)["helpline-x"]["kind"] == "helpline"
    assert "office" not in lines(handler)


def test_retiring_a_line_is_a_proposal_that_removes_it_once_approved(handler: Handler) -> None:
    call(handler, put_line("regio-utrecht", UTRECHT))
    retire = rest_event(
        "DELETE",
        "/lines/{line_id}",
        "/lines/regio-utrecht",
        username="admin-1",
        groups="[admin]",
        path_parameters={"line_id": "regio-utrecht"},
    )
    status, accepted = call(handler, retire)
    assert status == 202
    assert "regio-utrecht" in lines(handler)
    assert call(handler, decide(accepted["change_id"], "approve", "admin-2"))[0] == 200
    assert lines(handler) == {}


@pytest.mark.parametrize(
    ("method", "resource", "path"),
    [
        ("GET", "/lines/changes", "/lines/changes"),
        ("POST", "/lines/changes/{change_id}/approve", "/lines/changes/" + "0" * 32 + "/approve"),
        ("DELETE", "/lines/{line_id}", "/lines/x"),
    ],
)
def test_the_four_eyes_routes_are_for_admins_only(
    handler: Handler, method: str, resource: str, path: str
) -> None:
    status, _ = call(handler, rest_event(method, resource, path, groups="[staff]", body={}))
    assert status == 403


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


def test_a_line_stored_before_conditional_writes_can_still_be_changed(
    handler: Handler, lines_table: str
) -> None:
    """Older puts stored an absent limit or queue as NULL; the write condition accepts that as None."""
    boto3.client("dynamodb").put_item(
        TableName=lines_table,
        Item={
            "line_id": {"S": "regio-utrecht"},
            "kind": {"S": "helpline"},
            "channel": {"S": "voice"},
            "address": {"S": "+31301234567"},
            "display_name": {"S": "Regio Utrecht"},
            "daily_limit": {"NULL": True},
            "queue": {"NULL": True},
            "updated_at": {"S": "2026-11-29T10:00:00Z"},
            "updated_by": {"S": "admin-0"},
        },
    )
    status, _ = call(handler, put_line("regio-utrecht", {**UTRECHT, "display_name": "Utrecht"}))
    assert status == 200
    assert lines(handler)["regio-utrecht"]["display_name"] == "Utrecht"
