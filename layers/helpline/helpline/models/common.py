"""Types shared by several models: line ids, channels, UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, AwareDatetime, StringConstraints

LINE_ID_PATTERN: Final = r"^[a-z0-9][a-z0-9-]{0,62}$"
"""A line id is a slug: it appears in URLs and in every registration (P8: "the entry")."""

LineId = Annotated[str, StringConstraints(pattern=LINE_ID_PATTERN)]

Channel = Literal["voice", "chat", "email"]
"""The ways a person reaches a line: phone, chat or e-mail (P1, P3)."""


def _utc_whole_seconds(value: datetime) -> datetime:
    """Store every time in UTC, to the second.

    One format keeps ISO strings sortable as DynamoDB range keys (the contacts `by-month` index
    sorts on `started_at`), and an anonymised registration (P8) needs no sub-second precision.
    """
    return value.astimezone(UTC).replace(microsecond=0)


UtcDateTime = Annotated[AwareDatetime, AfterValidator(_utc_whole_seconds)]
"""A time with an explicit zone, kept as UTC; serialised as `YYYY-MM-DDTHH:MM:SSZ`."""
