"""DisclosureDecisionsFunction: a compliance officer approves or rejects a disclosure request (P7).

A function of its own so that its role is the only one that may resume the disclosure workflow
(`states:SendTaskSuccess`/`SendTaskFailure`) and open the sealed task token: the function that takes
requests and hands out results cannot. The routes are the disclosures routes (`helpline.routes.
disclosures`); API Gateway sends only `POST /disclosures/{id}/approve` and `/reject` here. A decision is
recorded first and carried out after (`helpline.logic.disclosure_decisions`): when telling the workflow
fails, the same decision again tells it. Loaded by file path as well as by Lambda, so only absolute
imports.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline.routes.disclosures import create_disclosures_app

logger = Logger()
app = create_disclosures_app()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway REST proxy event in, proxy response out."""
    return app.resolve(event, context)
