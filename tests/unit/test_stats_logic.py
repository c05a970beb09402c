"""Statistics logic (P8): cells, percentiles from histograms, suppression, CSV; in-memory store."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from fakes_memory_stats import InMemoryStatisticsStore

from helpline.logic.stats import (
    DURATION_BOUNDS,
    SUBSETS,
    StatsQueryError,
    bucket_value,
    cell_keys,
    duration_bucket,
    parse_by,
    parse_range,
    percentile,
    query_statistics,
    query_subset,
    render_csv,
    subset_key,
)
from helpline.models.stats import ContactFacts

T0 = datetime(2026, 11, 29, 13, 20, tzinfo=UTC)
DAY = datetime(2026, 11, 29, tzinfo=UTC)


def facts(n: int, **changes: object) -> ContactFacts:
    data: dict[str, object] = {
        "id": f"{n:032x}",
        "channel": "voice",
        "line": "national-helpline",
        "started_at": T0,
        "region": "Utrecht",
        "limit_outcome": "allowed",
        "duration_s": 300,
    }
    data.update(changes)
    return ContactFacts.model_validate(data)


def store_with(*contacts: ContactFacts) -> InMemoryStatisticsStore:
    store = InMemoryStatisticsStore()
    for contact in contacts:
        store.apply_contact(contact)
        store.apply_duration(contact)
    return store


def test_each_contact_adds_to_sixteen_cells_one_per_subset_and_grain() -> None:
    keys = cell_keys(facts(1))
    assert sorted(key.subset for key in keys) == sorted(SUBSETS)
    assert len(SUBSETS) == 16
    daily = next(key for key in keys if key.subset == "day:line")
    assert (daily.hour, daily.line, daily.region) == ("2026-11-29", "national-helpline", None)
    finest = next(key for key in keys if key.subset == "line+channel+region")
    assert (finest.hour, finest.line, finest.channel, finest.region) == (
        "2026-11-29T13",
        "national-helpline",
        "voice",
        "Utrecht",
    )
    total = next(key for key in keys if key.subset == "all")
    assert (total.line, total.channel, total.region) == (None, None, None)


def test_subset_key_is_canonical_and_the_grain_follows_the_query() -> None:
    assert subset_key(["region", "day", "line"]) == "line+region"
    assert subset_key(["week"]) == "all"
    assert query_subset(["week"], DAY, DAY + timedelta(days=7)) == "day:all"
    assert query_subset(["hour", "line"], DAY, DAY + timedelta(days=7)) == "line"
    assert query_subset(["day"], DAY + timedelta(hours=6), DAY + timedelta(days=7)) == "all"


def test_buckets_and_representative_values() -> None:
    assert duration_bucket(0) == 0
    assert duration_bucket(4) == 0
    assert duration_bucket(5) == 1
    assert duration_bucket(10**6) == len(DURATION_BOUNDS) - 1
    assert bucket_value(duration_bucket(300)) == 360  # 300..420
    assert bucket_value(len(DURATION_BOUNDS) - 1) == 14400


def test_percentile_nearest_rank_over_histogram() -> None:
    histogram = {duration_bucket(60): 5, duration_bucket(600): 4, duration_bucket(3600): 1}
    assert percentile(histogram, 0.5) == bucket_value(duration_bucket(60))
    assert percentile(histogram, 0.9) == bucket_value(duration_bucket(600))
    assert percentile({}, 0.5) is None


def test_redelivered_applications_count_once() -> None:
    store = InMemoryStatisticsStore()
    contact = facts(1)
    assert store.apply_contact(contact) is True
    assert store.apply_contact(contact) is False
    assert store.apply_duration(contact) is True
    assert store.apply_duration(contact) is False
    assert store.apply_duration(facts(2, duration_s=None)) is False


def test_small_cells_are_suppressed_and_withheld() -> None:
    contacts = [facts(n, limit_outcome="limited" if n == 0 else "allowed") for n in range(6)]
    contacts += [facts(100 + n, line="regio-utrecht", duration_s=30) for n in range(2)]
    table = query_statistics(store_with(*contacts), DAY, DAY + timedelta(days=1), ["day", "line"], 5)
    big, small = table.rows
    assert big.model_dump() == {
        "hour": None,
        "week": None,
        "day": "2026-11-29",
        "line": "national-helpline",
        "channel": None,
        "region": None,
        "contacts": 6,
        "limited": "<5",
        "duration_median_s": 360,
        "duration_p90_s": 360,
    }
    assert (small.line, small.contacts, small.limited) == ("regio-utrecht", "<5", None)
    assert (small.duration_median_s, small.duration_p90_s) == (None, None)


def test_lengths_need_k_lengths_even_in_a_large_cell() -> None:
    contacts = [facts(n, duration_s=None) for n in range(9)] + [facts(99, duration_s=4000)]
    (row,) = query_statistics(store_with(*contacts), DAY, DAY + timedelta(days=1), ["day"], 5).rows
    assert row.contacts == 10
    assert row.duration_median_s is None


def test_k_is_configurable() -> None:
    contacts = [facts(n) for n in range(6)]
    (row,) = query_statistics(store_with(*contacts), DAY, DAY + timedelta(days=1), ["day"], 10).rows
    assert row.contacts == "<10"


def test_range_is_half_open_and_by_week_and_hour() -> None:
    contacts = [facts(n) for n in range(5)] + [
        facts(10 + n, started_at=T0 + timedelta(hours=1)) for n in range(5)
    ]
    store = store_with(*contacts)
    end = datetime(2026, 11, 29, 14, tzinfo=UTC)
    table = query_statistics(store, DAY, end, ["week", "hour"], 5)
    assert [(row.day, row.contacts) for row in query_statistics(store, DAY, end, ["day"], 5).rows] == [
        ("2026-11-29", 5)
    ]
    assert [(row.week, row.hour, row.contacts) for row in table.rows] == [
        ("2026-W48", "2026-11-29T13:00:00Z", 5)
    ]


def test_a_month_boundary_is_crossed() -> None:
    contacts = [facts(n, started_at=datetime(2026, 11, 30, 23, tzinfo=UTC)) for n in range(5)]
    contacts += [facts(10 + n, started_at=datetime(2026, 12, 1, 0, tzinfo=UTC)) for n in range(5)]
    store = store_with(*contacts)
    table = query_statistics(store, DAY, datetime(2026, 12, 2, tzinfo=UTC), ["day"], 5)
    assert [(row.day, row.contacts) for row in table.rows] == [("2026-11-30", 5), ("2026-12-01", 5)]


def test_csv_has_the_same_rows() -> None:
    contacts = [facts(n) for n in range(5)] + [facts(10, channel="chat")]
    table = query_statistics(store_with(*contacts), DAY, DAY + timedelta(days=1), ["channel"], 5)
    rows = list(csv.reader(io.StringIO(render_csv(table))))
    assert rows == [
        ["channel", "contacts", "limited", "duration_median_s", "duration_p90_s"],
        ["chat", "<5", "", "", ""],
        ["voice", "5", "0", "360", "360"],
    ]


def test_parse_range_accepts_dates_and_whole_hours() -> None:
    assert parse_range("2026-01-01", "2026-01-02T05:00:00+01:00") == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 2, 4, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("yesterday", "2026-01-02", "from"),
        ("2026-01-01T10:30:00Z", "2026-01-02", "from"),
        ("2026-01-01T10:00:00", "2026-01-02", "from"),
        ("2026-01-02", "2026-01-01", "to"),
        ("2025-01-01", "2026-02-06", "to"),
    ],
)
def test_parse_range_rejects(start: str, end: str, field: str) -> None:
    with pytest.raises(StatsQueryError) as caught:
        parse_range(start, end)
    assert caught.value.field == field


def test_parse_by() -> None:
    assert parse_by(None) == ["day"]
    assert parse_by(["line,day", "line", "region"]) == ["line", "day", "region"]
    with pytest.raises(StatsQueryError):
        parse_by(["contact"])
