"""Key periods (crypto-shredding, P7): identifiers and transcripts are encrypted under a KMS key of the
calendar month (UTC) in which we received them, and that key is destroyed once the last retention of
its month has run out, so that no copy anywhere (table, backup, stream, queue) opens again.

Pure: the names and dates here are shared by ingest (which key to encrypt under) and the key steward
(which keys to create and which to destroy).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

PERIOD_PATTERN: Final = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period_of(moment: datetime) -> str:
    """The key period (`YYYY-MM`, UTC) of a moment of receipt."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def _parse(period: str) -> tuple[int, int]:
    match = PERIOD_PATTERN.fullmatch(period)
    if match is None:
        raise ValueError("a key period is YYYY-MM")
    return int(match.group(1)), int(match.group(2))


def period_start(period: str) -> datetime:
    year, month = _parse(period)
    return datetime(year, month, 1, tzinfo=UTC)


def period_end(period: str) -> datetime:
    """The first moment after the period (the start of the next month)."""
    year, month = _parse(period)
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def next_period(period: str) -> str:
    return period_of(period_end(period))


def last_retention_end(period: str, retention_days: int) -> datetime:
    """When the retention of the period's last possible item has run out: its key may go then."""
    return period_end(period) + timedelta(days=retention_days)


def is_retired(period: str, retention_days: int, now: datetime) -> bool:
    """Whether every item received in `period` is past its retention, so the period's key must go."""
    return now >= last_retention_end(period, retention_days)


def key_alias(alias_prefix: str, period: str) -> str:
    """The alias (name or ARN, as the prefix is) of a period's key: `<prefix>/<YYYY-MM>`."""
    _parse(period)
    return f"{alias_prefix.rstrip('/')}/{period}"


def period_of_alias(alias: str, alias_prefix: str) -> str | None:
    """The period an alias names, if it is one of this prefix's period aliases."""
    prefix = _alias_name(alias_prefix).rstrip("/") + "/"
    name = _alias_name(alias)
    if not name.startswith(prefix):
        return None
    period = name[len(prefix) :]
    return period if PERIOD_PATTERN.fullmatch(period) else None


def _alias_name(alias: str) -> str:
    """`alias/...` from an alias name or an alias ARN (`arn:aws:kms:region:account:alias/...`)."""
    return "alias/" + alias.split(":alias/", 1)[1] if alias.startswith("arn:") else alias
