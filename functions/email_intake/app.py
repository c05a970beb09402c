"""EmailIntakeFunction: e-mail that SES stored in the mail bucket (helpline.ingress.email).

Loaded by file path as well as by Lambda, so only absolute imports. No Powertools Tracer: the X-Ray
SDK would add a tenth of a second to every cold start on the contact path (bench/ingest.py), and the
function's active tracing (template Globals) still records each invocation.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline import clock
from helpline.dal.mail import S3RawMailStore
from helpline.ingress import email
from helpline.wiring import ingest_policy, ingest_ports, transcript_ports

logger = Logger()
mail = S3RawMailStore()


# A raw e-mail holds the sender's address and words: never log or trace it (P3, P8).
@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    received = 0
    for bucket, key in email.objects(event):
        now = clock.now()
        received += email.receive(bucket, key, mail, ingest_ports, transcript_ports, ingest_policy, now)
    return {"received": received}
