"""Key periods (P7, crypto-shredding): which month's key a receipt falls in, and when that key must go.

A period is a calendar month in UTC of OUR receipt time. A wrong boundary here would seal a message
under a key that is destroyed a month too early (lost before its retention ends) or a month too late
(kept past it), so the edges are tested, in other time zones too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from helpline import periods

AMSTERDAM_WINTER = timezone(timedelta(hours=1))
AMSTERDAM_SUMMER = timezone(timedelta(hours=2))
NEW_YORK = timezone(timedelta(hours=-5))
PREFIX_ARN = "arn:aws:kms:eu-west-1:111122223333:alias/helpline-custodian/identifiers"


@pytest.mark.parametrize(
    ("moment", "period"),
    [
        (datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "2026-12"),
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), "2027-01"),
        (datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC), "2026-01"),
        (datetime(2026, 2, 1, tzinfo=UTC), "2026-02"),
        (datetime(2028, 2, 29, 12, tzinfo=UTC), "2028-02"),
        (datetime(2026, 6, 30, 23, 0, tzinfo=UTC), "2026-06"),
    ],
)
def test_period_of_is_the_utc_month_across_month_and_year_ends(moment: datetime, period: str) -> None:
    assert periods.period_of(moment) == period


@pytest.mark.parametrize(
    ("moment", "period"),
    [
        # New Year's Eve 00:30 in Amsterdam is still December 31 23:30 UTC: the December key.
        (datetime(2027, 1, 1, 0, 30, tzinfo=AMSTERDAM_WINTER), "2026-12"),
        (datetime(2027, 1, 1, 1, 0, tzinfo=AMSTERDAM_WINTER), "2027-01"),
        (datetime(2026, 7, 1, 1, 59, tzinfo=AMSTERDAM_SUMMER), "2026-06"),
        (datetime(2026, 7, 1, 2, 0, tzinfo=AMSTERDAM_SUMMER), "2026-07"),
        # 20:00 on December 31 in New York is already January 1 UTC.
        (datetime(2026, 12, 31, 19, 0, tzinfo=NEW_YORK), "2027-01"),
        (datetime(2026, 12, 31, 18, 59, tzinfo=NEW_YORK), "2026-12"),
    ],
)
def test_period_of_counts_in_utc_whatever_the_time_zone(moment: datetime, period: str) -> None:
    """P7: one clock for every copy; the same moment always maps to the same key."""
    assert periods.period_of(moment) == period
    assert periods.period_of(moment.astimezone(UTC)) == period


def test_period_start_and_end_bound_every_moment_of_the_period() -> None:
    assert periods.period_start("2026-12") == datetime(2026, 12, 1, tzinfo=UTC)
    assert periods.period_end("2026-12") == datetime(2027, 1, 1, tzinfo=UTC)
    assert periods.period_end("2026-01") == datetime(2026, 2, 1, tzinfo=UTC)
    assert periods.period_end("2028-02") == datetime(2028, 3, 1, tzinfo=UTC)
    for period in ("2026-01", "2026-11", "2026-12", "2028-02"):
        start, end = periods.period_start(period), periods.period_end(period)
        assert periods.period_of(start) == period
        assert periods.period_of(end - timedelta(microseconds=1)) == period
        assert periods.period_of(end) == periods.next_period(period) != period


def test_next_period_rolls_over_the_year() -> None:
    assert periods.next_period("2026-12") == "2027-01"
    assert periods.next_period("2026-01") == "2026-02"
    assert periods.next_period("2027-09") == "2027-10"


def test_last_retention_end_counts_from_the_end_of_the_period() -> None:
    """The last item of a period is received just before its end; its retention ends after that."""
    assert periods.last_retention_end("2026-12", 365) == datetime(2028, 1, 1, tzinfo=UTC)
    assert periods.last_retention_end("2026-01", 30) == datetime(2026, 3, 3, tzinfo=UTC)


def test_is_retired_exactly_when_the_last_retention_has_run_out() -> None:
    """P7: not a microsecond early (an item still in retention would become unreadable), and at once
    when due (an identifier must not outlive its purpose)."""
    deadline = datetime(2028, 1, 1, tzinfo=UTC)  # 2026-12 + 365 days
    assert not periods.is_retired("2026-12", 365, deadline - timedelta(microseconds=1))
    assert periods.is_retired("2026-12", 365, deadline)
    assert periods.is_retired("2026-12", 365, deadline + timedelta(days=400))
    # The last item received, 2026-12-31 23:59:59 UTC, is within retention until the deadline.
    last_item = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert last_item + timedelta(days=365) < deadline
    # The same instant in another zone is the same answer.
    in_amsterdam = deadline.astimezone(AMSTERDAM_WINTER)
    assert periods.is_retired("2026-12", 365, in_amsterdam)
    assert not periods.is_retired("2026-12", 365, in_amsterdam - timedelta(seconds=1))


def test_the_current_period_is_never_retired() -> None:
    now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    assert not periods.is_retired(periods.period_of(now), 0, now)
    assert periods.is_retired("2026-11", 0, now)


def test_key_alias_is_prefix_slash_period_for_names_and_arns() -> None:
    assert periods.key_alias(PREFIX_ARN, "2026-12") == f"{PREFIX_ARN}/2026-12"
    assert periods.key_alias(PREFIX_ARN + "/", "2027-01") == f"{PREFIX_ARN}/2027-01"
    assert periods.key_alias("alias/helpline-prod/transcripts", "2026-12") == (
        "alias/helpline-prod/transcripts/2026-12"
    )


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "2026-1", "26-01", "2026-01-01", "", "2026/01"])
def test_key_alias_refuses_what_is_not_a_period(bad: str) -> None:
    """An alias must never be built from anything but `YYYY-MM` (no wildcard, no path)."""
    with pytest.raises(ValueError, match="YYYY-MM"):
        periods.key_alias(PREFIX_ARN, bad)
    with pytest.raises(ValueError, match="YYYY-MM"):
        periods.period_end(bad)


def test_period_of_alias_reads_names_and_arns_of_this_prefix_only() -> None:
    name_prefix = "alias/helpline-custodian/identifiers"
    assert periods.period_of_alias(f"{name_prefix}/2026-12", PREFIX_ARN) == "2026-12"
    assert periods.period_of_alias(f"{PREFIX_ARN}/2027-01", PREFIX_ARN) == "2027-01"
    assert periods.period_of_alias(f"{name_prefix}/2026-12", name_prefix) == "2026-12"
    # Round trip with key_alias.
    assert periods.period_of_alias(periods.key_alias(PREFIX_ARN, "2026-02"), PREFIX_ARN) == "2026-02"


@pytest.mark.parametrize(
    "alias",
    [
        "alias/helpline-custodian/transcripts/2026-12",  # another family
        "alias/helpline-custodian/identifiers-old/2026-12",  # a prefix of the prefix is not ours
        "alias/helpline-custodian/identifiers/2026-13",
        "alias/helpline-custodian/identifiers/2026-12/extra",
        "alias/helpline-custodian/identifiers",
        "alias/aws/kms",
    ],
)
def test_period_of_alias_ignores_other_aliases(alias: str) -> None:
    """The steward must never retire a key that is not one of its own period keys."""
    assert periods.period_of_alias(alias, PREFIX_ARN) is None
