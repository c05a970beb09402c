"""ReleaseIntakeFunction: the custodian takes in a release the organisation approved (P3, P7).

Invoked by the organisation's state machine (RequestCustodianRelease) with the `prepare_release` answer:
ids, the basis and its grounds, the approvers. It creates the custodian's own `pending` release, once,
with a deadline of RELEASE_CONFIRMATION_HOURS (or _SECONDS); a custodian officer decides on it through
the custodian API. Nothing here decrypts or can confirm: the organisation may ask, never decide.

Answers `{"disclosure_id", "status": "pending"}`. Errors are plain and hold ids at most. Loaded by file
path as well as by Lambda, so only absolute imports.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from helpline import clock
from helpline.dal.releases import release_store
from helpline.logic.releases import ReleaseError, take_in
from helpline.models.releases import ReleaseAccepted, ReleaseRequest
from helpline.settings import get_settings

logger = Logger()


class ReleaseIntakeFailed(Exception):
    """The release could not be taken in; the message is plain (the workflow's history keeps it)."""


def _fields(error: ValidationError) -> list[str]:
    """The declared fields that were wrong: never a value, nor an unexpected key's name (that is input
    too), since the message lands in the workflow's history."""
    return sorted(
        {
            "(unexpected field)"
            if problem["type"] == "extra_forbidden"
            else ".".join(str(part) for part in problem["loc"]) or "(grounds for the basis)"
            for problem in error.errors()
        }
    )


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    """`ReleaseRequest` in; `{"disclosure_id", "status": "pending"}` out."""
    try:
        request = ReleaseRequest.model_validate(event)
    except ValidationError as error:
        raise ReleaseIntakeFailed(f"invalid release request: {', '.join(_fields(error))}") from None
    logger.append_keys(disclosure_id=request.disclosure_id)
    try:
        take_in(request, release_store(), get_settings().release_confirmation_seconds, clock.now())
    except ReleaseError as error:
        logger.warning("Release not taken in", extra={"reason": error.reason})
        raise ReleaseIntakeFailed(error.reason) from None
    logger.info("Release pending", extra={"basis": request.basis})
    return ReleaseAccepted(disclosure_id=request.disclosure_id, status="pending").model_dump()
