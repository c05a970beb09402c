"""The audit chain's pure part (P4, P9): hashes link, and any change breaks the chain."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from itertools import pairwise

import pytest
from fakes_memory_staff import InMemoryAuditLog

from helpline.logic.audit import (
    GENESIS_HASH,
    TRANSCRIPT_READ,
    AuditEvent,
    next_entry,
    record,
    verify_chain,
)

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def event(n: int) -> AuditEvent:
    return AuditEvent(
        at=NOW, actor=f"mentor-{n}", action=TRANSCRIPT_READ, subject="a" * 32, details={"n": str(n)}
    )


def test_the_first_entry_links_to_the_genesis_hash() -> None:
    entry = next_entry(None, event(1))
    assert (entry.seq, entry.prev_hash) == (1, GENESIS_HASH)


def test_the_hash_is_sha256_of_the_canonical_entry_without_hash() -> None:
    entry = next_entry(None, event(1))
    body = entry.model_dump(mode="json", exclude={"hash"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert entry.hash == hashlib.sha256(canonical).hexdigest()


def test_each_entry_links_to_the_one_before() -> None:
    log = InMemoryAuditLog()
    entries = [
        record(log, NOW, f"actor-{n}", TRANSCRIPT_READ, "b" * 32, purpose="training") for n in range(5)
    ]
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    for previous, entry in pairwise(entries):
        assert entry.prev_hash == previous.hash
    assert verify_chain(entries).ok


@pytest.mark.parametrize(
    ("change", "first_bad", "kind"),
    [("actor", 2, "changed"), ("details", 2, "changed"), ("drop", 2, "removed"), ("swap", 3, "inserted")],
)
def test_changing_removing_or_reordering_an_entry_breaks_the_chain(
    change: str, first_bad: int, kind: str
) -> None:
    """The first problem is named where it is: a changed entry, the missing seq, the entry out of order."""
    entries = [next_entry(None, event(1))]
    for n in range(2, 5):
        entries.append(next_entry(entries[-1], event(n)))
    if change == "actor":
        entries[1] = entries[1].model_copy(update={"actor": "someone-else"})
    elif change == "details":
        entries[1] = entries[1].model_copy(update={"details": {"n": "changed"}})
    elif change == "drop":
        del entries[1]
    else:
        entries[1], entries[2] = entries[2], entries[1]
    problem = verify_chain(entries).first_problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (first_bad, kind)


def test_details_are_short_labelled_strings() -> None:
    with pytest.raises(ValueError, match="labels"):
        AuditEvent(at=NOW, actor="a", action=TRANSCRIPT_READ, subject="s", details={"Bad Key": "x"})
    with pytest.raises(ValueError, match="at most"):
        AuditEvent(at=NOW, actor="a", action=TRANSCRIPT_READ, subject="s", details={"purpose": "x" * 201})
