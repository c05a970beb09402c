"""The tamper-evident audit log (P4, P7, P9): a hash chain of who did what to which contact, when.

Each entry carries the hash of the one before it (`prev_hash`) and its own `hash`: the SHA-256 of the
canonical JSON of all its other fields, `prev_hash` included. Changing, removing or reordering an entry
breaks every link after it. Pure: building and checking entries; storage is `dal.audit`.

Entries are read by staff and auditors, so they hold no identifier (P2, P3) and no content (P4): the
actor's username, the contact or request id, and `details` of short non-identifying strings (the stated
purpose, the role, the mode).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from helpline.models.common import UtcDateTime

CHAIN: Final = "audit"
"""The partition of AuditTable that holds the one chain."""
GENESIS_HASH: Final = "0" * 64
"""`prev_hash` of the first entry."""

TRANSCRIPT_READ: Final = "transcript.read"
SUPERVISION_RECORDED: Final = "supervision.recorded"

ACTION_PATTERN: Final = r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$"
HASH_PATTERN: Final = r"^[0-9a-f]{64}$"
DETAIL_KEY_PATTERN: Final = r"^[a-z][a-z0-9_]{0,39}$"
DETAIL_VALUE_MAX: Final = 200


class AuditEvent(BaseModel):
    """What is to be recorded; `append` gives it its place in the chain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: UtcDateTime
    actor: str = Field(min_length=1, max_length=128, description="username of the staff member")
    action: str = Field(pattern=ACTION_PATTERN, description="e.g. transcript.read, supervision.recorded")
    subject: str = Field(min_length=1, max_length=128, description="contact id or request id")
    details: dict[str, str] = Field(default_factory=dict, max_length=16)

    @field_validator("details")
    @classmethod
    def _short_labelled_strings(cls, details: dict[str, str]) -> dict[str, str]:
        """Details are short labelled strings; an unexpected shape is refused, not truncated."""
        for key, value in details.items():
            if not re.fullmatch(DETAIL_KEY_PATTERN, key):
                raise ValueError("audit detail keys are lower-case labels")
            if len(value) > DETAIL_VALUE_MAX:
                raise ValueError(f"audit detail values are at most {DETAIL_VALUE_MAX} characters")
        return details


class AuditEntry(BaseModel):
    """One link of the chain, as stored in AuditTable (chain, seq)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int = Field(ge=1)
    at: UtcDateTime
    actor: str
    action: str
    subject: str
    details: dict[str, str]
    prev_hash: str = Field(pattern=HASH_PATTERN)
    hash: str = Field(pattern=HASH_PATTERN)


class AuditLog(Protocol):
    """Where entries are appended (AuditTable in `dal.audit`, memory in `dal.memory_staff`)."""

    def append(self, event: AuditEvent) -> AuditEntry:
        """Add `event` at the end of the chain; returns the entry as stored."""
        ...

    def entries(self) -> list[AuditEntry]:
        """The whole chain, oldest first."""
        ...


def canonical_json(fields: Mapping[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same fields give the same bytes, whoever writes them."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(seq: int, event: AuditEvent, prev_hash: str) -> str:
    """SHA-256 (hex) of the canonical JSON of an entry without `hash`: its event, `seq` and `prev_hash`."""
    fields = event.model_dump(mode="json")
    fields.update(seq=seq, prev_hash=prev_hash)
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def next_entry(previous: AuditEntry | None, event: AuditEvent) -> AuditEntry:
    """The entry that follows `previous` (None: the first of the chain)."""
    seq = previous.seq + 1 if previous is not None else 1
    prev_hash = previous.hash if previous is not None else GENESIS_HASH
    return AuditEntry(
        seq=seq,
        prev_hash=prev_hash,
        hash=entry_hash(seq, event, prev_hash),
        **event.model_dump(),
    )


def recomputed_hash(entry: AuditEntry) -> str:
    """The hash `entry` should carry, from its own fields."""
    event = AuditEvent(
        at=entry.at, actor=entry.actor, action=entry.action, subject=entry.subject, details=entry.details
    )
    return entry_hash(entry.seq, event, entry.prev_hash)


def first_broken_link(entries: Iterable[AuditEntry]) -> int | None:
    """The seq of the first entry whose hash or link is wrong (None: the chain is intact).

    Entries must come oldest first and start at seq 1; a gap in the numbers is a break too.
    """
    previous: AuditEntry | None = None
    for entry in entries:
        expected_seq = previous.seq + 1 if previous is not None else 1
        expected_prev = previous.hash if previous is not None else GENESIS_HASH
        if (
            entry.seq != expected_seq
            or entry.prev_hash != expected_prev
            or entry.hash != recomputed_hash(entry)
        ):
            return entry.seq
        previous = entry
    return None


def record(log: AuditLog, now: datetime, actor: str, action: str, subject: str, **details: str) -> AuditEntry:
    """Append one event: the short form the routes use."""
    return log.append(AuditEvent(at=now, actor=actor, action=action, subject=subject, details=details))
