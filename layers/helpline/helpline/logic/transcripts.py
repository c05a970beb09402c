"""Reading a transcript for training (P4, P8): decrypted, de-identified, and recorded before it leaves.

P8 keeps chat and e-mail word for word, encrypted; P4 allows sharing what was said only where it matters
(training, the volunteer's own processing, quality). So a read states its purpose, every part passes the
same scrubber the reports use, and the read (who, when, which contact, what purpose) is appended to the
audit log *before* the text is returned: if the audit log cannot be written, nothing is returned (fail
closed for data, DESIGN.md).

Retention (P8): a part past its `expires_at` (our receipt day + TRANSCRIPT_RETENTION_DAYS) is gone at
once, before the table's TTL or the sweep deletes it: the reader does not return it, not even to be
counted on the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from helpline.logic.audit import TRANSCRIPT_READ, AuditLog, record
from helpline.logic.register import RegisterStore
from helpline.models.transcripts import DecryptedPart, TranscriptOut, TranscriptPartOut

Scrubber = Callable[[str], str]
"""`helpline.scrub.scrub`: text in, text with names and identifying details replaced out."""


class TranscriptNotFoundError(LookupError):
    """No such contact, or a contact that has no transcript; the message is safe to show."""


class TranscriptReader(Protocol):
    """Decrypts the stored parts of one contact (`dal.transcript_reader`)."""

    def read(self, contact_id: str) -> list[DecryptedPart]:
        """The parts of the contact still within their retention, oldest first; refuses a part that
        belongs to another contact."""
        ...


def read_transcript(
    register: RegisterStore,
    reader: TranscriptReader,
    audit: AuditLog,
    scrub: Scrubber,
    *,
    contact_id: str,
    actor: str,
    purpose: str,
    now: datetime,
) -> TranscriptOut:
    """The scrubbed transcript of `contact_id`, after its read is on the audit log (P4, P8).

    Phone calls are never recorded (P1), so a voice contact has no transcript. The stated purpose is
    scrubbed too before it is stored: it is free text, and a name typed into it would otherwise sit
    in the audit log for good (P5).
    """
    contact = register.get(contact_id)
    if contact is None:
        raise TranscriptNotFoundError("No such contact")
    if contact.channel == "voice":
        raise TranscriptNotFoundError("No transcript: phone calls are never recorded")
    parts = [
        TranscriptPartOut(position=number, sender=part.sender, sent_at=part.sent_at, text=scrub(part.text))
        for number, part in enumerate(reader.read(contact_id), start=1)
    ]
    record(
        audit,
        now,
        actor,
        TRANSCRIPT_READ,
        contact_id,
        purpose=scrub(purpose.strip()),
        channel=contact.channel,
        parts=str(len(parts)),
    )
    return TranscriptOut(contact_id=contact_id, channel=contact.channel, parts=parts)
