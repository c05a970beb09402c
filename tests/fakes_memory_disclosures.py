"""In-memory fakes of the disclosure ports (P6, P7), for unit tests and benchmarks.

They keep the adapters' promises: updates are version-checked, a result is taken once, a task token is
"sealed" so that a test can see it is not stored in clear, and the workflow records what it was told.
Each can be made to fail the way its service fails (`DependencyError`, naming the operation only), so a
test can show what a failure between two steps leaves behind.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from helpline.logic.disclosures import ContactState, StaleRecordError, TaskTokenGone
from helpline.logic.ports import DependencyError
from helpline.models.disclosures import DisclosureRecord, SealedIdentifier


class Failures:
    """Which of the next calls of each operation fail with `DependencyError` (as a service would):
    `fail(operation, times, after)` lets `after` calls pass, then fails `times`."""

    def __init__(self) -> None:
        self.plans: dict[str, tuple[int, int]] = {}
        self.calls: dict[str, int] = {}

    def fail(self, operation: str, times: int = 1, after: int = 0) -> None:
        self.plans[operation] = (after, times)

    def check(self, operation: str) -> None:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        after, times = self.plans.get(operation, (0, 0))
        if after > 0:
            self.plans[operation] = (after - 1, times)
        elif times > 0:
            self.plans[operation] = (0, times - 1)
            raise DependencyError(f"fake: {operation} failed")


class InMemoryDisclosureStore:
    """`DisclosureStore` in dicts; a lock stands in for DynamoDB's conditions. `failures.fail("update")`
    makes updates fail as DynamoDB would."""

    def __init__(self) -> None:
        self.requests: dict[str, DisclosureRecord] = {}
        self.results: dict[str, tuple[str, datetime]] = {}
        self.failures = Failures()
        self._lock = threading.Lock()

    def create(self, item: DisclosureRecord) -> None:
        with self._lock:
            if item.id in self.requests:
                raise ValueError("disclosure id exists")
            self.requests[item.id] = item

    def get(self, disclosure_id: str) -> DisclosureRecord | None:
        with self._lock:
            return self.requests.get(disclosure_id)

    def update(self, item: DisclosureRecord) -> DisclosureRecord:
        self.failures.check("update")
        with self._lock:
            current = self.requests.get(item.id)
            if current is None or current.version != item.version:
                raise StaleRecordError(item.id)
            stored = item.model_copy(update={"version": item.version + 1})
            self.requests[item.id] = stored
            return stored

    def list_by_requester(self, username: str) -> list[DisclosureRecord]:
        with self._lock:
            return [item for item in self.requests.values() if item.requested_by == username]

    def list_all(self) -> list[DisclosureRecord]:
        with self._lock:
            return list(self.requests.values())

    def put_result(self, disclosure_id: str, ciphertext: str, expires_at: datetime, now: datetime) -> None:
        with self._lock:
            self.results[disclosure_id] = (ciphertext, expires_at)

    def result(self, disclosure_id: str) -> str | None:
        with self._lock:
            kept = self.results.get(disclosure_id)
            return kept[0] if kept is not None else None

    def take_result(self, disclosure_id: str, ciphertext: str) -> bool:
        with self._lock:
            kept = self.results.get(disclosure_id)
            if kept is None or kept[0] != ciphertext:
                return False
            del self.results[disclosure_id]
            return True

    def delete_result(self, disclosure_id: str) -> None:
        with self._lock:
            self.results.pop(disclosure_id, None)


class InMemoryContactDirectory:
    """`ContactDirectory` and `IdentifierSource`: contact id to its state and sealed identifier."""

    def __init__(
        self,
        helpline: Mapping[str, SealedIdentifier | None] | None = None,
        office: set[str] | None = None,
    ) -> None:
        self.helpline = dict(helpline or {})
        self.office = set(office or ())

    def state(self, contact_id: str) -> ContactState:
        if contact_id in self.helpline:
            return "helpline" if self.helpline[contact_id] is not None else "erased"
        return "office" if contact_id in self.office else "unknown"

    def ciphertext(self, contact_id: str) -> str | None:
        sealed = self.helpline.get(contact_id)
        return f"sealed:{contact_id}" if sealed is not None else None

    def open(self, ciphertext: str) -> SealedIdentifier:
        sealed = self.helpline.get(ciphertext.removeprefix("sealed:"))
        if sealed is None:
            raise ValueError("cannot open")
        return sealed


class FakeSealer:
    """`TokenSealer` and `ResultSealer`: reversible, bound to the id, and visibly not the clear text.

    `failures.fail("open")` makes the next open fail as KMS would.
    """

    def __init__(self) -> None:
        self.failures = Failures()

    def seal(self, disclosure_id: str, value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(dict(value))
        return f"sealed:{disclosure_id}:" + text.encode().hex()

    def _open(self, disclosure_id: str, ciphertext: str) -> str:
        prefix = f"sealed:{disclosure_id}:"
        if not ciphertext.startswith(prefix):
            raise ValueError("sealed for another request")
        return bytes.fromhex(ciphertext.removeprefix(prefix)).decode()

    def open(self, disclosure_id: str, ciphertext: str) -> Any:
        self.failures.check("open")
        text = self._open(disclosure_id, ciphertext)
        return json.loads(text) if text.startswith("{") else text


class FakeWorkflow:
    """`Workflow` that records starts and decisions; `gone` tokens raise TaskTokenGone, as does a token
    it was told about already (Step Functions takes one answer per task); `failures.fail("succeed")`
    (or "fail", "start") makes the next such call fail as Step Functions would."""

    def __init__(self) -> None:
        self.started: list[tuple[str, int]] = []
        self.succeeded: list[tuple[str, dict[str, Any]]] = []
        self.failed: list[tuple[str, str, str]] = []
        self.gone: set[str] = set()
        self.failures = Failures()

    def start(self, disclosure_id: str, approval_timeout_seconds: int) -> None:
        self.failures.check("start")
        self.started.append((disclosure_id, approval_timeout_seconds))

    def _answered(self, task_token: str) -> bool:
        return task_token in self.gone or any(
            told[0] == task_token for told in [*self.succeeded, *self.failed]
        )

    def succeed(self, task_token: str, output: Mapping[str, Any]) -> None:
        self.failures.check("succeed")
        if self._answered(task_token):
            raise TaskTokenGone("SendTaskSuccess")
        self.succeeded.append((task_token, dict(output)))

    def fail(self, task_token: str, error: str, cause: str) -> None:
        self.failures.check("fail")
        if self._answered(task_token):
            raise TaskTokenGone("SendTaskFailure")
        self.failed.append((task_token, error, cause))


class FakeNotifier:
    """`ComplianceNotifier` that keeps the request ids it was told about."""

    def __init__(self) -> None:
        self.notified: list[tuple[str, int]] = []

    def awaiting_decision(self, disclosure_id: str, approvals_needed: int) -> None:
        self.notified.append((disclosure_id, approvals_needed))
