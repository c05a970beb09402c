"""A contact with an office line (P11): not a help conversation, so not anonymised.

The caller's number or address is visible here, used only for the purpose the person contacted the
office for, and deleted when that purpose has passed (the table's TTL on `expires_at`). Office contacts
never count toward the daily limit, never appear in helpline statistics, never take part in a disclosure.
"""

from __future__ import annotations

import uuid
from typing import Final

from pydantic import ConfigDict, Field, field_validator

from helpline.models.common import Channel, LineId, Model, UtcDateTime

BODY_MAX_BYTES: Final = 256 * 1024
"""At most this many bytes (UTF-8) of a mail's text are kept: a DynamoDB item holds 400 KB in all,
and an office mail is a letter, not an archive."""
CUT_MARKER: Final = "\n[…afgekapt]"
"""Ends a text cut at `BODY_MAX_BYTES` ("afgekapt": cut off), so a reader sees that it goes on."""


def clip_body(text: str) -> str:
    """`text`, or as much of it as fits in `BODY_MAX_BYTES` with `CUT_MARKER`, cut between characters."""
    if len(text.encode()) <= BODY_MAX_BYTES:
        return text
    room = BODY_MAX_BYTES - len(CUT_MARKER.encode())
    return text.encode()[:room].decode(errors="ignore") + CUT_MARKER


class OfficeContact(Model):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    channel: Channel
    line: LineId
    caller: str | None = Field(description="the caller's number or address, in clear (P11)")
    purpose: str = Field(default="office contact", max_length=200)
    body: str | None = Field(
        default=None, repr=False, description="a mail's text, in clear (P11); see `clip_body`"
    )
    started_at: UtcDateTime
    expires_at: int = Field(description="epoch seconds; the table deletes the item after it")

    @field_validator("body")
    @classmethod
    def _fits_an_item(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) > BODY_MAX_BYTES:
            raise ValueError("body is longer than BODY_MAX_BYTES; use clip_body")
        return value
