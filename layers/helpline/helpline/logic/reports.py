"""Use cases of volunteer reports: write one (scrubbed first), read them back (P4, P5, P8).

P5, P8: the text is scrubbed before the report exists as an object at all; the raw text is passed to
the scrubber and dropped, never stored, logged or queued. P4: reports are read for training and
quality; a volunteer reads only their own, mentors and staff read all (row-level, decided here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Protocol

from helpline.models.reports import Report

READ_ALL_GROUPS: Final = frozenset({"mentor", "staff"})
"""Groups that read every report (P4: training, quality); anyone else reads only their own."""
MAX_PERIOD_DAYS: Final = 366


class ReportsRepository(Protocol):
    """The stored reports (ReportsTable)."""

    def put(self, report: Report) -> None:
        """Store a new report."""
        ...

    def for_contact(self, contact_id: str) -> list[Report]:
        """Every report of one contact, in no particular order."""
        ...

    def in_period(self, start: datetime, end: datetime) -> list[Report]:
        """Reports created in [start, end), in no particular order."""
        ...

    def by_author(self, author: str, start: datetime, end: datetime) -> list[Report]:
        """Reports of one author created in [start, end), in no particular order."""
        ...


class ContactLookup(Protocol):
    """The contact register (ContactsTable), only asked whether a contact exists."""

    def exists(self, contact_id: str) -> bool: ...


class ContactNotFound(LookupError):
    """No contact with that id: no report can be written for it."""


class InvalidPeriod(ValueError):
    """`from` after `to`, or a period longer than MAX_PERIOD_DAYS."""


Scrub = Callable[[str], str]


def month_of(moment: datetime) -> str:
    """YYYY-MM of a time, in UTC (the by-month index key)."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def add_report(
    contact_id: str,
    text: str,
    author: str,
    now: datetime,
    contacts: ContactLookup,
    repo: ReportsRepository,
    scrub: Scrub,
) -> Report:
    """Scrub `text`, then store and return the report (P5, P8).

    The contact is checked first, so a report for an unknown contact costs no scrubbing. If the
    scrubber fails, its error propagates and nothing is stored (fail closed).
    """
    if not contacts.exists(contact_id):
        raise ContactNotFound("contact not found")
    scrubbed = scrub(text)
    report = Report(
        contact_id=contact_id,
        author=author,
        text=scrubbed,
        created_at=now,
        month=month_of(now),
    )
    repo.put(report)
    return report


def visible_author(username: str, groups: Iterable[str]) -> str | None:
    """None when the caller reads every report (mentor, staff); else the only author they may read."""
    return None if READ_ALL_GROUPS.intersection(groups) else username


def newest_first(reports: Iterable[Report]) -> list[Report]:
    """Sorted by created_at, newest first, then id, so every listing reads the same."""
    return sorted(reports, key=lambda report: (report.created_at, report.id), reverse=True)


def reports_for_contact(contact_id: str, repo: ReportsRepository, only_author: str | None) -> list[Report]:
    """The reports of one contact; only those of `only_author` when it is set (a volunteer, P4)."""
    reports = repo.for_contact(contact_id)
    if only_author is not None:
        reports = [report for report in reports if report.author == only_author]
    return newest_first(reports)


def period_bounds(start: date | None, end: date | None, today: date) -> tuple[datetime, datetime]:
    """[from 00:00 UTC, the day after `to` 00:00 UTC); defaults: the last 30 days up to today."""
    end = end or today
    start = start or end - timedelta(days=29)
    if start > end:
        raise InvalidPeriod("from is after to")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidPeriod(f"the period is longer than {MAX_PERIOD_DAYS} days")
    return (
        datetime.combine(start, time(), tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC),
    )


def reports_in_period(
    start: datetime, end: datetime, repo: ReportsRepository, only_author: str | None
) -> list[Report]:
    """Reports created in [start, end); only `only_author`'s when it is set (a volunteer, P4)."""
    if only_author is not None:
        reports = repo.by_author(only_author, start, end)
    else:
        reports = repo.in_period(start, end)
    return newest_first(reports)


def months_between(start: datetime, end: datetime) -> list[str]:
    """The YYYY-MM keys that [start, end) touches, for querying the by-month index."""
    months: list[str] = []
    year, month = start.year, start.month
    last = end - timedelta(microseconds=1)
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
