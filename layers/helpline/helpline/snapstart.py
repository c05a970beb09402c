"""Lambda SnapStart runtime hooks: what a restored environment must not share with its siblings.

With SnapStart (template.yaml, `SnapStart: ApplyOn: PublishedVersions`) Lambda runs the import phase
once, snapshots the memory, and restores that snapshot in every new execution environment. Whatever a
module cached before the snapshot would then be shared by all of them: boto3 clients and their
connections and credentials, the Encryption SDK's cached data keys, secrets (the Twilio auth token, the
chat webhook secret), the `random` module's state. So each module that caches such a thing registers
how to forget it with `after_restore`, and the runtime calls every registered callback after a
restore; the next use builds a fresh one.

`snapshot_restore_python` exists only in the Lambda Python runtime: elsewhere (tests, the local
stack) registering is a no-op beyond keeping the callbacks, which `run_after_restore` calls (tests).
This module imports nothing of ours, so any module can register with it.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from typing import Any, TypeVar

Hook = TypeVar("Hook", bound=Callable[[], Any])

_before_snapshot: list[Callable[[], Any]] = []
_after_restore: list[Callable[[], Any]] = []


def before_snapshot(callback: Hook) -> Hook:
    """Call `callback` before Lambda takes the snapshot (returns it, so it can decorate)."""
    _before_snapshot.append(callback)
    return callback


def after_restore(callback: Hook) -> Hook:
    """Call `callback` in each environment restored from the snapshot, before its first invocation."""
    _after_restore.append(callback)
    return callback


def after_restore_hooks() -> tuple[Callable[[], Any], ...]:
    """The callbacks registered so far (tests)."""
    return tuple(_after_restore)


def run_before_snapshot() -> None:
    for callback in list(_before_snapshot):
        callback()


def run_after_restore() -> None:
    """Every registered callback, then the caches this module knows itself."""
    for callback in list(_after_restore):
        callback()
    _forget_parameters()
    random.seed()  # a fresh seed from os.urandom: restored environments must not draw the same numbers


def _forget_parameters() -> None:
    """Powertools' cached secrets and parameters, and the providers with their boto3 clients.

    Only if loaded: the functions that fetch secrets (Twilio, chat) load it; others need not.
    """
    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters.base")
    if parameters is not None:
        parameters.clear_caches()


try:  # the Lambda Python runtime (3.12+) only
    from snapshot_restore_python import (  # type: ignore[import-not-found]
        register_after_restore,
        register_before_snapshot,
    )
except ImportError:  # tests, the local stack: nothing snapshots
    pass
else:  # pragma: no cover - only in Lambda
    register_before_snapshot(run_before_snapshot)
    register_after_restore(run_after_restore)
