"""In-memory fakes of the line registry's four-eyes ports (`helpline.logic.lines`), for tests only.

They keep the DynamoDB adapters' promises: a conditional write lands only on the line it expects, a
decision only on the version it read (a lock stands in for DynamoDB's conditions).
"""

from __future__ import annotations

import threading

from fakes_memory import InMemoryLinesRepository

from helpline.logic.lines import StaleLineChangeError
from helpline.models.lines import Line, LineChange


class InMemoryLineRegistry(InMemoryLinesRepository):
    """`LineRegistry` in a dict keyed by line_id."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def put_line_if(self, line: Line, expected: Line | None) -> bool:
        with self._lock:
            if self.items.get(line.line_id) != expected:
                return False
            self.items[line.line_id] = line.model_copy()
            return True

    def delete_line_if(self, expected: Line) -> bool:
        with self._lock:
            if self.items.get(expected.line_id) != expected:
                return False
            del self.items[expected.line_id]
            return True


class InMemoryLineChangeStore:
    """`LineChangeStore` in a dict keyed by change_id, version-checked."""

    def __init__(self) -> None:
        self.items: dict[str, LineChange] = {}
        self._lock = threading.Lock()

    def create(self, change: LineChange) -> bool:
        with self._lock:
            if change.change_id in self.items:
                return False
            self.items[change.change_id] = change.model_copy(deep=True)
            return True

    def get(self, change_id: str) -> LineChange | None:
        with self._lock:
            found = self.items.get(change_id)
            return found.model_copy(deep=True) if found is not None else None

    def update(self, change: LineChange) -> LineChange:
        with self._lock:
            found = self.items.get(change.change_id)
            if found is None or found.version != change.version:
                raise StaleLineChangeError(change.change_id)
            stored = change.model_copy(update={"version": change.version + 1}, deep=True)
            self.items[change.change_id] = stored
            return stored.model_copy(deep=True)

    def list_all(self) -> list[LineChange]:
        with self._lock:
            return [change.model_copy(deep=True) for change in self.items.values()]
