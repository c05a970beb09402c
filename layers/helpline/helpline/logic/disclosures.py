"""Disclosure of one contact's identifier (P6, P7): the request's states, and the API's steps.

P7: anonymity is broken only on an art. 126nc Sv demand of an Officer of Justice, or with the person's
consent; a person who is a danger only to themselves stays anonymous. P6: with a demand, a third party
must be in danger, and only a professional (beroepskracht) may ask. Four eyes: compliance decides, and
never the requester. Then the custodian (P3: the identifiers sit "in een extern voor ons niet
toegankelijk systeem") confirms or refuses in its own account, and only its decrypt function opens the
identifier (`logic.releases`); the organisation prepares the release, waits, and records the answer.
Every step, the custodian's included, lands in the request's timeline and in the organisation's
hash-chained audit log, whose details hold ids and the basis only, never an identifier.

Here: the errors (each an HTTP status), the ports (DynamoDB, KMS, Step Functions, SNS and Cognito in
`helpline.dal`; in-memory fakes in tests/), and the pure rules of the request's states (`transition`,
`release_request`, `view`, `update_request`). The steps that use them:

- `logic.disclosure_grounds`: the grounds a request must have, and what happens to a contact detail in
  its free text (scrubbed, or refused where a text must stay as written);
- `logic.disclosure_requests`: the API's request, read, and one-time delivery of the result;
- `logic.disclosure_decisions`: a compliance decision, recorded first and carried out after;
- `logic.disclosure_workflow`: the workflow's own steps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal, Protocol

from helpline.auth import Caller
from helpline.models.disclosures import (
    DisclosureRecord,
    DisclosureView,
    Status,
    TimelineEntry,
)
from helpline.models.releases import ConsentSummary, ReleaseGrounds, ReleaseRequest

WORKFLOW_ACTOR: Final = "workflow"
CUSTODIAN_ACTOR: Final = "custodian"
"""Actor of what the custodian's decrypt function did (the officer who confirmed is named beside it)."""
RESULT_LIFETIME: Final = timedelta(hours=24)
MAX_UPDATE_ATTEMPTS: Final = 4
ERASED_BY_RETENTION: Final = "erased by retention"

REQUESTED: Final = "disclosure.requested"
APPROVED: Final = "disclosure.approved"
REJECTED: Final = "disclosure.rejected"
RELEASE_REQUESTED: Final = "disclosure.release_requested"
RELEASE_CONFIRMED: Final = "disclosure.release_confirmed"
RELEASE_REFUSED: Final = "disclosure.release_refused"
EXPIRED: Final = "disclosure.expired"
ERASED: Final = "disclosure.erased"
DECRYPTED: Final = "disclosure.decrypted"
DELIVERED: Final = "disclosure.delivered"
RETRIEVED: Final = "disclosure.retrieved"
FAILED: Final = "disclosure.failed"

WAITING_FOR_CUSTODIAN: Final = ("approved", "awaiting_custodian")
NO_RESULT_EVER: Final = ("rejected", "refused", "expired", "erased", "failed")

Decision = Literal["approve", "reject"]


# ---------------------------------------------------------------- errors: each an HTTP status


class DisclosureError(Exception):
    """A refusal with a plain reason the caller may read; `status` is the HTTP answer."""

    status: int = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DisclosureRefused(DisclosureError):
    """No legal basis for breaking anonymity (P6, P7): 422."""

    status = 422


class DisclosureNotFound(DisclosureError):
    status = 404


class DisclosureForbidden(DisclosureError):
    status = 403


class DisclosureGone(DisclosureError):
    """The identifier or the result no longer exists (erased, retrieved, or past its time): 410."""

    status = 410


class DisclosureConflict(DisclosureError):
    """The request is not in the state this action needs (a decision after the end, say): 409."""

    status = 409


class DisclosureUnavailable(DisclosureError):
    """A service we depend on failed (KMS, Step Functions, the audit log) after what was asked was
    kept safe: nothing is lost, and the same call again finishes it: 503."""

    status = 503


class StaleRecordError(Exception):
    """Another writer updated the request first (optimistic locking); read it again."""


class TaskTokenGone(Exception):
    """Step Functions no longer waits on the token (timed out or ended)."""


# ---------------------------------------------------------------- ports


ContactState = Literal["helpline", "erased", "office", "unknown"]


class DisclosureStore(Protocol):
    """DisclosuresTable: requests (sk `request`); DisclosureResultsTable: their one-time results."""

    def create(self, item: DisclosureRecord) -> None:
        """Store a new request (its id must be new)."""
        ...

    def get(self, disclosure_id: str) -> DisclosureRecord | None: ...

    def update(self, item: DisclosureRecord) -> DisclosureRecord:
        """Store `item` if the stored version is still `item.version`; returns it with version + 1.

        StaleRecordError if another writer came first.
        """
        ...

    def list_by_requester(self, username: str) -> list[DisclosureRecord]: ...

    def list_all(self) -> list[DisclosureRecord]: ...

    def put_result(self, disclosure_id: str, ciphertext: str, expires_at: datetime, now: datetime) -> None:
        """Store the sealed result; the table deletes it at `expires_at` (TTL) if nobody took it."""
        ...

    def result(self, disclosure_id: str) -> str | None:
        """The sealed result, read (consistently) and left in place; None if there is none."""
        ...

    def take_result(self, disclosure_id: str, ciphertext: str) -> bool:
        """Delete the sealed result on condition that it is still there and is `ciphertext`: True for
        the one call that deleted it, False for any other (taken already, or never there)."""
        ...

    def delete_result(self, disclosure_id: str) -> None: ...


class ContactDirectory(Protocol):
    """Which table holds a contact id, and whether its identifier is still kept."""

    def state(self, contact_id: str) -> ContactState:
        """`helpline` (ciphertext present, within retention), `erased` (helpline, no ciphertext or past
        `identifier_retain_until` on our clock), `office` (P11) or `unknown`."""
        ...

    def started_at(self, contact_id: str) -> datetime | None:
        """When a helpline contact started (its `started_at`, our clock), or None when not on record:
        the grounds of a request must not predate the contact (`timing_refusal`)."""
        ...


class UserDirectory(Protocol):
    """The organisation's user pool: consent counts only when a member of staff recorded it (P7)."""

    def exists(self, username: str) -> bool:
        """Whether `username` is a user of the pool."""
        ...


class Workflow(Protocol):
    """The disclosure state machine. Each call raises `DependencyError` when Step Functions failed."""

    def start(self, disclosure_id: str, approval_timeout_seconds: int) -> None: ...

    def succeed(self, task_token: str, output: Mapping[str, Any]) -> None:
        """SendTaskSuccess; TaskTokenGone if the workflow no longer waits."""
        ...

    def fail(self, task_token: str, error: str, cause: str) -> None:
        """SendTaskFailure; TaskTokenGone if the workflow no longer waits."""
        ...


class TokenSealer(Protocol):
    """The task token under DisclosureKey, context {purpose: workflow-token, disclosure_id}."""

    def seal(self, disclosure_id: str, token: str) -> str: ...

    def open(self, disclosure_id: str, ciphertext: str) -> str: ...


class ResultSealer(Protocol):
    """The released result under DisclosureKey, context {purpose: disclosure-result, disclosure_id}."""

    def seal(self, disclosure_id: str, result: Mapping[str, Any]) -> str: ...

    def open(self, disclosure_id: str, ciphertext: str) -> dict[str, Any]:
        """The result; `DependencyError` when KMS failed or the ciphertext does not open."""
        ...


class ComplianceNotifier(Protocol):
    def awaiting_decision(self, disclosure_id: str, approvals_needed: int) -> None:
        """Tell compliance a request waits; the message holds the request id, never a token or identifier."""
        ...


@dataclass(frozen=True)
class DisclosureConfig:
    approvals_needed: int
    approval_timeout_seconds: int


# ---------------------------------------------------------------- pure rules


def retention_over(retain_until: date | None, today: date) -> bool:
    """Whether an identifier kept until `retain_until` (its last day) is gone by `today` (P7).

    Without a date it counts as gone: fail closed for data (DESIGN.md).
    """
    return retain_until is None or retain_until < today


def transition(
    item: DisclosureRecord,
    status: Status,
    at: datetime,
    actor: str,
    event: str | None = None,
    reason: str | None = None,
) -> DisclosureRecord:
    """`item` in `status`, with a timeline entry (event defaults to the status name)."""
    entry = TimelineEntry(at=at, event=event or status, actor=actor, reason=reason)
    return item.model_copy(update={"status": status, "timeline": [*item.timeline, entry]})


def may_read(item: DisclosureRecord, caller: Caller) -> bool:
    """Compliance reads every request; a professional only their own."""
    return "compliance" in caller.groups or item.requested_by == caller.username


def release_request(item: DisclosureRecord) -> ReleaseRequest:
    """What the custodian is asked to release: ids, the basis, the approvers, and the grounds an officer
    checks (the order's particulars, or who recorded the consent and when). Free text stays here: it
    would travel through the workflow's history (see `models.releases`)."""
    if item.approved_at is None:
        raise DisclosureConflict(f"Conflict: the request is {item.status}, not approved")
    grounds = (
        ReleaseGrounds(legal_order=item.legal_order)
        if item.basis == "legal_order_126nc"
        else ReleaseGrounds(
            consent=ConsentSummary(recorded_by=item.consent.recorded_by, recorded_at=item.consent.recorded_at)
            if item.consent is not None
            else None
        )
    )
    try:
        return ReleaseRequest(
            disclosure_id=item.id,
            contact_id=item.contact_id,
            basis=item.basis,
            grounds=grounds,
            approved_by=[approval.by for approval in item.approvals],
            approved_at=item.approved_at,
        )
    except ValueError:
        raise DisclosureConflict("Conflict: the request lacks the grounds of its basis") from None


def view(item: DisclosureRecord) -> DisclosureView:
    """The request without its token: `DisclosureView` has no field for one."""
    return DisclosureView.model_validate(
        item.model_dump(exclude={"token_ciphertext", "token_sha256", "audit_pending", "version"})
    )


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------- helpers


def existing(store: DisclosureStore, disclosure_id: str) -> DisclosureRecord:
    item = store.get(disclosure_id)
    if item is None:
        raise DisclosureNotFound("No disclosure request with this id")
    return item


def note(item: DisclosureRecord, at: datetime, event: str) -> DisclosureRecord:
    entry = TimelineEntry(at=at, event=event, actor=WORKFLOW_ACTOR)
    return item.model_copy(update={"timeline": [*item.timeline, entry]})


class Change(Protocol):
    def __call__(self, current: DisclosureRecord, /) -> DisclosureRecord: ...


def update_request(store: DisclosureStore, disclosure_id: str, change: Change) -> DisclosureRecord:
    """Apply `change` to the stored request, re-reading if another writer came first."""
    for _ in range(MAX_UPDATE_ATTEMPTS):
        current = existing(store, disclosure_id)
        try:
            return store.update(change(current))
        except StaleRecordError:
            continue
    raise DisclosureConflict("Conflict: the request kept changing; try again")
