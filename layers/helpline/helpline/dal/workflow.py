"""The disclosure state machine (DISCLOSURE_STATE_MACHINE_ARN): start it, and resume a waiting task.

States pass ids, never values (P2, P3): the input is `{"disclosure_id", "approval_timeout_seconds",
"custodian_poll_seconds"}` (the second how long compliance has, the third how long the workflow waits
between asking the custodian, CUSTODIAN_POLL_SECONDS), a decision's output `{"decision": "approved"}`.
The execution is named after the disclosure id, so a request cannot start two executions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from helpline import snapstart
from helpline.dal.retries import CALLER_IS_WAITING
from helpline.logic.disclosures import TaskTokenGone
from helpline.logic.ports import DependencyError
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.client import SFNClient

_TOKEN_GONE: Final = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


@cache
def stepfunctions_client() -> SFNClient:
    """The process's Step Functions client (tests call `stepfunctions_client.cache_clear()`)."""
    return boto3.session.Session().client("stepfunctions", config=CALLER_IS_WAITING)


class StepFunctionsWorkflow:
    """`Workflow` on Step Functions."""

    def __init__(
        self, state_machine_arn: str, custodian_poll_seconds: int, client: SFNClient | None = None
    ) -> None:
        self._arn = state_machine_arn
        self._custodian_poll_seconds = custodian_poll_seconds
        self._client = client

    @property
    def _sfn(self) -> SFNClient:
        return self._client if self._client is not None else stepfunctions_client()

    def start(self, disclosure_id: str, approval_timeout_seconds: int) -> None:
        payload = {
            "disclosure_id": disclosure_id,
            "approval_timeout_seconds": approval_timeout_seconds,
            "custodian_poll_seconds": self._custodian_poll_seconds,
        }
        try:
            self._sfn.start_execution(
                stateMachineArn=self._arn, name=disclosure_id, input=json.dumps(payload)
            )
        except (ClientError, BotoCoreError):
            raise DependencyError("states: StartExecution failed") from None

    def succeed(self, task_token: str, output: Mapping[str, Any]) -> None:
        try:
            self._sfn.send_task_success(taskToken=task_token, output=json.dumps(dict(output)))
        except ClientError as error:
            _raise_for(error, "SendTaskSuccess")
        except BotoCoreError:
            raise DependencyError("states: SendTaskSuccess failed") from None

    def fail(self, task_token: str, error: str, cause: str) -> None:
        try:
            self._sfn.send_task_failure(taskToken=task_token, error=error, cause=cause)
        except ClientError as failure:
            _raise_for(failure, "SendTaskFailure")
        except BotoCoreError:
            raise DependencyError("states: SendTaskFailure failed") from None


def _raise_for(error: ClientError, operation: str) -> None:
    """TaskTokenGone when the workflow no longer waits; else DependencyError naming the operation only."""
    if error.response.get("Error", {}).get("Code") in _TOKEN_GONE:
        raise TaskTokenGone(operation) from None
    raise DependencyError(f"states: {operation} failed") from None


def workflow() -> StepFunctionsWorkflow:
    """The state machine named by DISCLOSURE_STATE_MACHINE_ARN, polling the custodian every
    CUSTODIAN_POLL_SECONDS (default 300)."""
    settings = get_settings()
    return StepFunctionsWorkflow(settings.disclosure_state_machine_arn, settings.custodian_poll_seconds)


# SnapStart: a restored environment makes its own (clients, credentials, cached keys).
snapstart.after_restore(stepfunctions_client.cache_clear)
