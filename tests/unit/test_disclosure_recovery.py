"""A failure between two steps of a disclosure loses nothing and leaves nothing stuck (P7), over the
in-memory fakes made to fail as their services would (`DependencyError`, naming the operation only).

- The one-time result is opened before it is taken: a KMS failure leaves it retrievable (503), and of
  two concurrent retrievals only one gets it.
- A decision is recorded first and carried out after: when the audit log, KMS or Step Functions fails,
  the same decision again (by any compliance officer but the requester) carries out what is left,
  instead of 409; the audit chain gets it once; the workflow's next step or its deadline ends it.
- A decision's reason and the custodian officer's reason are stored with contact details replaced by
  tags (P2, P3).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from test_disclosure_logic import (
    COMP,
    COMP2,
    CONTACT,
    DISCLOSURE,
    LATER,
    NOW,
    NUMBER,
    PRO,
    PRO2,
    TOKEN,
    World,
)

from helpline.logic.audit import verify_chain
from helpline.logic.disclosure_decisions import decide
from helpline.logic.disclosure_requests import get_disclosure, retrieve_result
from helpline.logic.disclosure_workflow import prepare_release, record_outcome, record_refused
from helpline.logic.disclosures import (
    Decision,
    DisclosureConflict,
    DisclosureForbidden,
    DisclosureGone,
    DisclosureUnavailable,
)
from helpline.models.disclosures import DisclosureResult


def retrieve(world: World, caller: Any = PRO) -> DisclosureResult:
    return retrieve_result(DISCLOSURE, caller, world.store, world.sealer, world.audit, LATER)


def decide_as(world: World, decision: Decision, caller: Any, reason: str = "checked the demand") -> Any:
    return decide(
        DISCLOSURE, decision, reason, caller, world.store, world.sealer, world.workflow, world.audit, NOW
    )


# ---------------------------------------------------------------- the result: opened first, taken after


def test_a_result_that_fails_to_open_is_kept_and_the_same_call_again_retrieves_it() -> None:
    world = World()
    world.delivered()
    world.sealer.failures.fail("open")
    with pytest.raises(DisclosureUnavailable) as raised:
        retrieve(world)
    assert raised.value.status == 503
    assert "it is kept" in raised.value.reason
    assert NUMBER not in raised.value.reason
    assert DISCLOSURE in world.store.results, "a failed open destroys nothing"
    assert world.store.requests[DISCLOSURE].status == "delivered"
    assert "disclosure.retrieved" not in world.actions()

    result = retrieve(world)
    assert (result.identifier, result.contact_id) == (NUMBER, CONTACT)
    assert world.store.results == {}
    assert world.actions().count("disclosure.retrieved") == 1
    with pytest.raises(DisclosureGone):
        retrieve(world)


def test_of_two_concurrent_retrievals_only_the_one_that_took_the_result_gets_it() -> None:
    """Both read and open the result; the conditional take lets one of them have it, the other 410."""
    world = World()
    world.delivered()
    read = world.store.result
    answers: list[DisclosureResult] = []

    def read_while_another_retrieves(disclosure_id: str) -> str | None:
        ciphertext = read(disclosure_id)
        if not answers:
            world.store.result = read  # type: ignore[method-assign]
            answers.append(retrieve(world))
        return ciphertext

    world.store.result = read_while_another_retrieves  # type: ignore[method-assign]
    with pytest.raises(DisclosureGone, match="only once"):
        retrieve(world)
    assert [answer.identifier for answer in answers] == [NUMBER]
    assert world.actions().count("disclosure.retrieved") == 1
    assert world.store.requests[DISCLOSURE].status == "retrieved"


def test_a_result_is_never_opened_for_anyone_but_the_requester() -> None:
    world = World()
    world.delivered()
    opened = world.sealer.failures.calls.get("open", 0)  # the task token, once
    with pytest.raises(DisclosureForbidden):
        retrieve(world, PRO2)
    assert world.sealer.failures.calls.get("open", 0) == opened


# ---------------------------------------------------------------- a decision: recorded, then carried out


@pytest.mark.parametrize("retried_by", [COMP, COMP2], ids=["same officer", "another officer"])
def test_an_approval_whose_callback_failed_is_recorded_once_and_the_same_approval_tells_the_workflow(
    retried_by: Any,
) -> None:
    world = World()
    world.waiting()
    world.workflow.failures.fail("succeed")
    with pytest.raises(DisclosureUnavailable) as raised:
        world.decide("approve", COMP)
    assert raised.value.status == 503
    assert "send the same decision again" in raised.value.reason
    item = world.store.requests[DISCLOSURE]
    assert (item.status, item.callback_pending, item.audit_pending) == ("approved", True, [])
    assert item.token_ciphertext is not None, "kept, to tell the workflow on the retry"
    assert world.workflow.succeeded == []
    assert world.actions() == ["disclosure.requested", "disclosure.approved"]
    assert get_disclosure(DISCLOSURE, COMP, world.store).callback_pending is True

    with pytest.raises(DisclosureForbidden):
        decide_as(world, "approve", PRO)
    shown = decide_as(world, "approve", retried_by)
    assert (shown.status, shown.callback_pending) == ("approved", False)
    assert world.workflow.succeeded == [(TOKEN, {"decision": "approved"})]
    assert world.actions() == ["disclosure.requested", "disclosure.approved"], "the approval once"
    assert [approval.by for approval in shown.approvals] == ["comp-1"]
    stored = world.store.requests[DISCLOSURE]
    assert (stored.callback_pending, stored.token_ciphertext) == (False, None)
    assert prepare_release(DISCLOSURE, world.store, world.audit, NOW).approved_by == ["comp-1"]
    with pytest.raises(DisclosureConflict):
        decide_as(world, "approve", COMP2)
    assert verify_chain(world.audit.entries()).ok


def test_a_rejection_whose_callback_failed_is_sent_again_by_the_same_rejection() -> None:
    world = World()
    world.waiting()
    world.workflow.failures.fail("fail")
    with pytest.raises(DisclosureUnavailable):
        world.decide("reject", COMP)
    item = world.store.requests[DISCLOSURE]
    assert (item.status, item.callback_pending) == ("rejected", True)
    assert world.workflow.failed == []

    assert decide_as(world, "reject", COMP2).status == "rejected"
    assert world.workflow.failed == [(TOKEN, "Rejected", "rejected by compliance")]
    assert world.actions() == ["disclosure.requested", "disclosure.rejected"]
    with pytest.raises(DisclosureConflict):
        decide_as(world, "reject", COMP2)
    record_outcome("record_rejected", DISCLOSURE, world.store, world.audit, NOW)
    assert world.actions() == ["disclosure.requested", "disclosure.rejected"]


def test_an_approval_waiting_for_its_callback_cannot_be_turned_into_a_rejection() -> None:
    world = World()
    world.waiting()
    world.workflow.failures.fail("succeed")
    with pytest.raises(DisclosureUnavailable):
        world.decide("approve", COMP)
    with pytest.raises(DisclosureConflict, match="approved"):
        decide_as(world, "reject", COMP2)
    assert world.workflow.failed == []
    assert world.store.requests[DISCLOSURE].status == "approved"


def test_the_workflow_is_told_nothing_before_the_decision_is_on_the_audit_chain() -> None:
    """P7: the audit log fails; the approval is counted and marked, the workflow not resumed. The retry
    writes the entry once and only then tells the workflow."""
    world = World()
    world.waiting()
    world.audit.failures.fail("append")
    with pytest.raises(DisclosureUnavailable, match="audit log"):
        world.decide("approve", COMP)
    item = world.store.requests[DISCLOSURE]
    assert item.status == "approved"
    assert [(pending.action, pending.by) for pending in item.audit_pending] == [
        ("disclosure.approved", "comp-1")
    ]
    assert world.workflow.succeeded == []
    assert world.actions() == ["disclosure.requested"]

    later = NOW + timedelta(minutes=5)
    decide(
        DISCLOSURE, "approve", "again", COMP2, world.store, world.sealer, world.workflow, world.audit, later
    )
    approved = [entry for entry in world.audit.entries() if entry.action == "disclosure.approved"]
    assert [(entry.actor, entry.details.get("decided_at")) for entry in approved] == [
        ("comp-1", "2026-03-15T12:00:00+00:00")
    ], "by who decided, saying when, once"
    assert world.workflow.succeeded == [(TOKEN, {"decision": "approved"})]
    assert world.store.requests[DISCLOSURE].audit_pending == []


def test_a_kms_failure_opening_the_task_token_is_a_503_and_the_retry_tells_the_workflow() -> None:
    world = World()
    world.waiting()
    world.sealer.failures.fail("open")
    with pytest.raises(DisclosureUnavailable):
        world.decide("approve", COMP)
    assert world.store.requests[DISCLOSURE].callback_pending is True
    assert world.decide("approve", COMP).callback_pending is False
    assert len(world.workflow.succeeded) == 1
    assert world.actions().count("disclosure.approved") == 1


def test_each_of_two_approvals_is_audited_once_and_only_the_second_resumes_the_workflow() -> None:
    world = World(approvals_needed=2)
    world.waiting()
    world.audit.failures.fail("append")
    with pytest.raises(DisclosureUnavailable):
        world.decide("approve", COMP)
    assert world.store.requests[DISCLOSURE].status == "awaiting_decision"
    assert world.decide("approve", COMP).status == "awaiting_decision", "the same approval, carried out"
    assert world.decide("approve", COMP2).status == "approved"
    assert [entry.actor for entry in world.audit.entries() if entry.action == "disclosure.approved"] == [
        "comp-1",
        "comp-2",
    ]
    assert len(world.workflow.succeeded) == 1


@pytest.mark.parametrize(
    ("decision", "next_step"), [("approve", "prepare_release"), ("reject", "record_rejected")]
)
def test_when_the_last_write_fails_the_workflows_next_step_clears_the_mark_and_the_token(
    decision: Decision, next_step: str
) -> None:
    """The workflow was told; only the write that unmarks the request failed. The decision stands (200),
    and the step the workflow goes on to clears what that write would have."""
    world = World()
    world.waiting()
    world.store.failures.fail("update", after=2)  # counting and unmarking the audit pass; the third fails
    shown = world.decide(decision, COMP)
    assert shown.callback_pending is False
    stored = world.store.requests[DISCLOSURE]
    assert (stored.callback_pending, stored.token_ciphertext is not None) == (True, True)
    if next_step == "prepare_release":
        prepare_release(DISCLOSURE, world.store, world.audit, NOW)
    else:
        record_outcome("record_rejected", DISCLOSURE, world.store, world.audit, NOW)
    stored = world.store.requests[DISCLOSURE]
    assert (stored.callback_pending, stored.token_ciphertext) == (False, None)
    assert len(world.workflow.succeeded) + len(world.workflow.failed) == 1


def test_an_approval_that_never_reached_the_workflow_ends_at_its_deadline() -> None:
    world = World()
    world.waiting()
    world.workflow.failures.fail("succeed", times=3)
    for _ in range(3):
        with pytest.raises(DisclosureUnavailable):
            world.decide("approve", COMP)
    assert world.actions().count("disclosure.approved") == 1
    record_outcome("record_expired", DISCLOSURE, world.store, world.audit, NOW + timedelta(minutes=10))
    item = world.store.requests[DISCLOSURE]
    assert (item.status, item.callback_pending, item.token_ciphertext) == ("expired", False, None)
    assert item.timeline[-1].reason == "the approval did not reach the workflow before the deadline"
    assert world.audit.entries()[-1].details["stage"] == "decision"
    with pytest.raises(DisclosureConflict):
        world.decide("approve", COMP)
    with pytest.raises(DisclosureGone):
        retrieve(world)


def test_a_callback_the_workflow_no_longer_waits_for_is_a_conflict_and_its_deadline_ends_it() -> None:
    world = World()
    world.waiting()
    world.workflow.gone.add(TOKEN)
    with pytest.raises(DisclosureConflict, match="no longer waits"):
        world.decide("approve", COMP)
    assert world.actions() == ["disclosure.requested", "disclosure.approved"]
    assert record_outcome("record_expired", DISCLOSURE, world.store, world.audit, NOW).status == "expired"


def test_a_request_whose_workflow_cannot_start_is_recorded_failed_and_answered_503() -> None:
    world = World()
    world.workflow.failures.fail("start")
    with pytest.raises(DisclosureUnavailable, match="Submit it again"):
        world.request()
    assert world.store.requests[DISCLOSURE].status == "failed"
    assert world.actions() == ["disclosure.requested", "disclosure.failed"]


# ---------------------------------------------------------------- reasons (P2, P3)


def test_a_decisions_reason_is_kept_with_its_contact_details_replaced_by_tags() -> None:
    world = World()
    world.waiting()
    reason = "Confirmed with the officer on 0612345678 and officer@politie.example.nl"
    shown = decide_as(world, "approve", COMP, reason)
    assert shown.approvals[0].reason == "Confirmed with the officer on [TELEFOONNUMMER] and [EMAILADRES]"
    assert shown.timeline[-1].reason == shown.approvals[0].reason
    kept = world.store.requests[DISCLOSURE].model_dump_json() + json.dumps(
        [entry.model_dump(mode="json") for entry in world.audit.entries()]
    )
    assert "0612345678" not in kept
    assert "officer@politie" not in kept


def test_the_custodian_officers_reason_of_a_refusal_is_kept_with_its_contact_details_replaced() -> None:
    world = World()
    world.awaiting_custodian()
    record_refused(
        DISCLOSURE, "officer-1", LATER, "Caller 203.0.113.9 is not named", world.store, world.audit, LATER
    )
    item = world.store.requests[DISCLOSURE]
    assert item.timeline[-1].reason == "Caller [IPADRES] is not named"
    assert "203.0.113.9" not in item.model_dump_json()
