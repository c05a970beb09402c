"""The line registry: the entries through which people reach the organisation.

A line is a helpline (P1-P10: anonymous, identifiers encrypted) or an office line (P11: no help
conversations, no encryption). Its address is the organisation's own number, mailbox or chat
channel, not a caller identifier, so it may be shown and stored in clear.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from helpline.models.addresses import normalise_address
from helpline.models.common import Channel, LineId, UtcDateTime

LineKind = Literal["helpline", "office"]
"""P11: office lines are not help lines; the ingest path treats their contacts apart."""


class LineIn(BaseModel):
    """What an admin submits to register or change a line (body of PUT /lines/{line_id})."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: LineKind = Field(description="helpline (anonymous, P1) or office (P11)")
    channel: Channel = Field(description="voice, chat or email")
    # Declared after `channel`: the address is normalised according to the channel.
    address: str = Field(
        min_length=1,
        max_length=254,
        description=(
            "voice: phone number (normalised to E.164, region NL by default); "
            "email: mailbox (lower-cased); chat: channel slug"
        ),
    )
    display_name: str = Field(min_length=1, max_length=80)
    daily_limit: int | None = Field(
        default=None,
        ge=1,
        le=50,
        description="Contacts per person per rolling 24 hours here (P10); default: CONTACT_LIMIT_PER_DAY",
    )
    queue: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="voice: the volunteers' call queue an allowed call is enqueued in (default: volunteers)",
    )

    @field_validator("address")
    @classmethod
    def _normalise_address(cls, value: str, info: ValidationInfo) -> str:
        channel: Channel | None = info.data.get("channel")
        if channel is None:
            return value  # the channel is invalid and reported on its own
        return normalise_address(channel, value)


class Line(LineIn):
    """A registered line, as stored and as the API returns it."""

    line_id: LineId
    updated_at: UtcDateTime
    updated_by: str = Field(min_length=1, max_length=128, description="Staff user who saved it")


class LineList(BaseModel):
    """Answer of GET /lines."""

    items: list[Line]
