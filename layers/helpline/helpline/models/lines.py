"""The line registry: the entries through which people reach the organisation.

A line is a helpline (P1-P10: anonymous, identifiers encrypted) or an office line (P11: no help
conversations, no encryption). Its address is the organisation's own number, mailbox or chat
channel, not a caller identifier, so it may be shown and stored in clear.
"""

from __future__ import annotations

import uuid
from typing import Final, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from helpline.models.addresses import normalise_address
from helpline.models.common import Channel, LineId, Model, UtcDateTime, rule_broken

NOT_BLANK: Final = r"\S"
"""Text is stripped before it is checked, so the document says what that means: not whitespace only."""

LineKind = Literal["helpline", "office"]
"""P11: office lines are not help lines; the ingest path treats their contacts apart."""


class LineIn(Model):
    """What an admin submits to register or change a line (body of PUT /lines/{line_id})."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: LineKind = Field(description="helpline (anonymous, P1) or office (P11)")
    channel: Channel = Field(description="voice, chat or email")
    # Declared after `channel`: the address is normalised according to the channel.
    address: str = Field(
        min_length=1,
        max_length=254,
        pattern=NOT_BLANK,
        description=(
            "voice: phone number (normalised to E.164, region NL by default); "
            "email: mailbox (lower-cased); chat: channel slug"
        ),
    )
    display_name: str = Field(min_length=1, max_length=80, pattern=NOT_BLANK)
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
        try:
            return normalise_address(channel, value)
        except ValueError as problem:
            # Any string fits the schema's `address`; which one fits the channel is a rule (422).
            raise rule_broken(str(problem)) from None


class Line(LineIn):
    """A registered line, as stored and as the API returns it."""

    line_id: LineId
    updated_at: UtcDateTime
    updated_by: str = Field(min_length=1, max_length=128, description="Staff user who saved it")


class LineList(Model):
    """Answer of GET /lines."""

    items: list[Line]


# ------------------------------------------------ four eyes on lines (DESIGN.md "No single insider")

RESERVED_LINE_IDS: Final = frozenset({"changes"})
"""Slugs no line may take: `/lines/changes` is the list of proposals, not a line."""

CHANGE_ID_PATTERN: Final = r"^[0-9a-f]{32}$"
REASON_MAX: Final = 500

ChangeAction = Literal["put", "retire"]
"""`put`: create or replace the line with `after`; `retire`: remove it from the registry."""

FourEyesReason = Literal[
    "office_line_created", "kind_changed", "channel_changed", "address_changed", "line_retired"
]
"""Why a change needs a second admin: each could make callers' identifiers be stored in clear (P11,
a helpline turned into an office line or an office line put on a helpline's address) or take a line
away from the people who use it."""

ChangeStatus = Literal["pending", "approved", "applied", "rejected", "failed"]
"""pending → approved → applied (or failed, when the line changed between check and write);
pending → rejected. Only `pending` can be decided."""


def new_change_id() -> str:
    """A random id: it says nothing about the line, the admin or the time."""
    return uuid.uuid4().hex


class LineChange(Model):
    """A proposed change that needs a second admin, as stored in LineChangesTable and shown to admins.

    `before` is the line as it was when the change was proposed: an approval applies only onto that
    same line, so nobody approves a change whose meaning has shifted since. `version` is the
    optimistic-locking counter of the stored item: two admins cannot both decide.
    """

    model_config = ConfigDict(extra="forbid")

    change_id: str = Field(pattern=CHANGE_ID_PATTERN)
    line_id: LineId
    action: ChangeAction
    reasons: list[FourEyesReason] = Field(min_length=1, description="Why a second admin must approve")
    before: Line | None = Field(default=None, description="The line when proposed; null for a new line")
    after: LineIn | None = Field(default=None, description="The line once applied; null when retired")
    status: ChangeStatus
    proposed_by: str = Field(min_length=1, max_length=128)
    proposed_at: UtcDateTime
    decided_by: str | None = Field(default=None, max_length=128)
    decided_at: UtcDateTime | None = None
    reason: str | None = Field(default=None, max_length=REASON_MAX, description="Why it was rejected")
    applied_at: UtcDateTime | None = None
    version: int = Field(default=0, ge=0)


class LineChangeAccepted(Model):
    """Answer 202 of PUT or DELETE /lines/{line_id} when a second admin must approve."""

    change_id: str = Field(pattern=CHANGE_ID_PATTERN)
    status: Literal["pending"] = "pending"


class LineChangeList(Model):
    """Answer of GET /lines/changes: pending proposals first, then the rest, newest first."""

    items: list[LineChange]


class RejectionIn(Model):
    """Body of POST /lines/changes/{change_id}/reject: the reason is kept with the change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=REASON_MAX, pattern=NOT_BLANK)
