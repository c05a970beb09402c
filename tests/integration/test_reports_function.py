"""ReportsFunction's handler end to end over moto, with the real scrubber (P4, P5, P8)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext, response_json, rest_event

from local_stack.template import load_template

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

CONTACT = uuid.uuid4().hex
RAW = (
    "Beller noemde zich Jan de Vries, woont aan de Oudegracht 12 in Utrecht, bel 06-12345678 of "
    "mail jan@example.nl. Hij las zijn BSN 123456782 en rekening NL91ABNA0417164300 voor."
)
SIX = (
    "Jan de Vries",
    "Oudegracht 12 in Utrecht",
    "Oudegracht",
    "06-12345678",
    "jan@example.nl",
    "123456782",
    "NL91ABNA0417164300",
)


@pytest.fixture
def reports_table(aws: None, contacts_table: str, monkeypatch: pytest.MonkeyPatch) -> str:
    declared = load_template()["Resources"]["ReportsTable"]["Properties"]
    name = f"ReportsTable-{uuid.uuid4().hex[:8]}"
    keys = ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")
    boto3.client("dynamodb").create_table(TableName=name, **{k: declared[k] for k in keys if k in declared})
    monkeypatch.setenv("REPORTS_TABLE", name)
    boto3.client("dynamodb").put_item(
        TableName=contacts_table, Item={"id": {"S": CONTACT}, "channel": {"S": "voice"}}
    )
    return name


@pytest.fixture
def handler(reports_table: str, load_handler: Callable[[str], Handler]) -> Handler:
    return load_handler("functions/reports/app.py")


def call(handler: Handler, event: dict[str, Any]) -> tuple[int, Any]:
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def post(
    text: Any, user: str = "vol-1", groups: str = "[volunteer]", contact: str = CONTACT
) -> dict[str, Any]:
    return rest_event(
        "POST",
        "/contacts/{id}/reports",
        f"/contacts/{contact}/reports",
        username=user,
        groups=groups,
        body={"text": text} if isinstance(text, str) else text,
        path_parameters={"id": contact},
    )


def get_contact_reports(user: str, groups: str) -> dict[str, Any]:
    return rest_event(
        "GET",
        "/contacts/{id}/reports",
        f"/contacts/{CONTACT}/reports",
        username=user,
        groups=groups,
        path_parameters={"id": CONTACT},
    )


def test_a_report_is_stored_scrubbed_and_nothing_leaks(
    handler: Handler, reports_table: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, body = call(handler, post(RAW))
    assert status == 201
    assert body["contact_id"] == CONTACT
    assert body["author"] == "vol-1"
    assert "[PERSOON-1]" in body["text"]
    assert "[IBAN]" in body["text"]

    items = boto3.client("dynamodb").scan(TableName=reports_table)["Items"]
    assert len(items) == 1
    assert items[0]["text"] == {"S": body["text"]}
    stored, answered = json.dumps(items), json.dumps(body)
    logged = "".join(str(vars(record)) + record.getMessage() for record in caplog.records)
    for detail in SIX:
        assert detail not in stored
        assert detail not in answered
        assert detail not in logged


def test_a_volunteer_sees_only_their_own_reports_staff_and_mentors_all(handler: Handler) -> None:
    assert call(handler, post("Gesprek over werk.", user="vol-1"))[0] == 201
    assert call(handler, post("Gesprek over rouw.", user="vol-2"))[0] == 201

    _, own = call(handler, get_contact_reports("vol-1", "[volunteer]"))
    assert [item["text"] for item in own["items"]] == ["Gesprek over werk."]
    for user, groups in (("staff-1", "[staff]"), ("mentor-1", "[volunteer mentor]")):
        _, every = call(handler, get_contact_reports(user, groups))
        assert sorted(item["author"] for item in every["items"]) == ["vol-1", "vol-2"]

    _, own_period = call(handler, rest_event("GET", "/reports", username="vol-2", groups="[volunteer]"))
    assert [item["author"] for item in own_period["items"]] == ["vol-2"]
    _, all_period = call(handler, rest_event("GET", "/reports", username="staff-1", groups="[staff]"))
    assert len(all_period["items"]) == 2


def test_a_period_longer_than_a_year_is_422(handler: Handler) -> None:
    event = rest_event("GET", "/reports", username="staff-1", groups="[staff]")
    event["queryStringParameters"] = {"from": "2020-01-01", "to": "2025-01-01"}
    event["multiValueQueryStringParameters"] = {"from": ["2020-01-01"], "to": ["2025-01-01"]}
    assert call(handler, event)[0] == 422


def test_too_long_is_400_naming_text_without_echoing_it(
    handler: Handler, reports_table: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    text = ("Jan de Vries 06-12345678 " * 70)[:1501]
    assert len(text) == 1501
    status, body = call(handler, post(text))
    assert status == 400
    assert [error["field"] for error in body["errors"]] == ["body.text"]
    assert "Jan de Vries" not in json.dumps(body)
    assert "Jan de Vries" not in "".join(str(vars(r)) for r in caplog.records)
    assert boto3.client("dynamodb").scan(TableName=reports_table)["Items"] == []


def test_an_unknown_field_is_400(handler: Handler) -> None:
    assert call(handler, post({"text": "x", "name": "Jan de Vries"}))[0] == 400


def test_an_unknown_contact_is_404(handler: Handler, reports_table: str) -> None:
    status, _ = call(handler, post(RAW, contact=uuid.uuid4().hex))
    assert status == 404
    assert boto3.client("dynamodb").scan(TableName=reports_table)["Items"] == []


def test_staff_may_not_write_a_report(handler: Handler, reports_table: str) -> None:
    status, _ = call(handler, post(RAW, user="staff-1", groups="[staff]"))
    assert status == 403
    assert boto3.client("dynamodb").scan(TableName=reports_table)["Items"] == []


@pytest.mark.parametrize("bad", ["0", "20260101", "2026-1-1", "yesterday"])
def test_a_day_that_is_not_yyyy_mm_dd_is_400_not_read_as_1970(handler: Handler, bad: str) -> None:
    """The document says `format: date`; pydantic alone would read `to=0` as 1 January 1970."""
    event = rest_event("GET", "/reports", username="staff-1", groups="[staff]")
    event["queryStringParameters"] = {"to": bad}
    event["multiValueQueryStringParameters"] = {"to": [bad]}
    status, body = call(handler, event)
    assert status == 400
    assert [error["field"] for error in body["errors"]] == ["query.to"]
