"""Statistics benchmark: GET /stats over a year by day, on 10,000 and on 500,000 stored contacts.

Prints its figures and asserts nothing. The aggregates are built by the same store logic the stream
consumer uses (`InMemoryStatisticsStore.apply_contact`/`apply_duration`, which shares the cell layout
with the DynamoDB adapter), then the route (`create_stats_app`, access check and all) is timed on
them. A query reads the cells of one subset, partitioned by month, so its cost depends on the number
of buckets (by day: at most 366 day cells of the total), not on the number of contacts.
Target: ratio <= 1.5.
Run with `python bench/stats.py`.
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from fakes_memory_stats import InMemoryStatisticsStore

from helpline.models.stats import ContactFacts
from helpline.routes.stats import create_stats_app

START = datetime(2025, 12, 1, tzinfo=UTC)
END = START + timedelta(days=365)
SIZES = (10_000, 500_000)
RUNS = 15
WARM_UP = 3
LINES = ("national-helpline", "regio-utrecht", "regio-amsterdam", "youth-line")
CHANNELS = ("voice", "chat", "email")
REGIONS = ("Utrecht", "Noord-Holland", "Zuid-Holland", "Gelderland", "mobile", "unknown", "abroad:BE")


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def build_store(contacts: int, seed: int = 8) -> InMemoryStatisticsStore:
    """`contacts` contacts at random times over the year, 9 in 10 with a length."""
    rng = random.Random(seed)
    store = InMemoryStatisticsStore()
    seconds = int((END - START).total_seconds())
    for n in range(contacts):
        facts = ContactFacts.model_construct(
            id=f"{n:032x}",
            channel=rng.choice(CHANNELS),
            line=rng.choice(LINES),
            started_at=START + timedelta(seconds=rng.randrange(seconds)),
            duration_s=int(rng.expovariate(1 / 600)) if rng.random() < 0.9 else None,
            region=rng.choice(REGIONS),
            limit_outcome="limited" if rng.random() < 0.02 else "allowed",
        )
        store.apply_contact(facts)
        store.apply_duration(facts)
    return store


def year_by_day_event() -> dict[str, Any]:
    query = {"from": [START.strftime("%Y-%m-%d")], "to": [END.strftime("%Y-%m-%d")], "by": ["day"]}
    return {
        "resource": "/stats",
        "path": "/stats",
        "httpMethod": "GET",
        "headers": {"Accept": "application/json"},
        "multiValueHeaders": {"Accept": ["application/json"]},
        "queryStringParameters": {key: values[-1] for key, values in query.items()},
        "multiValueQueryStringParameters": query,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/stats",
            "httpMethod": "GET",
            "path": "/dev/stats",
            "stage": "dev",
            "requestId": "bench",
            "identity": {"sourceIp": "192.0.2.1"},
            "authorizer": {"claims": {"cognito:username": "bench", "cognito:groups": "[staff]"}},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def time_query(store: InMemoryStatisticsStore) -> tuple[float, int, int, int]:
    """Median seconds of GET /stats over the year by day; cells and partitions read per query; rows."""
    app = create_stats_app(store=lambda: store, min_cell_size=lambda: 5)
    event = year_by_day_event()
    timings = []
    rows = 0
    for _ in range(WARM_UP):  # the first requests compile the route's validation models
        app.resolve(event, _Context())  # type: ignore[arg-type]
    for _ in range(RUNS):
        store.reads = store.partition_reads = 0
        began = time.perf_counter()
        response = app.resolve(event, _Context())  # type: ignore[arg-type]
        timings.append(time.perf_counter() - began)
        assert response["statusCode"] == 200, response["body"]
        rows = len(json.loads(response["body"])["rows"])
    return statistics.median(timings), store.reads, store.partition_reads, rows


def main() -> None:
    medians = []
    for size in SIZES:
        began = time.perf_counter()
        gc.disable()
        store = build_store(size)
        # The store stands in for a table outside the process: keep the collector from walking it
        # during the timed queries (it would otherwise time Python's GC, not the query).
        gc.freeze()
        gc.enable()
        built = time.perf_counter() - began
        median, cells, partitions, rows = time_query(store)
        medians.append(median)
        print(
            f"{size:>9,} contacts: GET /stats year by day median {median * 1000:7.1f} ms "
            f"({cells:,} cells in {partitions} month partitions = DynamoDB Queries, {rows} rows; "
            f"aggregates built in {built:.1f} s)"
        )
    print(f"ratio {SIZES[1]:,} / {SIZES[0]:,}: {medians[1] / medians[0]:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
