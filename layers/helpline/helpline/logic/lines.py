"""Use cases of the line registry: list the lines, register (or change) one."""

from __future__ import annotations

from datetime import datetime

from helpline.logic.ports import LinesRepository
from helpline.models.lines import Line, LineIn


def list_lines(repo: LinesRepository) -> list[Line]:
    """All lines, sorted by line_id so that every listing reads the same."""
    return sorted(repo.list_lines(), key=lambda line: line.line_id)


def register_line(repo: LinesRepository, line_id: str, line: LineIn, actor: str, now: datetime) -> Line:
    """Store `line` under `line_id` (create or replace), stamped with who saved it and when.

    The clock and the actor come in as arguments so the function stays pure and testable.
    """
    stored = Line(line_id=line_id, updated_at=now, updated_by=actor, **line.model_dump())
    repo.put_line(stored)
    return stored
