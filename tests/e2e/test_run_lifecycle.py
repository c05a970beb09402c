"""`make run`'s process: ready with its outputs file, then a clean stop on SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from running_stack import start_stack


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_starts_writes_outputs_and_stops_cleanly(tmp_path: Path, stop_signal: signal.Signals) -> None:
    running = start_stack(tmp_path)  # fails the test if not ready within 60 s

    running.process.send_signal(stop_signal)

    assert running.process.wait(timeout=20) == 0
    log = running.log()
    assert "ready in" in log
    assert "stopping" in log
    assert "Traceback" not in log
