"""A chat or e-mail transcript as it leaves the system for training (P4, P8): de-identified text only."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from helpline.models.common import Channel, UtcDateTime

PURPOSE_MIN: Final = 3
PURPOSE_MAX: Final = 200

TranscriptSender = Literal["contact", "volunteer"]


class DecryptedPart(BaseModel):
    """One part as decrypted, before scrubbing: never returned nor logged as is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sender: TranscriptSender
    sent_at: UtcDateTime
    text: str = Field(repr=False)


class TranscriptPartOut(BaseModel):
    """One message of the transcript, its text scrubbed of names and other identifying details."""

    model_config = ConfigDict(extra="forbid")

    position: int = Field(ge=1, description="1 for the first part, in the order they were sent")
    sender: TranscriptSender
    sent_at: UtcDateTime
    text: str


class TranscriptOut(BaseModel):
    """The de-identified transcript of one chat or e-mail contact; the read is on the audit log."""

    model_config = ConfigDict(extra="forbid")

    contact_id: str
    channel: Channel
    parts: list[TranscriptPartOut]
