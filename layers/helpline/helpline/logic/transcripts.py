"""Reading a transcript (P4, P8): decrypted, de-identified, and recorded before it leaves.

P8 keeps chat and e-mail word for word, encrypted; P4 allows sharing what was said only where it matters
(training, the volunteer's own emotional processing, quality improvement). So a read names one of those
purposes (`models.transcripts.TranscriptPurpose`), every part passes the same scrubber the reports use,
and the read (who, when, which contact, what purpose, an optional note) is appended to the audit log
*before* the text is returned: if the audit log cannot be written, nothing is returned (fail closed for
data, DESIGN.md).

Retention (P8): a part past its `expires_at` (our receipt day + TRANSCRIPT_RETENTION_DAYS) is gone at
once, before the table's TTL or the sweep deletes it: the reader does not return it, not even to be
counted on the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final, Protocol

from helpline.logic.audit import DETAIL_VALUE_MAX, TRANSCRIPT_READ, AuditLog, record
from helpline.logic.register import RegisterStore
from helpline.models.transcripts import DecryptedPart, TranscriptOut, TranscriptPartOut, TranscriptPurpose

CUT_MARK: Final = "…"

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
    purpose: TranscriptPurpose,
    now: datetime,
    note: str | None = None,
) -> TranscriptOut:
    """The scrubbed transcript of `contact_id`, after its read is on the audit log (P4, P8).

    Phone calls are never recorded (P1), so a voice contact has no transcript. The purpose is one of
    P4's (`TranscriptPurpose`) and goes on the audit log as it is. The note is free text: it is scrubbed
    with the same scrubber before it is stored (a name or a number typed into it would otherwise sit
    in the audit log for good, P2, P3, P5), then cut to what an audit detail holds (`audit_note`).
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
    details = {"purpose": purpose, "channel": contact.channel, "parts": str(len(parts))}
    stated = (note or "").strip()
    if stated:
        details["note"] = audit_note(scrub(stated))
    record(audit, now, actor, TRANSCRIPT_READ, contact_id, **details)
    return TranscriptOut(contact_id=contact_id, channel=contact.channel, parts=parts)


def audit_note(scrubbed: str, limit: int = DETAIL_VALUE_MAX) -> str:
    """A scrubbed note cut to `limit` characters, marked `…` where it was cut.

    Scrubbing lengthens a text (a name of three letters becomes `[PERSOON-1]`), so a note within
    `NOTE_MAX` may come out longer than an audit detail holds: cut after scrubbing, never before (a cut
    before could split an identifier so the scrubber no longer sees it), so the read is recorded and
    never a 500.
    """
    if len(scrubbed) <= limit:
        return scrubbed
    return scrubbed[: limit - len(CUT_MARK)].rstrip() + CUT_MARK
