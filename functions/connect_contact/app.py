"""ConnectContactFunction: invoked by an Amazon Connect contact flow (helpline.ingress.connect).

Loaded by file path as well as by Lambda, so only absolute imports. No Powertools Tracer: the X-Ray
SDK would add a tenth of a second to every cold start on the contact path (bench/ingest.py), and the
function's active tracing (template Globals) still records each invocation.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline import clock, cold_start  # cold_start: the collector paused until cold_start.loaded()
from helpline.ingress import connect
from helpline.wiring import ingest_policy, ingest_ports

logger = Logger()


# The event carries the customer's number: never log or trace it (P2).
@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    return connect.contact_flow(event, ingest_ports, ingest_policy, clock.now())


cold_start.loaded()
