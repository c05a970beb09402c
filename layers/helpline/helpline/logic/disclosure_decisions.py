"""A compliance decision on a disclosure request (P7: four eyes), recorded first and carried out after.

Compliance decides, never the requester; an approval counts once per officer, and once
DISCLOSURE_APPROVALS_NEEDED distinct officers approved, the workflow is resumed (SendTaskSuccess) and
asks the custodian next. A rejection ends it (SendTaskFailure). Every decision lands on the audit
chain, once, with ids and the basis only (P7); its reason, scrubbed of contact details (P2, P3,
`logic.disclosure_grounds`), on the request's timeline.

Carrying a decision out takes three services (DynamoDB, the audit chain, Step Functions with KMS to open
the task token), and any of them may fail after another succeeded. So the decision is *recorded* first,
in one conditional write that counts it and says what is left to do (`audit_pending`: its audit entry;
`callback_pending`: telling the workflow), and *carried out* after (`carry_out`), each step clearing its
mark once done:

1. count the decision (status `approved`/`rejected` once decided; the task token kept);
2. write the pending audit entries, then clear them (the workflow is told nothing before);
3. open the token and tell the workflow, then clear `callback_pending` and drop the token (should
   this last write fail, the workflow's next step does it).

A failure in 2 or 3 answers 503, and leaves the request decided with its marks set, never stuck: the
same decision sent again, by the same or another compliance officer (never the requester), finds the
request decided with work left and carries out what is left instead of answering 409. The audit chain
gets the decision once: its entry is written only while marked pending, and unmarked right after. (A
crash between the two writes it again on the retry: at least once, never never. The chain has no
idempotency key to do better.) When the workflow was told and moved on, its own next step clears the
marks as well (`logic.disclosure_workflow`); when it was never told, its deadline ends the request.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from helpline.auth import Caller
from helpline.logic.audit import AuditLog, record
from helpline.logic.disclosure_grounds import scrubbed_text
from helpline.logic.disclosures import (
    APPROVED,
    MAX_UPDATE_ATTEMPTS,
    REJECTED,
    Decision,
    DisclosureConflict,
    DisclosureForbidden,
    DisclosureStore,
    DisclosureUnavailable,
    StaleRecordError,
    TaskTokenGone,
    TokenSealer,
    Workflow,
    existing,
    transition,
    update_request,
    view,
)
from helpline.logic.ports import DependencyError
from helpline.models.disclosures import (
    REASON_MAX,
    Approval,
    DisclosureRecord,
    DisclosureView,
    PendingAudit,
    Status,
    TimelineEntry,
)

DECIDED: Final[dict[Decision, Status]] = {"approve": "approved", "reject": "rejected"}
"""The status a request has once a decision of this kind decided it."""
LATE: Final = timedelta(seconds=1)
"""An audit entry written this long after its decision names when it was made (`decided_at`)."""


# ---------------------------------------------------------------- pure rules


def check_decider(item: DisclosureRecord, caller: Caller) -> None:
    """Four eyes (P7): compliance decides (the route admits only that group), never the requester."""
    if caller.username == item.requested_by:
        raise DisclosureForbidden(
            "Forbidden: the requester of a disclosure may not decide on it; another compliance officer must"
        )


def with_approval(
    item: DisclosureRecord, by: str, at: datetime, reason: str
) -> tuple[DisclosureRecord, bool]:
    """`item` with the approval of `by` counted once and its audit entry pending; the bool: whether it
    counted now (not a repeat)."""
    if any(approval.by == by for approval in item.approvals):
        return item, False
    approvals = [*item.approvals, Approval(by=by, at=at, reason=reason)]
    entry = TimelineEntry(at=at, event="approval", actor=by, reason=reason)
    pending = [*item.audit_pending, PendingAudit(action=APPROVED, by=by, at=at)]
    return item.model_copy(
        update={"approvals": approvals, "timeline": [*item.timeline, entry], "audit_pending": pending}
    ), True


def is_approved(item: DisclosureRecord) -> bool:
    return len({approval.by for approval in item.approvals}) >= item.approvals_needed


def counted(
    item: DisclosureRecord, decision: Decision, by: str, reason: str, now: datetime
) -> DisclosureRecord | None:
    """`item` (awaiting a decision) with `decision` recorded and what is left to do marked; None when it
    changes nothing (an officer approving twice). Pure."""
    if decision == "approve":
        updated, new = with_approval(item, by, now, reason)
        if not new:
            return None
        if not is_approved(updated):
            return updated
        approved = transition(updated, "approved", now, by, reason=reason)
        return approved.model_copy(update={"approved_at": now, "callback_pending": True})
    rejected = transition(item, "rejected", now, by, reason=reason)
    pending = [*item.audit_pending, PendingAudit(action=REJECTED, by=by, at=now)]
    return rejected.model_copy(update={"audit_pending": pending, "callback_pending": True})


def unfinished(item: DisclosureRecord, decision: Decision) -> bool:
    """Whether `item` is already decided as `decision` decides, with some of it not carried out yet."""
    return item.status == DECIDED[decision] and (item.callback_pending or bool(item.audit_pending))


# ---------------------------------------------------------------- the API's step


def decide(
    disclosure_id: str,
    decision: Decision,
    reason: str,
    caller: Caller,
    store: DisclosureStore,
    tokens: TokenSealer,
    workflow: Workflow,
    audit: AuditLog,
    now: datetime,
) -> DisclosureView:
    """Record an approval or rejection (four eyes) and carry it out (see the module's docstring).

    403 for the requester. 409 when the request does not await a decision (the workflow has not got
    there yet, or it was decided otherwise, or it ended), whatever Step Functions would accept. The
    same decision again on a request it decided, with work left, carries that work out (200, or 503
    again). An officer approving twice counts once. The reason is stored scrubbed of contact details
    (P2, P3). An approval is not yet a release: the custodian's officer confirms next, and the 24
    hours of the result start when it is decrypted.
    """
    reason = scrubbed_text(reason, REASON_MAX)
    for _ in range(MAX_UPDATE_ATTEMPTS):
        item = existing(store, disclosure_id)
        check_decider(item, caller)
        if unfinished(item, decision):
            stored = item
            break
        if item.status != "awaiting_decision":
            raise DisclosureConflict(f"Conflict: the request is {item.status}, no longer awaiting a decision")
        if item.token_ciphertext is None:
            raise DisclosureConflict("Conflict: the workflow is not waiting for this request yet; try again")
        updated = counted(item, decision, caller.username, reason, now)
        if updated is None:
            stored = item
            break
        try:
            stored = store.update(updated)
        except StaleRecordError:
            continue
        break
    else:
        raise DisclosureConflict("Conflict: the request changed while deciding; try again")
    return view(carry_out(stored, store, tokens, workflow, audit, now))


def carry_out(
    item: DisclosureRecord,
    store: DisclosureStore,
    tokens: TokenSealer,
    workflow: Workflow,
    audit: AuditLog,
    now: datetime,
) -> DisclosureRecord:
    """Do what `item`'s marks say is left: its pending audit entries, then telling the workflow.

    DisclosureUnavailable (503) when the audit log or Step Functions (or KMS, opening the token)
    failed: the marks stay, and the same call again goes on from there.
    """
    item = write_pending_audit(item, store, audit, now)
    if not item.callback_pending:
        return item
    try:
        tell_workflow(item, tokens, workflow)
    except TaskTokenGone:
        current = existing(store, item.id)
        if not current.callback_pending:
            return current  # told meanwhile (by a concurrent call), and the workflow went on
        raise DisclosureConflict(
            "Conflict: the workflow no longer waits for this decision (its deadline passed, or it was "
            "told already); the request's status follows from the workflow's next step"
        ) from None
    except DependencyError:
        raise DisclosureUnavailable(
            f"The request is {item.status}, but the workflow could not be told yet (Step Functions or KMS "
            "failed); send the same decision again to tell it. It is recorded once"
        ) from None
    try:
        return update_request(store, item.id, told)
    except DependencyError:
        # Carried out: the workflow has the decision. Its next step clears the mark and the token
        # (`logic.disclosure_workflow`), so this last write is not worth a failure.
        return told(item)


def write_pending_audit(
    item: DisclosureRecord, store: DisclosureStore, audit: AuditLog, now: datetime
) -> DisclosureRecord:
    """Write `item`'s pending audit entries (actor: who decided), then unmark them (P7)."""
    if not item.audit_pending:
        return item
    written = list(item.audit_pending)
    try:
        for pending in written:
            when = {"decided_at": pending.at.isoformat()} if now - pending.at >= LATE else {}
            record(
                audit,
                now,
                pending.by,
                pending.action,
                item.id,
                contact_id=item.contact_id,
                basis=item.basis,
                **when,
            )
    except DependencyError:
        raise DisclosureUnavailable(
            f"The request is {item.status}, but the decision could not be put on the audit log yet; "
            "send the same decision again"
        ) from None

    def unmarked(current: DisclosureRecord) -> DisclosureRecord:
        left = [pending for pending in current.audit_pending if pending not in written]
        return current.model_copy(update={"audit_pending": left})

    return update_request(store, item.id, unmarked)


def tell_workflow(item: DisclosureRecord, tokens: TokenSealer, workflow: Workflow) -> None:
    """Resume the waiting task with the decision: success for an approval, `Rejected` for a rejection."""
    if item.token_ciphertext is None:
        raise TaskTokenGone("no task token kept")
    token = tokens.open(item.id, item.token_ciphertext)
    if item.status == "approved":
        workflow.succeed(token, {"decision": "approved"})
    else:
        workflow.fail(token, "Rejected", "rejected by compliance")


def told(current: DisclosureRecord) -> DisclosureRecord:
    """The workflow was told: nothing left pending, and the token (useless now) dropped."""
    return current.model_copy(update={"callback_pending": False, "token_ciphertext": None})
