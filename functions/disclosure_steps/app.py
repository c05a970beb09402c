"""DisclosureStepsFunction: the disclosure workflow's bookkeeping steps (P7); never sees an identifier.

Invoked by the state machine with `{"step", "disclosure_id", "task_token"?, "decided_by"?, "decided_at"?,
"reason"?}`: ids, and the custodian officer's decision as the custodian answered it. `await_decision`
keeps the task token sealed under DisclosureKey with its SHA-256 (a hash alone could not resume the
workflow; see `logic.disclosure_workflow.await_decision`) and tells compliance by SNS, with the
request id only.
`prepare_release` answers what the custodian is asked to release (ids, basis, grounds, approvers), which
the workflow hands to the custodian's release intake. `record_decrypted`, `record_refused`,
`record_expired` and `record_erased` put the custodian's answer on the request's timeline and the audit
chain. Loaded by file path as well as by Lambda, so only absolute imports.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from helpline import clock
from helpline.dal.audit import audit_log
from helpline.dal.disclosure_crypto import token_sealer
from helpline.dal.disclosures import disclosure_store
from helpline.dal.notify import compliance_notifier
from helpline.logic.disclosure_workflow import (
    await_decision,
    prepare_release,
    record_decrypted,
    record_outcome,
    record_refused,
    record_requested,
)
from helpline.logic.disclosures import DisclosureError
from helpline.models.disclosures import StepEvent

logger = Logger()


class DisclosureStepError(Exception):
    """A step could not be done; the message is plain and holds no token (the workflow history keeps it)."""


def _officer(request: StepEvent) -> tuple[str, datetime]:
    """Who at the custodian decided, and when, as its decrypt function answered."""
    if request.decided_by is None or request.decided_at is None:
        raise DisclosureStepError(f"{request.step} needs decided_by and decided_at")
    return request.decided_by, request.decided_at


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One step; answers `{"disclosure_id", "step", "status"}` (ids only), or for `prepare_release` the
    release request `{"disclosure_id", "contact_id", "basis", "grounds", "approved_by", "approved_at"}`."""
    try:
        request = StepEvent.model_validate(event)
    except ValidationError:
        raise DisclosureStepError("invalid step event") from None
    now = clock.now()
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
        elif request.step == "prepare_release":
            release = prepare_release(request.disclosure_id, store, audit_log(), now)
            logger.info("Disclosure step done", extra={"status": "awaiting_custodian"})
            prepared: dict[str, Any] = release.model_dump(mode="json")
            return prepared
        elif request.step == "record_decrypted":
            decided_by, decided_at = _officer(request)
            status = record_decrypted(
                request.disclosure_id, decided_by, decided_at, store, audit_log(), now
            ).status
        elif request.step == "record_refused":
            decided_by, decided_at = _officer(request)
            if request.reason is None:
                raise DisclosureStepError("record_refused needs the custodian officer's reason")
            status = record_refused(
                request.disclosure_id, decided_by, decided_at, request.reason, store, audit_log(), now
            ).status
        else:
            status = record_outcome(request.step, request.disclosure_id, store, audit_log(), now).status
    except DisclosureError as error:
        logger.warning("Disclosure step refused", extra={"reason": error.reason})
        raise DisclosureStepError(error.reason) from None
    logger.info("Disclosure step done", extra={"status": status})
    return {"disclosure_id": request.disclosure_id, "step": request.step, "status": status}
