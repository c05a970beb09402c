"""In-memory reports and contact lookup, for unit tests and benchmarks (no AWS, no moto; P8)."""

from __future__ import annotations

import threading
from datetime import datetime

from helpline.models.reports import Report


class InMemoryReportsRepository:
    """`ReportsRepository` in a dict keyed by (contact_id, id); copies in, copies out."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Report] = {}
        self._lock = threading.Lock()

    def put(self, report: Report) -> None:
        with self._lock:
            self.items[(report.contact_id, report.id)] = report.model_copy()

    def for_contact(self, contact_id: str) -> list[Report]:
        return [r.model_copy() for (cid, _), r in list(self.items.items()) if cid == contact_id]

    def in_period(self, start: datetime, end: datetime) -> list[Report]:
        return [r.model_copy() for r in list(self.items.values()) if start <= r.created_at < end]

    def by_author(self, author: str, start: datetime, end: datetime) -> list[Report]:
        return [r for r in self.in_period(start, end) if r.author == author]


class InMemoryContactLookup:
    """`ContactLookup` over a set of known contact ids."""

    def __init__(self, contact_ids: set[str] | None = None) -> None:
        self.contact_ids = set(contact_ids or ())

    def exists(self, contact_id: str) -> bool:
        return contact_id in self.contact_ids
