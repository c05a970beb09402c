"""P10 on the running stack: the limit data and the reference hashes link no one's contacts together.

Runs after the ingestion tests (file order), when the stack holds calls, chats and mails, some of them
from one number several times. An insider with read access to every table tries the joins a person's
contacts would be found by: a shared key between limit slots, and a slot's or a reference's times
matched to the second against the register. Neither finds anything.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from ingest_support import Ingest
from running_stack import RunningStack

WINDOW_S = 24 * 3600


@pytest.fixture(scope="module")
def tables(local_stack: RunningStack) -> dict[str, list[dict[str, dict[str, str]]]]:
    ingest = Ingest(local_stack)
    return {name: ingest.items(name) for name in ("ContactLimitTable", "ReferencesTable", "ContactsTable")}


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def test_there_is_something_to_join(tables: dict[str, list[dict[str, dict[str, str]]]]) -> None:
    assert len(tables["ContactLimitTable"]) >= 3
    assert len(tables["ContactsTable"]) >= 3


def test_limit_slots_share_no_key_to_group_one_persons_contacts(
    tables: dict[str, list[dict[str, dict[str, str]]]],
) -> None:
    slots = tables["ContactLimitTable"]
    keys = [slot["pk"]["S"] for slot in slots]
    assert len(set(keys)) == len(keys), "every slot is its own key: none groups a person's slots"
    assert {tuple(sorted(slot)) for slot in slots} == {("expires_at", "pk", "sk")}, "nothing else stored"


def test_no_slot_time_matches_a_contact_or_a_reference_to_the_second(
    tables: dict[str, list[dict[str, dict[str, str]]]],
) -> None:
    """A slot's expiry is a whole hour; a contact's start and a reference's expiry are not."""
    slot_times = {int(slot["expires_at"]["N"]) for slot in tables["ContactLimitTable"]}
    assert all(moment % 3600 == 0 for moment in slot_times)
    started = {
        epoch(c["started_at"]["S"]) for c in tables["ContactsTable"] if c["started_at"]["S"][14:19] != "00:00"
    }
    references = {
        int(r["expires_at"]["N"]) for r in tables["ReferencesTable"] if int(r["expires_at"]["N"]) % 3600
    }
    for moment in slot_times:
        assert moment - WINDOW_S not in started
        assert not {moment + offset for offset in (0, WINDOW_S, 2 * WINDOW_S)} & references


def test_references_never_hold_a_pseudonym_or_a_slot(
    tables: dict[str, list[dict[str, dict[str, str]]]],
) -> None:
    slot_keys = {slot["pk"]["S"] for slot in tables["ContactLimitTable"]}
    for reference in tables["ReferencesTable"]:
        assert not {value.get("S") for value in reference.values()} & slot_keys
