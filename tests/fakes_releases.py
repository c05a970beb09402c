"""In-memory fakes of the custodian's release ports (`helpline.logic.releases`), for tests only.

Kept under tests/ so they never ship in the layer. They keep the adapters' promises: updates are
version-checked, a result is put once, and the identifier source counts how often it opened a
ciphertext, so a test can prove that a release is decrypted once and never before confirmation.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import date, datetime

from helpline.logic.releases import StaleReleaseError, StoredIdentifier
from helpline.models.disclosures import SealedIdentifier
from helpline.models.releases import ReleaseRecord


class InMemoryReleaseStore:
    """`ReleaseStore` in a dict; a lock stands in for DynamoDB's conditions."""

    def __init__(self) -> None:
        self.releases: dict[str, ReleaseRecord] = {}
        self.updates = 0
        self._lock = threading.Lock()

    def create(self, record: ReleaseRecord) -> bool:
        with self._lock:
            if record.disclosure_id in self.releases:
                return False
            self.releases[record.disclosure_id] = record
            return True

    def get(self, disclosure_id: str) -> ReleaseRecord | None:
        with self._lock:
            return self.releases.get(disclosure_id)

    def update(self, record: ReleaseRecord) -> ReleaseRecord:
        with self._lock:
            found = self.releases.get(record.disclosure_id)
            if found is None or found.version != record.version:
                raise StaleReleaseError(record.disclosure_id)
            stored = record.model_copy(update={"version": record.version + 1})
            self.releases[record.disclosure_id] = stored
            self.updates += 1
            return stored

    def list_all(self) -> list[ReleaseRecord]:
        with self._lock:
            return list(self.releases.values())


class FakeIdentifierSource:
    """`IdentifierSource`: contact id to its stored ciphertext and retention date; `sealed` maps a
    ciphertext to what it opens to. `opened` counts decryptions."""

    def __init__(
        self,
        stored: Mapping[str, StoredIdentifier] | None = None,
        sealed: Mapping[str, SealedIdentifier] | None = None,
    ) -> None:
        self.stored_identifiers = dict(stored or {})
        self.sealed = dict(sealed or {})
        self.opened = 0
        self.reads = 0

    def add(self, contact_id: str, sealed: SealedIdentifier, retain_until: date | None) -> None:
        ciphertext = f"ciphertext-of-{contact_id}"
        self.stored_identifiers[contact_id] = StoredIdentifier(
            ciphertext=ciphertext, retain_until=retain_until
        )
        self.sealed[ciphertext] = sealed

    def stored(self, contact_id: str) -> StoredIdentifier | None:
        self.reads += 1
        return self.stored_identifiers.get(contact_id)

    def open(self, ciphertext: str) -> SealedIdentifier:
        self.opened += 1
        return self.sealed[ciphertext]


class FakeResultDrop:
    """`ResultDrop`: the organisation's `result` items, each put at most once."""

    def __init__(self) -> None:
        self.results: dict[str, tuple[str, datetime]] = {}
        self.attempts = 0

    def put_result_once(
        self, disclosure_id: str, ciphertext: str, expires_at: datetime, now: datetime
    ) -> bool:
        self.attempts += 1
        if disclosure_id in self.results:
            return False
        self.results[disclosure_id] = (ciphertext, expires_at)
        return True
