"""Retention from our clock (P7, P8): which provider time is believed, the retention dates, the sweep."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import pytest

from helpline.logic import retention
from helpline.logic.retention import MonthRange, RetentionPolicy
from helpline.models.common import Channel
from helpline.models.contacts import ContactRecord
from helpline.models.events import as_utc

RECEIVED = datetime(2026, 3, 31, 23, 30, 15, tzinfo=UTC)
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


# ---------------------------------------------------------------- the plausibility rule


@pytest.mark.parametrize("channel", ["voice", "chat"])
@pytest.mark.parametrize(
    ("offset", "kept"),
    [
        (timedelta(0), True),
        (-timedelta(days=1), True),
        (-timedelta(days=1, seconds=1), False),
        (timedelta(minutes=5), True),
        (timedelta(minutes=5, seconds=1), False),
    ],
)
def test_a_call_or_chat_time_is_kept_within_a_day_before_and_five_minutes_after_receipt(
    channel: str, offset: timedelta, kept: bool
) -> None:
    claimed = RECEIVED + offset
    assert retention.provider_time(claimed, RECEIVED, channel) == (claimed if kept else RECEIVED)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("offset", "kept"),
    [
        (-timedelta(days=7), True),
        (-timedelta(days=7, seconds=1), False),
        (timedelta(hours=1), True),
        (timedelta(hours=1, seconds=1), False),
        (-timedelta(days=3), True),
    ],
)
def test_an_email_date_is_kept_within_a_week_before_and_an_hour_after_receipt(
    offset: timedelta, kept: bool
) -> None:
    claimed = RECEIVED + offset
    assert retention.provider_time(claimed, RECEIVED, "email") == (claimed if kept else RECEIVED)


@pytest.mark.parametrize("channel", ["voice", "chat", "email"])
@pytest.mark.parametrize(
    "claimed",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2150, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        EARLIEST,
        LATEST,
    ],
)
def test_an_absurd_time_is_replaced_by_the_receipt_time_without_an_exception(
    channel: str, claimed: datetime
) -> None:
    assert retention.provider_time(claimed, RECEIVED, channel) == RECEIVED  # type: ignore[arg-type]


def test_a_time_without_a_zone_is_taken_as_utc() -> None:
    naive = (RECEIVED - timedelta(minutes=1)).replace(tzinfo=None)
    assert retention.provider_time(naive, RECEIVED, "chat") == RECEIVED - timedelta(minutes=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime.fromisoformat("9999-12-31T23:59:59-14:00"), LATEST),
        (datetime.fromisoformat("0001-01-01T00:00:00+14:00"), EARLIEST),
        (datetime.fromisoformat("2026-03-01T13:00:00+01:00"), datetime(2026, 3, 1, 12, tzinfo=UTC)),
        (datetime(2026, 3, 1, 12), datetime(2026, 3, 1, 12, tzinfo=UTC)),
    ],
)
def test_as_utc_clamps_what_utc_cannot_hold(value: datetime, expected: datetime) -> None:
    assert as_utc(value) == expected


# ---------------------------------------------------------------- retention dates


def test_retention_dates_count_whole_days_from_the_receipt_day() -> None:
    """Receipt 23:30:15 UTC on 31 March: the day counts, the second does not (P8: nothing joinable)."""
    assert retention.retain_until(RECEIVED, 365) == date(2027, 3, 31)
    assert retention.expiry_epoch(RECEIVED, 730) == int(datetime(2028, 3, 30, tzinfo=UTC).timestamp())
    assert retention.expiry_epoch(RECEIVED, 180) % 86_400 == 0


def test_a_receipt_late_in_another_zone_counts_from_its_utc_day() -> None:
    amsterdam_after_midnight = datetime.fromisoformat("2026-04-01T01:30:15+02:00")  # 23:30 UTC, 31 March
    assert retention.retain_until(amsterdam_after_midnight, 1) == date(2026, 4, 1)


def test_an_identifier_is_kept_through_its_last_day_and_erased_from_the_next() -> None:
    last_day = date(2027, 3, 31)
    assert not retention.identifier_erased(last_day, datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC))
    assert retention.identifier_erased(last_day, datetime(2027, 4, 1, tzinfo=UTC))
    assert not retention.identifier_erased(None, datetime(2100, 1, 1, tzinfo=UTC))


def test_a_part_is_gone_from_its_expiry_on() -> None:
    expires = retention.expiry_epoch(RECEIVED, 180)
    moment = datetime.fromtimestamp(expires, UTC)
    assert not retention.is_expired(expires, moment - timedelta(seconds=1))
    assert retention.is_expired(expires, moment)
    assert not retention.is_expired(None, moment)


def test_a_buffered_record_past_its_identifier_retention_loses_its_ciphertext() -> None:
    record = ContactRecord(
        channel="chat",
        line="web-chat",
        started_at=RECEIVED,
        region="unknown",
        limit_outcome="allowed",
        identifier_ciphertext="c2VjcmV0",
        identifier_retain_until=date(2026, 4, 1),
    )
    assert retention.without_expired_identifier(record, datetime(2026, 4, 1, 12, tzinfo=UTC)) is record
    erased = retention.without_expired_identifier(record, datetime(2026, 4, 2, tzinfo=UTC))
    assert erased.identifier_ciphertext is None
    assert erased.erase_month is None, "out of the sweep's index with its ciphertext"
    assert erased.identifier_retain_until == date(2026, 4, 1)
    assert record.erase_month == "2026-04"


def test_a_record_refuses_a_ttl_that_is_not_a_midnight() -> None:
    """No second-precise time may enter the register by way of its TTL (P8)."""
    with pytest.raises(ValueError, match="midnight"):
        ContactRecord(
            channel="voice",
            line="hulplijn",
            started_at=RECEIVED,
            region="unknown",
            limit_outcome="allowed",
            expires_at=int(RECEIVED.timestamp()),
        )


# ---------------------------------------------------------------- the sweep windows


def test_the_cuts_follow_the_two_kinds_of_date() -> None:
    """An identifier is kept through its last day; a TTL item is gone at the start of its day."""
    now = datetime(2027, 4, 10, 0, 15, tzinfo=UTC)
    assert retention.expiry_cut(now, 180) == datetime(2026, 10, 13, tzinfo=UTC)
    just_before = datetime(2026, 4, 9, 23, 59, 59, tzinfo=UTC)
    assert retention.identifier_erased(retention.retain_until(just_before, 365), now)
    assert not retention.identifier_erased(
        retention.retain_until(just_before + timedelta(seconds=1), 365), now
    )
    last_expired = datetime(2026, 10, 12, 23, 59, 59, tzinfo=UTC)
    assert retention.is_expired(retention.expiry_epoch(last_expired, 180), now)
    assert not retention.is_expired(retention.expiry_epoch(last_expired + timedelta(seconds=1), 180), now)


def test_the_sweep_covers_every_start_a_record_due_in_the_lookback_can_have() -> None:
    """Its started_at lies within a week before and an hour after receipt, so the ranges run from
    cut - lookback - 7 days to cut + 1 hour, month by month."""
    cut = datetime(2026, 4, 10, tzinfo=UTC)
    ranges = retention.sweep_ranges(cut, timedelta(days=7))
    assert ranges == [
        MonthRange("2026-03", "2026-03-27T00:00:00Z", "2026-03-31T23:59:59Z"),
        MonthRange("2026-04", "2026-04-01T00:00:00Z", "2026-04-10T00:59:59Z"),
    ]


def test_a_catch_up_lookback_spans_every_month_in_between() -> None:
    ranges = retention.sweep_ranges(datetime(2026, 12, 16, tzinfo=UTC), timedelta(days=400))
    months = [r.month for r in ranges]
    assert (months[0], months[-1]) == ("2025-11", "2026-12")
    assert len(months) == len(set(months)) == 14


@pytest.mark.parametrize("lookback", [timedelta(0), timedelta(days=36_501)])
def test_a_lookback_out_of_bounds_is_refused(lookback: timedelta) -> None:
    with pytest.raises(ValueError, match="lookback"):
        retention.sweep_ranges(RECEIVED, lookback)


def test_the_erase_months_reach_back_as_far_as_a_record_can_still_be_stored() -> None:
    """P7: every month a record still in the table (TTL after 730 days) can be due in, through today's
    month; none after it, since nothing there is due yet."""
    months = retention.erase_months(date(2027, 4, 10), 730)
    assert (months[0], months[-1]) == ("2025-04", "2027-04")
    assert len(months) == len(set(months)) == 25
    assert months == sorted(months)
    assert retention.erase_months(date(2027, 4, 10), 1) == ["2027-04"]
    assert retention.erase_months(date(2027, 4, 1), 1) == ["2027-03", "2027-04"]
    with pytest.raises(ValueError, match="register retention"):
        retention.erase_months(date(2027, 4, 10), 0)


class FakeRetentionStore:
    """ContactsTable (by erase month and by month) and TranscriptsTable as dicts, with the DynamoDB
    key conditions and the conditioned writes."""

    def __init__(self) -> None:
        self.contacts: dict[str, ContactRecord] = {}
        self.parts: dict[tuple[str, int], int] = {}

    def _in(self, record: ContactRecord, months: MonthRange) -> bool:
        started = record.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return record.month == months.month and months.first <= started <= months.last

    def contacts_with_identifier_due(self, erase_month: str, today: date) -> Iterable[str]:
        """Like the sparse index: only records that carry `erase_month` are in it at all."""
        return [
            r.id
            for r in self.contacts.values()
            if r.erase_month == erase_month
            and r.identifier_retain_until is not None
            and r.identifier_retain_until < today
        ]

    def erase_identifier(self, contact_id: str, today: date) -> bool:
        record = self.contacts[contact_id]
        if record.identifier_ciphertext is None or not (
            record.identifier_retain_until and record.identifier_retain_until < today
        ):
            return False
        self.contacts[contact_id] = record.without_identifier()
        return True

    def contacts_with_transcripts(self, months: MonthRange) -> Iterable[str]:
        return [r.id for r in self.contacts.values() if self._in(r, months) and r.channel != "voice"]

    def expired_parts(self, contact_id: str, now: datetime) -> Iterable[int]:
        return [seq for (cid, seq), exp in self.parts.items() if cid == contact_id and exp <= now.timestamp()]

    def delete_part(self, contact_id: str, seq: int, now: datetime) -> bool:
        expires = self.parts.get((contact_id, seq))
        if expires is None or expires > now.timestamp():
            return False
        del self.parts[(contact_id, seq)]
        return True


def stored(store: FakeRetentionStore, received: datetime, channel: Channel = "chat") -> ContactRecord:
    record = ContactRecord(
        channel=channel,
        line="web-chat",
        started_at=received,
        region="unknown",
        limit_outcome="allowed",
        identifier_ciphertext="c2VjcmV0",
        identifier_retain_until=retention.retain_until(received, 365),
        expires_at=retention.expiry_epoch(received, 730),
    )
    store.contacts[record.id] = record
    if channel != "voice":
        store.parts[(record.id, 1)] = retention.expiry_epoch(received, 180)
    return record


def test_the_sweep_erases_what_is_due_leaves_the_rest_and_is_idempotent() -> None:
    """P7: ciphertexts past retention go, younger ones stay; P8: expired transcript parts go."""
    store = FakeRetentionStore()
    now = datetime(2027, 4, 10, 0, 15, tzinfo=UTC)
    due = stored(store, datetime(2026, 4, 9, 23, 59, tzinfo=UTC))  # kept until 2027-04-09
    last_day = stored(store, datetime(2026, 4, 10, 0, 0, tzinfo=UTC))  # kept through 2027-04-10
    transcript_due = stored(store, datetime(2026, 10, 11, 12, tzinfo=UTC))  # part expires 2027-04-09
    transcript_young = stored(store, datetime(2026, 10, 12, 12, tzinfo=UTC))  # expires 2027-04-10 00:00
    transcript_tomorrow = stored(store, datetime(2026, 10, 13, 12, tzinfo=UTC))
    policy = RetentionPolicy(register_retention_days=730, transcript_retention_days=180)

    counts = retention.sweep(store, policy, now)

    assert counts.as_dict()["identifiers_erased"] == 1
    assert store.contacts[due.id].identifier_ciphertext is None
    assert store.contacts[due.id].erase_month is None
    assert store.contacts[last_day.id].identifier_ciphertext is not None
    assert store.contacts[last_day.id].erase_month == "2027-04"
    assert counts.transcript_parts_deleted == 3, "the erased contact's own expired part went with it"
    assert (due.id, 1) not in store.parts
    assert (transcript_due.id, 1) not in store.parts
    assert (transcript_young.id, 1) not in store.parts, "expired at midnight, before this sweep"
    assert (transcript_tomorrow.id, 1) in store.parts
    again = retention.sweep(store, policy, now)
    assert (again.identifiers_erased, again.transcript_parts_deleted) == (0, 0)


def test_the_sweep_answers_counts_only() -> None:
    store = FakeRetentionStore()
    stored(store, datetime(2026, 4, 1, tzinfo=UTC))
    answer = retention.sweep(store, RetentionPolicy(), datetime(2027, 4, 5, tzinfo=UTC)).as_dict()
    assert set(answer) == {"identifiers_erased", "transcript_parts_deleted", "month_partitions_queried"}
    assert all(isinstance(value, int) for value in answer.values())


def test_a_sweep_missed_for_more_than_a_year_still_erases_what_fell_due_in_the_gap() -> None:
    """P7: an identifier due 400 days ago (no sweep ran since, or the clock moved on) goes in the very
    next sweep, with no catch-up asked for; one not due yet stays."""
    store = FakeRetentionStore()
    long_due = stored(store, datetime(2026, 4, 10, 12, tzinfo=UTC))  # kept until 2027-04-10
    now = datetime(2028, 5, 14, 0, 15, tzinfo=UTC)
    assert long_due.identifier_retain_until == now.date() - timedelta(days=400)
    not_due = stored(store, now - timedelta(days=365))  # kept through today

    counts = retention.sweep(store, RetentionPolicy(), now)

    assert counts.identifiers_erased == 1
    assert (store.contacts[long_due.id].identifier_ciphertext, store.contacts[long_due.id].erase_month) == (
        None,
        None,
    )
    assert store.contacts[not_due.id].identifier_ciphertext is not None
    assert store.contacts[not_due.id].erase_month == "2028-05"
