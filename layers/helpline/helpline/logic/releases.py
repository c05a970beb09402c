"""The custodian's rules for a release (P3, P7): intake, its officer's decision, and the decrypt gate.

The organisation approves (four eyes); the custodian, in an account the organisation cannot enter,
keeps its own record of every release and lets its decrypt function open an identifier only when that
record says `confirmed` by a custodian officer. So the organisation's state machine can ask and wait,
but an organisation that edits it still cannot decrypt (DESIGN.md, "two parties, two stacks").

- Intake creates a `pending` release once (a repeated intake changes nothing) with a deadline.
- An officer confirms or refuses with a reason, while the release is pending and before its deadline;
  otherwise 409 (and a release found past its deadline is `expired`, as approvals are); 404 unknown.
- The gate: only a `confirmed` release is decrypted, and only once; `released` answers `decrypted`
  again without decrypting. A contact past `identifier_retain_until` is `erased` without decrypting.

Pure rules at the top, the steps below, over the ports of this module (DynamoDB and KMS in `helpline.dal`,
in-memory fakes under `tests/`). Errors and answers name statuses and ids, never an identifier.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, Protocol

from helpline.auth import CUSTODIAN_GROUP, Caller
from helpline.logic.disclosures import RESULT_LIFETIME, ResultSealer, retention_over
from helpline.models.disclosures import SealedIdentifier
from helpline.models.releases import (
    CustodianAnswer,
    ReleaseDecision,
    ReleaseList,
    ReleaseRecord,
    ReleaseRequest,
    ReleaseView,
)

HOUSEKEEPING: Final = timedelta(days=30)
"""A release record is kept this long after its last change (TTL `expires_at`), then the table drops it."""
MAX_UPDATE_ATTEMPTS: Final = 4
ERASED_REASON: Final = "erased by retention"
EXPIRED_REASON: Final = "no custodian officer decided before the deadline"


# ---------------------------------------------------------------- errors: each an HTTP status


class ReleaseError(Exception):
    """A refusal with a plain reason the caller may read; `status` is the HTTP answer."""

    status: int = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReleaseNotFound(ReleaseError):
    status = 404


class ReleaseForbidden(ReleaseError):
    status = 403


class ReleaseConflict(ReleaseError):
    """The release is not in the state this action needs (decided already, past its deadline): 409."""

    status = 409


class StaleReleaseError(Exception):
    """Another writer updated the release first (optimistic locking); read it again."""


# ---------------------------------------------------------------- ports


class ReleaseStore(Protocol):
    """ReleasesTable, in the custodian's account."""

    def create(self, record: ReleaseRecord) -> bool:
        """Store a new release; False (and nothing changed) when one with this id exists."""
        ...

    def get(self, disclosure_id: str) -> ReleaseRecord | None: ...

    def update(self, record: ReleaseRecord) -> ReleaseRecord:
        """Store `record` if the stored version is still `record.version`; returns it with version + 1.

        StaleReleaseError if another writer came first.
        """
        ...

    def list_all(self) -> list[ReleaseRecord]: ...


@dataclass(frozen=True)
class StoredIdentifier:
    """A contact's sealed identifier as the organisation's ContactsTable holds it (never in clear)."""

    ciphertext: str | None = field(repr=False)
    retain_until: date | None


class IdentifierSource(Protocol):
    """The decrypt function's view of the organisation's ContactsTable, and the one way to open (P7)."""

    def stored(self, contact_id: str) -> StoredIdentifier | None:
        """The contact's ciphertext and retention date; None when there is no such contact."""
        ...

    def open(self, ciphertext: str) -> SealedIdentifier:
        """Decrypt under the period key the message names; checks the `purpose` context."""
        ...


class ResultDrop(Protocol):
    """The `result` item of the organisation's DisclosureResultsTable, written by the custodian."""

    def put_result_once(
        self, disclosure_id: str, ciphertext: str, expires_at: datetime, now: datetime
    ) -> bool:
        """Store the sealed result unless one is there; False when one was (an earlier attempt's)."""
        ...


# ---------------------------------------------------------------- pure rules


def housekeeping_expiry(at: datetime) -> int:
    """The TTL (epoch seconds) of a release last changed at `at`."""
    return int((at + HOUSEKEEPING).timestamp())


def new_release(request: ReleaseRequest, now: datetime, confirmation_seconds: int) -> ReleaseRecord:
    """A pending release; an officer must decide within `confirmation_seconds`."""
    deadline = now + timedelta(seconds=confirmation_seconds)
    return ReleaseRecord(
        disclosure_id=request.disclosure_id,
        contact_id=request.contact_id,
        basis=request.basis,
        grounds=request.grounds,
        approved_by=list(request.approved_by),
        approved_at=request.approved_at,
        received_at=now,
        deadline=deadline,
        status="pending",
        expires_at=housekeeping_expiry(deadline),
    )


def is_overdue(record: ReleaseRecord, now: datetime) -> bool:
    """A pending release whose deadline has come: nobody may decide it any more."""
    return record.status == "pending" and now >= record.deadline


def expired(record: ReleaseRecord, now: datetime) -> ReleaseRecord:
    return record.model_copy(
        update={"status": "expired", "reason": EXPIRED_REASON, "expires_at": housekeeping_expiry(now)}
    )


def current(record: ReleaseRecord, now: datetime) -> ReleaseRecord:
    """The release as it stands at `now`: an overdue pending one is shown `expired` (not stored here)."""
    return expired(record, now) if is_overdue(record, now) else record


def check_officer(caller: Caller) -> None:
    """Only the custodian's own officers decide (the API's table admits no other group either)."""
    if CUSTODIAN_GROUP not in caller.groups:
        raise ReleaseForbidden("Forbidden: only a custodian officer decides on a release")


def decided(
    record: ReleaseRecord, decision: ReleaseDecision, officer: str, reason: str, now: datetime
) -> ReleaseRecord:
    """`record` confirmed or refused by `officer`; ReleaseConflict unless it is pending and in time."""
    if record.status != "pending":
        raise ReleaseConflict(f"Conflict: the release is {record.status}, no longer pending")
    if now >= record.deadline:
        raise ReleaseConflict("Conflict: the release expired at its deadline; it can no longer be decided")
    return record.model_copy(
        update={
            "status": "confirmed" if decision == "confirm" else "refused",
            "decided_by": officer,
            "decided_at": now,
            "reason": reason,
            "expires_at": housekeeping_expiry(now),
        }
    )


def answer_for(record: ReleaseRecord) -> CustodianAnswer | None:
    """What the decrypt function answers for a release as stored; None for `confirmed` (open it now)."""
    officer = {"decided_by": record.decided_by, "decided_at": record.decided_at}
    if record.status == "pending":
        return CustodianAnswer(disclosure_id=record.disclosure_id, status="pending")
    if record.status == "released":
        return CustodianAnswer(disclosure_id=record.disclosure_id, status="decrypted", **officer)
    if record.status == "refused":
        return CustodianAnswer(
            disclosure_id=record.disclosure_id, status="refused", reason=record.reason, **officer
        )
    if record.status == "expired":
        return CustodianAnswer(disclosure_id=record.disclosure_id, status="expired", reason=EXPIRED_REASON)
    if record.status == "erased":
        return CustodianAnswer(
            disclosure_id=record.disclosure_id, status="erased", reason=ERASED_REASON, **officer
        )
    return None


def is_past_retention(stored: StoredIdentifier, today: date) -> bool:
    """Gone (P7): no ciphertext, no retention date (fail closed), or a retention date before today.

    `identifier_retain_until` is the last day an identifier is kept, counted from our receipt; the
    sweep and the key steward erase it physically later, but from the next day on it is treated as
    gone at once.
    """
    return stored.ciphertext is None or retention_over(stored.retain_until, today)


def view(record: ReleaseRecord, now: datetime) -> ReleaseView:
    return ReleaseView.model_validate(current(record, now).model_dump(exclude={"version", "expires_at"}))


# ---------------------------------------------------------------- steps


def take_in(
    request: ReleaseRequest, store: ReleaseStore, confirmation_seconds: int, now: datetime
) -> ReleaseRecord:
    """Create the pending release once. A repeat (a retried task) changes nothing, but the same
    disclosure id with another contact or basis is refused: a release is never rewritten."""
    record = new_release(request, now, confirmation_seconds)
    if store.create(record):
        return record
    existing = _existing(store, request.disclosure_id)
    if (existing.contact_id, existing.basis) != (request.contact_id, request.basis):
        raise ReleaseConflict(
            "Conflict: a release with this disclosure id exists for another contact or basis"
        )
    return existing


def list_releases(store: ReleaseStore, now: datetime) -> ReleaseList:
    """Pending first, soonest deadline first; then the others, newest first."""
    shown = [view(record, now) for record in store.list_all()]
    pending = sorted((v for v in shown if v.status == "pending"), key=lambda v: (v.deadline, v.disclosure_id))
    others = sorted(
        (v for v in shown if v.status != "pending"),
        key=lambda v: (v.received_at, v.disclosure_id),
        reverse=True,
    )
    return ReleaseList(items=[*pending, *others])


def get_release(disclosure_id: str, store: ReleaseStore, now: datetime) -> ReleaseView:
    return view(_existing(store, disclosure_id), now)


def decide_release(
    disclosure_id: str,
    decision: ReleaseDecision,
    reason: str,
    caller: Caller,
    store: ReleaseStore,
    now: datetime,
) -> ReleaseView:
    """A custodian officer confirms or refuses (409 when not pending; past its deadline the release is
    stored `expired` first, then 409). Of two officers deciding at once, one wins, the other gets 409."""
    check_officer(caller)
    for _ in range(MAX_UPDATE_ATTEMPTS):
        record = _existing(store, disclosure_id)
        if is_overdue(record, now):
            _update(
                store, disclosure_id, lambda found: expired(found, now) if is_overdue(found, now) else found
            )
            raise ReleaseConflict(
                "Conflict: the release expired at its deadline; it can no longer be decided"
            )
        changed = decided(record, decision, caller.username, reason, now)
        try:
            return view(store.update(changed), now)
        except StaleReleaseError:
            continue
    raise ReleaseConflict("Conflict: the release changed while deciding; try again")


def release_identifier(
    disclosure_id: str,
    contact_id: str,
    store: ReleaseStore,
    source: IdentifierSource,
    results: ResultSealer,
    drop: ResultDrop,
    now: datetime,
) -> CustodianAnswer:
    """The decrypt gate (P7). Only a release this custodian's officer confirmed is opened, once.

    The contact id must be the release's own (the organisation cannot swap contacts after an officer
    looked). Past `identifier_retain_until` the release becomes `erased` without decrypting. The
    identifier exists in clear only inside this call: it is sealed, with whether an e-mail sender
    was authenticated (sealed beside the address at intake), under the organisation's
    DisclosureKey for the requester (context purpose=disclosure-result, disclosure_id) and put as the
    one `result` item, expiring 24 hours from now; then the release is `released`. A second call, or a
    concurrent one, finds `released` (or the result already there) and answers `decrypted` without
    writing again.
    """
    record = _existing(store, disclosure_id)
    if record.contact_id != contact_id:
        raise ReleaseConflict("Conflict: the contact id does not match the release")
    if is_overdue(record, now):
        record = _update(
            store, disclosure_id, lambda found: expired(found, now) if is_overdue(found, now) else found
        )
    answer = answer_for(record)
    if answer is not None:
        return answer
    stored = source.stored(record.contact_id)
    if stored is None or stored.ciphertext is None or is_past_retention(stored, now.date()):
        erased = _update(store, disclosure_id, lambda found: _closed(found, "erased", now))
        return _answer(erased)
    opened = source.open(stored.ciphertext)
    if opened.contact_id != record.contact_id:
        raise ReleaseConflict("Conflict: the ciphertext does not belong to this contact")
    result: dict[str, object] = {
        "identifier": opened.value,
        "identifier_type": opened.kind,
        "provider_reference": opened.reference,
        "basis": record.basis,
        "contact_id": record.contact_id,
    }
    if opened.sender_authenticated is not None:
        # E-mail (issue 9): whether SES authenticated the address, or it may have been forged.
        result["sender_authenticated"] = opened.sender_authenticated
    sealed = results.seal(disclosure_id, result)
    del opened, result
    drop.put_result_once(disclosure_id, sealed, now + RESULT_LIFETIME, now)
    released = _update(store, disclosure_id, lambda found: _closed(found, "released", now))
    return _answer(released)


# ---------------------------------------------------------------- helpers


def _existing(store: ReleaseStore, disclosure_id: str) -> ReleaseRecord:
    record = store.get(disclosure_id)
    if record is None:
        raise ReleaseNotFound("No release with this disclosure id")
    return record


def _closed(record: ReleaseRecord, status: str, now: datetime) -> ReleaseRecord:
    """confirmed → released or erased; anything else stays as it is (a concurrent call came first)."""
    if record.status != "confirmed":
        return record
    update: Mapping[str, Any] = {"status": status, "expires_at": housekeeping_expiry(now)}
    if status == "released":
        update = {**update, "released_at": now}
    return record.model_copy(update=dict(update))


def _answer(record: ReleaseRecord) -> CustodianAnswer:
    answer = answer_for(record)
    if answer is None:  # only `confirmed` has none, and `_closed` moved it on
        raise ReleaseConflict(f"Conflict: the release is {record.status}")
    return answer


def _update(
    store: ReleaseStore, disclosure_id: str, change: Callable[[ReleaseRecord], ReleaseRecord]
) -> ReleaseRecord:
    """Apply `change` to the stored release, re-reading if another writer came first; an unchanged
    record is not written again."""
    for _ in range(MAX_UPDATE_ATTEMPTS):
        found = _existing(store, disclosure_id)
        changed = change(found)
        if changed == found:
            return found
        try:
            return store.update(changed)
        except StaleReleaseError:
            continue
    raise ReleaseConflict("Conflict: the release kept changing; try again")
