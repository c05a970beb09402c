"""DisclosuresFunction: disclosure requests, their state, and the one-time delivery (P6, P7).

Compliance decisions are DisclosureDecisionsFunction's, whose role alone may resume the workflow.
Thin by design: the routes live in `helpline.routes.disclosures`, the steps in
`helpline.logic.disclosure_requests` (the grounds in `helpline.logic.disclosure_grounds`), access rules
in `helpline.auth`. Loaded by file path as well as by Lambda, so only absolute imports.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline.routes.disclosures import create_disclosures_app

logger = Logger()
app = create_disclosures_app()


# Never log events or responses: a result response carries the disclosed identifier (P7).
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway REST proxy event in, proxy response out."""
    return app.resolve(event, context)
