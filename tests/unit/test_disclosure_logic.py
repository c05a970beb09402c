"""Disclosure rules (P6, P7) over the in-memory fakes: legal basis, four eyes, the custodian's answer
recorded (P3), once-only delivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpline.auth import Caller
from helpline.dal.memory_disclosures import (
    FakeNotifier,
    FakeSealer,
    FakeWorkflow,
    InMemoryContactDirectory,
    InMemoryDisclosureStore,
)
from helpline.dal.memory_staff import InMemoryAuditLog
from helpline.logic.audit import verify_chain
from helpline.logic.disclosure_workflow import (
    await_decision,
    prepare_release,
    record_decrypted,
    record_outcome,
    record_refused,
    record_requested,
)
from helpline.logic.disclosures import (
    DisclosureConfig,
    DisclosureConflict,
    DisclosureForbidden,
    DisclosureGone,
    DisclosureNotFound,
    DisclosureRefused,
    decide,
    get_disclosure,
    list_disclosures,
    refusal,
    request_disclosure,
    retrieve_result,
)
from helpline.models.disclosures import DisclosureRequestIn, SealedIdentifier

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=30)  # the custodian's officer took a day and more to confirm
CONTACT = "c" * 32
ERASED = "e" * 32
OFFICE = "0" * 32
NUMBER = "+31612345678"
DISCLOSURE = "d" * 32
TOKEN = "task-token-abc"
PRO = Caller("pro-1", frozenset({"professional"}))
PRO2 = Caller("pro-2", frozenset({"professional"}))
COMP = Caller("comp-1", frozenset({"compliance"}))
COMP2 = Caller("comp-2", frozenset({"compliance"}))
PRO_AND_COMP = Caller("pro-1", frozenset({"professional", "compliance"}))

LEGAL_ORDER = {
    "reference": "VIG-2026-001",
    "officer_of_justice": "mr. A. de Vries",
    "prosecutor_office": "Parket Midden-Nederland",
    "issued_on": "2026-03-14",
    "document_sha256": "a" * 64,
}


def legal_request(**changes: Any) -> DisclosureRequestIn:
    body: dict[str, Any] = {
        "contact_id": CONTACT,
        "basis": "legal_order_126nc",
        "legal_order": LEGAL_ORDER,
        "third_party_danger": "the caller's neighbour, threatened tonight",
    }
    body.update(changes)
    return DisclosureRequestIn.model_validate({k: v for k, v in body.items() if v is not None})


class World:
    def __init__(self, approvals_needed: int = 1) -> None:
        self.store = InMemoryDisclosureStore()
        self.contacts = InMemoryContactDirectory(
            {
                CONTACT: SealedIdentifier(contact_id=CONTACT, kind="phone", value=NUMBER, reference="CA1"),
                ERASED: None,
            },
            office={OFFICE},
        )
        self.workflow = FakeWorkflow()
        self.sealer = FakeSealer()
        self.notifier = FakeNotifier()
        self.audit = InMemoryAuditLog()
        self.config = DisclosureConfig(approvals_needed=approvals_needed, approval_timeout_seconds=600)

    def request(self, body: DisclosureRequestIn | None = None, caller: Caller = PRO) -> str:
        request_disclosure(
            body or legal_request(),
            caller,
            DISCLOSURE,
            self.config,
            self.store,
            self.contacts,
            self.workflow,
            self.audit,
            NOW,
        )
        return DISCLOSURE

    def waiting(self, caller: Caller = PRO) -> str:
        self.request(caller=caller)
        record_requested(DISCLOSURE, self.store, NOW)
        await_decision(DISCLOSURE, TOKEN, self.store, self.sealer, self.notifier, NOW)
        return DISCLOSURE

    def decide(self, decision: str, caller: Caller, at: datetime = NOW) -> Any:
        return decide(
            DISCLOSURE,
            decision,
            "checked the demand",
            caller,
            self.store,
            self.sealer,  # type: ignore[arg-type]
            self.workflow,
            self.audit,
            at,
        )

    def awaiting_custodian(self) -> Any:
        self.waiting()
        self.decide("approve", COMP)
        return prepare_release(DISCLOSURE, self.store, self.audit, NOW)

    def custodian_released(self, at: datetime = LATER) -> None:
        """What the custodian's decrypt function does once its officer confirmed: the sealed result."""
        result = {
            "identifier": NUMBER,
            "identifier_type": "phone",
            "provider_reference": "CA1",
            "basis": "legal_order_126nc",
            "contact_id": CONTACT,
        }
        self.store.put_result(DISCLOSURE, self.sealer.seal(DISCLOSURE, result), at + timedelta(hours=24), at)

    def decrypted(self, at: datetime = LATER) -> None:
        self.awaiting_custodian()
        self.custodian_released(at)
        record_decrypted(DISCLOSURE, "officer-1", at - timedelta(minutes=1), self.store, self.audit, at)

    def delivered(self, at: datetime = LATER) -> None:
        self.decrypted(at)
        record_outcome("record_delivered", DISCLOSURE, self.store, self.audit, at)

    def actions(self) -> list[str]:
        return [entry.action for entry in self.audit.entries()]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"basis": None}, "needs a legal basis"),
        ({"basis": "danger_to_others"}, "only legal bases"),
        ({"danger_to_self_only": True}, "danger only to themselves"),
        ({"third_party_danger": None}, "third_party_danger"),
        ({"legal_order": None}, "needs the legal_order"),
        ({"basis": "consent", "legal_order": None}, "consent record"),
    ],
)
def test_no_legal_basis_is_refused(changes: dict[str, Any], fragment: str) -> None:
    body = legal_request(**changes)
    assert fragment in (refusal(body) or "")
    world = World()
    with pytest.raises(DisclosureRefused):
        world.request(body)
    assert world.store.requests == {}
    assert world.workflow.started == []


def test_danger_to_self_is_refused_even_with_a_legal_order() -> None:
    with pytest.raises(DisclosureRefused, match="P7"):
        World().request(legal_request(danger_to_self_only=True))


def test_consent_is_a_basis() -> None:
    consent = {"recorded_by": "pro-1", "recorded_at": "2026-03-15T11:00:00Z", "statement": "I agree"}
    body = legal_request(basis="consent", legal_order=None, third_party_danger=None, consent=consent)
    assert refusal(body) is None


@pytest.mark.parametrize(
    ("contact", "error"),
    [(OFFICE, DisclosureRefused), (ERASED, DisclosureGone), ("f" * 32, DisclosureNotFound)],
)
def test_contact_must_be_a_helpline_contact_with_its_identifier(contact: str, error: type[Exception]) -> None:
    world = World()
    with pytest.raises(error):
        world.request(legal_request(contact_id=contact))
    assert world.workflow.started == []


def test_a_contact_past_retention_is_gone_by_retention() -> None:
    """P7: an erased identifier (past `identifier_retain_until`, or swept) is 410, saying why."""
    with pytest.raises(DisclosureGone, match="erased by retention"):
        World().request(legal_request(contact_id=ERASED))


def test_request_is_stored_audited_and_started_with_ids_only() -> None:
    world = World()
    world.request()
    item = world.store.requests[DISCLOSURE]
    assert (item.status, item.requested_by, item.basis) == ("requested", "pro-1", "legal_order_126nc")
    assert world.workflow.started == [(DISCLOSURE, 600)]
    [entry] = world.audit.entries()
    assert (entry.action, entry.actor, entry.subject) == ("disclosure.requested", "pro-1", DISCLOSURE)
    assert entry.details == {"contact_id": CONTACT, "basis": "legal_order_126nc"}


def test_await_decision_stores_the_token_sealed_and_hashed_and_notifies_with_the_id() -> None:
    world = World()
    world.waiting()
    item = world.store.requests[DISCLOSURE]
    assert item.status == "awaiting_decision"
    assert item.token_ciphertext is not None
    assert TOKEN not in item.model_dump_json()
    assert item.token_sha256 is not None
    assert len(item.token_sha256) == 64
    assert world.notifier.notified == [(DISCLOSURE, 1)]


@pytest.mark.parametrize("decision", ["approve", "reject"])
@pytest.mark.parametrize("caller", [PRO, PRO_AND_COMP])
def test_the_requester_never_decides(decision: str, caller: Caller) -> None:
    world = World()
    world.waiting(caller=caller)
    with pytest.raises(DisclosureForbidden, match="requester"):
        world.decide(decision, PRO_AND_COMP)
    assert world.workflow.succeeded == []
    assert world.workflow.failed == []


def test_approval_resumes_the_workflow_and_is_audited() -> None:
    world = World()
    world.waiting()
    shown = world.decide("approve", COMP)
    assert shown.status == "approved"
    assert world.workflow.succeeded == [(TOKEN, {"decision": "approved"})]
    item = world.store.requests[DISCLOSURE]
    assert item.token_ciphertext is None
    assert item.result_expires_at is None, "the result's 24 hours start when the custodian decrypts"
    assert world.actions() == ["disclosure.requested", "disclosure.approved"]
    assert world.audit.entries()[-1].actor == "comp-1"


def test_two_approvals_needed_and_a_repeat_does_not_count() -> None:
    world = World(approvals_needed=2)
    world.waiting()
    assert world.decide("approve", COMP).status == "awaiting_decision"
    again = world.decide("approve", COMP)
    assert again.status == "awaiting_decision"
    assert [approval.by for approval in again.approvals] == ["comp-1"]
    assert world.workflow.succeeded == []
    assert world.decide("approve", COMP2).status == "approved"
    assert len(world.workflow.succeeded) == 1
    assert world.actions().count("disclosure.approved") == 2


def test_rejection_fails_the_task_and_a_later_decision_is_a_conflict() -> None:
    world = World()
    world.waiting()
    assert world.decide("reject", COMP).status == "rejected"
    assert world.workflow.failed == [(TOKEN, "Rejected", "rejected by compliance")]
    with pytest.raises(DisclosureConflict):
        world.decide("approve", COMP2)
    record_outcome("record_rejected", DISCLOSURE, world.store, world.audit, NOW)
    assert world.actions() == ["disclosure.requested", "disclosure.rejected"]


def test_decision_after_the_deadline_is_a_conflict() -> None:
    world = World()
    world.waiting()
    record_outcome("record_expired", DISCLOSURE, world.store, world.audit, NOW)
    with pytest.raises(DisclosureConflict):
        world.decide("approve", COMP)
    assert "disclosure.expired" in world.actions()


def test_result_once_to_the_requester_within_24_hours() -> None:
    world = World()
    world.delivered()
    sealed = world.store.results[DISCLOSURE][0]
    assert NUMBER not in sealed
    assert NUMBER not in world.store.requests[DISCLOSURE].model_dump_json()
    with pytest.raises(DisclosureForbidden):
        retrieve_result(DISCLOSURE, PRO2, world.store, world.sealer, world.audit, LATER)
    result = retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER)
    assert (result.identifier, result.identifier_type, result.provider_reference) == (NUMBER, "phone", "CA1")
    assert (result.contact_id, result.disclosure_id, result.basis) == (
        CONTACT,
        DISCLOSURE,
        "legal_order_126nc",
    )
    assert NUMBER not in repr(result)
    assert world.store.results == {}
    with pytest.raises(DisclosureGone):
        retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER)
    assert world.actions() == [
        "disclosure.requested",
        "disclosure.approved",
        "disclosure.release_requested",
        "disclosure.release_confirmed",
        "disclosure.decrypted",
        "disclosure.delivered",
        "disclosure.retrieved",
    ]
    assert verify_chain(world.audit.entries()).ok
    assert all(NUMBER not in json.dumps(entry.model_dump(mode="json")) for entry in world.audit.entries())


def test_result_after_24_hours_is_gone_and_erased() -> None:
    world = World()
    world.delivered()
    with pytest.raises(DisclosureGone, match="24 hours"):
        retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER + timedelta(hours=24))
    assert world.store.results == {}
    assert world.store.requests[DISCLOSURE].status == "expired"


def test_record_delivered_after_retrieval_changes_nothing() -> None:
    world = World()
    world.decrypted()
    retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER)
    assert (
        record_outcome("record_delivered", DISCLOSURE, world.store, world.audit, LATER).status == "retrieved"
    )


def test_professionals_see_their_own_compliance_sees_all() -> None:
    world = World()
    world.request()
    assert [item.id for item in list_disclosures(PRO, world.store).items] == [DISCLOSURE]
    assert list_disclosures(PRO2, world.store).items == []
    assert [item.id for item in list_disclosures(COMP, world.store).items] == [DISCLOSURE]
    with pytest.raises(DisclosureForbidden):
        get_disclosure(DISCLOSURE, PRO2, world.store)
    shown = get_disclosure(DISCLOSURE, COMP, world.store).model_dump()
    assert "token_ciphertext" not in shown
    assert "token_sha256" not in shown


# ---------------------------------------------------------------- the custodian's part (P3, P7)


def test_prepare_release_waits_for_the_custodian_and_asks_with_ids_basis_and_grounds_only() -> None:
    world = World()
    release = world.awaiting_custodian()
    item = world.store.requests[DISCLOSURE]
    assert item.status == "awaiting_custodian"
    asked = release.model_dump(mode="json")
    assert asked == {
        "disclosure_id": DISCLOSURE,
        "contact_id": CONTACT,
        "basis": "legal_order_126nc",
        "grounds": {"legal_order": LEGAL_ORDER, "consent": None},
        "approved_by": ["comp-1"],
        "approved_at": "2026-03-15T12:00:00Z",
    }
    assert "neighbour" not in json.dumps(asked), "free text stays with the organisation"
    assert world.actions()[-1] == "disclosure.release_requested"
    with pytest.raises(DisclosureConflict):
        retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, NOW)


def test_prepare_release_is_idempotent() -> None:
    world = World()
    first = world.awaiting_custodian()
    again = prepare_release(DISCLOSURE, world.store, world.audit, NOW + timedelta(seconds=5))
    assert again == first
    assert world.actions().count("disclosure.release_requested") == 1


def test_a_consent_release_names_who_recorded_it_and_when_not_the_statement() -> None:
    world = World()
    consent = {"recorded_by": "pro-1", "recorded_at": "2026-03-15T11:00:00Z", "statement": "Pass it to my GP"}
    world.request(legal_request(basis="consent", legal_order=None, third_party_danger=None, consent=consent))
    record_requested(DISCLOSURE, world.store, NOW)
    await_decision(DISCLOSURE, TOKEN, world.store, world.sealer, world.notifier, NOW)
    world.decide("approve", COMP)
    release = prepare_release(DISCLOSURE, world.store, world.audit, NOW)
    assert release.grounds.model_dump(mode="json") == {
        "legal_order": None,
        "consent": {"recorded_by": "pro-1", "recorded_at": "2026-03-15T11:00:00Z"},
    }
    assert "GP" not in release.model_dump_json()


@pytest.mark.parametrize("stage", ["requested", "awaiting_decision", "rejected"])
def test_nothing_is_released_before_approval(stage: str) -> None:
    world = World()
    world.request()
    if stage != "requested":
        record_requested(DISCLOSURE, world.store, NOW)
        await_decision(DISCLOSURE, TOKEN, world.store, world.sealer, world.notifier, NOW)
    if stage == "rejected":
        world.decide("reject", COMP)
    with pytest.raises(DisclosureConflict):
        prepare_release(DISCLOSURE, world.store, world.audit, NOW)
    assert "disclosure.release_requested" not in world.actions()


def test_record_decrypted_audits_the_custodian_officer_and_starts_the_24_hours() -> None:
    world = World()
    world.decrypted()
    item = world.store.requests[DISCLOSURE]
    assert item.status == "decrypted"
    assert item.result_expires_at == LATER + timedelta(hours=24)
    confirmed, decrypted = world.audit.entries()[-2:]
    assert (confirmed.action, confirmed.actor) == ("disclosure.release_confirmed", "officer-1")
    assert confirmed.details["party"] == "custodian"
    assert (decrypted.action, decrypted.actor) == ("disclosure.decrypted", "custodian")
    assert [entry.event for entry in item.timeline][-2:] == ["release_confirmed", "decrypted"]
    assert verify_chain(world.audit.entries()).ok
    # Retried by the workflow: nothing twice.
    record_decrypted(DISCLOSURE, "officer-1", LATER, world.store, world.audit, LATER)
    assert world.actions().count("disclosure.decrypted") == 1


def test_record_decrypted_needs_the_custodian_to_have_been_asked() -> None:
    world = World()
    world.waiting()
    world.decide("approve", COMP)
    with pytest.raises(DisclosureConflict):
        record_decrypted(DISCLOSURE, "officer-1", NOW, world.store, world.audit, NOW)


def test_a_release_refused_by_the_custodian_never_yields_a_result() -> None:
    world = World()
    world.awaiting_custodian()
    record_refused(DISCLOSURE, "officer-1", LATER, "no such demand on file", world.store, world.audit, LATER)
    item = world.store.requests[DISCLOSURE]
    assert item.status == "refused"
    assert (item.timeline[-1].event, item.timeline[-1].actor, item.timeline[-1].reason) == (
        "release_refused",
        "officer-1",
        "no such demand on file",
    )
    entry = world.audit.entries()[-1]
    assert (entry.action, entry.actor, entry.details["party"]) == (
        "disclosure.release_refused",
        "officer-1",
        "custodian",
    )
    assert "no such demand" not in json.dumps(entry.model_dump(mode="json"))
    with pytest.raises(DisclosureGone, match="refused"):
        retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER)
    assert record_outcome("record_expired", DISCLOSURE, world.store, world.audit, LATER).status == "refused"


def test_an_approved_request_expires_when_the_custodian_does_not_decide_in_time() -> None:
    world = World()
    world.awaiting_custodian()
    assert record_outcome("record_expired", DISCLOSURE, world.store, world.audit, LATER).status == "expired"
    entry = world.audit.entries()[-1]
    assert (entry.action, entry.details.get("stage")) == ("disclosure.expired", "custodian")
    with pytest.raises(DisclosureGone):
        retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER)


def test_an_identifier_erased_by_retention_before_the_release_is_recorded_as_erased() -> None:
    world = World()
    world.awaiting_custodian()
    assert record_outcome("record_erased", DISCLOSURE, world.store, world.audit, LATER).status == "erased"
    item = world.store.requests[DISCLOSURE]
    assert item.timeline[-1].reason == "erased by retention"
    assert world.actions()[-1] == "disclosure.erased"
    with pytest.raises(DisclosureGone, match="erased by retention"):
        retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER)
    record_outcome("record_erased", DISCLOSURE, world.store, world.audit, LATER)
    assert world.actions().count("disclosure.erased") == 1


def test_erased_is_only_an_answer_to_a_release() -> None:
    world = World()
    world.waiting()
    with pytest.raises(DisclosureConflict):
        record_outcome("record_erased", DISCLOSURE, world.store, world.audit, NOW)
