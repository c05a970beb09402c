"""The custodian's side of a disclosure (P3, P7): what the organisation asks it to release, its own
record of that request, and what its officer and its decrypt function answer.

The identifier keys and the decrypt function live in the custodian's account ("in een extern voor ons
niet toegankelijk systeem", P3). The organisation's four-eyes approval is necessary but not enough: the
decrypt function opens an identifier only when the custodian's OWN `ReleaseRecord` says `confirmed`, by
one of its own officers. An organisation that edits its state machine can ask, and wait, but not decide.

What travels from the organisation (`ReleaseRequest`, through its workflow's history) holds ids, the
basis, and the grounds an officer needs to check: the art. 126nc Sv demand's reference, officer of
justice, office and date (with its document's SHA-256), or who recorded the person's consent and when.
Free text typed by staff (the consent statement, the third-party danger) stays with the organisation:
workflow history and the custodian's table are places for ids and the basis only; an officer who wants
more asks the organisation by disclosure id. Nothing here ever holds an identifier.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, Self

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from helpline.models.common import Model, UtcDateTime
from helpline.models.disclosures import CONTACT_ID_PATTERN, DISCLOSURE_ID_PATTERN, Basis, LegalOrder

ReleaseStatus = Literal["pending", "confirmed", "refused", "expired", "released", "erased"]
"""pending → confirmed → released (decrypted once), or pending → refused / expired (no officer decided
before the deadline); confirmed → erased when the contact's identifier was past its retention."""

CustodianAnswerStatus = Literal["pending", "decrypted", "refused", "expired", "erased"]
"""What the decrypt function tells the organisation's workflow (the Choice state branches on it)."""

ReleaseDecision = Literal["confirm", "refuse"]

REASON_MAX_LENGTH: Final = 500
OFFICER_MAX_LENGTH: Final = 128

Username = Annotated[str, StringConstraints(min_length=1, max_length=OFFICER_MAX_LENGTH)]
DecisionReason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=REASON_MAX_LENGTH)
]


class ConsentSummary(Model):
    """Who recorded the person's consent, and when (P7); the statement itself stays with the organisation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    recorded_by: Username
    recorded_at: UtcDateTime


class ReleaseGrounds(Model):
    """The legal ground of a release, laid out for the custodian officer (P7): one of the two."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    legal_order: LegalOrder | None = None
    consent: ConsentSummary | None = None


class ReleaseRequest(Model):
    """The organisation's `prepare_release` answer, and the release intake function's event.

    Refused (a validation error) when the grounds do not match the basis: an officer cannot judge a
    legal-order release without the order's particulars.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    disclosure_id: str = Field(pattern=DISCLOSURE_ID_PATTERN)
    contact_id: str = Field(pattern=CONTACT_ID_PATTERN)
    basis: Basis
    grounds: ReleaseGrounds
    approved_by: list[Username] = Field(min_length=1, max_length=16)
    approved_at: UtcDateTime

    @model_validator(mode="after")
    def _grounds_match_the_basis(self) -> Self:
        if self.basis == "legal_order_126nc" and (
            self.grounds.legal_order is None or self.grounds.consent is not None
        ):
            raise ValueError("a legal_order_126nc release needs the legal order, and only that, as grounds")
        if self.basis == "consent" and (self.grounds.consent is None or self.grounds.legal_order is not None):
            raise ValueError("a consent release needs the consent summary, and only that, as grounds")
        return self


class ReleaseView(Model):
    """A release as the custodian API shows it: the grounds laid out, the decision, the deadline."""

    disclosure_id: str
    contact_id: str
    basis: Basis
    grounds: ReleaseGrounds
    approved_by: list[str]
    approved_at: UtcDateTime
    received_at: UtcDateTime
    deadline: UtcDateTime
    status: ReleaseStatus
    decided_by: str | None = None
    decided_at: UtcDateTime | None = None
    reason: str | None = None
    released_at: UtcDateTime | None = None


class ReleaseRecord(ReleaseView):
    """One release as the custodian keeps it (ReleasesTable, key `disclosure_id`).

    `deadline`: an officer must decide before it, or the release is `expired` (as for approvals).
    `expires_at` (epoch seconds) is the table's TTL: 30 days after the last change, for housekeeping.
    `version` guards every update (optimistic locking), so two officers cannot both decide.
    """

    model_config = ConfigDict(extra="forbid")

    disclosure_id: str = Field(pattern=DISCLOSURE_ID_PATTERN)
    contact_id: str = Field(pattern=CONTACT_ID_PATTERN)
    expires_at: int = Field(ge=0)
    version: int = Field(default=0, ge=0)


class ReleaseList(Model):
    """GET /releases: pending first (soonest deadline first), then the rest, newest first."""

    items: list[ReleaseView]


class ReleaseDecisionIn(Model):
    """POST /releases/{disclosure_id}/confirm and /refuse: the officer's reason (1 to 500 characters)."""

    model_config = ConfigDict(extra="forbid")

    reason: DecisionReason


class ReleaseAccepted(Model):
    """The release intake function's answer: ids and the status only."""

    disclosure_id: str
    status: Literal["pending"]


class CustodianDecryptEvent(Model):
    """What the organisation's AskCustodian state sends the custodian's decrypt function: ids only."""

    model_config = ConfigDict(extra="forbid")

    disclosure_id: str = Field(pattern=DISCLOSURE_ID_PATTERN)
    contact_id: str = Field(pattern=CONTACT_ID_PATTERN)


class CustodianAnswer(Model):
    """The decrypt function's answer to the workflow: a status, and the officer's decision where there
    is one. Never an identifier: the identifier goes, sealed, into the organisation's
    DisclosureResultsTable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    disclosure_id: str
    status: CustodianAnswerStatus
    decided_by: str | None = None
    decided_at: UtcDateTime | None = None
    reason: str | None = None
