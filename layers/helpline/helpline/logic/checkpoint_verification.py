"""Verifying the audit chain against its signed checkpoints (P7): what a checkpoint shows, and the verdict.

`helpline.logic.audit_checkpoints` takes the checkpoints; this module reads them back and compares
them with the chain as it stands: entries removed at the tail, a rewrite (re-hashed or not), a
checkpoint forged or edited. Pure, like the taking: the bucket and the key are `helpline.dal`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Final, Literal

from pydantic import ConfigDict, Field, ValidationError

from helpline.logic.audit import (
    CHAIN,
    AuditEntry,
    ChainProblem,
    ChainVerdict,
    ChainWalker,
)
from helpline.logic.audit_checkpoints import (
    MAX_CHECKPOINT_BYTES,
    SignatureChecker,
    SignedCheckpoint,
    StoredCheckpoint,
)
from helpline.models.common import Model, UtcDateTime

MAX_REPORTED_PROBLEMS: Final = 20
"""Checkpoint problems listed in a verdict; `checkpoint_problem_count` counts them all."""

CheckpointProblemKind = Literal["removed_at_tail", "missing", "rewritten", "bad_signature", "unreadable"]


class CheckpointProblem(Model):
    """Something a checkpoint shows, or something wrong with a checkpoint (P7).

    - removed_at_tail: the checkpoint vouches for seq `seq_to`, the chain ends before it; seqs
      `seq_from`..`seq_to` (at least) were removed from its end.
    - missing: the chain has no entry at the checkpoint's seq (`seq_from` = `seq_to`), though it goes on.
    - rewritten: the chain's entry at the checkpoint's seq has another hash. The rewrite began at or
      after `seq_from` (the newest checkpoint before it still agrees) and at or before `seq_to`.
    - bad_signature: the signature does not verify with the signing key; the checkpoint is not used.
    - unreadable: not a checkpoint of this chain (shape, chain, or a key that names another seq).

    `detail` names seqs, times and object names only, never a field of an entry.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: CheckpointProblemKind
    checkpoint: str = Field(description="the checkpoint object (key and version) or file")
    checkpoint_seq: int | None = None
    seq_from: int | None = None
    seq_to: int | None = None
    detail: str


class CheckpointSummary(Model):
    """The newest checkpoint with a good signature."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int
    hash: str
    at: UtcDateTime
    checkpoint: str


class AuditVerdict(ChainVerdict):
    """The chain's verdict (`ChainVerdict`) checked against the signed checkpoints too (P7).

    `ok` holds only if the chain links and every checkpoint is well signed and agrees with it.
    `first_problem` is the chain's first problem, or else the first thing a checkpoint showed
    (a rewrite as `changed`, removed entries as `removed`); `checkpoint_problems` lists them all (the
    first `MAX_REPORTED_PROBLEMS`). `unanchored_entries` are those after the newest checkpoint: until the
    next one, their removal would not show.
    """

    checkpoints: int = Field(default=0, ge=0, description="checkpoint objects read")
    last_checkpoint: CheckpointSummary | None = None
    unanchored_entries: int = Field(default=0, ge=0)
    checkpoint_problems: list[CheckpointProblem] = Field(default_factory=list)
    checkpoint_problem_count: int = Field(default=0, ge=0)


class _Findings:
    """Checkpoint problems as found: the first few kept, all counted, and the first one that is a
    problem of the chain (for `first_problem`)."""

    def __init__(self) -> None:
        self.problems: list[CheckpointProblem] = []
        self.count = 0
        self.read = 0
        self.headline: ChainProblem | None = None

    def add(self, problem: CheckpointProblem, chain_problem: ChainProblem | None = None) -> None:
        self.count += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(problem)
        if self.headline is None and chain_problem is not None:
            self.headline = chain_problem


def _unreadable(stored: StoredCheckpoint, detail: str) -> CheckpointProblem:
    return CheckpointProblem(
        kind="unreadable", checkpoint=stored.name, checkpoint_seq=stored.key_seq, detail=detail
    )


def read_checkpoint(
    stored: StoredCheckpoint, checker: SignatureChecker, chain: str = CHAIN
) -> SignedCheckpoint | CheckpointProblem:
    """The checkpoint in `stored` if it is one of `chain` with a good signature, else what is wrong."""
    if len(stored.body) > MAX_CHECKPOINT_BYTES:
        return _unreadable(stored, "too large to be a checkpoint")
    try:
        signed = SignedCheckpoint.model_validate_json(stored.body)
    except ValidationError as error:
        fields = sorted({str(detail["loc"][0]) for detail in error.errors() if detail.get("loc")})
        return _unreadable(stored, f"not a checkpoint ({', '.join(fields) or 'not JSON'})")
    if signed.chain != chain:
        return _unreadable(stored, "a checkpoint of another chain")
    if stored.key_seq is not None and stored.key_seq != signed.seq:
        return _unreadable(stored, f"stored under the key of seq {stored.key_seq} but names seq {signed.seq}")
    try:
        signature = base64.b64decode(signed.signature, validate=True)
    except binascii.Error:
        signature = b""
    if not signature or not checker.verify(
        signed.checkpoint().message(), signature, signed.signing_algorithm
    ):
        return CheckpointProblem(
            kind="bad_signature",
            checkpoint=stored.name,
            checkpoint_seq=signed.seq,
            detail=f"checkpoint {signed.seq}: its signature does not verify with the signing key",
        )
    return signed


def _good_checkpoints(
    stored: Iterable[StoredCheckpoint], checker: SignatureChecker, chain: str, findings: _Findings
) -> Iterator[tuple[SignedCheckpoint, str]]:
    """The well-signed checkpoints in seq order, with their names; the others go to `findings`."""
    highest = 0
    for item in stored:
        findings.read += 1
        checkpoint = read_checkpoint(item, checker, chain)
        if isinstance(checkpoint, CheckpointProblem):
            findings.add(checkpoint)
        elif checkpoint.seq < highest:
            findings.add(_unreadable(item, f"seq {checkpoint.seq} read after seq {highest}: out of order"))
        else:
            highest = checkpoint.seq
            yield checkpoint, item.name


def verify_audit(
    entries: Iterable[AuditEntry],
    checkpoints: Iterable[StoredCheckpoint],
    checker: SignatureChecker,
    chain: str = CHAIN,
) -> AuditVerdict:
    """Walk the chain and its checkpoints side by side, both in seq order, each read once (P7).

    Memory is the chain walker's three entries and one checkpoint, however long either is: the
    entries and the checkpoints may both be generators reading a page at a time. The checkpoints must
    come in seq order (S3 lists the zero-padded keys so; the offline verifier sorts its files).
    """
    walker = ChainWalker()
    findings = _Findings()
    good = _good_checkpoints(checkpoints, checker, chain, findings)
    pending = next(good, None)
    agreeing: SignedCheckpoint | None = None
    newest: tuple[SignedCheckpoint, str] | None = None

    for entry in entries:
        walker.push(entry)
        while pending is not None and pending[0].seq <= entry.seq:
            checkpoint, name = pending
            newest = pending
            if checkpoint.seq < entry.seq:
                _missing(findings, checkpoint, name, entry, walker.count)
            elif checkpoint.hash == entry.hash:
                agreeing = checkpoint
            else:
                _rewritten(findings, checkpoint, name, walker.count, agreeing)
            pending = next(good, None)

    verdict = walker.finish()
    beyond = 0
    while pending is not None:
        beyond += 1
        newest = pending
        pending = next(good, None)
    if beyond and newest is not None:
        _removed_at_tail(findings, newest[0], newest[1], verdict)

    last_seq = verdict.last_seq or 0
    anchored = newest[0].seq if newest is not None else 0
    first_problem = verdict.first_problem or findings.headline
    return AuditVerdict(
        ok=verdict.ok and findings.count == 0,
        entries=verdict.entries,
        last_seq=verdict.last_seq,
        last_hash=verdict.last_hash,
        first_problem=first_problem,
        checkpoints=findings.read,
        last_checkpoint=(
            CheckpointSummary(seq=newest[0].seq, hash=newest[0].hash, at=newest[0].at, checkpoint=newest[1])
            if newest is not None
            else None
        ),
        unanchored_entries=max(0, last_seq - anchored) if verdict.entries else 0,
        checkpoint_problems=findings.problems,
        checkpoint_problem_count=findings.count,
    )


def _missing(
    findings: _Findings, checkpoint: SignedCheckpoint, name: str, entry: AuditEntry, position: int
) -> None:
    seq = checkpoint.seq
    detail = (
        f"checkpoint {seq} vouches for entry {seq}, but the chain goes from before it to entry {entry.seq}"
    )
    findings.add(
        CheckpointProblem(
            kind="missing", checkpoint=name, checkpoint_seq=seq, seq_from=seq, seq_to=seq, detail=detail
        ),
        ChainProblem(seq=seq, position=position, kind="removed", detail=f"seq {seq} missing: {detail}"),
    )


def _rewritten(
    findings: _Findings,
    checkpoint: SignedCheckpoint,
    name: str,
    position: int,
    agreeing: SignedCheckpoint | None,
) -> None:
    seq = checkpoint.seq
    since = agreeing.seq + 1 if agreeing is not None else 1
    still = (
        f"checkpoint {agreeing.seq} still agrees, so it began at seq {since}-{seq}"
        if agreeing is not None
        else f"no earlier checkpoint agrees, so it began at seq 1-{seq}"
    )
    detail = (
        f"entry {seq} has another hash than checkpoint {seq} signed at {_utc(checkpoint.at)}: "
        f"the chain was rewritten; {still}"
    )
    findings.add(
        CheckpointProblem(
            kind="rewritten", checkpoint=name, checkpoint_seq=seq, seq_from=since, seq_to=seq, detail=detail
        ),
        ChainProblem(seq=seq, position=position, kind="changed", detail=detail),
    )


def _removed_at_tail(
    findings: _Findings, checkpoint: SignedCheckpoint, name: str, verdict: ChainVerdict
) -> None:
    first = (verdict.last_seq or 0) + 1
    seq = checkpoint.seq
    missing = f"seq {first}" if first == seq else f"seq {first}-{seq}"
    ends = (
        f"the chain ends at seq {verdict.last_seq}" if verdict.last_seq is not None else "the chain is empty"
    )
    detail = (
        f"{missing} removed at the tail: checkpoint {seq} signed at {_utc(checkpoint.at)} vouches for "
        f"seq {seq}, {ends}"
    )
    findings.add(
        CheckpointProblem(
            kind="removed_at_tail",
            checkpoint=name,
            checkpoint_seq=seq,
            seq_from=first,
            seq_to=seq,
            detail=detail,
        ),
        ChainProblem(seq=first, position=verdict.entries + 1, kind="removed", detail=detail),
    )


def _utc(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
