"""Statistics over the anonymised registration (P8), pure: no AWS.

Layout of the aggregates. Each contact adds to one cell per *subset* of the entry dimensions
(line, channel, region), from the total ("all") to the finest ("line+channel+region"), at two time
grains: its UTC hour and its UTC day (subset names `day:...`). Sixteen cells per contact. A query reads
only the subset and grain its `by` needs (the day grain unless it asks for `hour` or its range does not
start and end at midnight), so it touches at most (days or hours in range) x (values of the asked
dimensions) cells: its cost depends on the number of buckets, never on the number of contacts.

Exactly once. Counting a contact and adding its length are two separate, idempotent applications
(`StatisticsStore.apply_contact`, `apply_duration`): the store refuses an application it has seen.

Lengths. Each cell keeps a histogram of lengths over `DURATION_BOUNDS`, so median and 90th percentile
can be computed after rolling cells up. A percentile is reported as the representative value of the
bucket it falls in (the bucket's midpoint; 14400 for the open last bucket), so it is exact to within
half a bucket: +-2.5 s below 1 minute, +-15 s to 3 minutes, at most about +-20% above.

Suppression (P8). A cell with fewer than k contacts shows `"<k"` as its count and withholds the rest;
a `limited` count of 1..k-1 shows `"<k"`; the length figures need k lengths, or a single contact's
length could be read from a cell of many contacts of which only one has ended.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Protocol

from helpline.models.stats import (
    DIMENSIONS,
    ENTRY_DIMENSIONS,
    ContactFacts,
    Dimension,
    StatsRow,
    StatsTable,
)

DURATION_BOUNDS: Final[tuple[int, ...]] = (
    0, 5, 10, 15, 20, 30, 45, 60, 90, 120, 150, 180, 240, 300, 420, 600, 900, 1200, 1800, 2700,
    3600, 5400, 7200, 10800, 14400,
)  # fmt: skip
"""Lower bounds (seconds) of the length buckets; the last bucket is open (4 hours and longer)."""
MAX_RANGE: Final = timedelta(days=400)
DEFAULT_BY: Final[tuple[Dimension, ...]] = ("day",)
HOUR_FORMAT: Final = "%Y-%m-%dT%H"
"""An hour key, e.g. `2026-11-29T13`; sorts as text in time order."""
ALL: Final = "all"
"""The subset key of the cells that split by no entry dimension."""
CSV_FIGURES: Final = ("contacts", "limited", "duration_median_s", "duration_p90_s")


class StatsQueryError(ValueError):
    """A query parameter is invalid; `field` names it, the message never quotes the value."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


@dataclass(frozen=True, order=True)
class CellKey:
    """Where an aggregate lives: its subset, its UTC hour (or day), and the entry values of the subset."""

    subset: str
    hour: str
    line: str | None = None
    channel: str | None = None
    region: str | None = None


@dataclass
class Aggregate:
    """The figures of one cell: contacts, limited, and the histogram {bucket index: lengths}."""

    key: CellKey
    contacts: int = 0
    limited: int = 0
    durations: dict[int, int] = field(default_factory=dict)

    def add(self, other: Aggregate) -> None:
        """Roll `other` into this one."""
        self.contacts += other.contacts
        self.limited += other.limited
        for bucket, count in other.durations.items():
            self.durations[bucket] = self.durations.get(bucket, 0) + count


class StatisticsStore(Protocol):
    """Where the aggregates live (DynamoDB, or memory for tests and the benchmark)."""

    def apply_contact(self, facts: ContactFacts) -> bool:
        """Count the contact in its cells, unless it was counted; True if counted now."""
        ...

    def apply_duration(self, facts: ContactFacts) -> bool:
        """Add its length to its cells' histograms, unless added before; True if added now."""
        ...

    def read_aggregates(self, subset: str, start: datetime, end: datetime) -> Iterable[Aggregate]:
        """The cells of `subset` whose hour (day, for `day:` subsets) is in [start, end)."""
        ...


# ---------------------------------------------------------------- aggregation (writes)


def subset_key(dimensions: Iterable[str]) -> str:
    """`all`, or the entry dimensions joined by `+` in the order line, channel, region."""
    chosen = [name for name in ENTRY_DIMENSIONS if name in set(dimensions)]
    return "+".join(chosen) or ALL


DAY_GRAIN: Final = "day:"
"""Prefix of the subsets kept per UTC day rather than per hour."""
HOUR_SUBSETS: Final[tuple[str, ...]] = tuple(
    subset_key(combo) for size in range(4) for combo in itertools.combinations(ENTRY_DIMENSIONS, size)
)
SUBSETS: Final[tuple[str, ...]] = HOUR_SUBSETS + tuple(DAY_GRAIN + name for name in HOUR_SUBSETS)
"""All sixteen subsets each contact is counted in."""


def key_width(subset: str) -> int:
    """Length of the time key of `subset`'s cells: 10 (`YYYY-MM-DD`) or 13 (`YYYY-MM-DDTHH`)."""
    return 10 if subset.startswith(DAY_GRAIN) else 13


def query_subset(by: Sequence[str], start: datetime, end: datetime) -> str:
    """The subset a query reads: day grain when it needs no hours and covers whole days."""
    whole_days = start.hour == 0 and end.hour == 0
    subset = subset_key(by)
    return DAY_GRAIN + subset if whole_days and "hour" not in by else subset


def hour_key(moment: datetime) -> str:
    """The UTC hour `moment` falls in."""
    return moment.astimezone(UTC).strftime(HOUR_FORMAT)


def cell_keys(facts: ContactFacts) -> list[CellKey]:
    """The sixteen cells a contact adds to: one per subset, in the hour (day) it started."""
    hour = hour_key(facts.started_at)
    keys = []
    for subset in SUBSETS:
        parts = set(subset.removeprefix(DAY_GRAIN).split("+"))
        keys.append(
            CellKey(
                subset=subset,
                hour=hour[: key_width(subset)],
                line=facts.line if "line" in parts else None,
                channel=facts.channel if "channel" in parts else None,
                region=facts.region if "region" in parts else None,
            )
        )
    return keys


def duration_bucket(seconds: int) -> int:
    """Index of the length bucket `seconds` falls in."""
    return max(0, bisect_right(DURATION_BOUNDS, max(0, seconds)) - 1)


def bucket_value(index: int) -> int:
    """The value reported for a percentile in bucket `index`: its midpoint, or the open bucket's bound."""
    low = DURATION_BOUNDS[index]
    if index + 1 >= len(DURATION_BOUNDS):
        return low
    return (low + DURATION_BOUNDS[index + 1]) // 2


def percentile(histogram: Mapping[int, int], fraction: float) -> int | None:
    """Nearest-rank percentile of a histogram, as its bucket's value; None when it is empty."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return bucket_value(index)
    raise AssertionError("unreachable: rank <= total")


# ---------------------------------------------------------------- query parameters

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_instant(text: str, field_name: str) -> datetime:
    """A date (midnight UTC) or an ISO datetime with a zone, on a whole UTC hour (the grain)."""
    try:
        if _DATE.fullmatch(text):
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise StatsQueryError(field_name, "must be a date (YYYY-MM-DD) or an ISO datetime") from None
    if moment.tzinfo is None:
        raise StatsQueryError(field_name, "a datetime must have a zone (Z or +hh:mm)")
    moment = moment.astimezone(UTC)
    if moment != moment.replace(minute=0, second=0, microsecond=0):
        raise StatsQueryError(field_name, "must be a whole UTC hour: statistics are kept per hour")
    return moment


def parse_range(start_text: str, end_text: str) -> tuple[datetime, datetime]:
    """[from, to), at most `MAX_RANGE` long."""
    start = parse_instant(start_text, "from")
    end = parse_instant(end_text, "to")
    if end <= start:
        raise StatsQueryError("to", "must be after from")
    if end - start > MAX_RANGE:
        raise StatsQueryError("to", f"the range may be at most {MAX_RANGE.days} days")
    return start, end


def parse_by(values: Sequence[str] | None) -> list[Dimension]:
    """`by` as repeated parameters and/or comma-separated lists; duplicates dropped, order kept."""
    chosen: list[Dimension] = []
    for value in values or ():
        for part in value.split(","):
            name = part.strip()
            if not name:
                continue
            if name not in DIMENSIONS:
                raise StatsQueryError("by", f"each value must be one of {', '.join(DIMENSIONS)}")
            if name not in chosen:
                chosen.append(name)
    return chosen or list(DEFAULT_BY)


# ---------------------------------------------------------------- roll-up and suppression (reads)


@functools.lru_cache(maxsize=16384)
def _time_values(hour: str) -> dict[str, str]:
    """Row keys of an hour (or day) key; cached, as a year holds at most 8,784 hours."""
    moment = datetime.strptime(hour if len(hour) > 10 else f"{hour}T00", HOUR_FORMAT).replace(tzinfo=UTC)
    year, week, _ = moment.date().isocalendar()
    return {
        "hour": moment.strftime("%Y-%m-%dT%H:00:00Z"),
        "day": moment.strftime("%Y-%m-%d"),
        "week": f"{year}-W{week:02d}",
    }


def roll_up(aggregates: Iterable[Aggregate], by: Sequence[Dimension]) -> dict[tuple[str, ...], Aggregate]:
    """Sum hour cells into the cells of `by`, keyed by their values in `by` order."""
    cells: dict[tuple[str, ...], Aggregate] = {}
    wants_time = any(name in by for name in ("hour", "day", "week"))
    for aggregate in aggregates:
        values: dict[str, str | None] = {
            "line": aggregate.key.line,
            "channel": aggregate.key.channel,
            "region": aggregate.key.region,
        }
        if wants_time:
            values.update(_time_values(aggregate.key.hour))
        key = tuple(str(values[name]) for name in by)
        cell = cells.get(key)
        if cell is None:
            cells[key] = cell = Aggregate(key=aggregate.key)
        cell.add(aggregate)
    return cells


def suppressed_label(k: int) -> str:
    """How a count below k is shown (P8)."""
    return f"<{k}"


def to_row(values: tuple[str, ...], cell: Aggregate, by: Sequence[Dimension], k: int) -> StatsRow:
    """One cell as a row, suppressed below k (P8): no contact's length or limit can be singled out."""
    keys = dict(zip(by, values, strict=True))
    if cell.contacts < k:
        return StatsRow(
            **keys,
            contacts=suppressed_label(k),
            limited=None,
            duration_median_s=None,
            duration_p90_s=None,
        )
    enough_lengths = sum(cell.durations.values()) >= k
    return StatsRow(
        **keys,
        contacts=cell.contacts,
        limited=cell.limited if cell.limited == 0 or cell.limited >= k else suppressed_label(k),
        duration_median_s=percentile(cell.durations, 0.5) if enough_lengths else None,
        duration_p90_s=percentile(cell.durations, 0.9) if enough_lengths else None,
    )


def query_statistics(
    store: StatisticsStore, start: datetime, end: datetime, by: Sequence[Dimension], k: int
) -> StatsTable:
    """The table of [start, end) by `by`, from the one subset of aggregates that `by` needs."""
    subset = query_subset(by, start, end)
    cells = roll_up(store.read_aggregates(subset, start, end), by)
    rows = [to_row(values, cells[values], by, k) for values in sorted(cells)]
    return StatsTable(
        from_=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        to=end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        by=list(by),
        k=k,
        rows=rows,
    )


def render_csv(table: StatsTable) -> str:
    """The same rows as CSV: the `by` columns, then the figures; "<k" as is, withheld as empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*table.by, *CSV_FIGURES])
    for row in table.rows:
        data = row.model_dump()
        writer.writerow(["" if data[name] is None else data[name] for name in (*table.by, *CSV_FIGURES)])
    return out.getvalue()
