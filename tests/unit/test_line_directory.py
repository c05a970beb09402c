"""The cached line directory: one registry scan a minute, a stale copy when DynamoDB fails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.exceptions import EndpointConnectionError
from fakes_memory import InMemoryLinesRepository

from helpline.dal.line_directory import CachedLineDirectory
from helpline.logic.ports import DependencyError
from helpline.models.lines import Line

LINE = Line(
    line_id="national-helpline",
    kind="helpline",
    channel="voice",
    address="+31881234000",
    display_name="Hulplijn",
    updated_at=datetime(2026, 11, 29, tzinfo=UTC),
    updated_by="admin",
)


class CountingRepository(InMemoryLinesRepository):
    def __init__(self) -> None:
        super().__init__()
        self.scans = 0
        self.broken = False

    def list_lines(self) -> list[Line]:
        self.scans += 1
        if self.broken:
            raise EndpointConnectionError(endpoint_url="https://dynamodb")
        return super().list_lines()


def test_finds_by_channel_and_address_with_one_scan_a_minute() -> None:
    repository = CountingRepository()
    repository.put_line(LINE)
    now = [0.0]
    directory = CachedLineDirectory(lambda: repository, refresh_s=60, clock=lambda: now[0])

    assert directory.find("voice", "+31881234000") == LINE
    assert directory.find("chat", "+31881234000") is None
    assert directory.find("voice", "+31000000000") is None
    assert repository.scans == 1
    now[0] = 61
    directory.find("voice", "+31881234000")
    assert repository.scans == 2


def test_a_failed_refresh_serves_the_stale_copy_and_a_first_failure_is_reported() -> None:
    repository = CountingRepository()
    repository.put_line(LINE)
    now = [0.0]
    directory = CachedLineDirectory(lambda: repository, refresh_s=60, clock=lambda: now[0])
    directory.find("voice", "+31881234000")
    repository.broken = True
    now[0] = 120
    assert directory.find("voice", "+31881234000") == LINE

    cold = CachedLineDirectory(lambda: repository)
    with pytest.raises(DependencyError):
        cold.find("voice", "+31881234000")


def directory_over(lines: list[Line]) -> CachedLineDirectory:
    repository = CountingRepository()
    for line in lines:
        repository.put_line(line)
    return CachedLineDirectory(lambda: repository)


def test_two_lines_on_one_address_resolve_to_the_helpline_whatever_the_scan_order() -> None:
    """Uniqueness is checked before a write; should two writes race past it, the caller stays
    anonymous (P1-P3) instead of having their number stored in clear by the office line (P11)."""
    office = LINE.model_copy(update={"line_id": "a-office", "kind": "office"})
    other_helpline = LINE.model_copy(update={"line_id": "z-helpline"})
    for order in ([office, LINE, other_helpline], [other_helpline, LINE, office]):
        assert directory_over(order).find("voice", LINE.address) == LINE
