"""CustodianReleasesFunction: the custodian officers' confirmation API (P3, P7), in the custodian's account.

Thin by design: the routes and the custodian's permission table are in `helpline.custodian_api`, the
rules in `helpline.logic.releases`. Loaded by file path as well as by Lambda, so only absolute imports.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline.custodian_api import create_custodian_app

logger = Logger()
app = create_custodian_app()


# Events are not logged: a decision's body is free text an officer typed.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway REST proxy event in, proxy response out."""
    return app.resolve(event, context)
