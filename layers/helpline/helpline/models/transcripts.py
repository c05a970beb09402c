"""A chat or e-mail transcript as it leaves the system (P4, P8): de-identified text only, read for one of
the purposes P4 names."""

from __future__ import annotations

from typing import Final, Literal, get_args

from pydantic import ConfigDict, Field

from helpline.models.common import Channel, Model, UtcDateTime

TranscriptPurpose = Literal["training", "emotional_processing", "quality_improvement"]
"""Why a transcript is read: the only three reasons P4 gives for sharing what was said.

- `training`: training volunteers (P4, and P9's mentors and trainees).
- `emotional_processing`: the volunteer's own emotional processing of a conversation (verwerking),
  with a mentor or a professional.
- `quality_improvement`: improving the quality of the service (P4, P8's reports).
"""
TRANSCRIPT_PURPOSES: Final[tuple[str, ...]] = get_args(TranscriptPurpose)
NOTE_MAX: Final = 200
"""The longest note a read may give beside its purpose; the audit log keeps it scrubbed, cut to fit."""

TranscriptSender = Literal["contact", "volunteer"]


class DecryptedPart(Model):
    """One part as decrypted, before scrubbing: never returned nor logged as is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sender: TranscriptSender
    sent_at: UtcDateTime
    text: str = Field(repr=False)


class TranscriptPartOut(Model):
    """One message of the transcript, its text scrubbed of names and other identifying details."""

    model_config = ConfigDict(extra="forbid")

    position: int = Field(ge=1, description="1 for the first part, in the order they were sent")
    sender: TranscriptSender
    sent_at: UtcDateTime
    text: str


class TranscriptOut(Model):
    """The de-identified transcript of one chat or e-mail contact; the read is on the audit log."""

    model_config = ConfigDict(extra="forbid")

    contact_id: str
    channel: Channel
    parts: list[TranscriptPartOut]
