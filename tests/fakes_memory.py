"""In-memory implementations of `logic.ports`, for unit tests and benchmarks (no AWS, no moto).

They keep copies, not the caller's objects, so a test cannot pass by mutating what it stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import replace
from datetime import datetime, timedelta

from helpline import periods
from helpline.identifiers import Identifier
from helpline.logic.ports import DependencyError, ReferenceEntry
from helpline.models.buffer import BufferedWork
from helpline.models.common import Channel
from helpline.models.contacts import ContactRecord
from helpline.models.lines import Line
from helpline.models.office import OfficeContact


class InMemoryLinesRepository:
    """`LinesRepository` in a dict keyed by line_id."""

    def __init__(self) -> None:
        self.items: dict[str, Line] = {}

    def list_lines(self) -> list[Line]:
        """Every line, in insertion order (the domain sorts)."""
        return [line.model_copy() for line in self.items.values()]

    def put_line(self, line: Line) -> None:
        """Create or replace."""
        self.items[line.line_id] = line.model_copy()


class InMemoryContactsRepository:
    """`ContactsRepository` in a dict keyed by id, with the same condition as the DynamoDB put."""

    def __init__(self) -> None:
        self.items: dict[str, ContactRecord] = {}

    def put_if_absent(self, record: ContactRecord) -> bool:
        """Store unless the id is present."""
        if record.id in self.items:
            return False
        self.items[record.id] = record.model_copy()
        return True


# ---------------------------------------------------------------- ingestion fakes (unit tests, benchmarks)


class _Faulty:
    """Fails the next `fail_next` calls with DependencyError, as an AWS outage would."""

    fail_next: int = 0
    calls: int = 0

    def _call(self, operation: str) -> None:
        self.calls += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            raise DependencyError(f"{operation} failed")


class InMemoryLineDirectory(_Faulty):
    def __init__(self, lines: list[Line]) -> None:
        self.lines = list(lines)

    def find(self, channel: Channel, address: str) -> Line | None:
        self._call("lines: find")
        return next((ln for ln in self.lines if ln.channel == channel and ln.address == address), None)


class FakeIdentifierVault(_Faulty):
    """Keyed hashes with a local secret; `seal` keeps the clear values here, never in its output."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self.sealed: dict[str, tuple[str, str, Identifier | None, Identifier]] = {}
        self.periods: dict[str, str] = {}
        """Ciphertext -> the key period (`YYYY-MM` of our receipt) it would be encrypted under (P7)."""
        self.authenticated: dict[str, bool | None] = {}
        """Ciphertext -> the `sender_authenticated` sealed with it (e-mail; None elsewhere)."""
        self.mac_calls = 0
        self.seal_calls = 0

    def _mac(self, label: str, value: str) -> str:
        return hmac.new(self._secret, f"{label}:{value}".encode(), hashlib.sha256).hexdigest()

    def pseudonym(self, identifier: Identifier) -> str:
        self._call("kms: GenerateMac")
        self.mac_calls += 1
        return self._mac("count", f"{identifier.kind}:{identifier.reveal()}")

    def reference_key(self, reference: Identifier) -> str:
        return self._mac("reference", reference.reveal())

    def seal(
        self,
        contact_id: str,
        channel: Channel,
        identifier: Identifier | None,
        reference: Identifier,
        received_at: datetime,
        *,
        sender_authenticated: bool | None = None,
    ) -> str:
        self._call("kms: GenerateDataKey")
        self.seal_calls += 1
        token = base64.b64encode(secrets.token_bytes(48)).decode()
        self.sealed[token] = (contact_id, channel, identifier, reference)
        self.periods[token] = periods.period_of(received_at)
        self.authenticated[token] = sender_authenticated
        return token


class FakeTranscriptSealer(_Faulty):
    """Keeps each sealed part here, and the key period it would be encrypted under."""

    def __init__(self) -> None:
        self.sealed: dict[str, tuple[str, str, str]] = {}
        self.periods: dict[str, str] = {}

    def seal(self, contact_id: str, channel: Channel, sender: str, text: str, received_at: datetime) -> str:
        self._call("kms: GenerateDataKey")
        token = base64.b64encode(secrets.token_bytes(48)).decode()
        self.sealed[token] = (contact_id, sender, text)
        self.periods[token] = periods.period_of(received_at)
        return token


class InMemoryLimitCounter(_Faulty):
    """The rolling 24 hours per pseudonym, under a lock (the DynamoDB version uses conditional writes)."""

    def __init__(self) -> None:
        self.windows: dict[str, list[datetime]] = {}
        self._lock = threading.Lock()

    def admit(self, pseudonym: str, limit: int, now: datetime) -> tuple[bool, int]:
        self._call("dynamodb: admit")
        with self._lock:
            live = [t for t in self.windows.get(pseudonym, []) if t > now - timedelta(hours=24)]
            if len(live) >= limit:
                self.windows[pseudonym] = live
                return False, len(live)
            live.append(now)
            self.windows[pseudonym] = live
            return True, len(live)

    def release(self, pseudonym: str, now: datetime) -> None:
        """Give back the slot taken at `now` (the DynamoDB version: the slot with that one's expiry)."""
        self._call("dynamodb: release")
        with self._lock:
            window = self.windows.get(pseudonym, [])
            if now in window:
                window.remove(now)
                if not window:
                    del self.windows[pseudonym]


class InMemoryReferenceIndex(_Faulty):
    """Entries by reference key; transcript part counters and remembered part numbers as DynamoDB keeps
    them (`parts` on the entry, one `part#` item per part key). `fail_next` fails claim, settle,
    release and part_sequence, as an outage of the table would."""

    def __init__(self) -> None:
        self.entries: dict[str, ReferenceEntry] = {}
        self.parts: dict[str, int] = {}
        """Reference key -> the counter of its transcript parts (the entry's `parts`)."""
        self.part_numbers: dict[str, int] = {}
        """Part key -> the `seq` that part got (the `part#` item's `seq`)."""
        self._lock = threading.Lock()

    def claim(self, ref_key: str, entry: ReferenceEntry, expires_at: datetime) -> ReferenceEntry | None:
        self._call("dynamodb: claim")
        with self._lock:
            if ref_key in self.entries:
                return self.entries[ref_key]
            self.entries[ref_key] = entry
            return None

    def find(self, ref_key: str) -> ReferenceEntry | None:
        return self.entries.get(ref_key)

    def settle(self, ref_key: str, allowed: bool, contacts_last_24h: int | None) -> None:
        self._call("dynamodb: settle")
        self.entries[ref_key] = replace(
            self.entries[ref_key], allowed=allowed, contacts_last_24h=contacts_last_24h
        )

    def advance(self, ref_key: str, sequence: int) -> bool:
        with self._lock:
            entry = self.entries[ref_key]
            if sequence <= entry.sequence:
                return False
            self.entries[ref_key] = replace(entry, sequence=sequence)
            return True

    def release(self, ref_key: str, contact_id: str) -> None:
        """Remove the entry if it still names `contact_id` (the DynamoDB version's condition)."""
        self._call("dynamodb: DeleteItem")
        with self._lock:
            entry = self.entries.get(ref_key)
            if entry is not None and entry.contact_id == contact_id:
                del self.entries[ref_key]
                self.parts.pop(ref_key, None)

    def part_sequence(self, ref_key: str, part_key: str, base: int, expires_at: datetime) -> int | None:
        """The `seq` remembered under `part_key`, else `base` + the next of the entry's counter (from 1)."""
        self._call("dynamodb: UpdateItem")
        with self._lock:
            if part_key in self.part_numbers:
                return self.part_numbers[part_key]
            if ref_key not in self.entries:
                return None
            counter = self.parts.get(ref_key, 0) + 1
            self.parts[ref_key] = counter
            self.part_numbers[part_key] = base + counter
            return base + counter


class InMemoryContactStore(InMemoryContactsRepository, _Faulty):
    def put_if_absent(self, record: ContactRecord) -> bool:
        self._call("dynamodb: PutItem")
        return super().put_if_absent(record)

    def mark_ended(self, contact_id: str, ended_at: datetime, duration_s: int | None) -> bool:
        self._call("dynamodb: UpdateItem")
        record = self.items.get(contact_id)
        if record is None:
            return False
        self.items[contact_id] = record.model_copy(update={"ended_at": ended_at, "duration_s": duration_s})
        return True


class InMemoryRegistrationBuffer(_Faulty):
    """Messages as the queue would hold them: JSON text."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def defer(self, message: BufferedWork) -> None:
        self._call("sqs: SendMessage")
        self.messages.append(message.model_dump_json())


class InMemoryOfficeContactStore(_Faulty):
    def __init__(self) -> None:
        self.items: dict[str, OfficeContact] = {}

    def put(self, contact: OfficeContact) -> bool:
        """Store unless the id is present, as the DynamoDB put's condition."""
        self._call("dynamodb: PutItem")
        if contact.id in self.items:
            return False
        self.items[contact.id] = contact.model_copy()
        return True


class InMemoryTranscriptStore(_Faulty):
    """Parts as (sender, ciphertext, sent_at) by (contact_id, seq), their TTLs in `expires_at`."""

    def __init__(self) -> None:
        self.parts: dict[tuple[str, int], tuple[str, str, datetime]] = {}
        self.expires_at: dict[tuple[str, int], int] = {}

    def append(
        self, contact_id: str, seq: int, sender: str, ciphertext: str, sent_at: datetime, expires_at: int
    ) -> bool:
        self._call("dynamodb: PutItem")
        if (contact_id, seq) in self.parts:
            return False
        self.parts[(contact_id, seq)] = (sender, ciphertext, sent_at)
        self.expires_at[(contact_id, seq)] = expires_at
        return True
