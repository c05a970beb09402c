"""Routes of the line registry: GET /lines (staff, admin) and PUT /lines/{line_id} (admin).

Who may call which route is decided in `helpline.auth.ROUTE_PERMISSIONS`, before these run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from helpline.api import StaffApiResolver, create_resolver, current_caller, openapi_responses
from helpline.clock import now as clock_now
from helpline.dal.lines import lines_repository
from helpline.logic.lines import list_lines, register_line
from helpline.logic.ports import LinesRepository
from helpline.models.common import LINE_ID_PATTERN
from helpline.models.lines import Line, LineIn, LineList

TAGS = ["lines"]


def create_lines_app(
    repository: Callable[[], LinesRepository] = lines_repository,
    clock: Callable[[], datetime] = clock_now,
) -> StaffApiResolver:
    """A resolver with the line registry routes; `repository` and `clock` are seams for tests.

    A factory rather than a module-level resolver, so each handler module (each Lambda execution
    environment of the local stack) has a resolver of its own.
    """
    app = create_resolver()

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
        description="Creates the line, or replaces it if line_id exists; returns what was stored.",
        tags=TAGS,
        operation_id="putLine",
        responses=openapi_responses("The line as stored", 400, 401, 403, 500),
    )
    def put_line(
        line_id: Annotated[str, Path(pattern=LINE_ID_PATTERN, description="Slug of the line")],
        line: LineIn,
    ) -> Line:
        actor = current_caller(app).username
        return register_line(repository(), line_id, line, actor=actor, now=clock())

    return app
