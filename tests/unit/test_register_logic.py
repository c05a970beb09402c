"""The register's use cases over the in-memory store (P8): period, filters, tokens, newest first."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime

import pytest
from fakes_memory_staff import InMemoryRegister

from helpline.logic.register import (
    InvalidQueryError,
    build_filter,
    decode_token,
    list_contacts,
    months_newest_first,
)
from helpline.models.register import ContactView

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def view(n: int, day: str, **overrides: str) -> ContactView:
    data = {
        "id": f"{n:032x}",
        "channel": "voice",
        "line": "national",
        "started_at": f"{day}T10:{n % 60:02d}:00Z",
        "region": "Utrecht",
        "limit_outcome": "allowed",
        **overrides,
    }
    return ContactView.model_validate(data)


def test_months_run_from_the_last_back_to_the_first_across_a_year() -> None:
    assert months_newest_first(date(2025, 11, 30), date(2026, 2, 1)) == [
        "2026-02",
        "2026-01",
        "2025-12",
        "2025-11",
    ]


def test_the_default_period_is_the_last_31_days() -> None:
    query = build_filter(NOW)
    assert (query.first_day, query.last_day) == (date(2026, 2, 13), date(2026, 3, 15))


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2026, 3, 2), date(2026, 3, 1)), (date(2025, 1, 1), date(2026, 3, 1))],
)
def test_a_reversed_or_too_long_period_is_refused(first: date, last: date) -> None:
    with pytest.raises(InvalidQueryError):
        build_filter(NOW, first, last)


def test_pages_are_newest_first_and_cover_everything_once() -> None:
    contacts = [view(n, f"2026-0{1 + n % 3}-{10 + n:02d}") for n in range(10)]
    store = InMemoryRegister(contacts)
    query = build_filter(NOW, date(2026, 1, 1), date(2026, 3, 31))
    seen: list[ContactView] = []
    token = None
    for _ in range(10):
        page = list_contacts(store, query, 3, token)
        assert len(page.items) <= 3
        seen.extend(page.items)
        token = page.next_token
        if token is None:
            break
    assert seen == sorted(contacts, key=lambda v: v.started_at, reverse=True)


def test_filters_select_exact_matches() -> None:
    store = InMemoryRegister(
        [
            view(1, "2026-03-01"),
            view(2, "2026-03-02", channel="chat", region="mobile"),
            view(3, "2026-03-03", limit_outcome="limited", line="regio-utrecht"),
        ]
    )
    period = {"first_day": date(2026, 3, 1), "last_day": date(2026, 3, 31)}
    assert [
        v.id[-1] for v in list_contacts(store, build_filter(NOW, **period, channel="chat"), 10).items
    ] == ["2"]
    by_outcome = build_filter(NOW, **period, limit_outcome="limited")
    assert [v.id[-1] for v in list_contacts(store, by_outcome, 10).items] == ["3"]
    assert list_contacts(store, build_filter(NOW, **period, region="mobile"), 10).items[0].channel == "chat"
    assert list_contacts(store, build_filter(NOW, **period, line="regio-utrecht"), 10).items[0].id[-1] == "3"
    outside = build_filter(NOW, date(2026, 2, 1), date(2026, 2, 28))
    assert list_contacts(store, outside, 10).items == []


def test_a_token_holds_only_the_position_and_a_forged_one_is_refused() -> None:
    store = InMemoryRegister([view(n, "2026-03-0" + str(n)) for n in range(1, 4)])
    query = build_filter(NOW, date(2026, 3, 1), date(2026, 3, 31))
    token = list_contacts(store, query, 1).next_token
    assert token is not None
    assert set(json.loads(base64.urlsafe_b64decode(token))) == {"month", "started_at", "id"}
    assert decode_token(token).month == "2026-03"
    forged = base64.urlsafe_b64encode(b'{"month":"2026-03","started_at":"x","id":"y"}').decode()
    for bad in ("not-base64!", forged):
        with pytest.raises(InvalidQueryError):
            list_contacts(store, query, 1, bad)
    other_period = build_filter(NOW, date(2026, 1, 1), date(2026, 1, 31))
    with pytest.raises(InvalidQueryError):
        list_contacts(store, other_period, 1, token)


def test_a_view_cannot_carry_an_identifier() -> None:
    with pytest.raises(ValueError, match="identifier_ciphertext"):
        ContactView.model_validate({**view(1, "2026-03-01").model_dump(), "identifier_ciphertext": "QUJD"})
