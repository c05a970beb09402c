"""DisclosureStepsFunction: the disclosure workflow's bookkeeping steps (P7); never sees an identifier.

Invoked by the state machine with `{"step", "disclosure_id", "task_token"?}`: ids only. `await_decision`
keeps the task token sealed under DisclosureKey with its SHA-256 (a hash alone could not resume the
workflow; see `logic.disclosures.await_decision`) and tells compliance by SNS, with the request id only.
Loaded by file path as well as by Lambda, so only absolute imports.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from helpline.dal.audit import audit_log
from helpline.dal.disclosure_crypto import token_sealer
from helpline.dal.disclosures import disclosure_store
from helpline.dal.notify import compliance_notifier
from helpline.logic.disclosures import DisclosureError, await_decision, record_outcome, record_requested
from helpline.models.disclosures import StepEvent

logger = Logger()


class DisclosureStepError(Exception):
    """A step could not be done; the message is plain and holds no token (the workflow history keeps it)."""


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One step; answers `{"disclosure_id", "step", "status"}` (ids only)."""
    try:
        request = StepEvent.model_validate(event)
    except ValidationError:
        raise DisclosureStepError("invalid step event") from None
    now = datetime.now(UTC)
    store = disclosure_store()
    logger.append_keys(disclosure_id=request.disclosure_id, step=request.step)
    try:
        if request.step == "record_requested":
            record_requested(request.disclosure_id, store, now)
            status = "requested"
        elif request.step == "await_decision":
            if request.task_token is None:
                raise DisclosureStepError("await_decision needs task_token")
            await_decision(
                request.disclosure_id, request.task_token, store, token_sealer(), compliance_notifier(), now
            )
            status = "awaiting_decision"
        else:
            status = record_outcome(request.step, request.disclosure_id, store, audit_log(), now).status
    except DisclosureError as error:
        logger.warning("Disclosure step refused", extra={"reason": error.reason})
        raise DisclosureStepError(error.reason) from None
    logger.info("Disclosure step done", extra={"status": status})
    return {"disclosure_id": request.disclosure_id, "step": request.step, "status": status}
