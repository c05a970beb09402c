"""The local stack as `make run` runs it: its own process on free ports (tests talk HTTP to it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

READY_WITHIN_S = 60
STOP_WITHIN_S = 60


@dataclass
class RunningStack:
    outputs: dict[str, Any]
    process: subprocess.Popen[str]
    log_path: Path
    outputs_path: Path

    @property
    def api(self) -> str:
        return str(self.outputs["ApiUrl"])

    @property
    def custodian_api(self) -> str:
        return str(self.outputs["CustodianApiUrl"])

    def token(self, group: str) -> str:
        user = self.outputs["DemoUsers"][group]
        cognito = boto3.client(
            "cognito-idp",
            region_name=self.outputs["Region"],
            endpoint_url=self.outputs["AwsEndpoint"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        pool_client = "CustodianUserPoolClientId" if group == "custodian" else "UserPoolClientId"
        result = cognito.initiate_auth(
            ClientId=self.outputs[pool_client],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user["username"], "PASSWORD": user["password"]},
        )
        return str(result["AuthenticationResult"]["IdToken"])

    def advance_clock(self, days: float) -> dict[str, Any]:
        """`python -m local_stack clock --advance-days N`, as an operator rehearsing retention runs it."""
        completed = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "local_stack", "clock", "--advance-days", str(days)],
            env={**os.environ, "LOCAL_STACK_OUTPUTS": str(self.outputs_path)},
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        answer: dict[str, Any] = json.loads(completed.stdout)
        return answer

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")


def start_stack(workdir: Path) -> RunningStack:
    """Run `python -m local_stack` (what `make run` runs) and wait for its outputs file."""
    outputs_path = workdir / "outputs.json"
    log_path = workdir / "stack.log"
    env = {
        **os.environ,
        "LOCAL_API_PORT": "0",
        "LOCAL_CUSTODIAN_API_PORT": "0",
        "LOCAL_STACK_OUTPUTS": str(outputs_path),
        "PYTHONUNBUFFERED": "1",
    }
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_stack"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + READY_WITHIN_S
    while not outputs_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"local stack not ready within {READY_WITHIN_S}s:\n{log_path.read_text()}")
        time.sleep(0.2)
    return RunningStack(json.loads(outputs_path.read_text()), process, log_path, outputs_path)


@contextmanager
def running_stack(workdir: Path) -> Iterator[RunningStack]:
    """A stack of its own for the `with` block, stopped (SIGTERM, as Ctrl-C) when it ends."""
    running = start_stack(workdir)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGTERM)
            try:
                # Each event-source poller is joined for up to 5 s: on a loaded machine, a minute.
                running.process.wait(timeout=STOP_WITHIN_S)
            except subprocess.TimeoutExpired:
                running.process.kill()
                running.process.wait(timeout=10)
