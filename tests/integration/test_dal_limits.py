"""The daily limit (P10) on ContactLimitTable, against moto: rolling 24 hours, and race-free."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from conftest import create_table_from_template
from moto.dynamodb.exceptions import ConditionalCheckFailed
from moto.dynamodb.models import DynamoDBBackend

from helpline.dal.limits import DynamoLimitCounter, limit_counter
from helpline.logic.ports import DependencyError, LimitCounter
from helpline.settings import InvalidSettingError, MissingSettingError, Settings

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
PSEUDONYM = "a" * 64


@pytest.fixture
def limit_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_table_from_template("ContactLimitTable")
    monkeypatch.setenv("CONTACT_LIMIT_TABLE", name)
    return name


def test_the_fourth_contact_in_a_day_is_refused(limit_table: str) -> None:
    counter: LimitCounter = limit_counter()
    outcomes = [counter.admit(PSEUDONYM, 3, NOW + timedelta(minutes=n)) for n in range(4)]
    assert outcomes == [(True, 1), (True, 2), (True, 3), (False, 3)]


def test_the_window_rolls(limit_table: str) -> None:
    """A contact counts for 24 hours after it was made, not until midnight."""
    counter = DynamoLimitCounter(limit_table)
    for hour in (0, 1, 2):
        assert counter.admit(PSEUDONYM, 3, NOW + timedelta(hours=hour))[0]
    assert counter.admit(PSEUDONYM, 3, NOW + timedelta(hours=23, minutes=59)) == (False, 3)
    assert counter.admit(PSEUDONYM, 3, NOW + timedelta(hours=24)) == (True, 3)
    assert counter.admit(PSEUDONYM, 3, NOW + timedelta(hours=24, minutes=30)) == (False, 3)
    assert counter.admit(PSEUDONYM, 3, NOW + timedelta(hours=25)) == (True, 3)
    assert counter.admit(PSEUDONYM, 3, NOW + timedelta(hours=60)) == (True, 1)


def test_another_pseudonym_is_counted_apart(limit_table: str) -> None:
    counter = DynamoLimitCounter(limit_table)
    for _ in range(3):
        counter.admit(PSEUDONYM, 3, NOW)
    assert counter.admit(PSEUDONYM, 3, NOW) == (False, 3)
    assert counter.admit("b" * 64, 3, NOW) == (True, 1)


@pytest.fixture
def atomic_moto_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """DynamoDB applies each write to an item atomically, condition and all; moto's backend has no
    lock, so give its put_item that guarantee, and record which conditional writes lost."""
    lock = threading.Lock()
    lost: list[str] = []
    original = DynamoDBBackend.put_item

    def put_item(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with lock:
            try:
                return original(self, *args, **kwargs)
            except ConditionalCheckFailed:
                lost.append("put_item")
                raise

    monkeypatch.setattr(DynamoDBBackend, "put_item", put_item)
    return lost


class RacingCounter(DynamoLimitCounter):
    """Holds every thread after its first read until all have read: all see the same free slots and
    write at once, so the race the conditional write must settle really happens."""

    def __init__(self, table_name: str, threads: int) -> None:
        super().__init__(table_name)
        self._all_read = threading.Barrier(threads)
        self._waited = threading.local()

    def _live_slots(self, pseudonym: str, now_s: int) -> set[str]:
        live = super()._live_slots(pseudonym, now_s)
        if not getattr(self._waited, "done", False):
            self._waited.done = True
            self._all_read.wait()
        return live


def test_concurrent_contacts_of_one_person_cannot_exceed_the_limit(
    limit_table: str, atomic_moto_writes: list[str]
) -> None:
    """Twenty simultaneous contacts (a redial storm over several Lambdas): exactly three get through."""
    counter = RacingCounter(limit_table, threads=20)
    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(lambda _: counter.admit(PSEUDONYM, 3, NOW), range(20)))
    assert sorted(outcomes, reverse=True) == [(True, 3), (True, 2), (True, 1)] + [(False, 3)] * 17
    assert len(atomic_moto_writes) >= 19, "all twenty wrote slot#0 at once; one won"
    assert DynamoLimitCounter(limit_table).admit("b" * 64, 3, NOW) == (True, 1)


def test_only_the_pseudonym_and_the_expiry_are_stored(limit_table: str) -> None:
    """A contact id next to the pseudonym would link one person's contacts to each other."""
    DynamoLimitCounter(limit_table).admit(PSEUDONYM, 3, NOW)
    items = boto3.client("dynamodb").scan(TableName=limit_table)["Items"]
    assert items == [
        {
            "pk": {"S": PSEUDONYM},
            "sk": {"S": "slot#0"},
            "expires_at": {"N": str(int((NOW + timedelta(hours=24)).timestamp()))},
        }
    ]


def test_a_dynamodb_failure_is_a_dependency_error(aws: None) -> None:
    with pytest.raises(DependencyError, match=r"^dynamodb: Query failed$"):
        DynamoLimitCounter("no-such-table").admit(PSEUDONYM, 3, NOW)


def test_the_limit_setting_defaults_to_three_and_fails_only_where_used() -> None:
    """CONTACT_LIMIT_PER_DAY comes from Globals: a bad value must not break functions that do not count."""
    assert Settings.model_validate({}).contact_limit_per_day == 3
    assert Settings.model_validate({"CONTACT_LIMIT_PER_DAY": " 5 "}).contact_limit_per_day == 5
    broken = Settings.model_validate({"CONTACT_LIMIT_PER_DAY": "three", "LINES_TABLE": "lines"})
    assert broken.lines_table == "lines"
    with pytest.raises(InvalidSettingError, match="CONTACT_LIMIT_PER_DAY"):
        _ = broken.contact_limit_per_day
    with pytest.raises(InvalidSettingError, match="CONTACT_LIMIT_PER_DAY"):
        _ = Settings.model_validate({"CONTACT_LIMIT_PER_DAY": "0"}).contact_limit_per_day
    with pytest.raises(MissingSettingError, match="CONTACT_LIMIT_TABLE"):
        _ = Settings.model_validate({}).contact_limit_table
