"""What follows a registered contact: its end and its transcript parts (P8).

Registration (`logic.ingest`) claims the keyed hash of the provider's reference for a contact; every
later event finds its contact by that hash alone, so no provider id is stored (P3). An event whose
reference was never claimed (its contact never started, or its claim was given back) raises
`UnknownContactError`; an office contact (P11) gets neither an end nor a transcript.

They are apart from registration because they answer other questions: registration decides whether
a person is connected and counted, all or nothing; an end or a part only adds to a contact that
exists, once however often the provider repeats it (a repeated end changes nothing, a redelivered part
keeps its first number, `part_key`), and the parts in the order they were sent (`PART_COUNTER_SPAN`).

Time, as for registration: `now` is our receipt time, retention counts from it, and a provider's time
is kept only when plausible (`logic.retention.provider_time`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from helpline.logic import retention
from helpline.logic.ingest import REFERENCE_TTL, IngestPolicy, IngestPorts, UnknownContactError
from helpline.logic.ports import (
    DependencyError,
    IdentifierVault,
    ReferenceIndex,
    TranscriptSealer,
    TranscriptStore,
)
from helpline.models.buffer import BufferedEnd
from helpline.models.events import ContactEnded, TranscriptPart


def end_contact(event: ContactEnded, ports: IngestPorts, now: datetime) -> bool:
    """Record when a contact ended and how long it took (P8). Repeats and stale callbacks change nothing.

    `now` is our receipt time: the provider's end time is kept only when plausible (else `now`), and
    never before the registered start. True if this event was applied (now or through the buffer).
    """
    ref_key = ports.vault.reference_key(event.provider_reference)
    entry = ports.references.find(ref_key)
    if entry is None:
        raise UnknownContactError("no contact for this reference")
    if entry.line_kind == "office" or not ports.references.advance(ref_key, event.sequence):
        return False
    ended_at = retention.provider_time(event.ended_at, now, event.channel)
    if entry.started_at is not None:
        ended_at = max(ended_at, entry.started_at)
    duration = event.duration_s
    if duration is None and entry.started_at is not None:
        duration = int((ended_at - entry.started_at).total_seconds())
    try:
        if ports.contacts.mark_ended(entry.contact_id, ended_at, duration):
            return True
    except DependencyError:
        pass
    # Not stored yet (its registration may still wait in the buffer) or storage failed: retry later.
    ports.buffer.defer(BufferedEnd(contact_id=entry.contact_id, ended_at=ended_at, duration_s=duration))
    return True


@dataclass(frozen=True)
class TranscriptPorts:
    vault: IdentifierVault
    references: ReferenceIndex
    sealer: TranscriptSealer
    transcripts: TranscriptStore


PART_COUNTER_SPAN: Final = 10**6
"""A part's `seq` is its (plausible) send time in milliseconds times this, plus the number its
contact's counter gave it (`ReferenceIndex.part_sequence`): parts sort by send time, and parts sent in
the same millisecond (or the same second, where the platform sends whole seconds) by the order they
arrived in, which is the order they were sent. The counter makes every `seq` of a contact its own.

Parts stored before the counter were numbered by their send time as claimed (milliseconds * 1000 + a
CRC of the part id: below 2.6 * 10^17 for any year up to 9999); a `seq` now is at least 1.7 * 10^18 (a
plausible send time is after 2025), so those parts sort first: a chat that went on across the change
still reads in order, and the reader (a Query in `seq` order) reads both kinds alike."""


def part_key(ref_key: str, part_id: str) -> str:
    """The key a part's order number is remembered under: a hash of the contact's reference key (itself
    a keyed hash, P3) and the provider's part id, so neither is stored."""
    return hashlib.sha256(f"helpline:transcript-part:v1:{ref_key}:{part_id}".encode()).hexdigest()


def add_transcript_part(
    part: TranscriptPart, ports: TranscriptPorts, policy: IngestPolicy, now: datetime
) -> bool:
    """Keep a chat message or e-mail body word for word, encrypted (P8). True if stored now.

    Order (`PART_COUNTER_SPAN`): by send time, then by a counter kept with the contact's reference
    entry (an atomic ADD in DynamoDB), in the order parts arrive. Never by the send time alone: two
    messages sent in the same millisecond (`m7`, `m16`) got the same number from it, and the second
    was dropped as a duplicate of the first. Once only: the number is remembered under the part's id
    (`part_key`), so a redelivered part gets its first number again (whenever it arrives) and the
    conditional put on (contact, number) stores it once; a part that failed after it got its number
    is stored under that number when it is delivered again. A part without an id cannot be
    recognised and is stored each time it is delivered.

    `now` is our receipt time: the part is sealed under that period's key, kept until midnight of
    receipt day + `transcript_retention_days` (its TTL, which readers honour at once), and its
    `sent_at` is the provider's time only when plausible (also for the order).
    """
    ref_key = ports.vault.reference_key(part.provider_reference)
    entry = ports.references.find(ref_key)
    if entry is None:
        raise UnknownContactError("no contact for this reference")
    if entry.line_kind == "office":
        return False  # P11: office lines carry no help conversations to keep
    sent_at = retention.provider_time(part.sent_at, now, part.channel)
    key = part_key(ref_key, part.part_id or secrets.token_hex(16))
    base = int(sent_at.timestamp() * 1000) * PART_COUNTER_SPAN
    seq = ports.references.part_sequence(ref_key, key, base, now + REFERENCE_TTL)
    if seq is None:
        raise UnknownContactError("no contact for this reference")
    expires_at = retention.expiry_epoch(now, policy.transcript_retention_days)
    ciphertext = ports.sealer.seal(entry.contact_id, part.channel, part.sender, part.text, now)
    return ports.transcripts.append(entry.contact_id, seq, part.sender, ciphertext, sent_at, expires_at)
