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
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Literal, Protocol

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


ProblemKind = Literal["changed", "removed", "inserted"]


class ChainProblem(BaseModel):
    """The first thing wrong with a chain: which entry, what kind of tampering, and why (P7).

    `seq` is where the problem is: the changed or inserted entry's own seq, or the first seq that is
    missing. `position` is the 1-based place in the list checked, which tells two entries with the same
    seq apart. `detail` names seqs only, never a field's value.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int
    position: int = Field(ge=1)
    kind: ProblemKind
    detail: str


class ChainVerdict(BaseModel):
    """The result of walking a chain (P7): intact, or the first problem found.

    `last_seq` and `last_hash` are the head of the chain as checked. A chain check cannot see entries
    cut off the end; an auditor who notes the head can, by comparing it with a later export.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    ok: bool
    entries: int = Field(ge=0)
    last_seq: int | None = None
    last_hash: str | None = None
    first_problem: ChainProblem | None = None


def _links(entry: AuditEntry, previous: AuditEntry | None) -> bool:
    """Whether `entry` is the next link after `previous` (None: the first of the chain)."""
    expected_seq = previous.seq + 1 if previous is not None else 1
    expected_prev = previous.hash if previous is not None else GENESIS_HASH
    return entry.seq == expected_seq and entry.prev_hash == expected_prev


def _sound(entry: AuditEntry) -> bool:
    return entry.hash == recomputed_hash(entry)


def _problem(chain: Sequence[AuditEntry], index: int, previous: AuditEntry | None) -> ChainProblem | None:
    """What is wrong at `chain[index]`, given the last intact entry `previous` (None: nothing is)."""
    entry = chain[index]
    position = index + 1
    after = f"entry {previous.seq}" if previous is not None else "the start of the chain"
    expected_seq = previous.seq + 1 if previous is not None else 1
    following = chain[index + 1] if index + 1 < len(chain) else None
    # The chain goes on from `previous` past this entry: the entry is an extra one.
    skipped = following is not None and _sound(following) and _links(following, previous)

    if not _sound(entry):
        return ChainProblem(
            seq=entry.seq, position=position, kind="changed", detail="its hash does not match its content"
        )
    if _links(entry, previous):
        # Two well-linked entries claiming the same predecessor: the one the chain goes on from is real.
        beyond = chain[index + 2] if index + 2 < len(chain) else None
        if skipped and following is not None and beyond is not None and _links(beyond, following):
            return ChainProblem(
                seq=entry.seq,
                position=position,
                kind="inserted",
                detail=f"it and the next entry both follow {after}, and the chain goes on from the next",
            )
        return None
    if skipped:
        return ChainProblem(
            seq=entry.seq,
            position=position,
            kind="inserted",
            detail=f"the chain goes on from {after} past it: it is not part of the chain",
        )
    if entry.seq > expected_seq:
        missing = (
            f"seq {expected_seq}" if entry.seq == expected_seq + 1 else f"seq {expected_seq}-{entry.seq - 1}"
        )
        return ChainProblem(
            seq=expected_seq,
            position=position,
            kind="removed",
            detail=f"{missing} missing: entry {entry.seq} comes after {after}",
        )
    if entry.seq < expected_seq:
        return ChainProblem(
            seq=entry.seq,
            position=position,
            kind="inserted",
            detail=f"seq {entry.seq} repeats or goes back after {after}",
        )
    return ChainProblem(
        seq=entry.seq,
        position=position,
        kind="removed",
        detail=f"its prev_hash is not the hash of {after}: an entry was removed there, or rewritten",
    )


def verify_chain(entries: Iterable[AuditEntry]) -> ChainVerdict:
    """Walk the chain oldest first and name the first entry changed, removed or inserted (P7).

    - changed: the entry's hash does not match its own fields.
    - removed: a gap in seq (`seq` is the first missing one), or a `prev_hash` that is not the hash of
      the entry before it.
    - inserted: an extra entry the chain goes on past (the next entry links to the one before it), or
      a seq that repeats or goes back.
    """
    chain = list(entries)
    previous: AuditEntry | None = None
    problem: ChainProblem | None = None
    for index in range(len(chain)):
        problem = _problem(chain, index, previous)
        if problem is not None:
            break
        previous = chain[index]
    last = chain[-1] if chain else None
    return ChainVerdict(
        ok=problem is None,
        entries=len(chain),
        last_seq=last.seq if last is not None else None,
        last_hash=last.hash if last is not None else None,
        first_problem=problem,
    )


def record(log: AuditLog, now: datetime, actor: str, action: str, subject: str, **details: str) -> AuditEntry:
    """Append one event: the short form the routes use."""
    return log.append(AuditEvent(at=now, actor=actor, action=action, subject=subject, details=details))
