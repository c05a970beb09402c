"""Routes of the anonymised register (P8): GET /contacts and GET /contacts/{id} (staff, mentor).

Who may call them is decided in `helpline.auth.ROUTE_PERMISSIONS`, before these run. The answers carry
`ContactView`s only: time, length, region, entry and limit outcome, never an identifier, not even the
encrypted one (P2, P3).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from helpline.api import StaffApiResolver, UnprocessableRequest, create_resolver, openapi_responses
from helpline.clock import now as clock_now
from helpline.dal.register import register_store
from helpline.logic.register import (
    InvalidQueryError,
    RegisterStore,
    build_filter,
    get_contact,
    list_contacts,
)
from helpline.models.common import LINE_ID_PATTERN, Channel, IsoDate
from helpline.models.contacts import LimitOutcome
from helpline.models.register import (
    CONTACT_ID_PATTERN,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ContactPage,
    ContactView,
)

TAGS = ["contacts"]


def create_contacts_app(
    store: Callable[[], RegisterStore] = register_store,
    clock: Callable[[], datetime] = clock_now,
) -> StaffApiResolver:
    """A resolver with the register routes; `store` and `clock` are seams for tests (P8)."""
    app = create_resolver()

    @app.get(
        "/contacts",
        summary="List the anonymised register",
        description=(
            "Contacts newest first: time, length, region, entry and limit outcome only (P8). The period "
            "is whole UTC days, `from` to `to` inclusive (default: the last 31 days). 422 when the period "
            "spans more than 366 days or `to` is before `from`, or when `next_token` is not one this listing "
            "gave for this period."
        ),
        tags=TAGS,
        operation_id="listContacts",
        responses=openapi_responses("A page of contacts", 400, 401, 403, 422, 500),
    )
    def get_contacts(
        first_day: Annotated[IsoDate | None, Query(alias="from", description="First day (UTC)")] = None,
        last_day: Annotated[IsoDate | None, Query(alias="to", description="Last day (UTC)")] = None,
        line: Annotated[str | None, Query(pattern=LINE_ID_PATTERN, description="line_id")] = None,
        channel: Annotated[Channel | None, Query(description="voice, chat or email")] = None,
        region: Annotated[str | None, Query(max_length=40, description="e.g. Utrecht, mobile")] = None,
        limit_outcome: Annotated[
            LimitOutcome | None, Query(description="allowed, limited, unchecked, unauthenticated")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = DEFAULT_PAGE_SIZE,
        next_token: Annotated[str | None, Query(max_length=512, description="From the previous page")] = None,
    ) -> ContactPage:
        try:
            query = build_filter(clock(), first_day, last_day, line, channel, region, limit_outcome)
            return list_contacts(store(), query, limit, next_token)
        except InvalidQueryError as error:
            raise UnprocessableRequest(str(error)) from None

    @app.get(
        "/contacts/<id>",
        summary="One contact of the anonymised register",
        description="Time, length, region, entry and limit outcome of one contact (P8).",
        tags=TAGS,
        operation_id="getContact",
        responses=openapi_responses("The contact", 400, 401, 403, 404, 500),
    )
    def get_one_contact(
        id: Annotated[str, Path(pattern=CONTACT_ID_PATTERN, description="Contact id")],
    ) -> ContactView:
        contact = get_contact(store(), id)
        if contact is None:
            raise NotFoundError("No such contact")
        return contact

    return app
