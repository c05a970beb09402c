"""The daily limit (P10) on ContactLimitTable, against moto: rolling 24 hours, and race-free."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from conftest import create_table_from_template
from moto.dynamodb.exceptions import ConditionalCheckFailed
from moto.dynamodb.models import DynamoDBBackend

from helpline.dal.limits import DynamoLimitCounter, limit_counter, slot_key
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

    def _live_slots(self, pseudonym: str, slots: int, now_s: int) -> set[int]:
        live = super()._live_slots(pseudonym, slots, now_s)
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
    assert len(atomic_moto_writes) >= 19, "all twenty wrote the first slot at once; one won"
    assert DynamoLimitCounter(limit_table).admit("b" * 64, 3, NOW) == (True, 1)


def test_a_slot_holds_neither_the_pseudonym_nor_a_time_to_the_second(limit_table: str) -> None:
    """P10: nothing beside a slot can be joined to a contact: its key is a hash of pseudonym and slot
    number, and its expiry a whole hour (a contact at 10:17:42 frees its slot at 11:00 the next day)."""
    DynamoLimitCounter(limit_table).admit(PSEUDONYM, 3, NOW + timedelta(minutes=17, seconds=42))
    items = boto3.client("dynamodb").scan(TableName=limit_table)["Items"]
    assert items == [
        {
            "pk": {"S": slot_key(PSEUDONYM, 0)},
            "sk": {"S": "slot"},
            "expires_at": {"N": str(int((NOW + timedelta(hours=25)).timestamp()))},
        }
    ]
    assert PSEUDONYM not in json.dumps(items)


def test_one_persons_slots_share_no_key(limit_table: str) -> None:
    """Grouping the slots of one person (and so their contacts' times) needs the pseudonym, which only
    ingest can compute with KMS; the table offers nothing to group on."""
    counter = DynamoLimitCounter(limit_table)
    for minutes in (0, 20, 40):
        counter.admit(PSEUDONYM, 3, NOW + timedelta(minutes=minutes))
    counter.admit("b" * 64, 3, NOW + timedelta(minutes=5))
    items = boto3.client("dynamodb").scan(TableName=limit_table)["Items"]
    keys = [item["pk"]["S"] for item in items]
    assert len(set(keys)) == 4
    assert {item["sk"]["S"] for item in items} == {"slot"}
    assert len({key[:8] for key in keys}) == 4, "no common prefix to group on"
    assert {int(item["expires_at"]["N"]) % 3600 for item in items} == {0}


def test_a_dynamodb_failure_is_a_dependency_error(aws: None) -> None:
    with pytest.raises(DependencyError, match=r"^dynamodb: BatchGetItem failed$"):
        DynamoLimitCounter("no-such-table").admit(PSEUDONYM, 3, NOW)


def test_the_limit_setting_defaults_to_three_and_fails_only_where_used() -> None:
    """CONTACT_LIMIT_PER_DAY comes from Globals: a bad value must not break functions that do not count."""
    assert Settings({}).contact_limit_per_day == 3
    assert Settings({"CONTACT_LIMIT_PER_DAY": " 5 "}).contact_limit_per_day == 5
    broken = Settings({"CONTACT_LIMIT_PER_DAY": "three", "LINES_TABLE": "lines"})
    assert broken.lines_table == "lines"
    with pytest.raises(InvalidSettingError, match="CONTACT_LIMIT_PER_DAY"):
        _ = broken.contact_limit_per_day
    with pytest.raises(InvalidSettingError, match="CONTACT_LIMIT_PER_DAY"):
        _ = Settings({"CONTACT_LIMIT_PER_DAY": "0"}).contact_limit_per_day
    with pytest.raises(MissingSettingError, match="CONTACT_LIMIT_TABLE"):
        _ = Settings({}).contact_limit_table
