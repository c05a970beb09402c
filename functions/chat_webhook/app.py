"""ChatWebhookFunction: web chat events (helpline.ingress.chat; format in helpline.providers.chat).

Loaded by file path as well as by Lambda, so only absolute imports. No Powertools Tracer: the X-Ray
SDK would add a tenth of a second to every cold start on the contact path (bench/ingest.py), and the
function's active tracing (template Globals) still records each invocation.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline import clock, cold_start  # cold_start: the collector paused until cold_start.loaded()
from helpline.ingress import chat
from helpline.wiring import ingest_policy, ingest_ports, transcript_ports

logger = Logger()


# Chat events carry the chatter's IP address and words: never log or trace them (P3, P8).
@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return chat.handle(event, ingest_ports, transcript_ports, ingest_policy, clock.now())


cold_start.loaded()
