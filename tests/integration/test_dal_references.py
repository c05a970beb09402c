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
