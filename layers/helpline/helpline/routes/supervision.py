"""POST /supervision (mentor, professional, volunteer) and GET /supervision (staff): listening in (P9).

`ROUTE_PERMISSIONS` admits the groups; the role rule (a volunteer only as a trainee) is checked in
`logic.supervision`, with a plain 403. The act is recorded before the provider is asked to monitor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Query

from helpline.api import (
    StaffApiResolver,
    UnprocessableRequest,
    create_resolver,
    current_caller,
    openapi_responses,
)
from helpline.clock import now as clock_now
from helpline.dal.audit import audit_log
from helpline.dal.register import register_store
from helpline.dal.supervision import supervision_store
from helpline.logic.audit import AuditLog
from helpline.logic.ports import DependencyError
from helpline.logic.register import RegisterStore
from helpline.logic.supervision import (
    InvalidTokenError,
    SupervisionDeniedError,
    SupervisionModeError,
    SupervisionNotFoundError,
    SupervisionProvider,
    SupervisionStore,
    list_supervision,
    start_supervision,
)
from helpline.models.supervision import SupervisionPage, SupervisionRequest, SupervisionStarted
from helpline.providers.supervision import NoLiveMonitoring

TAGS = ["supervision"]
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def create_supervision_app(
    register: Callable[[], RegisterStore] = register_store,
    store: Callable[[], SupervisionStore] = supervision_store,
    audit: Callable[[], AuditLog] = audit_log,
    provider: Callable[[], SupervisionProvider] = NoLiveMonitoring,
    clock: Callable[[], datetime] = clock_now,
) -> StaffApiResolver:
    """A resolver with the supervision routes; every dependency is a seam for tests (P9).

    `provider` defaults to `NoLiveMonitoring` (record only); live Connect or Twilio monitoring is wired
    per deployment (see `helpline.providers.supervision`).
    """
    app = create_resolver()

    @app.post(
        "/supervision",
        summary="Listen in on a call or read along with a chat or e-mail",
        description=(
            "Recorded (who, when, which contact, role, mode) before monitoring starts (P9). Professionals "
            "take the role professional, mentors mentor, volunteers only trainee. 422 when the mode does not "
            "fit the contact's channel."
        ),
        tags=TAGS,
        operation_id="startSupervision",
        responses=openapi_responses("Recorded; monitoring as reported", 400, 401, 403, 404, 422, 500, 502),
    )
    def post_supervision(request: SupervisionRequest) -> SupervisionStarted:
        try:
            return start_supervision(
                request, current_caller(app), register(), store(), audit(), provider(), clock()
            )
        except SupervisionDeniedError as error:
            raise ServiceError(403, str(error)) from None
        except SupervisionNotFoundError as error:
            raise NotFoundError(str(error)) from None
        except SupervisionModeError as error:
            raise UnprocessableRequest(str(error)) from None
        except DependencyError as error:
            if str(error).startswith(("connect:", "twilio:")):
                raise ServiceError(502, "Monitoring could not be started; the request is recorded") from None
            raise

    @app.get(
        "/supervision",
        summary="The record of listening in",
        description=(
            "Who listened in on or read along with which contact, when and in what role (P9). 422 when "
            "`next_token` is not one this listing gave."
        ),
        tags=TAGS,
        operation_id="listSupervision",
        responses=openapi_responses("A page of the record", 400, 401, 403, 422, 500),
    )
    def get_supervision(
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = DEFAULT_PAGE_SIZE,
        next_token: Annotated[str | None, Query(max_length=512, description="From the previous page")] = None,
    ) -> SupervisionPage:
        try:
            return list_supervision(store(), limit, next_token)
        except InvalidTokenError as error:
            raise UnprocessableRequest(str(error)) from None

    return app
