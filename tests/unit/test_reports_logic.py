"""Reports domain (P4, P5, P8) with in-memory adapters and a stand-in scrubber."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fakes_memory_reports import InMemoryContactLookup, InMemoryReportsRepository

from helpline.logic.reports import (
    ContactNotFound,
    InvalidPeriod,
    add_report,
    months_between,
    period_bounds,
    reports_for_contact,
    reports_in_period,
    visible_author,
)

CONTACT = "a" * 32
OTHER = "b" * 32
NOW = datetime(2025, 3, 14, 12, 30, tzinfo=UTC)


def fake_scrub(text: str) -> str:
    return text.replace("Jan", "[PERSOON-1]")


@pytest.fixture
def repo() -> InMemoryReportsRepository:
    return InMemoryReportsRepository()


def test_the_stored_report_holds_the_scrubbed_text_only(repo: InMemoryReportsRepository) -> None:
    report = add_report(
        CONTACT, "Jan belde.", "vol-1", NOW, InMemoryContactLookup({CONTACT}), repo, fake_scrub
    )
    assert report.text == "[PERSOON-1] belde."
    assert (report.contact_id, report.author, report.month) == (CONTACT, "vol-1", "2025-03")
    assert [stored.text for stored in repo.items.values()] == ["[PERSOON-1] belde."]


def test_an_unknown_contact_is_refused_before_scrubbing(repo: InMemoryReportsRepository) -> None:
    def must_not_scrub(text: str) -> str:
        raise AssertionError("scrubbed")

    with pytest.raises(ContactNotFound):
        add_report(CONTACT, "x", "vol-1", NOW, InMemoryContactLookup(), repo, must_not_scrub)
    assert repo.items == {}


def test_a_failing_scrubber_stores_nothing(repo: InMemoryReportsRepository) -> None:
    def broken(text: str) -> str:
        raise RuntimeError("deduce did not load")

    with pytest.raises(RuntimeError):
        add_report(CONTACT, "Jan", "vol-1", NOW, InMemoryContactLookup({CONTACT}), repo, broken)
    assert repo.items == {}


def test_volunteers_see_their_own_mentors_and_staff_all() -> None:
    assert visible_author("vol-1", {"volunteer"}) == "vol-1"
    assert visible_author("m-1", {"volunteer", "mentor"}) is None
    assert visible_author("s-1", {"staff"}) is None


def test_listings_filter_by_author_and_sort_newest_first(repo: InMemoryReportsRepository) -> None:
    contacts = InMemoryContactLookup({CONTACT, OTHER})
    add_report(CONTACT, "een", "vol-1", NOW.replace(hour=9), contacts, repo, fake_scrub)
    add_report(CONTACT, "twee", "vol-2", NOW.replace(hour=10), contacts, repo, fake_scrub)
    add_report(OTHER, "drie", "vol-1", NOW.replace(day=20), contacts, repo, fake_scrub)

    assert [r.text for r in reports_for_contact(CONTACT, repo, None)] == ["twee", "een"]
    assert [r.text for r in reports_for_contact(CONTACT, repo, "vol-1")] == ["een"]

    start, end = period_bounds(date(2025, 3, 1), date(2025, 3, 31), date(2025, 4, 1))
    assert [r.text for r in reports_in_period(start, end, repo, None)] == ["drie", "twee", "een"]
    assert [r.text for r in reports_in_period(start, end, repo, "vol-1")] == ["drie", "een"]
    start, end = period_bounds(date(2025, 3, 15), date(2025, 3, 20), date(2025, 4, 1))
    assert [r.text for r in reports_in_period(start, end, repo, None)] == ["drie"]


def test_period_bounds() -> None:
    assert period_bounds(None, None, date(2025, 3, 30)) == (
        datetime(2025, 3, 1, tzinfo=UTC),
        datetime(2025, 3, 31, tzinfo=UTC),
    )
    with pytest.raises(InvalidPeriod):
        period_bounds(date(2025, 3, 2), date(2025, 3, 1), date(2025, 4, 1))
    with pytest.raises(InvalidPeriod):
        period_bounds(date(2024, 1, 1), date(2025, 3, 1), date(2025, 4, 1))


def test_months_between() -> None:
    assert months_between(datetime(2024, 12, 31, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)) == [
        "2024-12",
        "2025-01",
    ]
