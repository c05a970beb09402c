"""Disclosure requests (P6, P7): what a professional submits, what is stored, what is shown.

Anonymity is broken only on a legal basis (P7): an art. 126nc Sv demand (Vordering Identificerende
Gegevens) with a third party in danger (P6), or the person's own consent. The models accept any
submitted `basis` so that a missing or wrong one is *refused* with a plain reason (422) by
`logic.disclosures`, not lost in a schema error.

No model here but `DisclosureResult` holds an identifier, and that one exists only in the answer of the
one-time delivery: the stored request (`DisclosureRecord`) and every view of it hold ids, the basis and
the timeline, never an identifier, a task token or a ciphertext. Free text (a danger's description, a
consent statement, a decision's reason) is stored only after `logic.disclosure_grounds` replaced any
contact detail in it by a tag (P2, P3); the legal order's particulars are refused instead (422).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Final, Literal, get_args

from pydantic import ConfigDict, Field, StringConstraints

from helpline.models.common import Model, UtcDateTime

CONTACT_ID_PATTERN: Final = r"^[0-9a-f]{32}$"
DISCLOSURE_ID_PATTERN: Final = r"^[0-9a-f]{32}$"

Basis = Literal["legal_order_126nc", "consent"]
"""The only two grounds on which anonymity is broken (P7)."""
BASES: Final = ("legal_order_126nc", "consent")

Status = Literal[
    "requested",
    "awaiting_decision",
    "approved",
    "awaiting_custodian",
    "decrypted",
    "delivered",
    "retrieved",
    "rejected",
    "refused",
    "expired",
    "erased",
    "failed",
]
"""requested → awaiting_decision → approved → awaiting_custodian → decrypted → delivered → retrieved.

Or: rejected (by compliance), refused (by the custodian's officer), expired (no decision in time, no
custodian decision in time, or the result not retrieved in time), erased (the identifier was past its
retention when the custodian came to open it) or failed. `awaiting_custodian` makes the wait visible:
the organisation approved, and the custodian (P3, P7) has not answered yet."""

SHORT_TEXT_MAX: Final = 200
STATEMENT_MAX: Final = 2000
REASON_MAX: Final = 1000
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SHORT_TEXT_MAX)]
Statement = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=STATEMENT_MAX)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=REASON_MAX)]


def new_disclosure_id() -> str:
    """A random id; it names the Step Functions execution as well."""
    return uuid.uuid4().hex


class LegalOrder(Model):
    """The demand of an Officer of Justice under art. 126nc Sv (P7); names officials, not the caller.

    Its particulars are stored as written, never altered: the custodian's officer checks them against
    the demand itself. So a phone number, e-mail address or other identifier in one is refused (422),
    not scrubbed (`logic.disclosure_grounds.particulars_refusal`).
    """

    model_config = ConfigDict(extra="forbid")

    reference: ShortText = Field(
        description="the demand's reference number; refused (422) if it holds a phone number, e-mail "
        "address or other identifier"
    )
    officer_of_justice: ShortText = Field(
        description="the Officier van Justitie who issued it; no identifier (422)"
    )
    prosecutor_office: ShortText = Field(
        description="the public prosecutor's office (parket); no identifier (422)"
    )
    issued_on: date = Field(
        description="not in the future, and not before the month in which the contact was made"
    )
    document_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the demand's document")


ConsentMethod = Literal["phone", "chat", "email", "in_person", "letter"]
"""How the person gave their consent (P7): on the line, in a chat, by e-mail, in person, or by letter."""

Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
"""A username of the organisation's user pool (Cognito allows 128 characters)."""

ThirdPartyCategory = Literal[
    "child", "partner", "family_member", "other_named_person", "people_at_a_place", "public"
]
"""Who else is in danger (P6), a closed set; never the person themselves (P7).

- `child`: a minor, in the person's household or care or otherwise (the Dutch reporting code for
  domestic violence and child abuse, Meldcode huiselijk geweld en kindermishandeling, treats a child
  at risk on its own).
- `partner`: a partner or former partner (huiselijk geweld).
- `family_member`: another relative or member of the household, an elderly parent included
  (ouderenmishandeling).
- `other_named_person`: any other person who can be named or pointed out: a neighbour, a colleague,
  a care worker, a teacher.
- `people_at_a_place`: the people at a named place: a school, a workplace, an event.
- `public`: people at large, not known by name or place (a threat to the public).
"""
THIRD_PARTY_CATEGORIES: Final[tuple[str, ...]] = get_args(ThirdPartyCategory)


class ThirdPartyDanger(Model):
    """Who else is in danger (P6), as a category and a description.

    `category` is free text in the schema, like `basis`, so that `self` or `nobody` is *refused* with
    the reason (422, P6, P7) instead of being lost in a schema error; `logic.disclosures` takes only
    the values of `THIRD_PARTY_CATEGORIES`. The description must not identify the person: a phone
    number, an e-mail address, an IP address, a web address, a handle, an IBAN or BSN in it is replaced
    by a tag (`[TELEFOONNUMMER]`, ...) before anything is stored (P2, P3).
    """

    model_config = ConfigDict(extra="forbid")

    category: str = Field(
        max_length=64,
        description=(
            f"who else is in danger (P6), one of: {', '.join(THIRD_PARTY_CATEGORIES)}; never the person "
            "themselves, which is refused (422, P7)"
        ),
        examples=["child"],
    )
    description: Statement = Field(
        description=(
            "what danger, to whom. A phone number, e-mail address or other contact detail in it is "
            "replaced by a tag such as [TELEFOONNUMMER] before it is stored"
        )
    )


class Consent(Model):
    """The person's own consent to break their anonymity (P7): who recorded it, when, and how.

    `recorded_by` must be a user of the organisation's user pool, and `recorded_at` must lie between
    the start of the contact and now, on our clock (`logic.disclosures` checks both, 422). The
    statement is free text: contact details in it are replaced by tags before it is stored (P2, P3).
    """

    model_config = ConfigDict(extra="forbid")

    recorded_by: Username = Field(
        description=(
            "username (in the organisation's user pool) of who recorded it; never a phone number, "
            "e-mail or IP address (422)"
        )
    )
    recorded_at: UtcDateTime = Field(description="when; not before the contact started, not in the future")
    method: ConsentMethod = Field(description="how the person gave it")
    statement: Statement = Field(
        description=(
            "what the person consented to. A phone number, e-mail address or other contact detail in it "
            "is replaced by a tag such as [TELEFOONNUMMER] before it is stored"
        )
    )


class DisclosureRequestIn(Model):
    """POST /disclosures. `basis` and `third_party_danger.category` are free text here so that a wrong
    one is refused with the reason (422), not a 400.

    A malformed body (a missing or mistyped field, an unknown consent `method`) is 400, naming the
    field; a well-formed request without grounds that mean something is 422, naming the rule (see
    `logic.disclosures.refusal` and `timing_refusal`).
    """

    model_config = ConfigDict(extra="forbid")

    contact_id: str = Field(pattern=CONTACT_ID_PATTERN)
    basis: str | None = Field(default=None, max_length=64, description="legal_order_126nc or consent")
    legal_order: LegalOrder | None = None
    third_party_danger: ThirdPartyDanger | None = Field(
        default=None, description="who else is in danger (P6); required with legal_order_126nc"
    )
    consent: Consent | None = None
    danger_to_self_only: bool = Field(
        default=False, description="true: the person is a danger only to themselves, which is refused (P7)"
    )


class DecisionIn(Model):
    """POST /disclosures/{id}/approve and /reject: the reason goes into the request's timeline (not the
    audit log), contact details in it replaced by tags first (P2, P3)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(
        description=(
            "why; kept on the request's timeline. A phone number, e-mail address or other contact detail "
            "in it is replaced by a tag such as [TELEFOONNUMMER] before it is stored"
        )
    )


class Approval(Model):
    """One compliance approval (four eyes, P7)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: str
    at: UtcDateTime
    reason: str


DecisionAction = Literal["disclosure.approved", "disclosure.rejected"]


class PendingAudit(Model):
    """A decision counted on the request whose audit entry is not written yet (see `DisclosureRecord`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: DecisionAction
    by: str
    at: UtcDateTime


class TimelineEntry(Model):
    """One step of a request: what happened, when, by whom (a username or `workflow`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: UtcDateTime
    event: str
    actor: str
    reason: str | None = None


class DisclosureRecord(Model):
    """A request as stored in DisclosuresTable (pk `disclosure#<id>`, sk `request`).

    `token_ciphertext` is the Step Functions task token, encrypted under DisclosureKey while the request
    waits for compliance, and dropped once the workflow was told the decision; `token_sha256` stays as
    its fingerprint. `version` guards every update (optimistic locking), so two decisions cannot both
    count.

    A decision is recorded first and carried out after (P7, `logic.disclosure_decisions`):
    `audit_pending` lists decisions counted here whose audit entry is not written yet, and
    `callback_pending` says that the request is decided (approved or rejected) but the workflow has
    not been told yet. A failure between the steps leaves them set, so the same decision sent again
    finishes the work instead of being refused as a conflict, and the audit chain gets it once.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=DISCLOSURE_ID_PATTERN)
    contact_id: str = Field(pattern=CONTACT_ID_PATTERN)
    basis: Basis
    legal_order: LegalOrder | None = None
    third_party_danger: ThirdPartyDanger | None = None
    consent: Consent | None = None
    requested_by: str
    requested_at: UtcDateTime
    status: Status
    approvals_needed: int = Field(ge=1)
    approval_timeout_seconds: int = Field(ge=1)
    approvals: list[Approval] = Field(default_factory=list)
    approved_at: UtcDateTime | None = None
    result_expires_at: UtcDateTime | None = None
    token_ciphertext: str | None = None
    token_sha256: str | None = None
    audit_pending: list[PendingAudit] = Field(default_factory=list)
    callback_pending: bool = False
    timeline: list[TimelineEntry] = Field(default_factory=list)
    version: int = Field(default=0, ge=0)


class DisclosureCreated(Model):
    """202 answer of POST /disclosures."""

    id: str
    status: Status


class DisclosureView(Model):
    """A request as shown to its requester and to compliance: no identifier, token or ciphertext."""

    id: str
    contact_id: str
    basis: Basis
    legal_order: LegalOrder | None = None
    third_party_danger: ThirdPartyDanger | None = None
    consent: Consent | None = None
    requested_by: str
    requested_at: UtcDateTime
    status: Status
    approvals_needed: int
    approvals: list[Approval]
    approved_at: UtcDateTime | None = None
    result_expires_at: UtcDateTime | None = None
    callback_pending: bool = Field(
        default=False,
        description=(
            "true: the request is decided (approved or rejected) but the workflow has not been told yet, "
            "since telling it failed; the same decision sent again (by any compliance officer but the "
            "requester) tells it, and the decision is not recorded twice"
        ),
    )
    timeline: list[TimelineEntry]


class DisclosureList(Model):
    """GET /disclosures: newest first."""

    items: list[DisclosureView]


class SealedIdentifier(Model):
    """The plaintext of a contact's `identifier_ciphertext` (see `dal.kms.KmsIdentifierVault.seal`)."""

    model_config = ConfigDict(extra="ignore")

    contact_id: str
    kind: str | None = None
    value: str | None = None
    reference: str | None = None
    sender_authenticated: bool | None = None
    """E-mail only: whether SES found the sender authenticated (SPF or DKIM aligned with DMARC)."""


class DisclosureResult(Model):
    """GET /disclosures/{id}/result, once: the one answer that carries an identifier (P7)."""

    identifier: str | None
    identifier_type: str | None
    provider_reference: str | None
    basis: Basis
    contact_id: str
    disclosure_id: str
    sender_authenticated: bool | None = Field(
        default=None,
        description=(
            "E-mail only: whether the sender's address was authenticated when the mail arrived (SPF or "
            "DKIM passing with DMARC alignment). False: the From address may have been forged."
        ),
    )

    def __repr__(self) -> str:
        """Redacted: a result must never reach a log through a repr (P2, P3)."""
        return f"DisclosureResult(disclosure_id={self.disclosure_id!r}, <redacted>)"

    __str__ = __repr__


WorkflowStep = Literal[
    "record_requested",
    "await_decision",
    "prepare_release",
    "record_decrypted",
    "record_delivered",
    "record_rejected",
    "record_refused",
    "record_expired",
    "record_erased",
    "record_failed",
]


class StepEvent(Model):
    """What a state of `disclosure.asl.json` sends the steps function: ids, a task token to keep, and
    (record_decrypted, record_refused) the custodian officer's decision as the custodian answered it."""

    model_config = ConfigDict(extra="forbid")

    step: WorkflowStep
    disclosure_id: str = Field(pattern=DISCLOSURE_ID_PATTERN)
    task_token: str | None = Field(default=None, min_length=1, max_length=8192, repr=False)
    decided_by: str | None = Field(default=None, min_length=1, max_length=128)
    decided_at: UtcDateTime | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=500)
