"""In-memory fakes of the disclosure request's ports that need more than `fakes_memory_disclosures`
offers: the user pool (a consent's recorder, P7), a contact directory that knows when each contact
started, and an audit log that can fail. Kept under tests/ so they never ship in the layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from fakes_memory_disclosures import Failures, InMemoryContactDirectory
from fakes_memory_staff import InMemoryAuditLog

from helpline.logic.audit import AuditEntry, AuditEvent
from helpline.models.disclosures import SealedIdentifier


class FailingAuditLog(InMemoryAuditLog):
    """`AuditLog` whose next appends fail as DynamoDB would (`failures.fail("append")`)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = Failures()

    def append(self, event: AuditEvent) -> AuditEntry:
        self.failures.check("append")
        return super().append(event)


class InMemoryUserDirectory:
    """`UserDirectory`: a set of usernames; it records who it was asked about, so a test can see that a
    request refused earlier never reached the pool."""

    def __init__(self, usernames: Iterable[str] = ()) -> None:
        self.usernames = set(usernames)
        self.asked: list[str] = []

    def exists(self, username: str) -> bool:
        self.asked.append(username)
        return username in self.usernames


class DatedContactDirectory(InMemoryContactDirectory):
    """`ContactDirectory` with each helpline contact's `started_at` (None: not on record)."""

    def __init__(
        self,
        helpline: Mapping[str, SealedIdentifier | None] | None = None,
        office: set[str] | None = None,
        started: Mapping[str, datetime] | None = None,
    ) -> None:
        super().__init__(helpline, office)
        self.started = dict(started or {})

    def started_at(self, contact_id: str) -> datetime | None:
        return self.started.get(contact_id)
