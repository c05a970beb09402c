"""AuditCheckpointFunction: every 5 minutes, anchors the audit chain's head outside the table (P7).

P7 wants every step of a disclosure on a tamper-evident record; a record its own table writer can
shorten or rewrite is not one. So this function reads the head of the chain (seq and hash), and if it
moved since the last checkpoint, has the custodian's KMS key sign it and writes it to the custodian's
write-once bucket (Object Lock, compliance mode), where nobody in the organisation's account can
delete or change it (`helpline.logic.audit_checkpoints.take_checkpoint`). A deletion or rewrite of
anything anchored is then found by `GET /audit/verify` and the offline verifier; what is newer than
the last checkpoint is at most one schedule interval old.

The answer is the outcome and a seq only. Loaded by file path as well as by Lambda, so only absolute
imports.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline import clock
from helpline.dal.audit import audit_log
from helpline.dal.checkpoints import checkpoint_signer, checkpoint_store
from helpline.logic.audit_checkpoints import take_checkpoint
from helpline.settings import get_settings

logger = Logger()


@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A scheduled event in (its content is not read), what was done out."""
    result = take_checkpoint(
        audit_log(),
        checkpoint_store(),
        checkpoint_signer(),
        clock.now(),
        get_settings().audit_checkpoint_retention_days,
    )
    answer = result.model_dump()
    logger.info("Audit checkpoint", extra=answer)
    return answer
