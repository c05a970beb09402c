"""One local stack for the e2e session, started as `make run` starts it."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from running_stack import RunningStack, start_stack


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("local-stack"))
    process = running.process
    yield running
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
