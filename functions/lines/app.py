"""LinesFunction: the line registry for staff (GET /lines) and admins (PUT and DELETE /lines/{line_id},
GET /lines/changes, POST /lines/changes/{change_id}/approve and /reject: four eyes on what could put
callers on an office line, P11).

Thin by design: the routes live in `helpline.routes.lines`, access rules in `helpline.auth`.
Loaded by file path as well as by Lambda, so only absolute imports.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline.routes.lines import create_lines_app

logger = Logger()
tracer = Tracer()
app = create_lines_app()


# Events and responses carry request bodies: never logged nor traced (P2, P3), whatever the env.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway REST proxy event in, proxy response out."""
    return app.resolve(event, context)
