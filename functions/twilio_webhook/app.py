"""TwilioWebhookFunction: incoming calls and call status callbacks (helpline.ingress.twilio).

Loaded by file path as well as by Lambda, so only absolute imports. No Powertools Tracer: the X-Ray
SDK would add a tenth of a second to every cold start on the contact path (bench/ingest.py), and the
function's active tracing (template Globals) still records each invocation.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline import clock, cold_start  # cold_start: the collector paused until cold_start.loaded()
from helpline.ingress import twilio
from helpline.wiring import ingest_policy, ingest_ports

logger = Logger()


# Twilio's form carries the caller's number: never log or trace the event or the answer (P2).
@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return twilio.handle(event, ingest_ports, ingest_policy, clock.now())


cold_start.loaded()
