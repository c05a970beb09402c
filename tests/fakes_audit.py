"""In-memory fakes of the audit checkpoint ports (`helpline.logic.audit_checkpoints`), for tests only.

Kept under tests/ so they never ship in the layer. The signer signs for real (ECDSA P-256, as the KMS key
does), so a checkpoint it makes verifies with its public key and with no other; the store keeps every
version it was given and refuses a second put at a key, as the bucket with `If-None-Match: *` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from helpline.logic.audit import CHAIN, AuditEntry, AuditEvent, next_entry
from helpline.logic.audit_checkpoints import (
    SIGNING_ALGORITHM,
    Signature,
    SignedCheckpoint,
    StoredCheckpoint,
    checkpoint_key,
)


class LocalSigner:
    """`CheckpointSigner` with a key of its own; counts what it signed."""

    def __init__(self, key_id: str = "arn:aws:kms:eu-west-1:210987654321:key/test") -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.key_id = key_id
        self.signed = 0

    def sign(self, message: bytes) -> Signature:
        self.signed += 1
        return Signature(
            key_id=self.key_id,
            algorithm=SIGNING_ALGORITHM,
            signature=self._key.sign(message, ec.ECDSA(hashes.SHA256())),
        )

    def public_key(self) -> bytes:
        """DER SubjectPublicKeyInfo, as kms:GetPublicKey gives it."""
        return self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class MemoryCheckpointStore:
    """`CheckpointWriter` and checkpoint source in a dict of key -> versions (oldest first)."""

    def __init__(self) -> None:
        self.objects: dict[str, list[bytes]] = {}
        self.retain_until: dict[str, datetime] = {}
        self.puts = 0

    def has(self, seq: int, chain: str = CHAIN) -> bool:
        return checkpoint_key(seq, chain) in self.objects

    def put(self, checkpoint: SignedCheckpoint, retain_until: datetime) -> bool:
        self.puts += 1
        key = checkpoint_key(checkpoint.seq, checkpoint.chain)
        if key in self.objects:
            return False
        self.objects[key] = [checkpoint.document()]
        self.retain_until[key] = retain_until
        return True

    def add_version(self, seq: int, body: bytes, chain: str = CHAIN) -> None:
        """What an insider with s3:PutObject but no condition could add: another version at a key."""
        self.objects.setdefault(checkpoint_key(seq, chain), []).append(body)

    def stored(self, chain: str = CHAIN) -> Iterator[StoredCheckpoint]:
        for key in sorted(self.objects):
            for number, body in enumerate(self.objects[key]):
                yield StoredCheckpoint(name=f"{key}?versionId={number}", body=body, key_seq=int(key[-25:-5]))


class ListHead:
    """`ChainHead` and `AuditReader` over a list of entries, counting the pages read."""

    def __init__(self, entries: list[AuditEntry] | None = None) -> None:
        self.items: list[AuditEntry] = list(entries or [])
        self.pages: list[tuple[int, int | None]] = []

    def last(self) -> AuditEntry | None:
        return self.items[-1] if self.items else None

    def entries(self, after_seq: int = 0, limit: int | None = None) -> list[AuditEntry]:
        self.pages.append((after_seq, limit))
        found = [entry for entry in self.items if entry.seq > after_seq]
        return found if limit is None else found[:limit]


def chain_of(count: int, at: datetime, first: AuditEntry | None = None) -> list[AuditEntry]:
    """`count` entries (after `first` if given), each linked to the one before."""
    entries: list[AuditEntry] = []
    previous = first
    for _ in range(count):
        n = (previous.seq if previous is not None else 0) + 1
        previous = next_entry(
            previous,
            AuditEvent(
                at=at, actor=f"mentor-{n}", action="transcript.read", subject="c" * 32, details={"n": str(n)}
            ),
        )
        entries.append(previous)
    return entries


def rewritten_from(entries: list[AuditEntry], seq: int, actor: str = "nobody") -> list[AuditEntry]:
    """The chain with entry `seq` rewritten and every entry after it re-hashed: it links again."""
    kept = [entry for entry in entries if entry.seq < seq]
    previous = kept[-1] if kept else None
    for entry in entries:
        if entry.seq < seq:
            continue
        event = AuditEvent(
            at=entry.at,
            actor=actor if entry.seq == seq else entry.actor,
            action=entry.action,
            subject=entry.subject,
            details=entry.details,
        )
        previous = next_entry(previous, event)
        kept.append(previous)
    return kept
