"""TranscriptsFunction: de-identified transcripts for training, every read audited (P4, P8).

Thin by design: the route lives in `helpline.routes.transcripts`, access rules in `helpline.auth`.
Loaded by file path as well as by Lambda, so only absolute imports.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline.routes.transcripts import create_transcripts_app

logger = Logger()
app = create_transcripts_app()


# Never log events or responses: a response is a conversation (P4), even if scrubbed.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway REST proxy event in, proxy response out."""
    return app.resolve(event, context)
