"""Routes of the line registry: GET /lines (staff, admin); PUT and DELETE /lines/{line_id} and the
four-eyes routes under /lines/changes (admin).

Who may call which route is decided in `helpline.auth.ROUTE_PERMISSIONS`, before these run. Which
change needs a second admin, and the rules of deciding (the proposer never approves, only a pending
change is decided, an address belongs to one line), are in `logic.lines` (DESIGN.md "No single
insider", P11); a refusal is answered with its plain reason: 400, 403, 404 or 409.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Path

from helpline.api import (
    StaffApiResolver,
    create_resolver,
    current_caller,
    model_response,
    openapi_responses,
    openapi_success,
)
from helpline.clock import now as clock_now
from helpline.dal.audit import audit_log
from helpline.dal.line_changes import line_change_store
from helpline.dal.lines import lines_repository
from helpline.logic.audit import AuditLog
from helpline.logic.lines import (
    LineChangeStore,
    LineRegistry,
    LineRuleError,
    approve_change,
    list_changes,
    list_lines,
    put_line,
    reject_change,
    retire_line,
)
from helpline.models.common import LINE_ID_PATTERN
from helpline.models.lines import (
    CHANGE_ID_PATTERN,
    Line,
    LineChange,
    LineChangeAccepted,
    LineChangeList,
    LineIn,
    LineList,
    RejectionIn,
    new_change_id,
)

TAGS = ["lines"]
T = TypeVar("T")
LineIdPath = Annotated[str, Path(pattern=LINE_ID_PATTERN, description="Slug of the line")]
ChangeIdPath = Annotated[str, Path(pattern=CHANGE_ID_PATTERN, description="Id of the line change")]


def create_lines_app(
    repository: Callable[[], LineRegistry] = lines_repository,
    clock: Callable[[], datetime] = clock_now,
    changes: Callable[[], LineChangeStore] = line_change_store,
    audit: Callable[[], AuditLog] = audit_log,
    new_id: Callable[[], str] = new_change_id,
) -> StaffApiResolver:
    """A resolver with the line registry routes; every dependency is a seam for tests.

    A factory rather than a module-level resolver, so each handler module (each Lambda execution
    environment of the local stack) has a resolver of its own.
    """
    app = create_resolver()

    def actor() -> str:
        return current_caller(app).username

    @app.get(
        "/lines",
        summary="List the registered lines",
        description="Every helpline and office line, sorted by line_id.",
        tags=TAGS,
        operation_id="listLines",
        responses=openapi_responses("The lines", 401, 403, 500),
    )
    def get_lines() -> LineList:
        return LineList(items=list_lines(repository()))

    @app.put(
        "/lines/<line_id>",
        summary="Register or change a line",
        description=(
            "A new helpline, or a new display name, queue or daily limit, is stored at once (200, the "
            "line as stored) and audited. A new office line, or a change of kind, channel or address, "
            "is a proposal (202): nothing changes until a second admin approves it (P11, four eyes). "
            "409 when another line holds the address (the answer names it). 422 when the address is not "
            "one of the channel: a phone number for voice, a mailbox for email, a slug for chat."
        ),
        tags=TAGS,
        operation_id="putLine",
        responses={
            **openapi_success(HTTPStatus.OK, "The line as stored", Line, 400, 401, 403, 409, 422, 500),
            **openapi_success(HTTPStatus.ACCEPTED, "Proposed; waits for a second admin", LineChangeAccepted),
        },
    )
    def put_one(line_id: LineIdPath, line: LineIn) -> Response[Any]:
        outcome = _answer(
            lambda: put_line(repository(), changes(), audit(), line_id, line, actor(), clock(), new_id)
        )
        if isinstance(outcome, LineChange):
            return model_response(HTTPStatus.ACCEPTED, LineChangeAccepted(change_id=outcome.change_id))
        return model_response(HTTPStatus.OK, outcome)

    @app.delete(
        "/lines/<line_id>",
        summary="Retire a line (four eyes)",
        description=(
            "A proposal (202) to remove the line from the registry once a second admin approves; the "
            "audit chain keeps its record. Contacts on its address are then treated as a helpline's "
            "(anonymous). 404 when there is no such line."
        ),
        tags=TAGS,
        operation_id="retireLine",
        responses=openapi_success(
            HTTPStatus.ACCEPTED,
            "Proposed; waits for a second admin",
            LineChangeAccepted,
            400,
            401,
            403,
            404,
            500,
        ),
    )
    def delete_one(line_id: LineIdPath) -> Response[Any]:
        change = _answer(
            lambda: retire_line(repository(), changes(), audit(), line_id, actor(), clock(), new_id)
        )
        return model_response(HTTPStatus.ACCEPTED, LineChangeAccepted(change_id=change.change_id))

    @app.get(
        "/lines/changes",
        summary="Proposed line changes",
        description="Every proposal: pending first (they wait for a second admin), then newest first.",
        tags=TAGS,
        operation_id="listLineChanges",
        responses=openapi_responses("The changes", 401, 403, 500),
    )
    def get_changes() -> LineChangeList:
        return LineChangeList(items=list_changes(changes()))

    @app.post(
        "/lines/changes/<change_id>/approve",
        summary="Approve a line change (the second admin)",
        description=(
            "Applies the change. Not by its proposer (403). 409 when the change is not pending, when the "
            "line changed since the proposal, or when another line took the address meanwhile."
        ),
        tags=TAGS,
        operation_id="approveLineChange",
        responses=openapi_responses("The change, applied", 400, 401, 403, 404, 409, 500),
    )
    def approve(change_id: ChangeIdPath) -> LineChange:
        return _answer(lambda: approve_change(repository(), changes(), audit(), change_id, actor(), clock()))

    @app.post(
        "/lines/changes/<change_id>/reject",
        summary="Reject a line change",
        description=(
            "Nothing in the registry changes. Any admin, the proposer too (a withdrawal). 409 when the "
            "change is not pending."
        ),
        tags=TAGS,
        operation_id="rejectLineChange",
        responses=openapi_responses("The change, rejected", 400, 401, 403, 404, 409, 500),
    )
    def reject(change_id: ChangeIdPath, body: RejectionIn) -> LineChange:
        return _answer(lambda: reject_change(changes(), audit(), change_id, body.reason, actor(), clock()))

    return app


def _answer(action: Callable[[], T]) -> T:
    """Run `action`; a `LineRuleError` becomes its HTTP status with its plain reason."""
    try:
        return action()
    except LineRuleError as error:
        raise ServiceError(error.status, error.reason) from None
