"""The custodian's release rules (P3, P7) over in-memory fakes: intake, an officer's confirmation or
refusal within the deadline, and the decrypt gate (only confirmed, only once, never past retention)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fakes_memory_disclosures import FakeSealer
from fakes_releases import FakeIdentifierSource, FakeResultDrop, InMemoryReleaseStore
from pydantic import ValidationError

from helpline.auth import Caller
from helpline.logic.releases import (
    ReleaseConflict,
    ReleaseForbidden,
    ReleaseNotFound,
    decide_release,
    get_release,
    list_releases,
    release_identifier,
    take_in,
)
from helpline.models.disclosures import SealedIdentifier
from helpline.models.releases import ReleaseRequest

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
DISCLOSURE = "d" * 32
OTHER_DISCLOSURE = "a" * 32
CONTACT = "c" * 32
OTHER_CONTACT = "b" * 32
NUMBER = "+31612345678"
CALL_SID = "CA0123456789abcdef0123456789abcdef"
DEADLINE_S = 3600
OFFICER = Caller("officer-1", frozenset({"custodian"}))
OFFICER2 = Caller("officer-2", frozenset({"custodian"}))
LEGAL_ORDER = {
    "reference": "VIG-2026-001",
    "officer_of_justice": "mr. A. de Vries",
    "prosecutor_office": "Parket Midden-Nederland",
    "issued_on": "2026-03-14",
    "document_sha256": "a" * 64,
}


def release_request(
    disclosure_id: str = DISCLOSURE, contact_id: str = CONTACT, **changes: Any
) -> ReleaseRequest:
    body: dict[str, Any] = {
        "disclosure_id": disclosure_id,
        "contact_id": contact_id,
        "basis": "legal_order_126nc",
        "grounds": {"legal_order": LEGAL_ORDER},
        "approved_by": ["comp-1"],
        "approved_at": "2026-03-15T11:00:00Z",
    }
    body.update(changes)
    return ReleaseRequest.model_validate(body)


class Custodian:
    def __init__(self, retain_until: date | None = date(2027, 3, 15)) -> None:
        self.store = InMemoryReleaseStore()
        self.source = FakeIdentifierSource()
        self.source.add(
            CONTACT,
            SealedIdentifier(contact_id=CONTACT, kind="phone", value=NUMBER, reference=CALL_SID),
            retain_until,
        )
        self.sealer = FakeSealer()
        self.drop = FakeResultDrop()

    def take_in(self, at: datetime = NOW, **changes: Any) -> None:
        take_in(release_request(**changes), self.store, DEADLINE_S, at)

    def decide(self, decision: str, caller: Caller = OFFICER, at: datetime = NOW) -> Any:
        return decide_release(DISCLOSURE, decision, "demand checked with the parket", caller, self.store, at)  # type: ignore[arg-type]

    def ask(self, at: datetime = NOW, contact_id: str = CONTACT) -> Any:
        return release_identifier(DISCLOSURE, contact_id, self.store, self.source, self.sealer, self.drop, at)

    def status(self) -> str:
        return self.store.releases[DISCLOSURE].status


def test_intake_creates_one_pending_release_with_a_deadline_and_housekeeping_ttl() -> None:
    custodian = Custodian()
    custodian.take_in()
    record = custodian.store.releases[DISCLOSURE]
    assert (record.status, record.contact_id, record.basis) == ("pending", CONTACT, "legal_order_126nc")
    assert record.deadline == NOW + timedelta(seconds=DEADLINE_S)
    assert record.expires_at == int((record.deadline + timedelta(days=30)).timestamp())
    assert record.grounds.legal_order is not None
    assert record.grounds.legal_order.reference == "VIG-2026-001"


def test_a_repeated_intake_changes_nothing() -> None:
    custodian = Custodian()
    custodian.take_in()
    custodian.decide("confirm")
    custodian.take_in(at=NOW + timedelta(minutes=5))
    record = custodian.store.releases[DISCLOSURE]
    assert record.status == "confirmed", "a retried intake never resets a decided release to pending"
    assert record.received_at == NOW


def test_an_intake_for_another_contact_under_the_same_id_is_refused() -> None:
    custodian = Custodian()
    custodian.take_in()
    with pytest.raises(ReleaseConflict):
        custodian.take_in(contact_id=OTHER_CONTACT)
    assert custodian.store.releases[DISCLOSURE].contact_id == CONTACT


@pytest.mark.parametrize(
    "changes",
    [
        {"grounds": {}},
        {"grounds": {"consent": {"recorded_by": "pro-1", "recorded_at": "2026-03-15T10:00:00Z"}}},
        {"basis": "consent", "grounds": {"legal_order": LEGAL_ORDER}},
        {"basis": "danger_to_others"},
        {"approved_by": []},
        {"identifier": NUMBER},
    ],
)
def test_a_release_request_needs_the_grounds_of_its_basis_and_nothing_else(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        release_request(**changes)


@pytest.mark.parametrize(("decision", "status"), [("confirm", "confirmed"), ("refuse", "refused")])
def test_a_custodian_officer_decides_with_a_reason(decision: str, status: str) -> None:
    custodian = Custodian()
    custodian.take_in()
    shown = custodian.decide(decision)
    assert (shown.status, shown.decided_by, shown.decided_at) == (status, "officer-1", NOW)
    assert shown.reason == "demand checked with the parket"
    assert custodian.store.releases[DISCLOSURE].expires_at == int((NOW + timedelta(days=30)).timestamp())


@pytest.mark.parametrize("second", ["confirm", "refuse"])
def test_a_decided_release_cannot_be_decided_again(second: str) -> None:
    custodian = Custodian()
    custodian.take_in()
    custodian.decide("refuse")
    with pytest.raises(ReleaseConflict, match="refused"):
        custodian.decide(second, OFFICER2)
    assert custodian.store.releases[DISCLOSURE].decided_by == "officer-1"


def test_after_the_deadline_a_decision_is_a_conflict_and_the_release_expired() -> None:
    custodian = Custodian()
    custodian.take_in()
    with pytest.raises(ReleaseConflict, match="deadline"):
        custodian.decide("confirm", at=NOW + timedelta(seconds=DEADLINE_S))
    assert custodian.status() == "expired"
    with pytest.raises(ReleaseConflict):
        custodian.decide("confirm", at=NOW)
    assert custodian.ask().status == "expired"
    assert custodian.source.opened == 0


@pytest.mark.parametrize("groups", [{"compliance"}, {"professional", "compliance"}, {"admin"}, set()])
def test_only_a_custodian_officer_decides(groups: set[str]) -> None:
    custodian = Custodian()
    custodian.take_in()
    with pytest.raises(ReleaseForbidden):
        custodian.decide("confirm", Caller("comp-1", frozenset(groups)))
    assert custodian.status() == "pending"


def test_an_unknown_release_is_not_found() -> None:
    custodian = Custodian()
    with pytest.raises(ReleaseNotFound):
        custodian.decide("confirm")
    with pytest.raises(ReleaseNotFound):
        get_release(DISCLOSURE, custodian.store, NOW)
    with pytest.raises(ReleaseNotFound):
        custodian.ask()


def test_the_list_shows_pending_first_and_an_overdue_one_as_expired() -> None:
    custodian = Custodian()
    custodian.take_in(at=NOW - timedelta(seconds=DEADLINE_S + 1))  # overdue, never decided
    take_in(release_request(OTHER_DISCLOSURE, OTHER_CONTACT), custodian.store, DEADLINE_S, NOW)
    take_in(release_request("e" * 32, OTHER_CONTACT), custodian.store, DEADLINE_S, NOW - timedelta(minutes=1))
    decide_release("e" * 32, "refuse", "no demand on file", OFFICER, custodian.store, NOW)
    listed = list_releases(custodian.store, NOW).items
    assert [(item.disclosure_id, item.status) for item in listed] == [
        (OTHER_DISCLOSURE, "pending"),
        ("e" * 32, "refused"),
        (DISCLOSURE, "expired"),
    ]
    assert listed[0].approved_by == ["comp-1"]
    assert listed[0].grounds.legal_order is not None


def test_the_gate_answers_pending_and_opens_nothing_until_an_officer_confirms() -> None:
    """P7: the organisation's approval alone decrypts nothing."""
    custodian = Custodian()
    custodian.take_in()
    for minute in range(3):
        assert custodian.ask(NOW + timedelta(minutes=minute)).status == "pending"
    assert (custodian.source.reads, custodian.source.opened) == (0, 0)
    assert custodian.drop.results == {}


def test_a_confirmed_release_is_decrypted_once_sealed_and_then_answered_from_the_record() -> None:
    custodian = Custodian()
    custodian.take_in()
    custodian.decide("confirm")
    later = NOW + timedelta(minutes=10)
    answer = custodian.ask(later)
    assert answer.model_dump(exclude_none=True) == {
        "disclosure_id": DISCLOSURE,
        "status": "decrypted",
        "decided_by": "officer-1",
        "decided_at": NOW,
    }
    [(sealed, expires_at)] = custodian.drop.results.values()
    assert NUMBER not in sealed
    assert expires_at == later + timedelta(hours=24)
    assert custodian.sealer.open(DISCLOSURE, sealed) == {
        "identifier": NUMBER,
        "identifier_type": "phone",
        "provider_reference": CALL_SID,
        "basis": "legal_order_126nc",
        "contact_id": CONTACT,
    }
    record = custodian.store.releases[DISCLOSURE]
    assert (record.status, record.released_at) == ("released", later)

    again = custodian.ask(later + timedelta(minutes=1))
    assert again == answer
    assert custodian.source.opened == 1, "released answers decrypted without decrypting again"
    assert custodian.drop.attempts == 1
    assert NUMBER not in json.dumps(record.model_dump(mode="json"))


def test_a_refused_release_answers_refused_with_the_officer_and_reason() -> None:
    custodian = Custodian()
    custodian.take_in()
    custodian.decide("refuse")
    answer = custodian.ask()
    assert (answer.status, answer.decided_by, answer.reason) == (
        "refused",
        "officer-1",
        "demand checked with the parket",
    )
    assert (custodian.source.reads, custodian.source.opened) == (0, 0)


def test_a_pending_release_past_its_deadline_answers_expired() -> None:
    custodian = Custodian()
    custodian.take_in()
    assert custodian.ask(NOW + timedelta(seconds=DEADLINE_S)).status == "expired"
    assert custodian.status() == "expired"


@pytest.mark.parametrize(
    ("retain_until", "erased"),
    [
        (date(2026, 3, 14), True),  # the day before today: past retention
        (None, True),  # no date: fail closed
        (date(2026, 3, 15), False),  # its last day is today: still kept
    ],
)
def test_past_retention_the_release_is_erased_without_decrypting(
    retain_until: date | None, erased: bool
) -> None:
    """P7: an identifier past `identifier_retain_until` (our clock) is treated as gone at once."""
    custodian = Custodian(retain_until=retain_until)
    custodian.take_in()
    custodian.decide("confirm")
    answer = custodian.ask()
    if erased:
        assert (answer.status, answer.reason) == ("erased", "erased by retention")
        assert custodian.source.opened == 0
        assert custodian.drop.results == {}
        assert custodian.status() == "erased"
        assert custodian.ask().status == "erased"
        assert custodian.source.reads == 1, "an erased release is not read again"
    else:
        assert answer.status == "decrypted"


def test_a_contact_without_ciphertext_is_erased() -> None:
    custodian = Custodian()
    del custodian.source.stored_identifiers[CONTACT]
    custodian.take_in()
    custodian.decide("confirm")
    assert custodian.ask().status == "erased"


def test_the_organisation_cannot_swap_the_contact_after_the_officer_looked() -> None:
    custodian = Custodian()
    custodian.source.add(
        OTHER_CONTACT, SealedIdentifier(contact_id=OTHER_CONTACT, value="+31600000000"), None
    )
    custodian.take_in()
    custodian.decide("confirm")
    with pytest.raises(ReleaseConflict, match="does not match"):
        custodian.ask(contact_id=OTHER_CONTACT)
    assert custodian.source.opened == 0
    assert custodian.status() == "confirmed"


def test_a_ciphertext_copied_from_another_contact_is_detected() -> None:
    custodian = Custodian()
    custodian.source.sealed["ciphertext-of-" + CONTACT] = SealedIdentifier(
        contact_id=OTHER_CONTACT, kind="phone", value=NUMBER
    )
    custodian.take_in()
    custodian.decide("confirm")
    with pytest.raises(ReleaseConflict, match="does not belong") as raised:
        custodian.ask()
    assert NUMBER not in str(raised.value)
    assert custodian.drop.results == {}
    assert custodian.status() == "confirmed"


def test_a_result_put_by_an_earlier_attempt_is_not_overwritten() -> None:
    """An attempt that put the result but failed before marking the release: the retry writes nothing."""
    custodian = Custodian()
    custodian.take_in()
    custodian.decide("confirm")
    custodian.drop.results[DISCLOSURE] = ("earlier", NOW)
    assert custodian.ask().status == "decrypted"
    assert custodian.drop.results[DISCLOSURE] == ("earlier", NOW)
    assert custodian.status() == "released"
