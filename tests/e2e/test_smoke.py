"""`make smoke` against the local stack: the happy path a deployment is checked with works here first.

The same script runs against AWS given a deployment's outputs and tokens (README, "Deploy"), so it may
use nothing the local stack alone has beyond what `infrastructure/smoke.py` documents.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from running_stack import RunningStack

from local_stack.template import REPO_ROOT

pytestmark = pytest.mark.e2e


def test_the_smoke_test_passes_against_the_local_stack(local_stack: RunningStack) -> None:
    completed = subprocess.run(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            str(REPO_ROOT / "infrastructure" / "smoke.py"),
            "--outputs",
            str(local_stack.outputs_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert [line.split("  ")[0] for line in lines[:4]] == ["ok"] * 4
    assert lines[-1].startswith("smoke passed in")
    assert "612340000" not in completed.stdout + completed.stderr  # the smoke caller's number is never shown


def test_the_smoke_test_fails_clearly_when_the_api_is_not_there(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text('{"ApiUrl": "http://127.0.0.1:9", "TwilioAuthToken": "x"}', encoding="utf-8")
    completed = subprocess.run(  # noqa: S603
        [sys.executable, str(REPO_ROOT / "infrastructure" / "smoke.py"), "--outputs", str(outputs)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "SMOKE_TOKEN_VOLUNTEER": "a.e30.b",
            "SMOKE_TOKEN_STAFF": "a.e30.b",
            "SMOKE_TOKEN_PROFESSIONAL": "a.e30.b",
            "SMOKE_CONSENT_RECORDED_BY": "someone",
        },
    )
    assert completed.returncode == 1
    assert completed.stderr.startswith("FAILED the stack did not answer"), completed.stderr
