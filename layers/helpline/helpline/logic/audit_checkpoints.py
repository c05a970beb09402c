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

This module takes checkpoints; `helpline.logic.checkpoint_verification` reads them back into a verdict.
Everything here is pure: the bucket and the key are `helpline.dal.checkpoints`. Signatures are checked
here, with the signing key's public key (`kms:GetPublicKey`), so that the offline verifier needs no AWS
access at all and anyone given the public key can check a checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key
from pydantic import ConfigDict, Field

from helpline.logic.audit import (
    CHAIN,
    HASH_PATTERN,
    ChainHead,
    canonical_json,
)
from helpline.models.common import Model, UtcDateTime

CHECKPOINT_FORMAT: Final = "helpline.audit-checkpoint/1"
"""Named in every checkpoint and signed with it, so a signature cannot be replayed as another message."""
SIGNING_ALGORITHM: Final = "ECDSA_SHA_256"
"""KMS's algorithm for an ECC_NIST_P256 SIGN_VERIFY key: the one the checkpoint function signs with."""
CHECKPOINT_PREFIX: Final = "checkpoints"
SEQ_DIGITS: Final = 20
"""Zero-padded seq in the object key: keys list in seq order (S3 lists keys in byte order)."""
MAX_CHECKPOINT_BYTES: Final = 16 * 1024
"""A checkpoint is a few hundred bytes; a bigger object is not one, and is not read whole."""
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


class Checkpoint(Model):
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


class CheckpointResult(Model):
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
