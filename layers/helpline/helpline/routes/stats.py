"""Route of the statistics: GET /stats?from=&to=&by= (staff), as JSON or, on `Accept: text/csv`, CSV.

Who may call it is decided in `helpline.auth.ROUTE_PERMISSIONS` before this runs. The figures come
from the aggregates (`logic.stats`), never from contacts, with cells under k suppressed (P8).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from helpline.api import StaffApiResolver, create_resolver, openapi_responses
from helpline.dal.stats import statistics_store
from helpline.logic.stats import (
    StatisticsStore,
    StatsQueryError,
    parse_by,
    parse_range,
    query_statistics,
    render_csv,
)
from helpline.models.common import RULE_BROKEN
from helpline.models.stats import DIMENSIONS, Dimension, StatsTable
from helpline.settings import get_settings

TAGS = ["statistics"]
TEXT_CSV = "text/csv"
INSTANT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}(:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$"
)
"""A date, or an ISO datetime with its zone: what `parse_instant` can read; whether it is on a whole
hour is a rule (422), not a shape."""


def _responses() -> dict[int, OpenAPIResponse]:
    responses = openapi_responses("The table, as JSON or (Accept: text/csv) as CSV", 400, 401, 403, 422, 500)
    responses[200]["content"] = {
        content_types.APPLICATION_JSON: {"model": StatsTable},
        TEXT_CSV: {"schema": {"type": "string"}},
    }
    return responses


def _unasked(dimensions: list[Dimension]) -> dict[str, Any]:
    """Leave out of each row the keys not asked for: a row of `by=day` has no `line: null`."""
    hidden = {str(name) for name in DIMENSIONS if name not in dimensions}
    return {"rows": {"__all__": hidden}}


def wants_csv(accept: str | None) -> bool:
    """True when the Accept header names text/csv (before any JSON type it may also list)."""
    if not accept:
        return False
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if TEXT_CSV not in types:
        return False
    return content_types.APPLICATION_JSON not in types[: types.index(TEXT_CSV)]


def create_stats_app(
    store: Callable[[], StatisticsStore] = statistics_store,
    min_cell_size: Callable[[], int] = lambda: get_settings().stats_min_cell_size,
) -> StaffApiResolver:
    """A resolver with GET /stats; `store` and `min_cell_size` (k) are seams for tests and benchmarks."""
    app = create_resolver()

    @app.get(
        "/stats",
        summary="Contact statistics",
        description=(
            "Counts, limited counts (P10) and length median and 90th percentile over [from, to), by one or "
            "more of hour, day, week, line, channel, region. Served from hourly aggregates: lengths are "
            "bucketed, so percentiles are exact to within half a bucket. A cell with fewer than k contacts "
            'shows "<k" and withholds its other figures (P8); so do length figures with fewer than k '
            'lengths, and a limited count of 1..k-1 shows "<k". 422 when `from` or `to` is not a real '
            "moment on a whole UTC hour, `to` is not after `from`, the range spans more than 400 days, or a "
            "`by` value is not one of the dimensions."
        ),
        tags=TAGS,
        operation_id="getStats",
        responses=_responses(),
    )
    def get_stats(
        start: Annotated[
            str,
            Query(
                alias="from",
                pattern=INSTANT_PATTERN,
                description="Start, UTC date or datetime with a zone on the hour; inclusive",
            ),
        ],
        end: Annotated[
            str,
            Query(
                alias="to", pattern=INSTANT_PATTERN, description="End, exclusive; at most 400 days after from"
            ),
        ],
        by: Annotated[
            list[str] | None,
            Query(description="hour, day, week, line, channel, region; repeated or comma-separated"),
        ] = None,
    ) -> Response[Any]:
        try:
            first, stop = parse_range(start, end)
            dimensions = parse_by(by)
        except StatsQueryError as error:
            raise RequestValidationError(
                [{"loc": ("query", error.field), "msg": error.problem, "type": RULE_BROKEN}]
            ) from None
        table = query_statistics(store(), first, stop, dimensions, min_cell_size())
        if wants_csv(app.current_event.headers.get("accept") or app.current_event.headers.get("Accept")):
            return Response(status_code=200, content_type=TEXT_CSV, body=render_csv(table))
        return Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body=table.model_dump(mode="json", by_alias=True, exclude=_unasked(dimensions)),
        )

    return app
