"""The statistics functions over moto: the stream consumer counts once, GET /stats suppresses (P8)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext, response_json, rest_event
from boto3.dynamodb.types import TypeSerializer
from conftest import create_table_from_template

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
_serializer = TypeSerializer()
T0 = datetime(2026, 11, 29, 13, 20, tzinfo=UTC)
sequence = iter(range(10**6))
STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Contacts/stream/2026-01-01T00:00:00.000"


@pytest.fixture
def statistics_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_table_from_template("StatisticsTable")
    monkeypatch.setenv("STATISTICS_TABLE", name)
    return name


@pytest.fixture
def aggregator(statistics_table: str, load_handler: Callable[[str], Handler]) -> Handler:
    return load_handler("functions/stats_aggregator/app.py")


@pytest.fixture
def stats(statistics_table: str, load_handler: Callable[[str], Handler]) -> Handler:
    return load_handler("functions/stats/app.py")


def contact(n: int, **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"{n:032x}",
        "channel": "voice",
        "line": "national-helpline",
        "started_at": T0.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "Utrecht",
        "limit_outcome": "allowed",
        "month": "2026-11",
        "identifier_ciphertext": "c2VjcmV0",
        "identifier_retain_until": "2027-11-29",
    }
    item.update(changes)
    return {key: value for key, value in item.items() if value is not None}


def image(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items()}


def stream_record(
    event_name: str, new: dict[str, Any] | None, old: dict[str, Any] | None = None
) -> dict[str, Any]:
    change: dict[str, Any] = {
        "Keys": image({"id": (new or old or {})["id"]}),
        "SequenceNumber": f"{next(sequence):021d}",
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        change["NewImage"] = image(new)
    if old is not None:
        change["OldImage"] = image(old)
    return {
        "eventID": "1",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": change,
        "eventSourceARN": STREAM_ARN,
    }


def lifecycle(n: int, duration_s: int = 300, **changes: Any) -> list[dict[str, Any]]:
    """INSERT of the registration, then the MODIFY that sets its end and length."""
    started = contact(n, **changes)
    ended = {**started, "ended_at": "2026-11-29T13:30:00Z", "duration_s": duration_s}
    return [stream_record("INSERT", started), stream_record("MODIFY", ended, started)]


def feed(aggregator: Handler, records: list[dict[str, Any]]) -> dict[str, Any]:
    return aggregator({"Records": records}, FakeLambdaContext())


def get_stats(stats: Handler, query: dict[str, list[str]], accept: str | None = None) -> dict[str, Any]:
    event = rest_event("GET", "/stats", groups="[staff]")
    event["multiValueQueryStringParameters"] = query
    event["queryStringParameters"] = {key: values[-1] for key, values in query.items()}
    if accept is not None:
        event["headers"]["Accept"] = accept
        event["multiValueHeaders"]["Accept"] = [accept]
    return stats(event, FakeLambdaContext())


DAY_QUERY = {"from": ["2026-11-29"], "to": ["2026-11-30"], "by": ["day,line"]}


def test_insert_then_modify_and_a_redelivered_batch_count_once(aggregator: Handler, stats: Handler) -> None:
    batch = [record for n in range(5) for record in lifecycle(n)]
    assert feed(aggregator, batch) == {"batchItemFailures": []}
    assert feed(aggregator, batch) == {"batchItemFailures": []}  # the stream redelivers
    assert feed(aggregator, batch[:3]) == {"batchItemFailures": []}
    body = response_json(get_stats(stats, DAY_QUERY))
    assert body["rows"] == [
        {
            "day": "2026-11-29",
            "line": "national-helpline",
            "contacts": 5,
            "limited": 0,
            "duration_median_s": 360,
            "duration_p90_s": 360,
        }
    ]


def test_remove_does_not_uncount_and_limited_is_counted(aggregator: Handler, stats: Handler) -> None:
    records = [record for n in range(5) for record in lifecycle(n, limit_outcome="limited")]
    records.append(stream_record("REMOVE", None, contact(0)))
    assert feed(aggregator, records) == {"batchItemFailures": []}
    (row,) = response_json(get_stats(stats, DAY_QUERY))["rows"]
    assert (row["contacts"], row["limited"]) == (5, 5)


def test_an_unreadable_image_is_skipped_without_logging_it(
    aggregator: Handler, stats: Handler, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = contact(1, region="Utrecht, Maliebaan 1")
    assert feed(aggregator, [stream_record("INSERT", bad)]) == {"batchItemFailures": []}
    logged = capsys.readouterr()
    assert "Maliebaan" not in logged.out + logged.err
    assert "c2VjcmV0" not in logged.out + logged.err
    assert response_json(get_stats(stats, DAY_QUERY))["rows"] == []


def test_small_cells_are_suppressed_by_day_and_line(aggregator: Handler, stats: Handler) -> None:
    records = [record for n in range(6) for record in lifecycle(n, duration_s=60 * (n + 1))]
    records += [record for n in range(2) for record in lifecycle(100 + n, line="regio-utrecht")]
    feed(aggregator, records)
    response = get_stats(stats, DAY_QUERY)
    assert response["statusCode"] == 200
    body = response_json(response)
    assert (body["from"], body["to"], body["by"], body["k"]) == (
        "2026-11-29T00:00:00Z",
        "2026-11-30T00:00:00Z",
        ["day", "line"],
        5,
    )
    national, utrecht = body["rows"]
    assert (national["contacts"], national["duration_median_s"], national["duration_p90_s"]) == (6, 210, 360)
    assert utrecht == {
        "day": "2026-11-29",
        "line": "regio-utrecht",
        "contacts": "<5",
        "limited": None,
        "duration_median_s": None,
        "duration_p90_s": None,
    }


def test_csv_equals_json(aggregator: Handler, stats: Handler) -> None:
    records = [record for n in range(6) for record in lifecycle(n)]
    records += [record for n in range(2) for record in lifecycle(100 + n, channel="chat")]
    feed(aggregator, records)
    query = {"from": ["2026-11-29"], "to": ["2026-11-30"], "by": ["day", "channel"]}
    as_json = response_json(get_stats(stats, query))
    response = get_stats(stats, query, accept="text/csv")
    assert response["statusCode"] == 200
    assert response["multiValueHeaders"]["Content-Type"] == ["text/csv"]
    table = list(csv.DictReader(io.StringIO(response["body"])))
    assert list(table[0]) == ["day", "channel", "contacts", "limited", "duration_median_s", "duration_p90_s"]
    expected = [
        {name: "" if row[name] is None else str(row[name]) for name in table[0]} for row in as_json["rows"]
    ]
    assert table == expected
    assert [row["contacts"] for row in table] == ["<5", "6"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": ["29-11-2026"], "to": ["2026-11-30"]}, "query.from"),
        ({"from": [""], "to": [""]}, "query.from"),
        ({"to": ["2026-11-30"]}, "query.from"),
    ],
)
def test_parameters_of_the_wrong_shape_are_400_naming_the_field(
    stats: Handler, query: dict[str, list[str]], field: str
) -> None:
    response = get_stats(stats, query)
    assert response["statusCode"] == 400
    assert field in [error["field"] for error in response_json(response)["errors"]]
    assert "29-11-2026" not in response["body"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": ["2026-11-29"], "to": ["2026-11-30"], "by": ["day,contact"]}, "query.by"),
        ({"from": ["2025-01-01"], "to": ["2026-11-30"]}, "query.to"),
        ({"from": ["2026-11-30"], "to": ["2026-11-29"]}, "query.to"),
        ({"from": ["2026-11-29T10:30:00Z"], "to": ["2026-11-30"]}, "query.from"),
        ({"from": ["2026-02-30"], "to": ["2026-11-30"]}, "query.from"),
    ],
)
def test_parameters_of_the_right_shape_that_break_a_rule_are_422_naming_it(
    stats: Handler, query: dict[str, list[str]], field: str
) -> None:
    """The spec's patterns cannot say "a whole hour", "a real date" or "at most 400 days after from"."""
    response = get_stats(stats, query)
    assert response["statusCode"] == 422
    assert [error["field"] for error in response_json(response)["errors"]] == [field]


def test_only_staff(stats: Handler) -> None:
    event = rest_event("GET", "/stats", groups="[volunteer]")
    event["queryStringParameters"] = {"from": "2026-11-29", "to": "2026-11-30"}
    assert stats(event, FakeLambdaContext())["statusCode"] == 403


def test_a_year_by_day_is_a_query_per_month(
    aggregator: Handler, stats: Handler, statistics_table: str
) -> None:
    from helpline.dal.dynamodb import dynamodb_client

    queries: list[str] = []
    dynamodb_client().meta.events.register("before-call.dynamodb.Query", lambda **_: queries.append("Query"))
    records = [
        record
        for n in range(5)
        for record in lifecycle(n, started_at=(T0 - timedelta(days=40 * n)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    ]
    feed(aggregator, records)
    client = boto3.client("dynamodb")
    items = client.scan(TableName=statistics_table)["Items"]
    assert len([item for item in items if item["pk"]["S"].startswith("counted#")]) == 5
    response = get_stats(stats, {"from": ["2025-12-01"], "to": ["2026-12-01"]})
    assert [row["contacts"] for row in response_json(response)["rows"]] == ["<5"] * 5
    assert len(queries) == 12  # one per month, whatever the number of contacts
