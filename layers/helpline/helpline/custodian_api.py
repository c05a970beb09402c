"""The custodian's confirmation API (P3, P7): its officers see every release the organisation asks for,
with the grounds laid out, and confirm or refuse it. Deployed in the custodian's account with its own
user pool (infrastructure/custodian/template.yaml); only the group `custodian` gets in.

The resolver is the staff API's (`helpline.api.StaffApiResolver`: access checked before routing, 400
naming each bad field without echoing it, a bare 500), with two differences:

- its permission table is `auth.CUSTODIAN_ROUTE_PERMISSIONS`, so no organisation group opens a route here
  and no custodian route exists in the organisation's table;
- every answer, denials included, carries `Cache-Control: no-store`: a release's grounds (the demand's
  particulars, the approvers) have no business in a browser's or a proxy's cache.

The rules (404, 409 not pending or past the deadline) are `helpline.logic.releases`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Final, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Path

from helpline import clock
from helpline.api import (
    StaffApiResolver,
    current_caller,
    openapi_responses,
)
from helpline.auth import CUSTODIAN_ROUTE_PERMISSIONS
from helpline.dal.releases import release_store
from helpline.logic.releases import (
    ReleaseError,
    ReleaseStore,
    decide_release,
    get_release,
    list_releases,
)
from helpline.models.disclosures import DISCLOSURE_ID_PATTERN
from helpline.models.releases import ReleaseDecision, ReleaseDecisionIn, ReleaseList, ReleaseView

logger = Logger(child=True)

TAGS = ["releases"]
NO_STORE: Final = "no-store"
T = TypeVar("T")
CONFLICT_NOTE: Final = "409 when the release is no longer pending or past its deadline (it is then expired)."
DisclosureId = Annotated[str, Path(pattern=DISCLOSURE_ID_PATTERN, description="Disclosure request id")]


class CustodianApiResolver(StaffApiResolver):
    """`StaffApiResolver` on the custodian's permission table (its answers are `no-store` too)."""

    def __init__(self) -> None:
        super().__init__(CUSTODIAN_ROUTE_PERMISSIONS)


def create_custodian_app(
    store: Callable[[], ReleaseStore] = release_store,
    now: Callable[[], datetime] = lambda: clock.now(),
) -> CustodianApiResolver:
    """A resolver with the four release routes; `store` and `now` are the seams for tests (P3, P7)."""
    app = CustodianApiResolver()

    @app.get(
        "/releases",
        summary="Releases the organisation asked for",
        description=(
            "Pending first (soonest deadline first), then the rest, newest first. Each with its grounds: "
            "the basis, the art. 126nc Sv demand's particulars or who recorded the consent and when, who "
            "approved at the organisation and when, and the deadline. Never an identifier."
        ),
        tags=TAGS,
        operation_id="listReleases",
        responses=openapi_responses("The releases", 401, 403, 500),
    )
    def get_releases() -> ReleaseList:
        return list_releases(store(), now())

    @app.get(
        "/releases/<disclosure_id>",
        summary="One release: its grounds, deadline and decision",
        tags=TAGS,
        operation_id="getRelease",
        responses=openapi_responses("The release", 400, 401, 403, 404, 500),
    )
    def get_one(disclosure_id: DisclosureId) -> ReleaseView:
        return _answer(lambda: get_release(disclosure_id, store(), now()))

    def _decide(disclosure_id: str, decision: ReleaseDecision, body: ReleaseDecisionIn) -> ReleaseView:
        return _answer(
            lambda: decide_release(disclosure_id, decision, body.reason, current_caller(app), store(), now())
        )

    @app.post(
        "/releases/<disclosure_id>/confirm",
        summary="Confirm a release: the decrypt function may then open the identifier, once",
        description=CONFLICT_NOTE,
        tags=TAGS,
        operation_id="confirmRelease",
        responses=openapi_responses("The release after the confirmation", 400, 401, 403, 404, 409, 500),
    )
    def confirm(disclosure_id: DisclosureId, body: ReleaseDecisionIn) -> ReleaseView:
        return _decide(disclosure_id, "confirm", body)

    @app.post(
        "/releases/<disclosure_id>/refuse",
        summary="Refuse a release: nothing is ever decrypted for it",
        description=CONFLICT_NOTE,
        tags=TAGS,
        operation_id="refuseRelease",
        responses=openapi_responses("The release after the refusal", 400, 401, 403, 404, 409, 500),
    )
    def refuse(disclosure_id: DisclosureId, body: ReleaseDecisionIn) -> ReleaseView:
        return _decide(disclosure_id, "refuse", body)

    return app


def _answer(action: Callable[[], T]) -> T:
    """Run `action`; a `ReleaseError` becomes its HTTP status with its plain reason."""
    try:
        return action()
    except ReleaseError as error:
        raise ServiceError(error.status, error.reason) from None
