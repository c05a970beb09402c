"""EmailIntakeFunction: e-mail that SES stored in the mail bucket (helpline.ingress.email).

Loaded by file path as well as by Lambda, so only absolute imports. No Powertools Tracer: the X-Ray
SDK would add a tenth of a second to every cold start on the contact path (bench/ingest.py), and the
function's active tracing (template Globals) still records each invocation.

Every object the notification names is taken in on its own: one that fails does not keep the others
from being registered. If any failed, the invocation fails once all were tried, so the notification
is retried (a retry of those that succeeded is recognised as a redelivery: one contact each). The
error it fails with is `MailIntakeError`, whose message is a count: the exception that made an
intake fail is logged by its type only (and a `DependencyError` by its message, which names the
operation and never a value), and never raised on, since Lambda would log its message and traceback,
and a library's message may quote what it choked on, an address in it (P3).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline import clock, cold_start  # cold_start: the collector paused until cold_start.loaded()
from helpline.dal.mail import S3RawMailStore
from helpline.ingress import email
from helpline.logic.ports import DependencyError
from helpline.wiring import ingest_policy, ingest_ports, transcript_ports

logger = Logger()
mail = S3RawMailStore()


class MailIntakeError(RuntimeError):
    """Some mails of this notification were not taken in; it is retried. Names a count, nothing else."""


# A raw e-mail holds the sender's address and words: never log or trace it (P3, P8).
@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    received = 0
    failed = 0
    for bucket, key in email.objects(event):
        now = clock.now()
        try:
            received += email.receive(bucket, key, mail, ingest_ports, transcript_ports, ingest_policy, now)
        except Exception as error:  # logged by its type, raised below as a count (P3)
            failed += 1
            detail = {"error": type(error).__name__}
            if isinstance(error, DependencyError):
                detail["problem"] = str(error)  # names the operation, never a value (its contract)
            logger.error("Mail not taken in; the notification will be retried", extra=detail)
    if failed:
        raise MailIntakeError(f"{failed} mail(s) not taken in; retrying")
    return {"received": received}


cold_start.loaded()
