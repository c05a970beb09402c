"""Disclosure routes (P6, P7): request, read, decide (four eyes), and the one-time delivery.

`ROUTE_PERMISSIONS` admits the groups (a professional requests and retrieves, compliance decides, both
read; 401 without a valid token, 403 for another group); the rules that need the request itself (the
requester may not decide, a professional sees only their own, the result once and within 24 hours) are
in `logic.disclosure_requests` and `logic.disclosure_decisions`, answered with a plain reason: 403,
404, 409, 410, 422 when a request has no legal basis, its grounds do not hold or an identifier is in a
text that must stay as written (`logic.disclosure_grounds`), and 503 when a service failed after what
was asked was kept safe (the same call again finishes it). A malformed body, path or query is 400, a
body that is not JSON 415, and anything unforeseen 500.

Each route lists exactly the statuses it can answer in its OpenAPI `responses`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Path

from helpline import clock as our_clock
from helpline.api import (
    StaffApiResolver,
    create_resolver,
    current_caller,
    model_response,
    openapi_responses,
    openapi_success,
)
from helpline.dal.audit import audit_log
from helpline.dal.disclosure_crypto import result_sealer, token_sealer
from helpline.dal.disclosures import contact_directory, disclosure_store
from helpline.dal.users import user_directory
from helpline.dal.workflow import workflow
from helpline.logic.audit import AuditLog
from helpline.logic.disclosure_decisions import decide
from helpline.logic.disclosure_requests import (
    get_disclosure,
    list_disclosures,
    request_disclosure,
    retrieve_result,
)
from helpline.logic.disclosures import (
    ContactDirectory,
    Decision,
    DisclosureConfig,
    DisclosureError,
    DisclosureStore,
    ResultSealer,
    TokenSealer,
    UserDirectory,
    Workflow,
)
from helpline.models.disclosures import (
    DISCLOSURE_ID_PATTERN,
    DecisionIn,
    DisclosureCreated,
    DisclosureList,
    DisclosureRequestIn,
    DisclosureResult,
    DisclosureView,
    new_disclosure_id,
)
from helpline.settings import get_settings

TAGS = ["disclosures"]
T = TypeVar("T")
DisclosureId = Annotated[str, Path(pattern=DISCLOSURE_ID_PATTERN, description="Disclosure request id")]


def _settings_config() -> DisclosureConfig:
    settings = get_settings()
    return DisclosureConfig(
        approvals_needed=settings.disclosure_approvals_needed,
        approval_timeout_seconds=settings.disclosure_approval_seconds,
    )


def create_disclosures_app(
    store: Callable[[], DisclosureStore] = disclosure_store,
    contacts: Callable[[], ContactDirectory] = contact_directory,
    users: Callable[[], UserDirectory] = user_directory,
    flow: Callable[[], Workflow] = workflow,
    tokens: Callable[[], TokenSealer] = token_sealer,
    results: Callable[[], ResultSealer] = result_sealer,
    audit: Callable[[], AuditLog] = audit_log,
    config: Callable[[], DisclosureConfig] = _settings_config,
    clock: Callable[[], datetime] = lambda: our_clock.now(),
    new_id: Callable[[], str] = new_disclosure_id,
) -> StaffApiResolver:
    """A resolver with the six disclosure routes; every dependency is a seam for tests (P6, P7)."""
    app = create_resolver()

    @app.post(
        "/disclosures",
        summary="Request the disclosure of one contact's identifier",
        description=(
            "Only on an art. 126nc Sv demand with a third party in danger, or with the person's consent "
            "(P6, P7). 400 when the body is malformed (a missing or mistyped field, an unknown consent "
            "`method`, a text too long), naming the field; 415 when it is not JSON. 422, naming the field "
            "and the rule that failed, never its value, when the grounds do not hold: no basis; the person "
            "a danger only to themselves; `third_party_danger.category` the person themselves, nobody, or "
            "not one of child, partner, family_member, other_named_person, people_at_a_place, public; a "
            "description saying nobody else is at risk; a phone number, e-mail address or other "
            "identifier in the legal order's `reference`, `officer_of_justice` or `prosecutor_office` "
            "(kept as written, so refused, never altered) or in `consent.recorded_by`; "
            "`legal_order.issued_on` in the future or before the month of the contact; "
            "`consent.recorded_at` in the future or before the contact started (our clock); "
            "`consent.recorded_by` not a user of the organisation's user pool; an office-line contact. "
            "A phone number, e-mail address, IP or web address, handle, IBAN or BSN in "
            "`third_party_danger.description` or `consent.statement` is replaced by a tag such as "
            "[TELEFOONNUMMER] before the request is stored (P2, P3). 404 for an unknown contact, 410 when "
            "the identifier has been erased by retention (past its `identifier_retain_until`, on our "
            "clock). 503 when the workflow could not be started: the request is recorded as failed, "
            "submit it again."
        ),
        tags=TAGS,
        operation_id="requestDisclosure",
        responses=openapi_success(
            HTTPStatus.ACCEPTED,
            "Requested; the workflow waits for a compliance decision",
            DisclosureCreated,
            400,
            401,
            403,
            404,
            410,
            415,
            422,
            500,
            503,
        ),
    )
    def post_disclosure(body: DisclosureRequestIn) -> Response[Any]:
        created = _answer(
            lambda: request_disclosure(
                body,
                current_caller(app),
                new_id(),
                config(),
                store(),
                contacts(),
                users(),
                flow(),
                audit(),
                clock(),
            )
        )
        return model_response(HTTPStatus.ACCEPTED, created)

    @app.get(
        "/disclosures",
        summary="Disclosure requests",
        description=(
            "Newest first. Compliance sees every request, a professional their own. No identifiers."
        ),
        tags=TAGS,
        operation_id="listDisclosures",
        responses=openapi_responses("The requests", 401, 403, 500),
    )
    def get_disclosures() -> DisclosureList:
        return list_disclosures(current_caller(app), store())

    @app.get(
        "/disclosures/<id>",
        summary="One disclosure request: status and timeline",
        description=(
            "Never an identifier, a token or a ciphertext. After approval the request is "
            "`awaiting_custodian` until the custodian's officer confirms (then `decrypted`) or refuses "
            "(`refused`), or the custodian's deadline passes (`expired`). 400 for a malformed id, 403 for "
            "a professional's request of someone else, 404 for an unknown one."
        ),
        tags=TAGS,
        operation_id="getDisclosure",
        responses=openapi_responses("The request", 400, 401, 403, 404, 500),
    )
    def get_one(id: DisclosureId) -> DisclosureView:
        return _answer(lambda: get_disclosure(id, current_caller(app), store()))

    def _decide(id: str, decision: Decision, body: DecisionIn) -> DisclosureView:
        return _answer(
            lambda: decide(
                id, decision, body.reason, current_caller(app), store(), tokens(), flow(), audit(), clock()
            )
        )

    @app.post(
        "/disclosures/<id>/approve",
        summary="Approve a disclosure request (four eyes)",
        description=(
            "Not by its requester (403). Once DISCLOSURE_APPROVALS_NEEDED distinct officers approved, the "
            "workflow asks the custodian, whose officer must confirm before the identifier is decrypted "
            "for the requester. An officer approving twice counts once. 409 when the request does not "
            "await a decision. 503 when the approval is recorded but could not be carried out yet (the "
            "audit log or Step Functions failed; the request then shows `callback_pending`): the same "
            "approval again, by any compliance officer but the requester, carries it out, and it is "
            "recorded once. The reason is kept on the timeline, contact details in it replaced by tags. "
            "400 for a malformed id or body, 415 for a body that is not JSON."
        ),
        tags=TAGS,
        operation_id="approveDisclosure",
        responses=openapi_responses("The request after the approval", 400, 401, 403, 404, 409, 415, 500, 503),
    )
    def approve(id: DisclosureId, body: DecisionIn) -> DisclosureView:
        return _decide(id, "approve", body)

    @app.post(
        "/disclosures/<id>/reject",
        summary="Reject a disclosure request",
        description=(
            "Not by its requester (403); 409 when the request does not await a decision. 503 when the "
            "rejection is recorded but could not be carried out yet (the request then shows "
            "`callback_pending`): the same rejection again carries it out, recorded once. The reason is "
            "kept on the timeline, contact details in it replaced by tags. 400 for a malformed id or "
            "body, 415 for a body that is not JSON."
        ),
        tags=TAGS,
        operation_id="rejectDisclosure",
        responses=openapi_responses(
            "The request after the rejection", 400, 401, 403, 404, 409, 415, 500, 503
        ),
    )
    def reject(id: DisclosureId, body: DecisionIn) -> DisclosureView:
        return _decide(id, "reject", body)

    @app.get(
        "/disclosures/<id>/result",
        summary="The disclosed identifier, once",
        description=(
            "For the requester only (403), once, within 24 hours of its decryption; then erased (410). "
            "409 while there is no result yet (awaiting compliance or the custodian). 503 when the sealed "
            "result could not be opened (KMS failed): it is kept, not delivered, and the same call again "
            "retrieves it. Of two concurrent retrievals only one gets it; the other gets 410. Every "
            "retrieval is on the audit log (P7). 400 for a malformed id, 404 for an unknown one."
        ),
        tags=TAGS,
        operation_id="getDisclosureResult",
        responses=openapi_responses("The identifier", 400, 401, 403, 404, 409, 410, 500, 503),
    )
    def get_result(id: DisclosureId) -> DisclosureResult:
        return _answer(lambda: retrieve_result(id, current_caller(app), store(), results(), audit(), clock()))

    return app


def _answer(action: Callable[[], T]) -> T:
    """Run `action`; a `DisclosureError` becomes its HTTP status with its plain reason."""
    try:
        return action()
    except DisclosureError as error:
        raise ServiceError(error.status, error.reason) from None
