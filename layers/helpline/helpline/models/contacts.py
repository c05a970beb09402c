"""The anonymised registration of one contact (P8).

P8 lists what is registered: the time of the contact, its length, the region it came from and the
entry (line or channel). That, the outcome of the daily limit (P10) and the identifier in encrypted
form only (P2, P3) is the whole record: `extra="forbid"` keeps anything else, a name (P5) or a clear
identifier, from being stored by accident.

How long each part is kept is written on the record as whole days counted from our receipt
(`helpline.logic.retention`): the identifier until `identifier_retain_until`, the record until its TTL
`expires_at`, a midnight UTC. Never a second-precise receipt time: that would be a key to join the
register to other tables with.

`erase_month` puts a record in the sparse `by-erase-month` index exactly while it holds a ciphertext, so
the daily sweep reads only the records whose identifier it may still have to erase, however long it
did not run (P7).
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
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from helpline.models.common import Channel, LineId, Model, UtcDateTime
from helpline.regions import REGIONS


def _coarse_region(value: str) -> str:
    """Only a Dutch province, `mobile`, `abroad:<ISO country>`, `abroad:other` or `unknown`: never a city
    (P8)."""
    if value in REGIONS or re.fullmatch(r"abroad:[A-Z]{2}", value):
        return value
    raise ValueError(
        "must be a Dutch province, 'mobile', 'abroad:<ISO country>', 'abroad:other' or 'unknown'"
    )


Region = Annotated[str, AfterValidator(_coarse_region)]
LimitOutcome = Literal["allowed", "limited", "unchecked", "unauthenticated"]
"""`unchecked`: the limit could not be checked (KMS or DynamoDB failed) and the person was let through:
fail open for people (DESIGN). `unauthenticated`: an e-mail whose sender SES did not authenticate (issue
9); it was taken in and not counted at all, because its `From` may be anyone's (P10)."""
CIPHERTEXT_MAX_LENGTH = 8192
SECONDS_PER_DAY = 86_400
MONTH_PATTERN = r"^\d{4}-(?:0[1-9]|1[0-2])$"


def new_contact_id() -> str:
    """A random id: nothing about the person or the time can be read from it (P8)."""
    return uuid.uuid4().hex


class ContactRecord(Model):
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
    identifier_retain_until: date | None = Field(
        default=None,
        description=(
            "Last day the encrypted identifier is kept (P7): our receipt day + IdentifierRetentionDays; "
            "erased from the next day on (logically at once, physically by the sweep and key destruction)"
        ),
    )
    expires_at: int | None = Field(
        default=None,
        description=(
            "TTL (epoch seconds): midnight UTC of our receipt day + RegisterRetentionDays (P8); a whole "
            "day, so it reveals no second of receipt that could be joined to another table"
        ),
    )
    month: str = Field(
        default="",
        pattern=MONTH_PATTERN,
        description="YYYY-MM of started_at (UTC); derived, key of the by-month index",
    )
    erase_month: str | None = Field(
        default=None,
        pattern=MONTH_PATTERN,
        description=(
            "YYYY-MM of identifier_retain_until; derived, present exactly while identifier_ciphertext "
            "is: key of the sparse by-erase-month index the retention sweep reads (P7)"
        ),
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
        if self.expires_at is not None and self.expires_at % SECONDS_PER_DAY:
            raise ValueError("expires_at must be a midnight UTC (day granularity)")
        self._consistent_identifier()
        return self

    def _consistent_identifier(self) -> None:
        """A ciphertext only with its last day, and `erase_month` only beside a ciphertext (P7).

        An encrypted identifier is kept only as long as a demand under P7 could still need it, so it
        never comes without `identifier_retain_until`. `erase_month` is that day's month, derived when
        not given (like `month`), and absent without a ciphertext so the `by-erase-month` index stays
        sparse: a record with nothing left to erase costs the sweep nothing.
        """
        if self.identifier_ciphertext is None:
            if self.erase_month is not None:
                raise ValueError("erase_month is only kept beside identifier_ciphertext")
            return
        if self.identifier_retain_until is None:
            raise ValueError("identifier_ciphertext needs identifier_retain_until")
        derived = self.identifier_retain_until.strftime("%Y-%m")
        if self.erase_month is None:
            self.erase_month = derived
        elif self.erase_month != derived:
            raise ValueError("erase_month must be the month of identifier_retain_until")

    def without_identifier(self) -> Self:
        """This record without its encrypted identifier, and so out of the `by-erase-month` index.

        The one way to drop a ciphertext from a record in memory: `model_copy` does not validate, so
        dropping `identifier_ciphertext` alone would leave an `erase_month` behind (P7). The retention
        date stays: it tells a later reader that the identifier was erased, not never received.
        """
        return self.model_copy(update={"identifier_ciphertext": None, "erase_month": None})
