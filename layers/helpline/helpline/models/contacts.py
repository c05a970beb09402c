"""The anonymised registration of one contact (P8).

P8 lists what is registered: the time of the contact, its length, the region it came from and the
entry (line or channel). That, the outcome of the daily limit (P10) and the identifier in encrypted
form only (P2, P3) is the whole record: `extra="forbid"` keeps anything else, a name (P5) or a clear
identifier, from being stored by accident.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from datetime import date
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from helpline.models.common import Channel, LineId, UtcDateTime
from helpline.regions import REGIONS


def _coarse_region(value: str) -> str:
    """Only a Dutch province, `mobile`, `abroad:<ISO country>` or `unknown`: never a city (P8)."""
    if value in REGIONS or re.fullmatch(r"abroad:[A-Z]{2}", value):
        return value
    raise ValueError("must be a Dutch province, 'mobile', 'abroad:<ISO country>' or 'unknown'")


Region = Annotated[str, AfterValidator(_coarse_region)]
LimitOutcome = Literal["allowed", "limited", "unchecked"]
"""`unchecked`: the limit could not be checked (KMS or DynamoDB failed) and the person was let through:
fail open for people (DESIGN)."""
CIPHERTEXT_MAX_LENGTH = 8192


def new_contact_id() -> str:
    """A random id: nothing about the person or the time can be read from it (P8)."""
    return uuid.uuid4().hex


class ContactRecord(BaseModel):
    """One contact, registered anonymously (P8); the item of ContactsTable."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=new_contact_id, pattern=r"^[0-9a-f]{32}$")
    channel: Channel
    line: LineId = Field(description="line_id of the entry used, or 'unknown'")
    started_at: UtcDateTime
    ended_at: UtcDateTime | None = None
    duration_s: int | None = Field(default=None, ge=0)
    region: Region = Field(description="e.g. 'Utrecht', 'mobile', 'abroad:BE', 'unknown'")
    limit_outcome: LimitOutcome = Field(description="P10: whether the daily limit let it through")
    identifier_ciphertext: str | None = Field(
        default=None,
        max_length=CIPHERTEXT_MAX_LENGTH,
        repr=False,
        description="Base64 KMS ciphertext of the identifier (P2, P3), never the clear value",
    )
    identifier_retain_until: date | None = None
    month: str = Field(
        default="",
        pattern=r"^\d{4}-(?:0[1-9]|1[0-2])$",
        description="YYYY-MM of started_at (UTC); derived, key of the by-month index",
    )

    @field_validator("identifier_ciphertext")
    @classmethod
    def _must_be_base64(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be base64 ciphertext") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        derived = self.started_at.strftime("%Y-%m")
        if not self.month:
            self.month = derived
        elif self.month != derived:
            raise ValueError("month must be the UTC month of started_at")
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at must not be before started_at")
        if self.identifier_ciphertext is not None and self.identifier_retain_until is None:
            # An encrypted identifier is kept only as long as a demand under P7 could still need it.
            raise ValueError("identifier_ciphertext needs identifier_retain_until")
        return self
