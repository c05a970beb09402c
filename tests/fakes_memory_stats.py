"""`StatisticsStore` in memory, for unit tests and the benchmark: same cells, same once-only rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from helpline.logic.stats import Aggregate, CellKey, cell_keys, duration_bucket, hour_key, key_width
from helpline.models.stats import ContactFacts


class InMemoryStatisticsStore:
    """Cells partitioned as in DynamoDB (subset and month), markers in sets.

    `reads` counts the cells queries hand out, `partition_reads` the partitions they open (what
    would be Queries on DynamoDB).
    """

    def __init__(self) -> None:
        self.cells: dict[tuple[str, str], dict[CellKey, Aggregate]] = {}
        self.partition_reads = 0
        self.counted: set[str] = set()
        self.timed: set[str] = set()
        self.reads = 0

    def _cells(self, facts: ContactFacts) -> Iterator[Aggregate]:
        for key in cell_keys(facts):
            partition = self.cells.setdefault((key.subset, key.hour[:7]), {})
            cell = partition.get(key)
            if cell is None:
                partition[key] = cell = Aggregate(key=key)
            yield cell

    def apply_contact(self, facts: ContactFacts) -> bool:
        """Count once per contact id."""
        if facts.id in self.counted:
            return False
        self.counted.add(facts.id)
        for cell in self._cells(facts):
            cell.contacts += 1
            cell.limited += 1 if facts.limit_outcome == "limited" else 0
        return True

    def apply_duration(self, facts: ContactFacts) -> bool:
        """Add the length once per contact id; False without a length."""
        if facts.duration_s is None or facts.id in self.timed:
            return False
        self.timed.add(facts.id)
        bucket = duration_bucket(facts.duration_s)
        for cell in self._cells(facts):
            cell.durations[bucket] = cell.durations.get(bucket, 0) + 1
        return True

    def read_aggregates(self, subset: str, start: datetime, end: datetime) -> Iterator[Aggregate]:
        """Copies of the cells of `subset` with hour (day) in [start, end)."""
        width = key_width(subset)
        first, stop = hour_key(start)[:width], hour_key(end)[:width]
        for month in sorted({month for (name, month) in self.cells if name == subset}):
            if not first[:7] <= month <= stop[:7]:
                continue
            self.partition_reads += 1
            for key, cell in self.cells[(subset, month)].items():
                if first <= key.hour < stop:
                    self.reads += 1
                    yield Aggregate(cell.key, cell.contacts, cell.limited, dict(cell.durations))
