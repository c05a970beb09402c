"""Find the contacted line by its address, from a copy of the registry kept for a minute.

Every incoming contact needs its line; the registry is a handful of items that change rarely, so a
warm function scans it at most once a minute instead of once per contact (the ingest bench counts
DynamoDB requests per contact).

An address belongs to one line (`logic.lines` refuses a second), but two admins writing in the same
instant could both pass that check. Should two lines ever share an address, the lookup does not depend
on scan order: the helpline wins over the office line (a caller stays anonymous, P1-P3, rather than
have their number stored in clear, P11), then the lowest line_id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from helpline.dal.lines import lines_repository
from helpline.logic.ports import DependencyError, LinesRepository
from helpline.models.common import Channel
from helpline.models.lines import Line

REFRESH_S = 60.0


class CachedLineDirectory:
    """`LineDirectory` over a `LinesRepository`, refreshed after `refresh_s` seconds."""

    def __init__(
        self,
        repository: Callable[[], LinesRepository] = lines_repository,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repository = repository
        self._refresh_s = refresh_s
        self._clock = clock
        self._lines: dict[tuple[str, str], Line] = {}
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def find(self, channel: Channel, address: str) -> Line | None:
        """The line, from a copy at most `refresh_s` old; a stale copy beats none when DynamoDB fails."""
        with self._lock:
            if self._loaded_at is None or self._clock() - self._loaded_at >= self._refresh_s:
                try:
                    self._reload()
                except DependencyError:
                    if self._loaded_at is None:
                        raise
            return self._lines.get((channel, address))

    def _reload(self) -> None:
        try:
            lines = self._repository().list_lines()
        except (BotoCoreError, ClientError):
            raise DependencyError("dynamodb: Scan of the line registry failed") from None
        # Least preferred first, so the preferred line of a shared address is written last and kept.
        ordered = sorted(lines, key=_preference, reverse=True)
        self._lines = {(line.channel, line.address): line for line in ordered}
        self._loaded_at = self._clock()


def _preference(line: Line) -> tuple[bool, str]:
    """Sort key, most preferred first: helplines before office lines, then by line_id."""
    return (line.kind != "helpline", line.line_id)
