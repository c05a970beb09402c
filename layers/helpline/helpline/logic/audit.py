"""The tamper-evident audit log (P4, P7, P9): a hash chain of who did what to which contact, when.

Each entry carries the hash of the one before it (`prev_hash`) and its own `hash`: the SHA-256 of the
canonical JSON of all its other fields, `prev_hash` included. Changing, removing or reordering an entry
breaks every link after it. Pure: building and checking entries; storage is `dal.audit`.

Entries are read by staff and auditors, so they hold no identifier (P2, P3) and no content (P4): the
actor's username, the contact or request id, and `details` of short non-identifying strings (the stated
purpose, the role, the mode).

A chain check alone cannot see entries cut off its end, nor a chain rewritten and re-hashed from some
entry on: whoever can write the table can make either look whole. Signed checkpoints of the chain head,
kept where the organisation cannot rewrite them, catch both (`helpline.logic.audit_checkpoints`). So the
walk here is streaming (`ChainWalker`): it keeps three entries at a time, never the chain, and the chain
is read a page at a time (`chain_entries`), so millions of entries verify in bounded memory.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final, Literal, Protocol

from pydantic import ConfigDict, Field, field_validator

from helpline.models.common import Model, UtcDateTime

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


class AuditEvent(Model):
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


class AuditEntry(Model):
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


class AuditReader(Protocol):
    """The chain read in seq order, a page at a time (`DynamoAuditLog`)."""

    def entries(self, after_seq: int = 0, limit: int | None = None) -> list[AuditEntry]:
        """Entries with seq > `after_seq`, oldest first, at most `limit`."""
        ...


class ChainHead(Protocol):
    """The newest entry of the chain (`DynamoAuditLog.last`): what a checkpoint anchors."""

    def last(self) -> AuditEntry | None:
        """The entry with the highest seq, or None for an empty chain."""
        ...


DEFAULT_VERIFY_PAGE: Final = 1000
"""Entries read per request when the chain is walked: a DynamoDB page (1 MB) holds about 3,000."""


def chain_entries(reader: AuditReader, page_size: int = DEFAULT_VERIFY_PAGE) -> Iterator[AuditEntry]:
    """The whole chain oldest first, read `page_size` entries at a time: never all of it at once.

    The next page starts after the last seq seen, which is the table's sort key, so a page cannot be
    read twice or skipped however the chain was tampered with.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    after = 0
    while True:
        page = reader.entries(after_seq=after, limit=page_size)
        yield from page
        if len(page) < page_size:
            return
        after = page[-1].seq


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
    """The hash `entry` should carry, from its own fields.

    The entry's fields but `hash` are exactly an event's fields plus `seq` and `prev_hash`, serialised
    by the same types, so this equals `entry_hash` without validating an event again (half the cost:
    it runs once per entry when millions are verified).
    """
    return hashlib.sha256(canonical_json(entry.model_dump(mode="json", exclude={"hash"}))).hexdigest()


ProblemKind = Literal["changed", "removed", "inserted"]


class ChainProblem(Model):
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


class ChainVerdict(Model):
    """The result of walking a chain (P7): intact, or the first problem found.

    `last_seq` and `last_hash` are the head of the chain as checked. A chain check alone cannot see
    entries cut off the end, nor a rewrite re-hashed to the end: the signed checkpoints can
    (`helpline.logic.checkpoint_verification.AuditVerdict` adds what they found).
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


def _problem(
    entry: AuditEntry,
    following: AuditEntry | None,
    beyond: AuditEntry | None,
    previous: AuditEntry | None,
    position: int,
) -> ChainProblem | None:
    """What is wrong with `entry` (at 1-based `position`), given the last intact entry `previous` (None:
    nothing is) and the two entries after it (None past the end)."""
    after = f"entry {previous.seq}" if previous is not None else "the start of the chain"
    expected_seq = previous.seq + 1 if previous is not None else 1
    # The chain goes on from `previous` past this entry: the entry is an extra one. Links first: they
    # are cheap and rarely hold, so the following entry's hash is seldom computed twice.
    skipped = following is not None and _links(following, previous) and _sound(following)

    if not _sound(entry):
        return ChainProblem(
            seq=entry.seq, position=position, kind="changed", detail="its hash does not match its content"
        )
    if _links(entry, previous):
        # Two well-linked entries claiming the same predecessor: the one the chain goes on from is real.
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


class ChainWalker:
    """The chain check, fed one entry at a time (P7): memory stays three entries however long the chain.

    An entry is judged once the two after it are known (an inserted entry is told from the real one by
    which of them the chain goes on from), so the window is three entries. After the first problem the
    walker only counts: what follows a break cannot be judged against it.
    """

    def __init__(self) -> None:
        self._window: deque[AuditEntry] = deque()
        self._previous: AuditEntry | None = None
        self._judged = 0
        self.count = 0
        """Entries fed so far."""
        self.last: AuditEntry | None = None
        """The entry fed last."""
        self.problem: ChainProblem | None = None
        """The first problem found so far."""

    def push(self, entry: AuditEntry) -> None:
        """Feed the next entry of the chain as read."""
        self.count += 1
        self.last = entry
        if self.problem is not None:
            return
        self._window.append(entry)
        if len(self._window) == 3:
            self._judge_oldest()

    def finish(self) -> ChainVerdict:
        """Judge what is left in the window; the verdict on everything fed."""
        while self._window and self.problem is None:
            self._judge_oldest()
        last = self.last
        return ChainVerdict(
            ok=self.problem is None,
            entries=self.count,
            last_seq=last.seq if last is not None else None,
            last_hash=last.hash if last is not None else None,
            first_problem=self.problem,
        )

    def _judge_oldest(self) -> None:
        window = self._window
        self._judged += 1
        following = window[1] if len(window) > 1 else None
        beyond = window[2] if len(window) > 2 else None
        self.problem = _problem(window[0], following, beyond, self._previous, self._judged)
        if self.problem is not None:
            window.clear()
            return
        self._previous = window.popleft()


def verify_chain(entries: Iterable[AuditEntry]) -> ChainVerdict:
    """Walk the chain oldest first and name the first entry changed, removed or inserted (P7).

    - changed: the entry's hash does not match its own fields.
    - removed: a gap in seq (`seq` is the first missing one), or a `prev_hash` that is not the hash of
      the entry before it.
    - inserted: an extra entry the chain goes on past (the next entry links to the one before it), or
      a seq that repeats or goes back.

    `entries` may be a generator (`chain_entries`): it is consumed once, three entries held at a time.
    """
    walker = ChainWalker()
    for entry in entries:
        walker.push(entry)
    return walker.finish()


def record(log: AuditLog, now: datetime, actor: str, action: str, subject: str, **details: str) -> AuditEntry:
    """Append one event: the short form the routes use."""
    return log.append(AuditEvent(at=now, actor=actor, action=action, subject=subject, details=details))
