"""Our clock: every retention date, TTL and deadline is counted from it, never from a provider's (P7).

Providers send timestamps of their own (a chat event's `timestamp`, an e-mail's `Date:`); they are kept
as facts when plausible, but how long anything is kept is counted from `now()`, the moment we received
it. The deployed functions read the system clock and nothing else. The local stack alone may move this
clock forward (`python -m local_stack clock --advance-days N`) so that an operator can rehearse
retention; it does so through `advance`, which only the local stack calls.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)
_lock = threading.Lock()


def now() -> datetime:
    """The current time, UTC and timezone-aware."""
    return datetime.now(UTC) + _offset


def advance(by: timedelta) -> datetime:
    """Move this process's clock forward by `by` (the local stack's rehearsal clock); returns `now()`."""
    global _offset
    if by < timedelta(0):
        raise ValueError("the clock only moves forward")
    with _lock:
        _offset += by
    return now()


def offset() -> timedelta:
    """How far this process's clock is ahead of the system clock (zero when deployed)."""
    return _offset


def reset() -> None:
    """Back to the system clock (a new local stack in the same process, tests)."""
    global _offset
    with _lock:
        _offset = timedelta(0)
