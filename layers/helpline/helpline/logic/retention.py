"""Retention counted from our clock, on every copy (P7, P8): the rules, in one pure place.

Three things live here and nowhere else.

1. **Receipt time against a provider's time.** How long anything is kept is counted from the moment we
   received it (`helpline.clock.now()` in the handler), never from a time a provider sent: an e-mail's
   `Date:` of 2150 would keep a transcript for 125 years, one of 1970 would set a TTL that DynamoDB
   never acts on, and a chat `timestamp` of 9999 overflowed the date arithmetic after the reference and
   a limit slot were claimed. A provider's time is still kept as the fact it is (`started_at`, a part's
   `sent_at`) when it is plausible for its channel, and replaced by the receipt time when it is not
   (`provider_time`).
2. **Retention dates, at day granularity.** A record carries the day its identifier may be kept until
   and the midnight (UTC) its TTL deletes it, never a second-precise receipt time: that would be a new
   timestamp someone could join to other tables (limit slots, audit entries, provider logs) to single
   out a contact (P8).
3. **The daily sweep** that removes what TTL has not removed yet (TTL deletes within days, not at the
   moment) and what has no TTL of its own: the encrypted identifier of a register record that is kept
   longer than its identifier (P7). Identifiers are found through the sparse `by-erase-month` index,
   which holds a record exactly while it still has a ciphertext (`ContactRecord.erase_month`): every
   month that can still hold a record is read each day (`erase_months`), so a sweep that did not run
   for a week, a year or longer is made good by the next one, and a day costs about 25 small queries
   that return only what is due. Transcript rows are found through the `by-month` index, whose range
   key is `started_at`; because `started_at` is at most a day (e-mail: a week) before receipt and an
   hour after it, a receipt window is a bounded `started_at` window (`sweep_ranges`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Protocol

from helpline import periods
from helpline.models.common import Channel
from helpline.models.contacts import ContactRecord

# ---------------------------------------------------------------- 1. receipt time against a provider's


@dataclass(frozen=True)
class PlausibleWindow:
    """How far before and after our receipt a provider's time may lie and still be believed."""

    before: timedelta
    after: timedelta


CONTACT_WINDOW: Final = PlausibleWindow(before=timedelta(days=1), after=timedelta(minutes=5))
"""Calls, chats and Connect contacts: a webhook or contact event arrives within seconds, a retried one
within hours; five minutes ahead allows for a provider clock that runs fast."""
EMAIL_WINDOW: Final = PlausibleWindow(before=timedelta(days=7), after=timedelta(hours=1))
"""E-mail: a mail may wait days in the sender's queue (RFC 5321 gives up after 4-5 days); a sender's
clock is often minutes off, and an hour ahead covers a wrongly set time zone's worst common case."""
LATEST_AFTER_RECEIPT: Final = max(CONTACT_WINDOW.after, EMAIL_WINDOW.after)
EARLIEST_BEFORE_RECEIPT: Final = max(CONTACT_WINDOW.before, EMAIL_WINDOW.before)


def plausible_window(channel: Channel) -> PlausibleWindow:
    """The window for a channel: e-mail's is wider, every other channel has the contact window."""
    return EMAIL_WINDOW if channel == "email" else CONTACT_WINDOW


def provider_time(claimed: datetime, received_at: datetime, channel: Channel) -> datetime:
    """`claimed` if it is plausible for `channel` given our receipt at `received_at`, else `received_at`.

    Never raises for any `datetime`: only `received_at` (our clock) takes part in arithmetic, and the
    claimed time is only compared, so year 1 and year 9999 are as harmless as 1970 and 2150. A time
    without a zone is taken as UTC (providers give UTC; an adapter that forgot must not break this).
    """
    moment = claimed if claimed.tzinfo is not None else claimed.replace(tzinfo=UTC)
    window = plausible_window(channel)
    if received_at - window.before <= moment <= received_at + window.after:
        return moment.astimezone(UTC)
    return received_at


# ---------------------------------------------------------------- 2. retention dates


def receipt_day(received_at: datetime) -> date:
    """The UTC day of a receipt: every retention date counts whole days from it."""
    return received_at.astimezone(UTC).date()


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of `day`."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def epoch_of_day(day: date) -> int:
    """Epoch seconds of midnight UTC at the start of `day` (a DynamoDB TTL value)."""
    return int(day_start(day).timestamp())


def retain_until(received_at: datetime, retention_days: int) -> date:
    """The last day something received at `received_at` is kept: receipt day + `retention_days`.

    Used for the encrypted identifier (`identifier_retain_until`, P7): kept through that day, erased
    from the next (`identifier_erased`).
    """
    return receipt_day(received_at) + timedelta(days=retention_days)


def expiry_epoch(received_at: datetime, retention_days: int) -> int:
    """A TTL (`expires_at`): midnight UTC at the start of receipt day + `retention_days`.

    Day granularity on purpose: a whole-day value tells nothing about the second of receipt.
    """
    return epoch_of_day(receipt_day(received_at) + timedelta(days=retention_days))


def is_expired(expires_at: int | None, now: datetime) -> bool:
    """Whether an item with TTL `expires_at` is gone (logical erasure: at once, before DynamoDB's TTL
    deletes it). An item without one has no TTL of its own and is not expired by this rule."""
    return expires_at is not None and expires_at <= int(now.timestamp())


def identifier_erased(retain_until_day: date | None, now: datetime) -> bool:
    """Whether an encrypted identifier kept until `retain_until_day` is past its retention (P7)."""
    return retain_until_day is not None and retain_until_day < receipt_day(now)


def without_expired_identifier(record: ContactRecord, now: datetime) -> ContactRecord:
    """`record` as it may be stored at `now`: its ciphertext (and with it `erase_month`, its key in the
    sweep's index) dropped once past its retention (P7).

    For work that waited (the registration buffer): what is past its date is treated as gone at once,
    and is not written back only for the sweep to remove it again.
    """
    if record.identifier_ciphertext is None or not identifier_erased(record.identifier_retain_until, now):
        return record
    return record.without_identifier()


# ---------------------------------------------------------------- 3. the sweep

DEFAULT_SWEEP_LOOKBACK: Final = timedelta(days=7)
"""How many days of receipts before today's cut the transcript pass looks at again: a sweep missed for
up to a week (an outage, a failed deploy) is made good by the next. TTL is the transcripts' own
deletion and this pass only its backstop; for a longer gap, invoke the sweeper once with a larger
`lookback_days`. Identifiers need no look-back: `erase_months` covers every month that can hold one."""
MAX_SWEEP_LOOKBACK: Final = timedelta(days=36_500)


@dataclass(frozen=True)
class MonthRange:
    """One `by-month` partition and the `started_at` range (inclusive, as stored) to query in it (the
    transcript pass)."""

    month: str
    first: str
    last: str


def _text(moment: datetime) -> str:
    """A time as ContactRecord stores `started_at` (`YYYY-MM-DDTHH:MM:SSZ`), so the range sorts with it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def expiry_cut(now: datetime, retention_days: int) -> datetime:
    """Received before this moment, an item with TTL `expiry_epoch(receipt, days)` has expired at `now`:
    midnight of receipt day + days <= now means a receipt before midnight UTC of today - days + 1."""
    return day_start(receipt_day(now) - timedelta(days=retention_days - 1))


def sweep_ranges(received_before: datetime, lookback: timedelta = DEFAULT_SWEEP_LOOKBACK) -> list[MonthRange]:
    """The `started_at` ranges, per month partition, that hold every record received in the `lookback`
    before `received_before` (a cut: `expiry_cut`).

    `started_at` lies within [receipt - a week, receipt + an hour] (`provider_time`), which bounds the
    range on both sides; the months in between are listed, each with the part of the range it holds.
    """
    if not timedelta(0) < lookback <= MAX_SWEEP_LOOKBACK:
        raise ValueError("the sweep lookback must be between one day and a hundred years")
    first = received_before - lookback - EARLIEST_BEFORE_RECEIPT
    last = received_before + LATEST_AFTER_RECEIPT - timedelta(seconds=1)
    ranges: list[MonthRange] = []
    period = periods.period_of(first)
    while period <= periods.period_of(last):
        start = max(first, periods.period_start(period))
        end = min(last, periods.period_end(period) - timedelta(seconds=1))
        ranges.append(MonthRange(month=period, first=_text(start), last=_text(end)))
        period = periods.next_period(period)
    return ranges


def erase_months(today: date, register_retention_days: int) -> list[str]:
    """Every `erase_month` (YYYY-MM of `identifier_retain_until`) that can still hold a due identifier
    on `today`, oldest first: from the month `register_retention_days` before today to today's month.

    A record still in the table was received after today - `register_retention_days` (TTL deletes it
    at midnight of receipt day + that many days), and its `identifier_retain_until` is not before its
    receipt, so no record still in the table is due in an older month. TTL lags by days, not months,
    and a record past its TTL is gone logically already (`is_expired`). Months after today's hold
    nothing due yet. Reading every month each day, not only those since the last sweep, is what lets a
    sweep after any gap (an outage, a clock moved on) erase everything that is due (P7).
    """
    if register_retention_days < 1:
        raise ValueError("the register retention must be at least one day")
    month = periods.period_of(day_start(today - timedelta(days=register_retention_days)))
    last = periods.period_of(day_start(today))
    months: list[str] = []
    while month <= last:
        months.append(month)
        month = periods.next_period(month)
    return months


class RetentionStore(Protocol):
    """What the sweep needs of ContactsTable and TranscriptsTable (`dal.retention`)."""

    def contacts_with_identifier_due(self, erase_month: str, today: date) -> Iterable[str]:
        """Ids of records of `erase_month` that still hold a ciphertext kept until before `today`."""
        ...

    def erase_identifier(self, contact_id: str, today: date) -> bool:
        """Remove the ciphertext and its `erase_month` if it is still there and still due; False if
        there was nothing to do."""
        ...

    def contacts_with_transcripts(self, months: MonthRange) -> Iterable[str]:
        """Ids of chat and e-mail records in the range (the channels that have transcripts, P1, P8)."""
        ...

    def expired_parts(self, contact_id: str, now: datetime) -> Iterable[int]:
        """`seq` of the contact's transcript parts whose `expires_at` has passed at `now`."""
        ...

    def delete_part(self, contact_id: str, seq: int, now: datetime) -> bool:
        """Delete the part if it is still there and still expired; False if there was nothing to do."""
        ...


@dataclass(frozen=True)
class RetentionPolicy:
    """What the sweep counts with. No identifier retention: each record carries its own last day
    (`identifier_retain_until`, set at receipt), and that day is what the sweep obeys (P7).

    `register_retention_days`: how far back a record can still be in the table (its TTL), so how many
    erase months are read. `lookback`: the transcript pass's catch-up window.
    """

    register_retention_days: int = 730
    transcript_retention_days: int = 180
    lookback: timedelta = DEFAULT_SWEEP_LOOKBACK


@dataclass
class SweepCounts:
    """What one sweep did, in counts only: never an id (a list of erased contacts would be a record of
    its own)."""

    identifiers_erased: int = 0
    transcript_parts_deleted: int = 0
    months_queried: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "identifiers_erased": self.identifiers_erased,
            "transcript_parts_deleted": self.transcript_parts_deleted,
            "month_partitions_queried": len(self.months_queried),
        }


def sweep(store: RetentionStore, policy: RetentionPolicy, now: datetime) -> SweepCounts:
    """Remove every encrypted identifier past its retention and every expired transcript part (P7, P8).

    Two passes. Records whose identifier is due, in every erase month that can still hold one
    (`erase_months`, whatever the gap since the last sweep), lose its ciphertext and `erase_month`, and
    any transcript rows of theirs that expired but are still there (TTL missed them for months) are
    deleted with it. Then chat and e-mail records whose transcripts expired since the sweep of
    `lookback` ago have those rows deleted, for TTL's lag. Idempotent: a record already swept has left
    the sparse index or no longer matches, and every removal is conditioned on being still due, so two
    sweeps at once, or a sweep after TTL, change nothing twice.
    """
    today = receipt_day(now)
    counts = SweepCounts()
    for erase_month in erase_months(today, policy.register_retention_days):
        counts.months_queried.append(erase_month)
        for contact_id in store.contacts_with_identifier_due(erase_month, today):
            counts.identifiers_erased += int(store.erase_identifier(contact_id, today))
            counts.transcript_parts_deleted += _delete_expired_parts(store, contact_id, now)
    for months in sweep_ranges(expiry_cut(now, policy.transcript_retention_days), policy.lookback):
        counts.months_queried.append(months.month)
        for contact_id in store.contacts_with_transcripts(months):
            counts.transcript_parts_deleted += _delete_expired_parts(store, contact_id, now)
    return counts


def _delete_expired_parts(store: RetentionStore, contact_id: str, now: datetime) -> int:
    return sum(
        int(store.delete_part(contact_id, seq, now)) for seq in list(store.expired_parts(contact_id, now))
    )
