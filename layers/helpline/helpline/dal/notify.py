"""Telling compliance a disclosure waits for a decision (COMPLIANCE_TOPIC_ARN, P7).

The message holds the request id and how many approvals it needs: never a token, an identifier or a
contact id (an e-mail subscription would carry it out of the system).
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from helpline import snapstart
from helpline.dal.retries import CALLER_IS_WAITING
from helpline.logic.ports import DependencyError
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient


@cache
def sns_client() -> SNSClient:
    """The process's SNS client (tests call `sns_client.cache_clear()`)."""
    return boto3.session.Session().client("sns", config=CALLER_IS_WAITING)


class SnsComplianceNotifier:
    """`ComplianceNotifier` on an SNS topic."""

    def __init__(self, topic_arn: str, client: SNSClient | None = None) -> None:
        self._topic_arn = topic_arn
        self._client = client

    def awaiting_decision(self, disclosure_id: str, approvals_needed: int) -> None:
        message = {
            "event": "disclosure.awaiting_decision",
            "disclosure_id": disclosure_id,
            "approvals_needed": approvals_needed,
        }
        try:
            (self._client or sns_client()).publish(
                TopicArn=self._topic_arn,
                Subject="A disclosure request awaits a compliance decision",
                Message=json.dumps(message),
            )
        except (ClientError, BotoCoreError):
            raise DependencyError("sns: Publish failed") from None


def compliance_notifier() -> SnsComplianceNotifier:
    """The topic named by COMPLIANCE_TOPIC_ARN."""
    return SnsComplianceNotifier(get_settings().compliance_topic_arn)


# SnapStart: a restored environment makes its own (clients, credentials, cached keys).
snapstart.after_restore(sns_client.cache_clear)
