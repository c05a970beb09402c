"""The key steward's plan (P7, P8: crypto-shredding): the keys ingest needs exist before it needs them,
and a period's key goes exactly when the last retention of that period has run out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from helpline.logic.key_steward import PURPOSES, KeyPlan, plan

MID_DECEMBER = datetime(2026, 12, 15, 12, tzinfo=UTC)


def test_a_fresh_account_gets_the_current_and_the_next_period() -> None:
    assert plan([], 365, MID_DECEMBER) == KeyPlan(create=("2026-12", "2027-01"), retire=())


def test_keys_that_exist_are_not_created_again() -> None:
    """Idempotent: a second run right after the first has nothing to do."""
    assert plan(["2026-12", "2027-01"], 365, MID_DECEMBER) == KeyPlan(create=(), retire=())
    assert plan(["2026-12"], 365, MID_DECEMBER) == KeyPlan(create=("2027-01",), retire=())


def test_at_the_last_second_of_a_month_next_month_already_has_its_key() -> None:
    """Ingest at 00:00:00 on January 1 must find the January key (P2, P3: sealed, never stored open)."""
    last_second = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert plan(["2026-12"], 365, last_second).create == ("2027-01",)
    assert plan(["2026-12", "2027-01"], 365, datetime(2027, 1, 1, tzinfo=UTC)).create == ("2027-02",)


def test_a_period_is_retired_exactly_at_its_last_retention_end() -> None:
    """P7: 2025-11 ends 2025-12-01; + 30 days is 2025-12-31 00:00 UTC: kept a microsecond before, gone at."""
    existing = ["2025-11", "2025-12", "2026-01"]
    deadline = datetime(2025, 12, 1, tzinfo=UTC) + timedelta(days=30)
    before = plan(existing, 30, deadline - timedelta(microseconds=1))
    at = plan(existing, 30, deadline)
    assert before.retire == ()
    assert at.retire == ("2025-11",)


def test_every_period_past_retention_is_retired_in_order_and_none_still_needed() -> None:
    """A steward that did not run for months catches up; periods still in retention stay."""
    now = datetime(2027, 6, 10, tzinfo=UTC)
    existing = ["2026-11", "2025-03", "2026-05", "2026-06", "2027-06", "2027-07", "2026-04"]
    result = plan(existing, 365, now)
    # 2026-05 ends 2026-06-01; + 365 days = 2027-06-01 <= now: retired. 2026-06 ends 2026-07-01: kept.
    assert result.retire == ("2025-03", "2026-04", "2026-05")
    assert result.create == ()
    assert "2026-06" not in result.retire
    assert "2026-11" not in result.retire


def test_a_retired_period_is_never_planned_for_creation() -> None:
    """With a zero retention the current period lives until its end; nothing past is made again."""
    result = plan([], 0, MID_DECEMBER)
    assert result.create == ("2026-12", "2027-01")
    assert plan(["2026-11"], 0, MID_DECEMBER).retire == ("2026-11",)


def test_retention_counts_from_our_clock_in_utc() -> None:
    """The same instant in another zone gives the same plan (P7: our clock, not a provider's)."""
    amsterdam = MID_DECEMBER.astimezone(timezone(timedelta(hours=1)))
    assert plan(["2025-10"], 365, amsterdam) == plan(["2025-10"], 365, MID_DECEMBER)


def test_a_negative_retention_is_refused() -> None:
    with pytest.raises(ValueError, match="retention_days"):
        plan([], -1, MID_DECEMBER)


def test_each_family_has_its_own_purpose() -> None:
    """The key policy grants encrypt and decrypt only with this purpose; the two must differ (P3, P8)."""
    assert PURPOSES == {"identifiers": "contact-identifier", "transcripts": "contact-transcript"}
