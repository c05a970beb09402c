"""In-memory fakes of the staff-API ports (register, audit log, supervision record, transcripts).

For unit tests and benchmarks: no AWS, no moto. They follow the DynamoDB adapters' semantics (newest
first, the same tokens, seq given out once) so the domain behaves the same on both.
"""

from __future__ import annotations

import threading

from helpline.logic.audit import AuditEntry, AuditEvent, next_entry
from helpline.logic.register import matches, months_newest_first
from helpline.logic.supervision import InvalidTokenError
from helpline.models.register import ContactFilter, ContactView, RegisterPosition
from helpline.models.supervision import SupervisionRecord
from helpline.models.transcripts import DecryptedPart


def _utc(view: ContactView) -> str:
    return view.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")


class InMemoryRegister:
    """`RegisterStore` over a list of views."""

    def __init__(self, contacts: list[ContactView] | None = None) -> None:
        self.contacts: list[ContactView] = list(contacts or [])

    def get(self, contact_id: str) -> ContactView | None:
        """The view with this id, or None."""
        return next((view for view in self.contacts if view.id == contact_id), None)

    def page(
        self, query: ContactFilter, after: RegisterPosition | None, limit: int
    ) -> tuple[list[ContactView], RegisterPosition | None]:
        """Matching contacts in (month, started_at, id) descending order, as the index returns them."""
        months = set(months_newest_first(query.first_day, query.last_day))
        lowest = f"{query.first_day.isoformat()}T00:00:00Z"
        highest = f"{query.last_day.isoformat()}T23:59:59Z"
        ordered = sorted(
            (v for v in self.contacts if v.started_at.strftime("%Y-%m") in months),
            key=lambda v: (_utc(v), v.id),
            reverse=True,
        )
        selected = [v for v in ordered if lowest <= _utc(v) <= highest and matches(v, query)]
        if after is not None:
            selected = [v for v in selected if (_utc(v), v.id) < (after.started_at, after.id)]
        page = selected[:limit]
        if len(selected) <= limit:
            return page, None
        last = page[-1]
        return page, RegisterPosition(
            month=last.started_at.strftime("%Y-%m"), started_at=_utc(last), id=last.id
        )


class InMemoryAuditLog:
    """`AuditLog` in a list; a lock stands in for DynamoDB's conditional put."""

    def __init__(self) -> None:
        self.items: list[AuditEntry] = []
        self._lock = threading.Lock()

    def append(self, event: AuditEvent) -> AuditEntry:
        """Link `event` to the last entry."""
        with self._lock:
            entry = next_entry(self.items[-1] if self.items else None, event)
            self.items.append(entry)
            return entry

    def entries(self) -> list[AuditEntry]:
        """The chain, oldest first."""
        with self._lock:
            return list(self.items)


class InMemorySupervisionStore:
    """`SupervisionStore` in a list; tokens are the index of the next record (as text)."""

    def __init__(self) -> None:
        self.items: list[SupervisionRecord] = []

    def put(self, item: SupervisionRecord) -> None:
        """Store one record."""
        self.items.append(item)

    def page(self, limit: int, token: str | None) -> tuple[list[SupervisionRecord], str | None]:
        """Newest first."""
        if token is not None and not token.isdigit():
            raise InvalidTokenError("next_token is not valid")
        start = int(token) if token else 0
        ordered = sorted(self.items, key=lambda r: (r.at, r.id), reverse=True)
        end = start + limit
        return ordered[start:end], (str(end) if end < len(ordered) else None)


class InMemoryTranscriptReader:
    """`TranscriptReader` over decrypted parts by contact id."""

    def __init__(self, parts: dict[str, list[DecryptedPart]] | None = None) -> None:
        self.parts = dict(parts or {})

    def read(self, contact_id: str) -> list[DecryptedPart]:
        """The parts of the contact, in the order given."""
        return list(self.parts.get(contact_id, []))


class FakeSupervisionProvider:
    """`SupervisionProvider` that remembers its calls (and can fail like a provider outage)."""

    name: str = "fake-provider"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def start_monitoring(self, contact_id: str, mode: str, supervisor: str) -> str:
        """Remember the call."""
        self.calls.append((contact_id, mode, supervisor))
        return "fake-monitoring"
