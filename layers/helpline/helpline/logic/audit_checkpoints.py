"""Signed checkpoints of the audit chain's head, kept where the organisation cannot rewrite them (P7).

P7 puts every step of a disclosure on a tamper-evident record, and DESIGN.md asks for an audit chain
"that a table writer cannot shorten". The hash chain alone (`helpline.logic.audit`) cannot promise
that: whoever can write AuditTable can delete its newest entries, or rewrite an entry and re-hash
every entry after it, and the chain still links. So, every few minutes, the head of the chain (its seq
and hash, and when) is signed with the custodian's KMS signing key and written to the custodian's
write-once bucket (S3 Object Lock, compliance mode): a checkpoint. From then on:

- entries removed at the tail show as a checkpoint whose seq is beyond the chain's end;
- a rewrite, re-hashed or not, shows as a checkpoint whose hash differs from the chain's entry at its
  seq (and the checkpoints before the rewrite still agree, which says where it began);
- a checkpoint that was forged or edited shows by its signature.

What happened after the newest checkpoint (at most one schedule interval) is not yet anchored; the
verdict says how many entries that is (`unanchored_entries`).

Everything here is pure: the bucket and the key are `helpline.dal.checkpoints`. Signatures are checked
here, with the signing key's public key (`kms:GetPublicKey`), so that the offline verifier needs no AWS
access at all and anyone given the public key can check a checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from helpline.logic.audit import (
    CHAIN,
    HASH_PATTERN,
    AuditEntry,
    ChainHead,
    ChainProblem,
    ChainVerdict,
    ChainWalker,
    canonical_json,
)
from helpline.models.common import UtcDateTime

CHECKPOINT_FORMAT: Final = "helpline.audit-checkpoint/1"
"""Named in every checkpoint and signed with it, so a signature cannot be replayed as another message."""
SIGNING_ALGORITHM: Final = "ECDSA_SHA_256"
"""KMS's algorithm for an ECC_NIST_P256 SIGN_VERIFY key: the one the checkpoint function signs with."""
CHECKPOINT_PREFIX: Final = "checkpoints"
SEQ_DIGITS: Final = 20
"""Zero-padded seq in the object key: keys list in seq order (S3 lists keys in byte order)."""
MAX_CHECKPOINT_BYTES: Final = 16 * 1024
"""A checkpoint is a few hundred bytes; a bigger object is not one, and is not read whole."""
MAX_REPORTED_PROBLEMS: Final = 20
"""Checkpoint problems listed in a verdict; `checkpoint_problem_count` counts them all."""
DEFAULT_RETENTION_DAYS: Final = 3650

_KEY_PATTERN: Final = re.compile(rf"^(?P<prefix>.+)/(?P<seq>\d{{{SEQ_DIGITS}}})\.json$")


def checkpoint_prefix(chain: str = CHAIN) -> str:
    """Where a chain's checkpoints are kept in the bucket (`checkpoints/<chain>/`)."""
    return f"{CHECKPOINT_PREFIX}/{chain}/"


def checkpoint_key(seq: int, chain: str = CHAIN) -> str:
    """The object key of the checkpoint at `seq`: `checkpoints/<chain>/<seq, 20 digits>.json`."""
    return f"{checkpoint_prefix(chain)}{seq:0{SEQ_DIGITS}d}.json"


def seq_of_key(key: str, chain: str = CHAIN) -> int | None:
    """The seq a key is named for, or None when it is not a checkpoint key of `chain`."""
    match = _KEY_PATTERN.fullmatch(key)
    if match is None or f"{match['prefix']}/" != checkpoint_prefix(chain):
        return None
    return int(match["seq"])


class Checkpoint(BaseModel):
    """What is signed: the chain's head (seq and hash) at a time, on our clock."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["helpline.audit-checkpoint/1"] = CHECKPOINT_FORMAT
    chain: str = Field(min_length=1, max_length=64)
    seq: int = Field(ge=1)
    hash: str = Field(pattern=HASH_PATTERN)
    at: UtcDateTime

    def message(self) -> bytes:
        """The bytes signed: canonical JSON of the checkpoint's fields, whoever computes it."""
        return canonical_json(self.model_dump(mode="json"))


class SignedCheckpoint(Checkpoint):
    """A checkpoint as stored: its fields, the key that signed it and the signature (base64, DER)."""

    key_id: str = Field(min_length=1, max_length=2048, description="ARN of the signing key")
    signing_algorithm: str = Field(min_length=1, max_length=64)
    signature: str = Field(min_length=1, max_length=4096, description="base64 of the KMS signature")

    def checkpoint(self) -> Checkpoint:
        """The signed part."""
        return Checkpoint(format=self.format, chain=self.chain, seq=self.seq, hash=self.hash, at=self.at)

    def document(self) -> bytes:
        """The object's body: canonical JSON of every field."""
        return canonical_json(self.model_dump(mode="json"))


@dataclass(frozen=True)
class Signature:
    """What KMS answers to Sign: the key's ARN, the algorithm and the signature bytes."""

    key_id: str
    algorithm: str
    signature: bytes


@dataclass(frozen=True)
class StoredCheckpoint:
    """One checkpoint object as read: a name to report it by, its body, and the seq its key names.

    `name` is the object key and version (or a file path offline); `key_seq` is None where there is
    no key to hold the body to (an exported file).
    """

    name: str
    body: bytes
    key_seq: int | None = None


class CheckpointSigner(Protocol):
    """The custodian's signing key (`KmsCheckpointSigner`)."""

    def sign(self, message: bytes) -> Signature:
        """Sign `message` (raw, not a digest) with `SIGNING_ALGORITHM`."""
        ...


class CheckpointWriter(Protocol):
    """The write-once bucket, as the checkpoint function sees it (`S3CheckpointStore`)."""

    def has(self, seq: int, chain: str = CHAIN) -> bool:
        """Whether a checkpoint of `chain` at `seq` is stored."""
        ...

    def put(self, checkpoint: SignedCheckpoint, retain_until: datetime) -> bool:
        """Store `checkpoint` locked until `retain_until`; False when one is already at its key."""
        ...


class SignatureChecker(Protocol):
    """Checks a checkpoint's signature (`PublicKeyChecker`)."""

    def verify(self, message: bytes, signature: bytes, algorithm: str) -> bool:
        """Whether `signature` over `message` was made with the signing key and `algorithm`."""
        ...


class PublicKeyChecker:
    """`SignatureChecker` on the signing key's public key, as `kms:GetPublicKey` gives it.

    Checking locally rather than by `kms:Verify` costs no request per checkpoint (there is one every
    few minutes, for years) and needs no AWS at all offline.
    """

    def __init__(self, public_key: bytes) -> None:
        key = _load_public_key(public_key)
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("the checkpoint signing key must be an ECC_NIST_P256 key")
        self._key = key

    def verify(self, message: bytes, signature: bytes, algorithm: str) -> bool:
        """ECDSA over SHA-256; any other algorithm does not verify."""
        if algorithm != SIGNING_ALGORITHM:
            return False
        try:
            self._key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True


def _load_public_key(data: bytes) -> object:
    """A public key from DER (GetPublicKey's `PublicKey`), PEM, or base64 of DER (the AWS CLI's text)."""
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            return load_pem_public_key(text)
        try:
            return load_der_public_key(data)
        except ValueError:
            return load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error, UnsupportedAlgorithm):
        raise ValueError("not a public key (DER, PEM or base64 of DER)") from None


# ---------------------------------------------------------------- taking a checkpoint


class CheckpointResult(BaseModel):
    """What one run of the checkpoint function did: wrote one, found the head already anchored, or
    found an empty chain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: Literal["written", "unchanged", "empty"]
    seq: int | None = None


def take_checkpoint(
    head: ChainHead,
    writer: CheckpointWriter,
    signer: CheckpointSigner,
    now: datetime,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    chain: str = CHAIN,
) -> CheckpointResult:
    """Anchor the chain's head if it moved since the last checkpoint (P7).

    "Moved" is "no checkpoint at the head's seq yet": seqs only grow on an intact chain, so this is one
    request and nothing is signed or written when nothing was appended. If the head went back (entries
    removed) onto a seq already anchored, nothing is written either: the checkpoint there, and any
    beyond, are what verification needs. The object is locked in compliance mode until
    `now + retention_days`: not even the bucket's account can delete or change it before then.
    """
    entry = head.last()
    if entry is None:
        return CheckpointResult(outcome="empty")
    if writer.has(entry.seq, chain):
        return CheckpointResult(outcome="unchanged", seq=entry.seq)
    checkpoint = Checkpoint(chain=chain, seq=entry.seq, hash=entry.hash, at=now)
    signature = signer.sign(checkpoint.message())
    signed = SignedCheckpoint(
        **checkpoint.model_dump(),
        key_id=signature.key_id,
        signing_algorithm=signature.algorithm,
        signature=base64.b64encode(signature.signature).decode("ascii"),
    )
    written = writer.put(signed, now + timedelta(days=retention_days))
    return CheckpointResult(outcome="written" if written else "unchanged", seq=entry.seq)


# ---------------------------------------------------------------- verifying against checkpoints

CheckpointProblemKind = Literal["removed_at_tail", "missing", "rewritten", "bad_signature", "unreadable"]


class CheckpointProblem(BaseModel):
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


class CheckpointSummary(BaseModel):
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
