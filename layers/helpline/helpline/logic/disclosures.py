"""Disclosure of one contact's identifier (P6, P7): the rules, and the steps that apply them.

P7: anonymity is broken only on an art. 126nc Sv demand of an Officer of Justice, or with the person's
consent; a person who is a danger only to themselves stays anonymous. P6: with a demand, a third party
must be in danger, and only a professional (beroepskracht) may ask. Four eyes: compliance decides, and
never the requester. Then the custodian (P3: the identifiers sit "in een extern voor ons niet
toegankelijk systeem") confirms or refuses in its own account, and only its decrypt function opens the
identifier (`logic.releases`); the organisation prepares the release, waits, and records the answer.
Every step, the custodian's included, lands in the request's timeline and in the organisation's
hash-chained audit log, whose details hold ids and the basis only, never an identifier.

Grounds that mean something (P6, P7): a demand names who else is in danger by a category that is never
the person themselves, and its date lies between the contact's month and today; a consent names a user
of the organisation's pool who recorded it, between the contact's start and now, and how. Free text
(the danger's description, the consent statement) carries no identifier into storage. Each failed rule
is a 422 naming the field and the rule, never quoting the value (`refusal`, `timing_refusal`).

Pure rules at the top (`refusal`, `timing_refusal`, `check_decider`, `with_approval`, `transition`,
`release_request`); below them the steps of the API and of the workflow, over the ports of this module
(DynamoDB, KMS, Step Functions, SNS and Cognito in `helpline.dal`; in-memory fakes in tests/).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal, Protocol

from helpline.auth import Caller
from helpline.logic.audit import AuditLog, record
from helpline.models.disclosures import (
    BASES,
    THIRD_PARTY_CATEGORIES,
    Approval,
    Basis,
    DisclosureCreated,
    DisclosureList,
    DisclosureRecord,
    DisclosureRequestIn,
    DisclosureResult,
    DisclosureView,
    Status,
    ThirdPartyDanger,
    TimelineEntry,
)
from helpline.models.releases import ConsentSummary, ReleaseGrounds, ReleaseRequest
from helpline.periods import period_of, period_start
from helpline.scrub import pre_scrub

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

    def take_result(self, disclosure_id: str) -> str | None:
        """Delete the sealed result and return it; None if there is none (taken already, or never)."""
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
    """The disclosure state machine."""

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

    def open(self, disclosure_id: str, ciphertext: str) -> dict[str, Any]: ...


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


SELF_CATEGORIES: Final = frozenset(
    {
        "self",
        "myself",
        "himself",
        "herself",
        "themselves",
        "themself",
        "person",
        "the_person",
        "person_themselves",
        "the_person_themselves",
        "caller",
        "the_caller",
        "chatter",
        "mailer",
        "contact",
        "danger_to_self",
        "zelf",
        "zichzelf",
        "beller",
        "de_beller",
        "persoon",
        "de_persoon",
    }
)
"""Categories that would name the person themselves: refused with P7, not as an unknown category."""
NOBODY_CATEGORIES: Final = frozenset(
    {
        "none",
        "nobody",
        "nobody_else",
        "no_one",
        "no_one_else",
        "noone",
        "no_third_party",
        "no_third_parties",
        "n/a",
        "na",
        "not_applicable",
        "niemand",
        "niemand_anders",
        "geen",
        "geen_derden",
    }
)
"""Categories that say nobody else is at risk: refused with P6."""

_NOBODY_ELSE: Final = re.compile(
    r"\b(?:"
    # English: "nobody else is at risk", "no third party in danger", "no danger to others", ...
    r"(?:no[- ]?one|nobody|no other (?:person|people)|no others|no third[- ]part(?:y|ies))"
    r"(?: else)?\s+(?:(?:is|are|was|were)\s+)?(?:at risk|in danger|endangered|threatened)"
    r"|no (?:danger|risk|threat) to (?:others|anyone|anybody|other people|third parties)"
    r"|not a (?:danger|risk|threat) to (?:others|anyone|anybody|other people)"
    r"|only (?:a )?(?:danger|risk|threat) to (?:him|her|them)sel(?:f|ves)"
    r"|(?:danger|risk|threat) to (?:him|her|them)sel(?:f|ves) only"
    # Dutch: "niemand anders in gevaar", "geen gevaar voor derden", "alleen een gevaar voor zichzelf".
    r"|niemand anders (?:is |loopt )?(?:in )?gevaar"
    r"|geen (?:gevaar|risico|dreiging) voor (?:derden|anderen|een ander|andere personen)"
    r"|geen derden in gevaar"
    r"|(?:alleen|enkel|uitsluitend) (?:een )?(?:gevaar|risico) voor (?:zich)?zelf"
    r"|(?:alleen|enkel|uitsluitend) voor (?:zich)?zelf (?:een )?(?:gevaar|risico)"
    r")\b",
    re.IGNORECASE,
)
"""Phrases of a description that say nobody else is at risk. A heuristic behind the rule, not the rule:
the category is the rule; this catches a description that contradicts it (the defect of issue 9)."""

_IDENTIFIER_TAGS: Final = (
    ("[TELEFOONNUMMER]", "a phone number"),
    ("[EMAILADRES]", "an e-mail address"),
    ("[URL]", "a web address"),
    ("[IBAN]", "a bank account number"),
    ("[BSN]", "a citizen service number (BSN)"),
)
"""The tags of `helpline.scrub.pre_scrub`, our regex pass (Dutch phone numbers in every format, e-mail
addresses, ...), which loads none of deduce's structures; deduce itself stays out of this function."""
_IPV4: Final = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?!\.?\d)"
)
_WORD_EDGES: Final = "()[]<>,;'\""

NL_AHEAD_OF_UTC: Final = timedelta(hours=2)
"""The Netherlands are at most two hours ahead of UTC (CEST): a demand dated today there is never
dated later than the UTC date two hours on. No time-zone database needed."""


def normalised_category(category: str) -> str:
    """`Danger to self` and `danger-to-self` as `danger_to_self`: how a category is compared."""
    return re.sub(r"[\s\-]+", "_", category.strip().lower())


def identifiers_in(text: str) -> list[str]:
    """The kinds of identifier found in free text (P2, P3): phone numbers and e-mail addresses (Dutch
    formats and others, by `helpline.scrub`'s patterns), web addresses, IBAN and BSN numbers, and IP
    addresses. Kinds only: a refusal names the kind, never the value."""
    scrubbed = pre_scrub(text)
    found = [kind for tag, kind in _IDENTIFIER_TAGS if scrubbed.count(tag) > text.count(tag)]
    if _IPV4.search(text) or any(_is_ipv6(word.strip(_WORD_EDGES)) for word in text.split()):
        found.append("an IP address")
    return found


def _is_ipv6(token: str) -> bool:
    if token.count(":") < 2:
        return False
    try:
        ipaddress.IPv6Address(token.rstrip("."))
    except ValueError:
        return False
    return True


def identifier_refusal(field: str, text: str) -> str | None:
    """Free text must not carry an identifier into storage (P2, P3): refused, not scrubbed, since a
    request is the record of a legal step and must say what its requester wrote, or nothing."""
    kinds = identifiers_in(text)
    if not kinds:
        return None
    return (
        f"Refused: {field} contains {' and '.join(kinds)}; an identifier is kept only encrypted (P2, P3), "
        "never in a request's text: leave it out"
    )


def danger_refusal(danger: ThirdPartyDanger) -> str | None:
    """Who else is in danger (P6): a known category other than the person themselves (P7), a
    description that does not say nobody else is at risk, and no identifier in it."""
    category = normalised_category(danger.category)
    if category in SELF_CATEGORIES:
        return (
            "Refused: third_party_danger.category names the person themselves. A person who is a danger "
            "only to themselves stays anonymous (P7); anonymity is broken only when third parties are in "
            "danger (P6)"
        )
    if category in NOBODY_CATEGORIES:
        return (
            "Refused: third_party_danger.category says nobody else is in danger. Anonymity is broken only "
            "when third parties are in danger (P6); a person who is a danger only to themselves stays "
            "anonymous (P7)"
        )
    if category not in THIRD_PARTY_CATEGORIES:
        return (
            "Refused: third_party_danger.category must say who else is in danger (P6), one of: "
            + ", ".join(THIRD_PARTY_CATEGORIES)
        )
    if _NOBODY_ELSE.search(danger.description):
        return (
            "Refused: third_party_danger.description says nobody else is in danger. Anonymity is broken "
            "only when third parties are in danger (P6); a person who is a danger only to themselves "
            "stays anonymous (P7)"
        )
    return identifier_refusal("third_party_danger.description", danger.description)


def refusal(request: DisclosureRequestIn) -> str | None:
    """The reason a request has no legal basis (P6, P7), or None when it has one.

    Only what the request itself shows; `timing_refusal` checks its dates against the contact and our
    clock, and `request_disclosure` asks the user pool about the consent's recorder.
    """
    if request.danger_to_self_only:
        return (
            "Refused: a person who is a danger only to themselves stays anonymous (P7); "
            "anonymity is broken only to protect third parties"
        )
    if request.basis is None:
        return "Refused: a disclosure needs a legal basis: legal_order_126nc or consent (P7)"
    if request.basis not in BASES:
        return "Refused: the only legal bases are legal_order_126nc and consent (P7)"
    if request.basis == "legal_order_126nc":
        if request.legal_order is None:
            return "Refused: basis legal_order_126nc needs the legal_order (art. 126nc Sv demand)"
        if request.third_party_danger is None:
            return (
                "Refused: a disclosure on a legal order needs third_party_danger: "
                "who else is in danger, by category and description (P6)"
            )
        return danger_refusal(request.third_party_danger)
    if request.consent is None:
        return (
            "Refused: basis consent needs the consent record (who recorded it, when, how, and what was "
            "consented to)"
        )
    return identifier_refusal("consent.statement", request.consent.statement)


def latest_plausible_date(now: datetime) -> date:
    """The latest date a document issued in the Netherlands can bear at `now` (see NL_AHEAD_OF_UTC)."""
    return (now + NL_AHEAD_OF_UTC).date()


def timing_refusal(request: DisclosureRequestIn, contact_started_at: datetime, now: datetime) -> str | None:
    """The dates of the grounds must be plausible (P7), on our clock (`helpline.clock`), or a reason.

    A demand is not dated in the future, nor before the month (key period, `helpline.periods`) in which
    the contact was made: a demand names the data of a period, so its own month is the finest grain it
    can be held to. A consent is not recorded in the future, nor before the contact started; to the
    minute, since a person types the time they wrote down and our clock counts seconds.
    """
    order = request.legal_order
    if request.basis == "legal_order_126nc" and order is not None:
        if order.issued_on > latest_plausible_date(now):
            return (
                "Refused: legal_order.issued_on is in the future (on our clock); a demand is dated on or "
                "before the day it is presented (P7)"
            )
        if order.issued_on < period_start(period_of(contact_started_at)).date():
            return (
                "Refused: legal_order.issued_on is before the month in which the contact was made; "
                "a demand for its identifying data cannot predate it (P7)"
            )
    consent = request.consent
    if request.basis == "consent" and consent is not None:
        if consent.recorded_at > now:
            return "Refused: consent.recorded_at is in the future (on our clock)"
        if consent.recorded_at < contact_started_at.replace(second=0, microsecond=0):
            return (
                "Refused: consent.recorded_at is before the contact started; consent to break the "
                "anonymity of a contact is given during or after it (P7)"
            )
    return None


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


def check_decider(item: DisclosureRecord, caller: Caller) -> None:
    """Four eyes (P7): compliance decides, never the requester, and only while the request waits."""
    if caller.username == item.requested_by:
        raise DisclosureForbidden(
            "Forbidden: the requester of a disclosure may not decide on it; another compliance officer must"
        )
    if item.status != "awaiting_decision":
        raise DisclosureConflict(f"Conflict: the request is {item.status}, no longer awaiting a decision")


def with_approval(
    item: DisclosureRecord, by: str, at: datetime, reason: str
) -> tuple[DisclosureRecord, bool]:
    """`item` with the approval of `by` counted once; the bool: whether it counted now (not a repeat)."""
    if any(approval.by == by for approval in item.approvals):
        return item, False
    approvals = [*item.approvals, Approval(by=by, at=at, reason=reason)]
    entry = TimelineEntry(at=at, event="approval", actor=by, reason=reason)
    return item.model_copy(update={"approvals": approvals, "timeline": [*item.timeline, entry]}), True


def is_approved(item: DisclosureRecord) -> bool:
    return len({approval.by for approval in item.approvals}) >= item.approvals_needed


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
        item.model_dump(exclude={"token_ciphertext", "token_sha256", "version"})
    )


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------- API steps


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
    for dates that cannot be (422) or a consent recorded by no user of the pool (422); else store the
    request, audit it and start the workflow with ids only."""
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
    item = DisclosureRecord(
        id=disclosure_id,
        contact_id=body.contact_id,
        basis=basis,
        legal_order=body.legal_order if basis == "legal_order_126nc" else None,
        third_party_danger=body.third_party_danger if basis == "legal_order_126nc" else None,
        consent=body.consent if basis == "consent" else None,
        requested_by=caller.username,
        requested_at=now,
        status="requested",
        approvals_needed=config.approvals_needed,
        approval_timeout_seconds=config.approval_timeout_seconds,
        timeline=[TimelineEntry(at=now, event="requested", actor=caller.username)],
    )
    store.create(item)
    record(audit, now, caller.username, REQUESTED, disclosure_id, contact_id=body.contact_id, basis=basis)
    try:
        workflow.start(disclosure_id, config.approval_timeout_seconds)
    except Exception:
        update_request(
            store,
            disclosure_id,
            lambda current: transition(
                current, "failed", now, WORKFLOW_ACTOR, reason="the workflow could not be started"
            ),
        )
        record(audit, now, WORKFLOW_ACTOR, FAILED, disclosure_id, basis=basis, stage="start")
        raise
    return DisclosureCreated(id=disclosure_id, status="requested")


def list_disclosures(caller: Caller, store: DisclosureStore) -> DisclosureList:
    items = store.list_all() if "compliance" in caller.groups else store.list_by_requester(caller.username)
    items.sort(key=lambda item: (item.requested_at, item.id), reverse=True)
    return DisclosureList(items=[view(item) for item in items if may_read(item, caller)])


def get_disclosure(disclosure_id: str, caller: Caller, store: DisclosureStore) -> DisclosureView:
    item = existing(store, disclosure_id)
    if not may_read(item, caller):
        raise DisclosureForbidden("Forbidden: a professional sees only their own disclosure requests")
    return view(item)


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
    """Record an approval or rejection (four eyes) and, once decided, resume the workflow.

    The request is updated first (409 if it no longer awaits a decision, whatever Step Functions would
    accept), then the task token is opened and the workflow told. A repeated approval by the same
    person counts once and changes nothing. An approval is not yet a release: the custodian's officer
    confirms next, and the 24 hours of the result start when it is decrypted.
    """
    for _ in range(MAX_UPDATE_ATTEMPTS):
        item = existing(store, disclosure_id)
        check_decider(item, caller)
        if item.token_ciphertext is None:
            raise DisclosureConflict("Conflict: the workflow is not waiting for this request yet; try again")
        if decision == "approve":
            updated, counted = with_approval(item, caller.username, now, reason)
            if not counted:
                return view(item)
            if is_approved(updated):
                updated = transition(updated, "approved", now, caller.username, reason=reason)
                updated = updated.model_copy(update={"approved_at": now, "token_ciphertext": None})
        else:
            updated = transition(item, "rejected", now, caller.username, reason=reason)
            updated = updated.model_copy(update={"token_ciphertext": None})
        try:
            stored = store.update(updated)
        except StaleRecordError:
            continue
        break
    else:
        raise DisclosureConflict("Conflict: the request changed while deciding; try again")
    action = APPROVED if decision == "approve" else REJECTED
    record(audit, now, caller.username, action, disclosure_id, contact_id=item.contact_id, basis=item.basis)
    if stored.status in ("approved", "rejected"):
        token = tokens.open(disclosure_id, item.token_ciphertext)
        try:
            if stored.status == "approved":
                workflow.succeed(token, {"decision": "approved"})
            else:
                workflow.fail(token, "Rejected", "rejected by compliance")
        except TaskTokenGone:
            raise DisclosureConflict(
                "Conflict: the workflow no longer waits for a decision (the deadline passed)"
            ) from None
    return view(stored)


def retrieve_result(
    disclosure_id: str,
    caller: Caller,
    store: DisclosureStore,
    results: ResultSealer,
    audit: AuditLog,
    now: datetime,
) -> DisclosureResult:
    """The identifier, once, to the requester only, within 24 hours of its decryption (P7); then erased."""
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
    ciphertext = store.take_result(disclosure_id)
    if ciphertext is None:
        raise DisclosureGone("The result has been retrieved already or has expired")
    sealed = results.open(disclosure_id, ciphertext)
    result = DisclosureResult(
        identifier=sealed.get("identifier"),
        identifier_type=sealed.get("identifier_type"),
        provider_reference=sealed.get("provider_reference"),
        basis=item.basis,
        contact_id=item.contact_id,
        disclosure_id=disclosure_id,
        sender_authenticated=sealed.get("sender_authenticated"),  # e-mail: the From may be forged (issue 9)
    )
    if sealed.get("contact_id") != item.contact_id:
        raise DisclosureConflict("Conflict: the stored result does not belong to this request")
    update_request(
        store, disclosure_id, lambda current: transition(current, "retrieved", now, caller.username)
    )
    record(
        audit, now, caller.username, RETRIEVED, disclosure_id, contact_id=item.contact_id, basis=item.basis
    )
    return result


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
