"""Statistics over the anonymised registration (P8): what the aggregator reads, what GET /stats returns.

P8 lets staff see the time, length, region and entry of contacts. Statistics show them in cells, and a
cell with fewer than k contacts is suppressed, so slicing finely (one hour, one line, one region) cannot
single out one contact's length or limit outcome.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import ConfigDict, Field

from helpline.models.common import Channel, LineId, Model, UtcDateTime
from helpline.models.contacts import LimitOutcome, Region

Dimension = Literal["hour", "day", "week", "line", "channel", "region"]
DIMENSIONS: Final[tuple[Dimension, ...]] = ("hour", "day", "week", "line", "channel", "region")
"""The `by` values, in the order rows are keyed and CSV columns run (time first)."""
TIME_DIMENSIONS: Final[frozenset[str]] = frozenset({"hour", "day", "week"})
ENTRY_DIMENSIONS: Final[tuple[Literal["line", "channel", "region"], ...]] = ("line", "channel", "region")
"""The dimensions an aggregate item can be split by; time is in every item's sort key."""

Suppressed = str
"""`"<k"`, e.g. `"<5"`: a count below k, not shown (P8)."""


class ContactFacts(Model):
    """The part of a contact the statistics count: a stream image read with only these fields.

    Unknown attributes are ignored (not forbidden as in `ContactRecord`), so a field added to the
    registration later does not stop the statistics; the encrypted identifier is never read (P2, P3).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    channel: Channel
    line: LineId
    started_at: UtcDateTime
    duration_s: int | None = Field(default=None, ge=0)
    region: Region
    limit_outcome: LimitOutcome


class StatsRow(Model):
    """One cell: its keys (only those asked for in `by`) and its figures, or "<k" and nulls."""

    model_config = ConfigDict(extra="forbid")

    hour: str | None = Field(default=None, description="UTC hour, `YYYY-MM-DDTHH:00:00Z`")
    day: str | None = Field(default=None, description="UTC day, `YYYY-MM-DD`")
    week: str | None = Field(default=None, description="ISO week, `YYYY-Www`")
    line: str | None = None
    channel: str | None = None
    region: str | None = None
    contacts: int | Suppressed = Field(description='Number of contacts, or "<k" below k (P8)')
    limited: int | Suppressed | None = Field(
        description='Contacts the daily limit stopped (P10); "<k" for 1..k-1; null in a suppressed cell'
    )
    duration_median_s: int | None = Field(
        description="Median length in seconds (histogram bucket value); null below k lengths"
    )
    duration_p90_s: int | None = Field(
        description="90th percentile length in seconds (histogram bucket value); null below k lengths"
    )


class StatsTable(Model):
    """The answer of GET /stats: `rows` sorted by the `by` keys; only non-empty cells are listed."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    from_: str = Field(alias="from", description="Start (UTC, inclusive)")
    to: str = Field(description="End (UTC, exclusive)")
    by: list[Dimension]
    k: int = Field(description="Smallest cell shown; smaller cells are suppressed (P8)")
    rows: list[StatsRow]
