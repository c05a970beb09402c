"""The anonymised register as staff and mentors see it (P8): what a response may carry, nothing more.

P8 lets staff see the time of a contact, its length, its region and its entry (line or channel). A
`ContactView` is exactly that, plus the id and the outcome of the daily limit (P10). It is built from a
whitelist of fields (`VIEW_FIELDS`), never by dropping fields from a stored record, so that a field added
to `ContactRecord` later (or the encrypted identifier, its retention date and the index key `month`)
cannot reach a response by accident (P2, P3).
"""

from __future__ import annotations

from datetime import date
from typing import Final

from pydantic import ConfigDict, Field, model_validator

from helpline.models.common import Channel, LineId, Model, UtcDateTime
from helpline.models.contacts import LimitOutcome

CONTACT_ID_PATTERN: Final = r"^[0-9a-f]{32}$"
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200
DEFAULT_PERIOD_DAYS: Final = 31
MAX_PERIOD_DAYS: Final = 366

VIEW_FIELDS: Final = (
    "id",
    "channel",
    "line",
    "started_at",
    "ended_at",
    "duration_s",
    "region",
    "limit_outcome",
)
"""The only attributes the register reads from ContactsTable (its DynamoDB projection, P8)."""


class ContactView(Model):
    """One contact as the register shows it (P8): no identifier, not even encrypted (P2, P3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=CONTACT_ID_PATTERN)
    channel: Channel
    line: str = Field(description="line_id of the entry used, or 'unknown'")
    started_at: UtcDateTime
    ended_at: UtcDateTime | None = None
    duration_s: int | None = Field(default=None, ge=0)
    region: str = Field(
        description="Dutch province, 'mobile', 'abroad:<ISO country>', 'abroad:other' or 'unknown'"
    )
    limit_outcome: LimitOutcome


class ContactPage(Model):
    """A page of the register, newest first; pass `next_token` back for the next page (none: the end)."""

    model_config = ConfigDict(extra="forbid")

    items: list[ContactView]
    next_token: str | None = None


class ContactFilter(Model):
    """Which contacts to list: a period of whole UTC days (inclusive) and optional exact matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_day: date
    last_day: date
    line: LineId | None = None
    channel: Channel | None = None
    region: str | None = Field(default=None, max_length=40)
    limit_outcome: LimitOutcome | None = None

    @model_validator(mode="after")
    def _a_bounded_period(self) -> ContactFilter:
        if self.last_day < self.first_day:
            raise ValueError("the period ends before it starts")
        if (self.last_day - self.first_day).days >= MAX_PERIOD_DAYS:
            raise ValueError(f"the period may span at most {MAX_PERIOD_DAYS} days")
        return self


class RegisterPosition(Model):
    """Where a page ended: the last contact returned (its month partition, start time and id).

    Only ids and timestamps: the opaque `next_token` is this, base64-encoded (P8).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    month: str = Field(pattern=r"^\d{4}-(?:0[1-9]|1[0-2])$")
    started_at: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
    id: str = Field(pattern=CONTACT_ID_PATTERN)
