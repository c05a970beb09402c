"""Signed checkpoints of the audit chain (P7): what a table writer does to the chain, they show.

Pure: a real ECDSA key stands in for the custodian's KMS key, a dict for the write-once bucket.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fakes_audit import ListHead, LocalSigner, MemoryCheckpointStore, chain_of, rewritten_from

from helpline.logic.audit import AuditEntry, chain_entries, verify_chain
from helpline.logic.audit_checkpoints import (
    Checkpoint,
    PublicKeyChecker,
    SignedCheckpoint,
    StoredCheckpoint,
    checkpoint_key,
    seq_of_key,
    take_checkpoint,
)
from helpline.logic.checkpoint_verification import (
    MAX_REPORTED_PROBLEMS,
    AuditVerdict,
    CheckpointProblem,
    read_checkpoint,
    verify_audit,
)

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


class Anchored:
    """A chain with a checkpoint taken after each of `marks` entries, as the schedule would."""

    def __init__(self, total: int, marks: tuple[int, ...]) -> None:
        self.signer = LocalSigner()
        self.store = MemoryCheckpointStore()
        self.entries = chain_of(total, NOW)
        for mark in marks:
            take_checkpoint(
                ListHead(self.entries[:mark]), self.store, self.signer, NOW + timedelta(minutes=mark)
            )

    def verify(self, entries: list[AuditEntry] | None = None) -> AuditVerdict:
        chain = self.entries if entries is None else entries
        return verify_audit(chain, self.store.stored(), PublicKeyChecker(self.signer.public_key()))


# ---------------------------------------------------------------- taking checkpoints


def test_an_empty_chain_gets_no_checkpoint() -> None:
    store, signer = MemoryCheckpointStore(), LocalSigner()
    assert take_checkpoint(ListHead(), store, signer, NOW).outcome == "empty"
    assert (store.objects, signer.signed) == ({}, 0)


def test_a_checkpoint_is_written_only_when_the_head_moved() -> None:
    store, signer = MemoryCheckpointStore(), LocalSigner()
    head = ListHead(chain_of(3, NOW))

    first = take_checkpoint(head, store, signer, NOW, retention_days=10)
    again = take_checkpoint(head, store, signer, NOW + timedelta(minutes=5))
    head.items.extend(chain_of(2, NOW, first=head.items[-1]))
    moved = take_checkpoint(head, store, signer, NOW + timedelta(minutes=10))

    assert (first.outcome, first.seq) == ("written", 3)
    assert (again.outcome, again.seq) == ("unchanged", 3)
    assert (moved.outcome, moved.seq) == ("written", 5)
    assert signer.signed == 2, "nothing is signed when the head did not move"
    assert sorted(store.objects) == [checkpoint_key(3), checkpoint_key(5)]
    assert store.retain_until[checkpoint_key(3)] == NOW + timedelta(days=10)


def test_a_checkpoint_holds_the_head_and_a_signature_over_it() -> None:
    store, signer = MemoryCheckpointStore(), LocalSigner()
    entries = chain_of(4, NOW)
    take_checkpoint(ListHead(entries), store, signer, NOW)
    body = json.loads(store.objects[checkpoint_key(4)][0])
    assert {key: body[key] for key in ("format", "chain", "seq", "hash", "at")} == {
        "format": "helpline.audit-checkpoint/1",
        "chain": "audit",
        "seq": 4,
        "hash": entries[-1].hash,
        "at": "2026-03-15T12:00:00Z",
    }
    assert (body["key_id"], body["signing_algorithm"]) == (signer.key_id, "ECDSA_SHA_256")
    stored = StoredCheckpoint(name="x", body=store.objects[checkpoint_key(4)][0], key_seq=4)
    assert isinstance(read_checkpoint(stored, PublicKeyChecker(signer.public_key())), SignedCheckpoint)
    bad = read_checkpoint(stored, PublicKeyChecker(LocalSigner().public_key()))
    assert isinstance(bad, CheckpointProblem)
    assert bad.kind == "bad_signature"


def test_keys_sort_in_seq_order_and_name_their_seq() -> None:
    assert checkpoint_key(9) < checkpoint_key(10) < checkpoint_key(10**12)
    assert seq_of_key(checkpoint_key(1234)) == 1234
    assert seq_of_key(checkpoint_key(1234, chain="other")) is None
    assert seq_of_key("checkpoints/audit/1234.json") is None


# ---------------------------------------------------------------- verifying against them


def test_an_intact_chain_agrees_with_every_checkpoint() -> None:
    world = Anchored(10, marks=(3, 7, 9))
    verdict = world.verify()
    assert verdict.ok
    assert (verdict.entries, verdict.checkpoints, verdict.checkpoint_problem_count) == (10, 3, 0)
    assert verdict.last_checkpoint is not None
    assert (verdict.last_checkpoint.seq, verdict.last_checkpoint.hash) == (9, world.entries[8].hash)
    assert verdict.unanchored_entries == 1


def test_deleting_the_newest_entry_is_removed_at_the_tail() -> None:
    world = Anchored(8, marks=(4, 8))
    shortened = world.entries[:-1]
    assert verify_chain(shortened).ok, "the chain alone cannot see it"

    verdict = world.verify(shortened)

    assert not verdict.ok
    [problem] = verdict.checkpoint_problems
    assert (problem.kind, problem.seq_from, problem.seq_to, problem.checkpoint_seq) == (
        "removed_at_tail",
        8,
        8,
        8,
    )
    assert problem.detail.startswith("seq 8 removed at the tail: checkpoint 8 signed at 2026-03-15T12:08:00Z")
    assert verdict.first_problem is not None
    assert (verdict.first_problem.seq, verdict.first_problem.kind, verdict.first_problem.position) == (
        8,
        "removed",
        8,
    )


def test_deleting_several_newest_entries_names_the_missing_range() -> None:
    world = Anchored(12, marks=(5, 10, 12))
    verdict = world.verify(world.entries[:6])
    assert not verdict.ok
    [problem] = verdict.checkpoint_problems
    assert (problem.kind, problem.seq_from, problem.seq_to) == ("removed_at_tail", 7, 12)
    assert "seq 7-12 removed at the tail" in problem.detail
    assert verdict.last_checkpoint is not None
    assert verdict.last_checkpoint.seq == 12


def test_deleting_everything_is_removed_at_the_tail_from_seq_1() -> None:
    world = Anchored(4, marks=(4,))
    verdict = world.verify([])
    assert [(p.kind, p.seq_from, p.seq_to) for p in verdict.checkpoint_problems] == [
        ("removed_at_tail", 1, 4)
    ]
    assert "the chain is empty" in verdict.checkpoint_problems[0].detail


def test_deleting_past_a_checkpoint_then_appending_again_is_a_rewrite() -> None:
    """Entries 7-8 deleted and two new ones appended: seq 8 is back, with another hash than checkpointed."""
    world = Anchored(8, marks=(4, 8))
    regrown = world.entries[:6] + chain_of(2, NOW + timedelta(hours=1), first=world.entries[5])
    assert verify_chain(regrown).ok
    verdict = world.verify(regrown)
    assert [(p.kind, p.seq_from, p.seq_to) for p in verdict.checkpoint_problems] == [("rewritten", 5, 8)]


def test_a_rewrite_rehashed_to_the_end_is_named_with_the_checkpoint_that_caught_it() -> None:
    world = Anchored(20, marks=(5, 10, 15, 20))
    forged = rewritten_from(world.entries, seq=12)
    assert verify_chain(forged).ok, "re-hashed: the links hold"

    verdict = world.verify(forged)

    assert not verdict.ok
    first, second = verdict.checkpoint_problems
    assert (first.kind, first.checkpoint_seq, first.seq_from, first.seq_to) == ("rewritten", 15, 11, 15)
    assert "checkpoint 10 still agrees, so it began at seq 11-15" in first.detail
    assert (second.kind, second.checkpoint_seq) == ("rewritten", 20)
    assert verdict.first_problem is not None
    assert (verdict.first_problem.seq, verdict.first_problem.kind, verdict.first_problem.position) == (
        15,
        "changed",
        15,
    )


def test_a_rewrite_before_every_checkpoint_begins_at_seq_1() -> None:
    world = Anchored(6, marks=(6,))
    verdict = world.verify(rewritten_from(world.entries, seq=1))
    [problem] = verdict.checkpoint_problems
    assert (problem.kind, problem.seq_from, problem.seq_to) == ("rewritten", 1, 6)


def test_a_rewrite_after_the_newest_checkpoint_is_unanchored_and_not_seen() -> None:
    """The honest limit: what is newer than the newest checkpoint is not yet protected."""
    world = Anchored(10, marks=(6,))
    verdict = world.verify(rewritten_from(world.entries, seq=8))
    assert verdict.ok
    assert verdict.unanchored_entries == 4


def test_a_middle_entry_deleted_is_named_by_the_chain_and_by_its_checkpoint() -> None:
    world = Anchored(8, marks=(4, 8))
    verdict = world.verify([entry for entry in world.entries if entry.seq != 4])
    assert verdict.first_problem is not None
    assert (verdict.first_problem.seq, verdict.first_problem.kind) == (4, "removed")
    assert [(p.kind, p.checkpoint_seq) for p in verdict.checkpoint_problems] == [("missing", 4)]


def test_a_checkpoint_edited_after_signing_has_a_bad_signature_and_is_not_used() -> None:
    world = Anchored(6, marks=(3, 6))
    key = checkpoint_key(6)
    body = json.loads(world.store.objects[key][0])
    body["seq"] = 5  # hash, time, signature left as they were
    world.store.objects[checkpoint_key(5)] = [json.dumps(body).encode()]
    del world.store.objects[key]

    verdict = world.verify()

    assert not verdict.ok
    assert [(p.kind, p.checkpoint_seq) for p in verdict.checkpoint_problems] == [("bad_signature", 5)]
    assert verdict.first_problem is None, "the chain itself is intact"
    assert verdict.last_checkpoint is not None
    assert verdict.last_checkpoint.seq == 3


def test_a_checkpoint_signed_by_another_key_has_a_bad_signature() -> None:
    world = Anchored(6, marks=(3,))
    stranger = LocalSigner()
    take_checkpoint(ListHead(world.entries), world.store, stranger, NOW)
    verdict = world.verify()
    assert [(p.kind, p.checkpoint_seq) for p in verdict.checkpoint_problems] == [("bad_signature", 6)]


def test_a_second_version_at_a_key_cannot_hide_the_first() -> None:
    """An insider re-signs the rewritten head under an anchored key: the first version still counts."""
    world = Anchored(6, marks=(6,))
    forged = rewritten_from(world.entries, seq=2)
    other = MemoryCheckpointStore()
    take_checkpoint(ListHead(forged), other, world.signer, NOW)
    world.store.add_version(6, other.objects[checkpoint_key(6)][0])

    verdict = world.verify(forged)

    assert [(p.kind, p.checkpoint) for p in verdict.checkpoint_problems] == [
        ("rewritten", f"{checkpoint_key(6)}?versionId=0")
    ]


@pytest.mark.parametrize(
    ("body", "key_seq", "detail"),
    [
        (b"not json", 3, "not a checkpoint"),
        (json.dumps({"seq": 3}).encode(), 3, "not a checkpoint"),
        (b"x" * 20000, 3, "too large"),
    ],
)
def test_an_object_that_is_no_checkpoint_is_unreadable(body: bytes, key_seq: int, detail: str) -> None:
    world = Anchored(4, marks=(4,))
    stored = [StoredCheckpoint(name="junk", body=body, key_seq=key_seq), *world.store.stored()]
    verdict = verify_audit(world.entries, stored, PublicKeyChecker(world.signer.public_key()))
    [problem] = verdict.checkpoint_problems
    assert (problem.kind, problem.checkpoint) == ("unreadable", "junk")
    assert detail in problem.detail


def test_a_checkpoint_under_another_seqs_key_is_unreadable() -> None:
    world = Anchored(4, marks=(2,))
    body = world.store.objects[checkpoint_key(2)][0]
    stored = [*world.store.stored(), StoredCheckpoint(name="moved", body=body, key_seq=3)]
    verdict = verify_audit(world.entries, stored, PublicKeyChecker(world.signer.public_key()))
    assert [(p.kind, p.detail) for p in verdict.checkpoint_problems] == [
        ("unreadable", "stored under the key of seq 3 but names seq 2")
    ]


def test_problems_are_listed_up_to_a_limit_and_all_counted() -> None:
    marks = tuple(range(1, MAX_REPORTED_PROBLEMS + 6))
    world = Anchored(len(marks), marks=marks)
    verdict = world.verify(rewritten_from(world.entries, seq=1))
    assert len(verdict.checkpoint_problems) == MAX_REPORTED_PROBLEMS
    assert verdict.checkpoint_problem_count == len(marks)


def test_the_checkpoint_message_is_canonical_json_of_its_fields() -> None:
    checkpoint = Checkpoint(chain="audit", seq=7, hash="a" * 64, at=NOW)
    assert checkpoint.message() == (
        b'{"at":"2026-03-15T12:00:00Z","chain":"audit","format":"helpline.audit-checkpoint/1",'
        b'"hash":"' + b"a" * 64 + b'","seq":7}'
    )


def test_the_public_key_must_be_p256() -> None:
    with pytest.raises(ValueError, match="public key"):
        PublicKeyChecker(b"not a key")


# ---------------------------------------------------------------- paging and bounded memory


def test_the_chain_is_read_a_page_at_a_time() -> None:
    head = ListHead(chain_of(10, NOW))
    assert [entry.seq for entry in chain_entries(head, page_size=3)] == list(range(1, 11))
    assert head.pages == [(0, 3), (3, 3), (6, 3), (9, 3)]


def test_a_chain_longer_than_one_page_verifies_and_a_tail_deletion_shows() -> None:
    world = Anchored(10, marks=(4, 10))
    head = ListHead(world.entries)
    checker = PublicKeyChecker(world.signer.public_key())
    assert verify_audit(chain_entries(head, page_size=3), world.store.stored(), checker).ok
    head.items = head.items[:9]
    verdict = verify_audit(chain_entries(head, page_size=3), world.store.stored(), checker)
    assert [(p.kind, p.seq_from, p.seq_to) for p in verdict.checkpoint_problems] == [
        ("removed_at_tail", 10, 10)
    ]


def test_entries_and_checkpoints_are_consumed_as_they_are_read() -> None:
    """Neither stream is read ahead: at most three entries are held before a checkpoint is judged."""
    world = Anchored(30, marks=(10, 20, 30))
    read: list[str] = []

    def entries() -> Iterator[AuditEntry]:
        for entry in world.entries:
            read.append(f"e{entry.seq}")
            yield entry

    def checkpoints() -> Iterator[StoredCheckpoint]:
        for stored in world.store.stored():
            read.append(f"c{stored.key_seq}")
            yield stored

    assert verify_audit(entries(), checkpoints(), PublicKeyChecker(world.signer.public_key())).ok
    assert read.index("c20") > read.index("e10")
    assert read.index("c20") < read.index("e11"), "the next checkpoint is read when the last one is used"
    assert read.index("c30") < read.index("e21")
