"""StatsFunction: GET /stats for staff, from the aggregates, small cells suppressed (P8).

Thin by design: the route lives in `helpline.routes.stats`, access rules in `helpline.auth`.
Loaded by file path as well as by Lambda, so only absolute imports.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline.routes.stats import create_stats_app

logger = Logger()
tracer = Tracer()
app = create_stats_app()


# Responses are statistics, but events carry tokens: neither is logged nor traced.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway REST proxy event in, proxy response out."""
    return app.resolve(event, context)
