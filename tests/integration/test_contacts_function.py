"""ContactsFunction over moto (P8): the register, newest first, filtered, and never an identifier."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext, response_json, rest_event

from helpline.dal.dynamodb import to_item
from helpline.models.contacts import ContactRecord

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
CIPHERTEXT = "Q0lQSEVSVEVYVC1PRi1BLU5VTUJFUg=="


@pytest.fixture
def handler(contacts_table: str, load_handler: Callable[[str], Handler]) -> Handler:
    return load_handler("functions/contacts/app.py")


def store(table: str, n: int, started_at: str, **fields: Any) -> ContactRecord:
    record = ContactRecord.model_validate(
        {
            "id": f"{n:032x}",
            "channel": "voice",
            "line": "national",
            "started_at": started_at,
            "region": "Utrecht",
            "limit_outcome": "allowed",
            "identifier_ciphertext": CIPHERTEXT,
            "identifier_retain_until": "2027-01-01",
            **fields,
        }
    )
    boto3.client("dynamodb").put_item(
        TableName=table, Item=to_item(record.model_dump(mode="json", exclude_none=True))
    )
    return record


def list_event(groups: str = "[staff]", **query: str) -> dict[str, Any]:
    event = rest_event("GET", "/contacts", groups=groups)
    event["queryStringParameters"] = query or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    return event


def call(handler: Handler, event: dict[str, Any]) -> tuple[int, Any]:
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


PERIOD = {"from": "2026-01-01", "to": "2026-03-31"}


def test_the_register_never_carries_an_identifier(handler: Handler, contacts_table: str) -> None:
    store(contacts_table, 1, "2026-03-01T10:00:00Z", ended_at="2026-03-01T10:20:00Z", duration_s=1200)
    response = handler(list_event(**PERIOD), FakeLambdaContext())
    assert response["statusCode"] == 200
    assert "identifier" not in response["body"]
    assert CIPHERTEXT not in response["body"]
    assert "retain" not in response["body"]
    assert '"month"' not in response["body"]
    (item,) = json.loads(response["body"])["items"]
    assert item == {
        "id": f"{1:032x}",
        "channel": "voice",
        "line": "national",
        "started_at": "2026-03-01T10:00:00Z",
        "ended_at": "2026-03-01T10:20:00Z",
        "duration_s": 1200,
        "region": "Utrecht",
        "limit_outcome": "allowed",
    }


def test_one_contact_carries_no_identifier_either(handler: Handler, contacts_table: str) -> None:
    store(contacts_table, 7, "2026-03-01T10:00:00Z")
    contact_id = f"{7:032x}"
    event = rest_event(
        "GET",
        "/contacts/{id}",
        f"/contacts/{contact_id}",
        groups="[mentor]",
        path_parameters={"id": contact_id},
    )
    response = handler(event, FakeLambdaContext())
    assert response["statusCode"] == 200
    assert CIPHERTEXT not in response["body"]
    assert set(response_json(response)) == {
        "id",
        "channel",
        "line",
        "started_at",
        "ended_at",
        "duration_s",
        "region",
        "limit_outcome",
    }
    missing = "f" * 32
    event = rest_event(
        "GET", "/contacts/{id}", f"/contacts/{missing}", groups="[staff]", path_parameters={"id": missing}
    )
    assert call(handler, event) == (404, {"message": "No such contact"})


def test_pages_run_newest_first_across_months(handler: Handler, contacts_table: str) -> None:
    days = ["2026-01-05", "2026-01-20", "2026-02-01", "2026-02-14", "2026-02-28", "2026-03-02", "2026-03-30"]
    stored = [store(contacts_table, n, f"{day}T09:00:00Z") for n, day in enumerate(days, start=1)]
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        query = dict(PERIOD, limit="3") | ({"next_token": token} if token else {})
        status, body = call(handler, list_event(**query))
        assert status == 200
        assert len(body["items"]) <= 3
        seen.extend(item["id"] for item in body["items"])
        pages += 1
        token = body.get("next_token")
        if token is None:
            break
    assert seen == [record.id for record in reversed(stored)]
    assert pages == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"channel": "chat"}, [2]),
        ({"line": "regio-utrecht"}, [3]),
        ({"region": "mobile"}, [2]),
        ({"limit_outcome": "limited"}, [4]),
        ({"from": "2026-02-01", "to": "2026-02-28"}, [3]),
        ({}, [4, 3, 2, 1]),
    ],
)
def test_filters_work(
    handler: Handler, contacts_table: str, query: dict[str, str], expected: list[int]
) -> None:
    store(contacts_table, 1, "2026-01-10T08:00:00Z")
    store(contacts_table, 2, "2026-01-11T08:00:00Z", channel="chat", region="mobile")
    store(contacts_table, 3, "2026-02-12T08:00:00Z", line="regio-utrecht")
    store(contacts_table, 4, "2026-03-13T08:00:00Z", limit_outcome="limited")
    status, body = call(handler, list_event(**(PERIOD | query)))
    assert status == 200
    assert [int(item["id"], 16) for item in body["items"]] == expected


def test_a_filtered_page_is_filled_across_filtered_out_contacts(
    handler: Handler, contacts_table: str
) -> None:
    for n in range(1, 9):
        store(contacts_table, n, f"2026-03-{n:02d}T08:00:00Z", channel="chat" if n % 4 == 0 else "voice")
    status, body = call(handler, list_event(**PERIOD, channel="chat", limit="1"))
    assert [int(item["id"], 16) for item in body["items"]] == [8]
    status, body = call(
        handler, list_event(**PERIOD, channel="chat", limit="1", next_token=body["next_token"])
    )
    assert [int(item["id"], 16) for item in body["items"]] == [4]
    # A full page cannot know whether a match follows; the page after it may be empty, and is the end.
    status, body = call(
        handler, list_event(**PERIOD, channel="chat", limit="1", next_token=body["next_token"])
    )
    assert (status, body["items"], body.get("next_token")) == (200, [], None)


def test_input_of_the_wrong_shape_is_400(handler: Handler) -> None:
    assert call(handler, list_event(channel="fax"))[0] == 400
    assert call(handler, list_event(to="0"))[0] == 400  # pydantic alone would read 0 as 1970-01-01


def test_input_of_the_right_shape_that_breaks_a_rule_is_422(handler: Handler) -> None:
    assert call(handler, list_event(**{"from": "2026-03-02", "to": "2026-03-01"}))[0] == 422
    assert call(handler, list_event(**{"from": "2000-01-01"}))[0] == 422
    assert call(handler, list_event(next_token="bm90LWEtdG9rZW4="))[0] == 422


def test_a_volunteer_is_403(handler: Handler) -> None:
    status, body = call(handler, list_event(groups="[volunteer]"))
    assert status == 403
    assert body == {"message": "Forbidden: this route is for the groups mentor, staff"}
