"""Audit verification benchmark: the chain and its signed checkpoints walked on 10,000 and 1,000,000 entries.

Prints its figures and asserts only that both chains verify clean (so the figures are of a full walk).
`GET /audit/verify` and the offline verifier run the same walk (`verify_audit` over `chain_entries`):
the chain is read a page at a time (1,000 entries, as from DynamoDB, each item validated as the adapter
validates it), each entry re-hashed and linked, and every checkpoint (one per 300 entries, five
minutes at one entry a second) has its ECDSA signature checked and its hash compared. Storage is in
memory, so this measures our own cost, not DynamoDB's or S3's.

Targets: time linear in the entries (ratio near 100) and memory bounded: the walk's peak, measured with
tracemalloc (in runs of their own, on 10,000 and 100,000 entries: tracing slows a walk about fivefold),
is the same for both, and the process's max RSS after the million-entry walk is that of one page, the
in-memory table of digests and the interpreter.

The "table" is built without the domain's models: each entry's hash is computed from the same canonical
JSON the domain uses, and only its 32-byte digest is kept, so a million entries cost 32 MB and a few
seconds to build; entries are made when a page is read. A clean verdict proves the two agree.
Run with `python bench/audit.py` (two to three minutes on 2 cores).
"""

from __future__ import annotations

import base64
import gc
import hashlib
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from helpline.logic.audit import GENESIS_HASH, AuditEntry, canonical_json, chain_entries
from helpline.logic.audit_checkpoints import (
    SIGNING_ALGORITHM,
    Checkpoint,
    PublicKeyChecker,
    SignedCheckpoint,
    StoredCheckpoint,
    checkpoint_key,
)
from helpline.logic.checkpoint_verification import (
    AuditVerdict,
    verify_audit,
)

SIZES = (10_000, 1_000_000)
TRACED_SIZES = (10_000, 100_000)
PAGE = 1000
CHECKPOINT_EVERY = 300
START = datetime(2026, 1, 1, tzinfo=UTC)
ACTIONS = ("transcript.read", "supervision.recorded", "disclosure.requested", "disclosure.approved")


def _at(seq: int) -> str:
    return (START + timedelta(seconds=seq)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fields(seq: int) -> dict[str, object]:
    return {
        "at": _at(seq),
        "actor": f"staff-{seq % 97}",
        "action": ACTIONS[seq % len(ACTIONS)],
        "subject": f"{seq:032x}",
        "details": {"purpose": "training", "role": "mentor"},
    }


class MemoryChain:
    """`AuditReader` over digests: entry `seq` is made from `seq` and the digests of `seq - 1` and `seq`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.digests = bytearray(32 * size)
        previous = GENESIS_HASH
        for seq in range(1, size + 1):
            fields = _fields(seq)
            fields.update(seq=seq, prev_hash=previous)
            digest = hashlib.sha256(canonical_json(fields)).digest()
            self.digests[32 * (seq - 1) : 32 * seq] = digest
            previous = digest.hex()

    def hash_of(self, seq: int) -> str:
        return GENESIS_HASH if seq == 0 else self.digests[32 * (seq - 1) : 32 * seq].hex()

    def entries(self, after_seq: int = 0, limit: int | None = None) -> list[AuditEntry]:
        last = self.size if limit is None else min(self.size, after_seq + limit)
        return [
            AuditEntry.model_validate(
                {**_fields(seq), "seq": seq, "prev_hash": self.hash_of(seq - 1), "hash": self.hash_of(seq)}
            )
            for seq in range(after_seq + 1, last + 1)
        ]


class MemoryCheckpoints:
    """One signed checkpoint per `CHECKPOINT_EVERY` entries, as the schedule leaves them."""

    def __init__(self, chain: MemoryChain) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        self.public_key = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.objects: list[tuple[str, bytes]] = []
        for seq in range(CHECKPOINT_EVERY, chain.size + 1, CHECKPOINT_EVERY):
            checkpoint = Checkpoint(chain="audit", seq=seq, hash=chain.hash_of(seq), at=START)
            signature = key.sign(checkpoint.message(), ec.ECDSA(hashes.SHA256()))
            signed = SignedCheckpoint(
                **checkpoint.model_dump(),
                key_id="arn:aws:kms:eu-west-1:210987654321:key/bench",
                signing_algorithm=SIGNING_ALGORITHM,
                signature=base64.b64encode(signature).decode(),
            )
            self.objects.append((checkpoint_key(seq), signed.document()))

    def stored(self) -> Iterator[StoredCheckpoint]:
        for key, body in self.objects:
            yield StoredCheckpoint(name=key, body=body, key_seq=int(key[-25:-5]))


def verify(chain: MemoryChain, checkpoints: MemoryCheckpoints) -> AuditVerdict:
    checker = PublicKeyChecker(checkpoints.public_key)
    return verify_audit(chain_entries(chain, PAGE), checkpoints.stored(), checker)


def build(size: int) -> tuple[MemoryChain, MemoryCheckpoints]:
    started = time.perf_counter()
    chain = MemoryChain(size)
    checkpoints = MemoryCheckpoints(chain)
    built = time.perf_counter() - started
    print(f"  built {size:>9,} entries and {len(checkpoints.objects):,} checkpoints in {built:.1f} s")
    gc.collect()
    return chain, checkpoints


def timed(size: int) -> float:
    """Seconds for one walk of a clean chain of `size` entries."""
    chain, checkpoints = build(size)
    started = time.perf_counter()
    verdict = verify(chain, checkpoints)
    seconds = time.perf_counter() - started
    assert verdict.ok, verdict.first_problem
    assert (verdict.entries, verdict.checkpoints) == (size, len(checkpoints.objects))
    print(
        f"  {size:>9,} entries: {seconds:8.2f} s ({seconds / size * 1e6:5.1f} µs/entry), "
        f"{verdict.checkpoints:,} checkpoints verified"
    )
    return seconds


def traced_peak(size: int) -> int:
    """The walk's peak traced memory (bytes); tracemalloc slows a walk about fivefold, so it is a run
    of its own, on sizes that keep the benchmark within a few minutes."""
    chain, checkpoints = build(size)
    tracemalloc.start()
    verdict = verify(chain, checkpoints)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert verdict.ok
    print(f"  {size:>9,} entries: walk peak {peak / 1024:,.0f} KiB (tracemalloc)")
    return peak


def main() -> int:
    print(f"audit verification: pages of {PAGE}, a checkpoint every {CHECKPOINT_EVERY} entries")
    small, large = SIZES
    times = {size: timed(size) for size in SIZES}
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ratio = times[large] / times[small]
    print(f"  time ratio {large:,}/{small:,}: {ratio:.1f} (linear: {large / small:.0f})")
    print(
        f"  process max RSS after the {large:,} walk: {rss_mib:,.0f} MiB, the {large:,} digests of the "
        f"in-memory table ({32 * large / 2**20:,.0f} MiB) included"
    )
    peaks = {size: traced_peak(size) for size in TRACED_SIZES}
    low, high = TRACED_SIZES
    print(f"  walk peak memory ratio {high:,}/{low:,}: {peaks[high] / peaks[low]:.2f} (bounded: about 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
