"""In-memory implementations of `logic.ports`, for unit tests and benchmarks (no AWS, no moto).

They keep copies, not the caller's objects, so a test cannot pass by mutating what it stored.
"""

from __future__ import annotations

from helpline.models.contacts import ContactRecord
from helpline.models.lines import Line


class InMemoryLinesRepository:
    """`LinesRepository` in a dict keyed by line_id."""

    def __init__(self) -> None:
        self.items: dict[str, Line] = {}

    def list_lines(self) -> list[Line]:
        """Every line, in insertion order (the domain sorts)."""
        return [line.model_copy() for line in self.items.values()]

    def put_line(self, line: Line) -> None:
        """Create or replace."""
        self.items[line.line_id] = line.model_copy()


class InMemoryContactsRepository:
    """`ContactsRepository` in a dict keyed by id, with the same condition as the DynamoDB put."""

    def __init__(self) -> None:
        self.items: dict[str, ContactRecord] = {}

    def put_if_absent(self, record: ContactRecord) -> bool:
        """Store unless the id is present."""
        if record.id in self.items:
            return False
        self.items[record.id] = record.model_copy()
        return True
