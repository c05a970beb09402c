"""The disclosure workflow's steps (P6, P7): what the state machine does between the API's steps.

Each step is called by the workflow's steps function with ids only, and is idempotent, since Step
Functions retries a task: record the start, keep the task token sealed while compliance decides,
hand the release to the custodian, and record what the custodian answered (decrypted, refused,
expired, erased) on the request's timeline and the audit chain. The rules are in `logic.disclosures`,
the API's steps in `logic.disclosure_requests` and `logic.disclosure_decisions`.

A decision is recorded before the workflow is told (`logic.disclosure_decisions`): when the workflow
reaches its next step (PrepareRelease after an approval, RecordRejected after a rejection), it was told,
so that step clears the request's `callback_pending` and drops the task token, whether or not the call
that told it got to do so. When it was never told, its deadline ends the request (`record_expired`),
and a decision whose audit entry is still pending is written to the chain then (P7).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from helpline.logic.audit import AuditLog, record
from helpline.logic.disclosure_decisions import told, write_pending_audit
from helpline.logic.disclosure_grounds import scrubbed_text
from helpline.logic.disclosures import (
    CUSTODIAN_ACTOR,
    DECRYPTED,
    DELIVERED,
    ERASED,
    ERASED_BY_RETENTION,
    EXPIRED,
    FAILED,
    REJECTED,
    RELEASE_CONFIRMED,
    RELEASE_REFUSED,
    RELEASE_REQUESTED,
    RESULT_LIFETIME,
    WAITING_FOR_CUSTODIAN,
    WORKFLOW_ACTOR,
    ComplianceNotifier,
    DisclosureConflict,
    DisclosureStore,
    TokenSealer,
    existing,
    note,
    release_request,
    token_sha256,
    transition,
    update_request,
)
from helpline.models.disclosures import DisclosureRecord, Status, TimelineEntry
from helpline.models.releases import ReleaseRequest


def record_requested(disclosure_id: str, store: DisclosureStore, now: datetime) -> None:
    """First state: the request exists and is new (the API audited it already); note the start."""
    item = existing(store, disclosure_id)
    if item.status != "requested":
        raise DisclosureConflict(f"Conflict: the request is {item.status}, not requested")
    if not any(entry.event == "workflow_started" for entry in item.timeline):
        update_request(store, disclosure_id, lambda current: note(current, now, "workflow_started"))


def await_decision(
    disclosure_id: str,
    task_token: str,
    store: DisclosureStore,
    tokens: TokenSealer,
    notifier: ComplianceNotifier,
    now: datetime,
) -> None:
    """Keep the task token, sealed, and tell compliance (ids only).

    The issue asks for the token "stored only hashed"; a hash cannot resume Step Functions, so the token
    is stored encrypted under DisclosureKey (context purpose=workflow-token, disclosure_id) with its
    SHA-256 beside it. Only the disclosures function may decrypt it, and it drops the ciphertext as soon
    as the request is decided.
    """
    sealed = tokens.seal(disclosure_id, task_token)
    fingerprint = token_sha256(task_token)

    def wait(current: DisclosureRecord) -> DisclosureRecord:
        if current.status not in ("requested", "awaiting_decision"):
            raise DisclosureConflict(f"Conflict: the request is {current.status}, it cannot await a decision")
        waiting = (
            current
            if current.status == "awaiting_decision"
            else transition(current, "awaiting_decision", now, WORKFLOW_ACTOR)
        )
        return waiting.model_copy(update={"token_ciphertext": sealed, "token_sha256": fingerprint})

    item = update_request(store, disclosure_id, wait)
    notifier.awaiting_decision(disclosure_id, item.approvals_needed)


def prepare_release(
    disclosure_id: str, store: DisclosureStore, audit: AuditLog, now: datetime
) -> ReleaseRequest:
    """After approval: mark the request `awaiting_custodian` and return what the custodian is asked.

    The workflow passes the answer to the custodian's release intake; from now on GET /disclosures/{id}
    shows that the custodian's officer, not compliance, is the one to answer. The workflow got here, so
    it was told the approval: `callback_pending` is cleared and the task token dropped. Idempotent: a
    retried step returns the same payload and audits `disclosure.release_requested` once.
    """
    item = existing(store, disclosure_id)
    if item.status not in WAITING_FOR_CUSTODIAN:
        raise DisclosureConflict(f"Conflict: the request is {item.status}, not approved")
    request = release_request(item)
    if item.status == "approved":

        def wait(current: DisclosureRecord) -> DisclosureRecord:
            if current.status != "approved":
                return current
            return told(transition(current, "awaiting_custodian", now, WORKFLOW_ACTOR))

        update_request(store, disclosure_id, wait)
        record(
            audit,
            now,
            WORKFLOW_ACTOR,
            RELEASE_REQUESTED,
            disclosure_id,
            contact_id=item.contact_id,
            basis=item.basis,
        )
    return request


def record_decrypted(
    disclosure_id: str,
    decided_by: str,
    decided_at: datetime,
    store: DisclosureStore,
    audit: AuditLog,
    now: datetime,
) -> DisclosureRecord:
    """The custodian's officer confirmed and its decrypt function put the sealed result (P7).

    Audits the officer's confirmation (`disclosure.release_confirmed`, actor the officer, party
    custodian) and the decryption (`disclosure.decrypted`, actor `custodian`); the result may be
    retrieved for 24 hours from now. Idempotent: a retried step changes nothing twice.
    """
    item = existing(store, disclosure_id)
    if item.status in ("decrypted", "delivered", "retrieved"):
        return item
    if item.status != "awaiting_custodian":
        raise DisclosureConflict(f"Conflict: the request is {item.status}, not awaiting the custodian")

    def decrypted(current: DisclosureRecord) -> DisclosureRecord:
        if current.status != "awaiting_custodian":
            raise DisclosureConflict(f"Conflict: the request is {current.status}, not awaiting the custodian")
        confirmed = TimelineEntry(at=decided_at, event="release_confirmed", actor=decided_by)
        noted = current.model_copy(update={"timeline": [*current.timeline, confirmed]})
        return transition(noted, "decrypted", now, CUSTODIAN_ACTOR).model_copy(
            update={"result_expires_at": now + RESULT_LIFETIME}
        )

    stored = update_request(store, disclosure_id, decrypted)
    details = {"contact_id": item.contact_id, "basis": item.basis}
    record(
        audit,
        now,
        decided_by,
        RELEASE_CONFIRMED,
        disclosure_id,
        **details,
        party="custodian",
        decided_at=decided_at.isoformat(),
    )
    record(audit, now, CUSTODIAN_ACTOR, DECRYPTED, disclosure_id, **details)
    return stored


def record_refused(
    disclosure_id: str,
    decided_by: str,
    decided_at: datetime,
    reason: str,
    store: DisclosureStore,
    audit: AuditLog,
    now: datetime,
) -> DisclosureRecord:
    """The custodian's officer refused the release: nothing is decrypted, ever, for this request.

    The officer's reason goes into the timeline (as compliance's reasons do), not into the audit log,
    scrubbed of contact details like theirs (P2, P3).
    """
    reason = scrubbed_text(reason)
    item = existing(store, disclosure_id)
    if item.status == "refused":
        return item
    if item.status != "awaiting_custodian":
        raise DisclosureConflict(f"Conflict: the request is {item.status}, not awaiting the custodian")

    def refused(current: DisclosureRecord) -> DisclosureRecord:
        if current.status != "awaiting_custodian":
            raise DisclosureConflict(f"Conflict: the request is {current.status}, not awaiting the custodian")
        return transition(current, "refused", decided_at, decided_by, event="release_refused", reason=reason)

    stored = update_request(store, disclosure_id, refused)
    record(
        audit,
        now,
        decided_by,
        RELEASE_REFUSED,
        disclosure_id,
        contact_id=item.contact_id,
        basis=item.basis,
        party="custodian",
        decided_at=decided_at.isoformat(),
    )
    return stored


OutcomeStep = Literal[
    "record_delivered", "record_rejected", "record_expired", "record_erased", "record_failed"
]


def record_outcome(
    step: OutcomeStep,
    disclosure_id: str,
    store: DisclosureStore,
    audit: AuditLog,
    now: datetime,
) -> DisclosureRecord:
    """The workflow's last states. Idempotent: a retried step changes nothing twice.

    delivered: the result waits for its one retrieval (a retrieval may already have happened).
    rejected: compliance recorded it already (the workflow was told, so `callback_pending` is cleared
    and the token dropped); only a missing record is made up for.
    expired: no decision in time, by compliance (an approval that never reached the workflow
    included) or (approved, awaiting the custodian) by the custodian's officer. erased: the custodian
    found the identifier past its retention (P7) and decrypted nothing. failed: the release could not be
    asked for, or the identifier not decrypted. A decision whose audit entry is still pending is written
    to the chain first (P7).
    """
    item = existing(store, disclosure_id)
    status: Status
    reason: str | None = None
    stage: dict[str, str] = {}
    if step == "record_delivered":
        if item.status in ("delivered", "retrieved", "expired"):
            return item
        if item.status != "decrypted":
            raise DisclosureConflict(f"Conflict: the request is {item.status}, not decrypted")
        status, action = "delivered", DELIVERED
    elif step == "record_rejected":
        if item.status == "rejected":
            if item.callback_pending or item.token_ciphertext is not None:
                return update_request(store, disclosure_id, told)
            return item
        status, action = "rejected", REJECTED
    elif step == "record_expired":
        if item.status in ("expired", "rejected", "refused", "erased", "failed"):
            return item  # a decision or failure that raced the deadline stands
        if item.status not in ("requested", "awaiting_decision", *WAITING_FOR_CUSTODIAN):
            raise DisclosureConflict(f"Conflict: the request is {item.status}, it cannot expire now")
        status, action = "expired", EXPIRED
        if item.status == "approved" and item.callback_pending:
            reason = "the approval did not reach the workflow before the deadline"
            stage = {"stage": "decision"}
        elif item.status in WAITING_FOR_CUSTODIAN:
            reason = "the custodian's officer did not decide before the deadline"
            stage = {"stage": "custodian"}
    elif step == "record_erased":
        if item.status == "erased":
            return item
        if item.status not in WAITING_FOR_CUSTODIAN:
            raise DisclosureConflict(f"Conflict: the request is {item.status}, not awaiting the custodian")
        status, action, reason = "erased", ERASED, ERASED_BY_RETENTION
    else:
        if item.status == "failed":
            return item
        status, action = "failed", FAILED

    def finish(current: DisclosureRecord) -> DisclosureRecord:
        return told(transition(current, status, now, WORKFLOW_ACTOR, reason=reason))

    item = write_pending_audit(item, store, audit, now)
    # A result sealed before a failure is never handed out (retrieval needs decrypted or delivered) and
    # the table's TTL erases it; the steps role has no DeleteItem.
    stored = update_request(store, disclosure_id, finish)
    record(
        audit,
        now,
        WORKFLOW_ACTOR,
        action,
        disclosure_id,
        contact_id=item.contact_id,
        basis=item.basis,
        **stage,
    )
    return stored
