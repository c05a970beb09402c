"""A contact with an office line (P11): not a help conversation, so not anonymised.

The caller's number or address is visible here, used only for the purpose the person contacted the
office for, and deleted when that purpose has passed (the table's TTL on `expires_at`). Office contacts
never count toward the daily limit, never appear in helpline statistics, never take part in a disclosure.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from helpline.models.common import Channel, LineId, UtcDateTime


class OfficeContact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    channel: Channel
    line: LineId
    caller: str | None = Field(description="the caller's number or address, in clear (P11)")
    purpose: str = Field(default="office contact", max_length=200)
    started_at: UtcDateTime
    expires_at: int = Field(description="epoch seconds; the table deletes the item after it")
