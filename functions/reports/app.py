"""ReportsFunction: volunteer reports, scrubbed of names and identifying details (P4, P5, P8).

Thin by design: the routes live in `helpline.routes.reports`, the scrubber in `helpline.scrub`,
access rules in `helpline.auth`. Logger only, no Tracer: the request and the answer hold report text,
and the raw text (before scrubbing) must never reach a log or a trace (P5, P8).

Cold start: importing this module does not load the scrubber; the first report does (`get_scrubber`),
from structures prebuilt into the layer. Loaded by file path as well as by Lambda: absolute imports.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline.routes.reports import create_reports_app

logger = Logger()
app = create_reports_app()


# Events carry the raw report text: never logged, whatever the environment says (P5, P8).
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway REST proxy event in, proxy response out."""
    return app.resolve(event, context)
