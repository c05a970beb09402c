"""What the domain needs from storage; DynamoDB (`helpline.dal`) and memory fakes implement it."""

from __future__ import annotations

from typing import Protocol

from helpline.models.contacts import ContactRecord
from helpline.models.lines import Line


class LinesRepository(Protocol):
    """The line registry."""

    def list_lines(self) -> list[Line]:
        """Every registered line, in no particular order."""
        ...

    def put_line(self, line: Line) -> None:
        """Create or replace the line with `line.line_id`."""
        ...


class ContactsRepository(Protocol):
    """The anonymised contact registration (P8)."""

    def put_if_absent(self, record: ContactRecord) -> bool:
        """Store `record` unless its id is present; True if it was stored now."""
        ...
