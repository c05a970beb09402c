"""Use cases of the anonymised register (P8): list contacts newest first, show one.

Pure: the storage is a `RegisterStore` (DynamoDB in `dal.register`, memory in `dal.memory_staff`), the
clock comes in as an argument. Responses carry `ContactView`s only, never an identifier (P2, P3).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime, timedelta
from typing import Protocol

from pydantic import ValidationError

from helpline.models.common import Channel
from helpline.models.contacts import LimitOutcome
from helpline.models.register import (
    DEFAULT_PERIOD_DAYS,
    ContactFilter,
    ContactPage,
    ContactView,
    RegisterPosition,
)


class InvalidQueryError(ValueError):
    """The listing cannot be answered as asked (a bad period or token); the message is safe to show."""


class RegisterStore(Protocol):
    """The register's read side over ContactsTable and its `by-month` index."""

    def page(
        self, query: ContactFilter, after: RegisterPosition | None, limit: int
    ) -> tuple[list[ContactView], RegisterPosition | None]:
        """Up to `limit` matching contacts, newest first, after `after`; and where to go on (None: end)."""
        ...

    def get(self, contact_id: str) -> ContactView | None:
        """The contact with this id, or None."""
        ...


def months_newest_first(first_day: date, last_day: date) -> list[str]:
    """The `YYYY-MM` partitions of the `by-month` index that the period touches, last month first."""
    months: list[str] = []
    year, month = last_day.year, last_day.month
    while (year, month) >= (first_day.year, first_day.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def day_bounds(query: ContactFilter) -> tuple[str, str]:
    """The `started_at` range of the period, in the stored format (whole UTC days, inclusive)."""
    return f"{query.first_day.isoformat()}T00:00:00Z", f"{query.last_day.isoformat()}T23:59:59Z"


def matches(view: ContactView, query: ContactFilter) -> bool:
    """Whether a contact passes the exact-match filters (the period is the store's key condition)."""
    return (
        (query.line is None or view.line == query.line)
        and (query.channel is None or view.channel == query.channel)
        and (query.region is None or view.region == query.region)
        and (query.limit_outcome is None or view.limit_outcome == query.limit_outcome)
    )


def build_filter(
    now: datetime,
    first_day: date | None = None,
    last_day: date | None = None,
    line: str | None = None,
    channel: Channel | None = None,
    region: str | None = None,
    limit_outcome: LimitOutcome | None = None,
) -> ContactFilter:
    """The filter of a request; the period defaults to the last `DEFAULT_PERIOD_DAYS` days up to today."""
    last = last_day or now.date()
    first = first_day or min(last, now.date()) - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    try:
        return ContactFilter(
            first_day=first,
            last_day=last,
            line=line,
            channel=channel,
            region=region,
            limit_outcome=limit_outcome,
        )
    except ValidationError as error:
        problems = "; ".join(
            str(e.get("msg", "invalid")).removeprefix("Value error, ") for e in error.errors()
        )
        raise InvalidQueryError(problems) from None


def encode_token(position: RegisterPosition) -> str:
    """The opaque `next_token`: URL-safe base64 of the position (ids and timestamps only, P8)."""
    raw = json.dumps(position.model_dump(), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_token(token: str) -> RegisterPosition:
    """The position in a `next_token`; InvalidQueryError if it is not one we issued."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        return RegisterPosition.model_validate(data)
    except (UnicodeError, binascii.Error, ValueError, ValidationError):
        raise InvalidQueryError("next_token is not valid") from None


def list_contacts(
    store: RegisterStore, query: ContactFilter, limit: int, token: str | None = None
) -> ContactPage:
    """A page of the register, newest first (P8); `token` continues where the previous page ended."""
    after = decode_token(token) if token else None
    if after is not None and after.month not in months_newest_first(query.first_day, query.last_day):
        raise InvalidQueryError("next_token does not belong to this period")
    items, position = store.page(query, after, limit)
    return ContactPage(items=items, next_token=encode_token(position) if position else None)


def get_contact(store: RegisterStore, contact_id: str) -> ContactView | None:
    """One contact of the register (P8), or None."""
    return store.get(contact_id)
