"""Small helpers shared by the integration and e2e tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(probe: Callable[[], T], timeout_s: float = 15.0, interval_s: float = 0.2) -> T:
    """Poll `probe` until it returns something truthy; fail the test with its last value otherwise."""
    deadline = time.monotonic() + timeout_s
    value = probe()
    while not value and time.monotonic() < deadline:
        time.sleep(interval_s)
        value = probe()
    assert value, f"condition not met within {timeout_s}s (last value: {value!r})"
    return value
