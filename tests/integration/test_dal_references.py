"""Keyed provider references (ReferencesTable) against moto: retries get the first answer, late or
repeated provider events are recognised, and the reference itself is never stored (P2, P3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from conftest import create_table_from_template

from helpline.dal.references import DynamoReferenceIndex, reference_index
from helpline.logic.ports import DependencyError, ReferenceEntry, ReferenceIndex

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=2)
REF_KEY = "f" * 64
ENTRY = ReferenceEntry(contact_id="c" * 32, line_kind="helpline")


@pytest.fixture
def references_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_table_from_template("ReferencesTable")
    monkeypatch.setenv("REFERENCES_TABLE", name)
    return name


def test_a_second_claim_gets_the_first_entry(references_table: str) -> None:
    """A provider retry (same CallSid) must find the contact of the first attempt, not make a new one."""
    index: ReferenceIndex = reference_index()
    assert index.claim(REF_KEY, ENTRY, EXPIRES) is None
    retry = ReferenceEntry(contact_id="d" * 32, line_kind="office", allowed=False, contacts_last_24h=9)
    assert index.claim(REF_KEY, retry, EXPIRES) == ENTRY
    assert index.find(REF_KEY) == ENTRY


def test_an_unknown_reference_is_not_found(references_table: str) -> None:
    assert DynamoReferenceIndex(references_table).find("0" * 64) is None


def test_settle_stores_the_limit_outcome(references_table: str) -> None:
    """P10: a retry of a limited contact is limited again, with the same count."""
    index = DynamoReferenceIndex(references_table)
    index.claim(REF_KEY, ENTRY, EXPIRES)
    index.settle(REF_KEY, allowed=False, contacts_last_24h=3)
    assert index.find(REF_KEY) == ReferenceEntry(
        contact_id=ENTRY.contact_id, line_kind="helpline", allowed=False, contacts_last_24h=3
    )
    index.settle(REF_KEY, allowed=True, contacts_last_24h=None)
    assert index.find(REF_KEY) == ReferenceEntry(
        contact_id=ENTRY.contact_id, line_kind="helpline", allowed=True
    )


def test_settle_never_creates_an_entry(references_table: str) -> None:
    index = DynamoReferenceIndex(references_table)
    index.settle(REF_KEY, allowed=True, contacts_last_24h=1)
    assert index.find(REF_KEY) is None


def test_the_sequence_only_moves_forward(references_table: str) -> None:
    """Provider callbacks arrive late or twice: an older one must not undo a newer one."""
    index = DynamoReferenceIndex(references_table)
    index.claim(REF_KEY, ENTRY, EXPIRES)
    assert index.advance(REF_KEY, 0) is True
    assert index.advance(REF_KEY, 5) is True
    assert index.advance(REF_KEY, 3) is False
    assert index.advance(REF_KEY, 5) is False
    assert index.find(REF_KEY) == ReferenceEntry(
        contact_id=ENTRY.contact_id, line_kind="helpline", sequence=5
    )
    assert index.advance("0" * 64, 1) is False, "no entry, nothing to advance"


def test_the_item_holds_the_keyed_hash_and_expires(references_table: str) -> None:
    """Only the keyed hash is the key (never the provider reference); TTL on expires_at."""
    DynamoReferenceIndex(references_table).claim(REF_KEY, ENTRY, EXPIRES)
    (item,) = boto3.client("dynamodb").scan(TableName=references_table)["Items"]
    assert item == {
        "id": {"S": "ref#" + REF_KEY},
        "contact_id": {"S": ENTRY.contact_id},
        "line_kind": {"S": "helpline"},
        "sequence": {"N": "-1"},
        "expires_at": {"N": str(int(EXPIRES.timestamp()))},
    }


def test_a_dynamodb_failure_is_a_dependency_error(aws: None) -> None:
    index = DynamoReferenceIndex("no-such-table")
    with pytest.raises(DependencyError, match=r"^dynamodb: PutItem failed$"):
        index.claim(REF_KEY, ENTRY, EXPIRES)
    with pytest.raises(DependencyError, match=r"^dynamodb: GetItem failed$"):
        index.find(REF_KEY)
    with pytest.raises(DependencyError, match=r"^dynamodb: UpdateItem failed$"):
        index.advance(REF_KEY, 1)


# ---------------------------------------------------------------- all or nothing: giving a claim back (P8)


def test_a_release_removes_the_entry_of_its_own_contact_only(references_table: str) -> None:
    """P8: a contact that could be neither stored nor buffered gives its reference back, so a provider
    retry registers it afresh; a later claim by another contact is never removed."""
    index = DynamoReferenceIndex(references_table)
    index.claim(REF_KEY, ENTRY, EXPIRES)
    index.release(REF_KEY, "d" * 32)
    assert index.find(REF_KEY) == ENTRY, "not ours: kept"
    index.release(REF_KEY, ENTRY.contact_id)
    assert index.find(REF_KEY) is None
    index.release(REF_KEY, ENTRY.contact_id)  # already gone: nothing happens
    assert index.claim(REF_KEY, ENTRY, EXPIRES) is None, "the retry claims it afresh"


# ---------------------------------------------------------------- transcript part numbers (P8)

BASE = 1_775_000_000_000 * 10**6


def test_parts_get_the_next_number_and_a_redelivery_gets_its_first_one(references_table: str) -> None:
    """P8: m7 and m16, sent in the same millisecond, get two numbers in arrival order; either delivered
    again gets the number it got the first time, whatever the base is then."""
    index = DynamoReferenceIndex(references_table)
    index.claim(REF_KEY, ENTRY, EXPIRES)
    m7 = index.part_sequence(REF_KEY, "7" * 64, BASE, EXPIRES)
    m16 = index.part_sequence(REF_KEY, "6" * 64, BASE, EXPIRES)
    assert (m7, m16) == (BASE + 1, BASE + 2)
    assert index.part_sequence(REF_KEY, "7" * 64, BASE + 5 * 10**9, EXPIRES) == m7
    assert index.part_sequence(REF_KEY, "6" * 64, 0, EXPIRES) == m16
    assert index.find(REF_KEY) == ENTRY, "the counter does not change what the entry says"


def test_a_part_of_a_reference_that_is_gone_has_no_number(references_table: str) -> None:
    """P8: the counter is never created without its entry (a message for a contact that expired)."""
    index = DynamoReferenceIndex(references_table)
    assert index.part_sequence(REF_KEY, "7" * 64, BASE, EXPIRES) is None
    assert boto3.client("dynamodb").scan(TableName=references_table)["Items"] == []


def test_of_two_racing_deliveries_of_one_part_both_get_the_winners_number(references_table: str) -> None:
    """P8: the loser of the condition on the part's item reads the winner's number: one part, stored once."""
    index = DynamoReferenceIndex(references_table)
    index.claim(REF_KEY, ENTRY, EXPIRES)
    first = index.part_sequence(REF_KEY, "7" * 64, BASE, EXPIRES)
    remembered = index._remembered

    def read_before_the_winner_wrote(key: str) -> int | None:
        index._remembered = remembered  # type: ignore[method-assign]  # the read after the lost write is real
        return None

    index._remembered = read_before_the_winner_wrote  # type: ignore[method-assign]
    assert index.part_sequence(REF_KEY, "7" * 64, BASE, EXPIRES) == first
    assert index.part_sequence(REF_KEY, "8" * 64, BASE, EXPIRES) == BASE + 3, "the loser's value is a gap"


def test_the_counter_and_the_part_items_hold_no_reference_and_expire(references_table: str) -> None:
    """P3: `parts` on the entry, `seq` on `part#<key>`: nothing else, and a TTL on each."""
    index = DynamoReferenceIndex(references_table)
    index.claim(REF_KEY, ENTRY, EXPIRES)
    index.part_sequence(REF_KEY, "7" * 64, BASE, EXPIRES)
    items = {
        item["id"]["S"]: item for item in boto3.client("dynamodb").scan(TableName=references_table)["Items"]
    }
    assert items["ref#" + REF_KEY]["parts"] == {"N": "1"}
    assert items["part#" + "7" * 64] == {
        "id": {"S": "part#" + "7" * 64},
        "seq": {"N": str(BASE + 1)},
        "expires_at": {"N": str(int(EXPIRES.timestamp()))},
    }


def test_an_entry_written_before_the_counter_reads_and_numbers_parts(references_table: str) -> None:
    """P8: old entries have no `parts`: they read as before, and their first part is number 1."""
    boto3.client("dynamodb").put_item(
        TableName=references_table,
        Item={
            "id": {"S": "ref#" + REF_KEY},
            "contact_id": {"S": ENTRY.contact_id},
            "line_kind": {"S": "helpline"},
            "sequence": {"N": "-1"},
            "expires_at": {"N": str(int(EXPIRES.timestamp()))},
        },
    )
    index = DynamoReferenceIndex(references_table)
    assert index.find(REF_KEY) == ENTRY
    assert index.part_sequence(REF_KEY, "7" * 64, BASE, EXPIRES) == BASE + 1


def test_new_operations_fail_as_dependency_errors(aws: None) -> None:
    """P2: a failure names the operation, never a key or value."""
    index = DynamoReferenceIndex("no-such-table")
    with pytest.raises(DependencyError, match=r"^dynamodb: DeleteItem failed$"):
        index.release(REF_KEY, ENTRY.contact_id)
    with pytest.raises(DependencyError, match=r"^dynamodb: GetItem failed$"):
        index.part_sequence(REF_KEY, "7" * 64, BASE, EXPIRES)
