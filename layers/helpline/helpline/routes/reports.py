"""Routes of volunteer reports (P4, P5, P8).

- POST /contacts/{id}/reports (volunteer, mentor): the author is the caller; the text is scrubbed
  before anything is stored (P5, P8) and the answer (201) is the stored report, so the volunteer sees
  what was removed. The raw text is never logged: invalid input is answered by field name only.
- GET /contacts/{id}/reports and GET /reports?from=&to= (volunteer, mentor, staff; P4: training
  and quality): mentors and staff read all reports, a volunteer only their own (row-level, here).

Who may call which route is decided in `helpline.auth.ROUTE_PERMISSIONS`, before these run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from helpline.api import (
    StaffApiResolver,
    UnprocessableRequest,
    create_resolver,
    current_caller,
    model_response,
    openapi_responses,
    openapi_success,
)
from helpline.clock import now as clock_now
from helpline.dal.reports import contact_lookup, reports_repository
from helpline.logic.reports import (
    ContactLookup,
    ContactNotFound,
    InvalidPeriod,
    ReportsRepository,
    Scrub,
    add_report,
    period_bounds,
    reports_for_contact,
    reports_in_period,
    visible_author,
)
from helpline.models.common import IsoDate
from helpline.models.reports import CONTACT_ID_PATTERN, Report, ReportIn, ReportList
from helpline.scrub import scrub as deduce_scrub

TAGS = ["reports"]


def create_reports_app(
    repository: Callable[[], ReportsRepository] = reports_repository,
    contacts: Callable[[], ContactLookup] = contact_lookup,
    scrub: Scrub = deduce_scrub,
    clock: Callable[[], datetime] = clock_now,
) -> StaffApiResolver:
    """A resolver with the report routes; `repository`, `contacts`, `scrub`, `clock` are test seams."""
    app = create_resolver()

    @app.post(
        "/contacts/<id>/reports",
        summary="Write the report of a conversation",
        description=(
            "The text (at most 1,500 characters) is de-identified before it is stored: person names, "
            "places and addresses, phone numbers, e-mail addresses, dates, ages, BSN and IBAN numbers "
            "and URLs become tags such as [PERSOON-1]. The answer is the report as stored (P5, P8)."
        ),
        tags=TAGS,
        operation_id="addReport",
        responses=openapi_success(
            HTTPStatus.CREATED,
            "The report as stored, names and other identifying details replaced by tags",
            Report,
            400,
            401,
            403,
            404,
            500,
        ),
    )
    def post_report(
        id: Annotated[str, Path(pattern=CONTACT_ID_PATTERN, description="Contact id")],
        report: ReportIn,
    ) -> Response[Any]:
        author = current_caller(app).username
        try:
            stored = add_report(id, report.text, author, clock(), contacts(), repository(), scrub)
        except ContactNotFound:
            raise NotFoundError("Contact not found") from None
        return model_response(HTTPStatus.CREATED, stored)

    @app.get(
        "/contacts/<id>/reports",
        summary="Reports of one contact",
        description="Newest first. Mentors and staff see every report; a volunteer only their own (P4).",
        tags=TAGS,
        operation_id="listContactReports",
        responses=openapi_responses("The reports", 400, 401, 403, 500),
    )
    def get_contact_reports(
        id: Annotated[str, Path(pattern=CONTACT_ID_PATTERN, description="Contact id")],
    ) -> ReportList:
        caller = current_caller(app)
        only = visible_author(caller.username, caller.groups)
        return ReportList(items=reports_for_contact(id, repository(), only))

    @app.get(
        "/reports",
        summary="Reports of a period",
        description=(
            "Reports written from `from` to `to` (UTC days, both inclusive; default the last 30 days). "
            "Newest first. Mentors and staff see every report; a volunteer only their own (P4). 422 when "
            "the period spans more than 366 days or `to` is before `from`."
        ),
        tags=TAGS,
        operation_id="listReports",
        responses=openapi_responses("The reports", 400, 401, 403, 422, 500),
    )
    def get_reports(
        first_day: Annotated[IsoDate | None, Query(alias="from", description="First day (UTC)")] = None,
        last_day: Annotated[IsoDate | None, Query(alias="to", description="Last day (UTC)")] = None,
    ) -> ReportList:
        caller = current_caller(app)
        try:
            start, end = period_bounds(first_day, last_day, clock().astimezone(UTC).date())
        except InvalidPeriod as problem:
            raise UnprocessableRequest(str(problem)) from None
        only = visible_author(caller.username, caller.groups)
        return ReportList(items=reports_in_period(start, end, repository(), only))

    return app
