"""The API's steps of a disclosure request (P6, P7): request it, read it, and retrieve its result once.

A request needs grounds that mean something (`logic.disclosure_grounds`: an art. 126nc Sv demand with a
third party in danger, or the person's consent) and is stored with its free text scrubbed of contact
details (P2, P3). It is read by compliance and by its own requester only. Its result, the identifier,
is delivered once, to the requester, within 24 hours of its decryption: opened first, taken after, so
that a failure of KMS never destroys it. Every step lands on the audit chain with ids and the basis
only. Decisions are `logic.disclosure_decisions`'; the states and ports `logic.disclosures`'.
"""

from __future__ import annotations

from datetime import datetime

from helpline.auth import Caller
from helpline.logic.audit import AuditLog, record
from helpline.logic.disclosure_grounds import refusal, scrubbed_request, timing_refusal
from helpline.logic.disclosures import (
    ERASED_BY_RETENTION,
    EXPIRED,
    FAILED,
    NO_RESULT_EVER,
    REQUESTED,
    RETRIEVED,
    WORKFLOW_ACTOR,
    ContactDirectory,
    DisclosureConfig,
    DisclosureConflict,
    DisclosureForbidden,
    DisclosureGone,
    DisclosureNotFound,
    DisclosureRefused,
    DisclosureStore,
    DisclosureUnavailable,
    ResultSealer,
    UserDirectory,
    Workflow,
    existing,
    may_read,
    transition,
    update_request,
    view,
)
from helpline.logic.ports import DependencyError
from helpline.models.disclosures import (
    Basis,
    DisclosureCreated,
    DisclosureList,
    DisclosureRecord,
    DisclosureRequestIn,
    DisclosureResult,
    DisclosureView,
    TimelineEntry,
)


def request_disclosure(
    body: DisclosureRequestIn,
    caller: Caller,
    disclosure_id: str,
    config: DisclosureConfig,
    store: DisclosureStore,
    contacts: ContactDirectory,
    users: UserDirectory,
    workflow: Workflow,
    audit: AuditLog,
    now: datetime,
) -> DisclosureCreated:
    """Refuse without a basis (422), for an office line (422), an erased (410) or unknown (404) contact,
    for dates that cannot be (422), a consent recorded by no user of the pool (422) or an identifier in
    a text that must stay as written (422); else store the request, its free text scrubbed of contact
    details (P2, P3, `logic.disclosure_grounds`), audit it and start the workflow with ids only.

    When the workflow cannot be started the request is recorded as failed and the answer is 503: the
    professional submits it again (a new request, a new execution).
    """
    reason = refusal(body)
    if reason is not None:
        raise DisclosureRefused(reason)
    state = contacts.state(body.contact_id)
    if state == "office":
        raise DisclosureRefused(
            "Refused: this is an office-line contact (P11); office lines are not anonymous, "
            "there is nothing to disclose"
        )
    if state == "unknown":
        raise DisclosureNotFound("No helpline contact with this id")
    if state == "erased":
        raise DisclosureGone(
            f"The identifier of this contact has been {ERASED_BY_RETENTION}; it cannot be disclosed"
        )
    started_at = contacts.started_at(body.contact_id)
    if started_at is None:
        raise DisclosureRefused(
            "Refused: the contact's start is not on record, so the dates of the grounds cannot be checked"
        )
    reason = timing_refusal(body, started_at, now)
    if reason is not None:
        raise DisclosureRefused(reason)
    if body.basis == "consent" and body.consent is not None and not users.exists(body.consent.recorded_by):
        raise DisclosureRefused(
            "Refused: consent.recorded_by is not a user of the organisation's user pool; consent counts "
            "only when a member of staff recorded it (P7)"
        )
    basis: Basis = "consent" if body.basis == "consent" else "legal_order_126nc"
    kept = scrubbed_request(body)
    item = DisclosureRecord(
        id=disclosure_id,
        contact_id=kept.contact_id,
        basis=basis,
        legal_order=kept.legal_order if basis == "legal_order_126nc" else None,
        third_party_danger=kept.third_party_danger if basis == "legal_order_126nc" else None,
        consent=kept.consent if basis == "consent" else None,
        requested_by=caller.username,
        requested_at=now,
        status="requested",
        approvals_needed=config.approvals_needed,
        approval_timeout_seconds=config.approval_timeout_seconds,
        timeline=[TimelineEntry(at=now, event="requested", actor=caller.username)],
    )
    store.create(item)
    record(audit, now, caller.username, REQUESTED, disclosure_id, contact_id=kept.contact_id, basis=basis)
    try:
        workflow.start(disclosure_id, config.approval_timeout_seconds)
    except Exception as error:
        _record_start_failed(disclosure_id, basis, store, audit, now)
        if isinstance(error, DependencyError):
            raise DisclosureUnavailable(
                "The workflow could not be started; the request is recorded as failed. Submit it again"
            ) from None
        raise
    return DisclosureCreated(id=disclosure_id, status="requested")


def _record_start_failed(
    disclosure_id: str, basis: Basis, store: DisclosureStore, audit: AuditLog, now: datetime
) -> None:
    """The request as failed, on its timeline and the audit chain."""
    update_request(
        store,
        disclosure_id,
        lambda current: transition(
            current, "failed", now, WORKFLOW_ACTOR, reason="the workflow could not be started"
        ),
    )
    record(audit, now, WORKFLOW_ACTOR, FAILED, disclosure_id, basis=basis, stage="start")


def list_disclosures(caller: Caller, store: DisclosureStore) -> DisclosureList:
    items = store.list_all() if "compliance" in caller.groups else store.list_by_requester(caller.username)
    items.sort(key=lambda item: (item.requested_at, item.id), reverse=True)
    return DisclosureList(items=[view(item) for item in items if may_read(item, caller)])


def get_disclosure(disclosure_id: str, caller: Caller, store: DisclosureStore) -> DisclosureView:
    item = existing(store, disclosure_id)
    if not may_read(item, caller):
        raise DisclosureForbidden("Forbidden: a professional sees only their own disclosure requests")
    return view(item)


def retrieve_result(
    disclosure_id: str,
    caller: Caller,
    store: DisclosureStore,
    results: ResultSealer,
    audit: AuditLog,
    now: datetime,
) -> DisclosureResult:
    """The identifier, once, to the requester only, within 24 hours of its decryption (P7); then erased.

    Opened first, taken after: the sealed result is read and opened (KMS) while it stays in its table,
    and only an opened result is taken, by a delete on condition that it is still there. So a KMS
    failure leaves it retrievable (503, the same call again), and of two concurrent retrievals only the
    one whose delete succeeded answers with the identifier; the other gets 410.
    """
    item = existing(store, disclosure_id)
    if item.requested_by != caller.username:
        raise DisclosureForbidden("Forbidden: only the requester may retrieve the result of a disclosure")
    if item.status == "retrieved":
        raise DisclosureGone("The result has been retrieved already; it is delivered only once")
    if item.status == "erased":
        raise DisclosureGone(f"There is no result: the identifier was {ERASED_BY_RETENTION}")
    if item.status in NO_RESULT_EVER:
        raise DisclosureGone(f"There is no result: the request was {item.status}")
    if item.status not in ("decrypted", "delivered"):
        raise DisclosureConflict(f"Conflict: there is no result yet; the request is {item.status}")
    if item.result_expires_at is None or now >= item.result_expires_at:
        store.delete_result(disclosure_id)
        update_request(
            store,
            disclosure_id,
            lambda current: transition(
                current, "expired", now, WORKFLOW_ACTOR, reason="result not retrieved within 24 hours"
            ),
        )
        record(audit, now, WORKFLOW_ACTOR, EXPIRED, disclosure_id, basis=item.basis, stage="result")
        raise DisclosureGone("The result expired 24 hours after its decryption and has been erased")
    ciphertext = store.result(disclosure_id)
    if ciphertext is None:
        raise DisclosureGone("The result has been retrieved already or has expired")
    try:
        sealed = results.open(disclosure_id, ciphertext)
    except DependencyError:
        raise DisclosureUnavailable(
            "The result could not be opened just now (the key service failed); it is kept and has not "
            "been delivered: try again"
        ) from None
    if sealed.get("contact_id") != item.contact_id:
        raise DisclosureConflict("Conflict: the stored result does not belong to this request")
    result = DisclosureResult(
        identifier=sealed.get("identifier"),
        identifier_type=sealed.get("identifier_type"),
        provider_reference=sealed.get("provider_reference"),
        basis=item.basis,
        contact_id=item.contact_id,
        disclosure_id=disclosure_id,
        sender_authenticated=sealed.get("sender_authenticated"),  # e-mail: the From may be forged (issue 9)
    )
    if not store.take_result(disclosure_id, ciphertext):
        raise DisclosureGone("The result has been retrieved already; it is delivered only once")
    update_request(
        store, disclosure_id, lambda current: transition(current, "retrieved", now, caller.username)
    )
    record(
        audit, now, caller.username, RETRIEVED, disclosure_id, contact_id=item.contact_id, basis=item.basis
    )
    return result
