"""The registration buffer: work that storage refused waits in RegistrationBufferQueue (SQS).

Fail open for people, closed for data: a caller is connected even when DynamoDB is down, and what
could not be stored is queued to be retried until stored. A message never holds an identifier in
clear (P2, P3): `BufferedWork` carries only the anonymised record or a contact id.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from helpline import snapstart
from helpline.dal.retries import CALLER_IS_WAITING
from helpline.logic.ports import DependencyError
from helpline.models.buffer import BufferedWork
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient


@cache
def sqs_client() -> SQSClient:
    """The process's SQS client, created on first use (tests call `sqs_client.cache_clear()`).

    A session of its own (boto3's default session is not thread-safe) and short timeouts: the buffer
    is used while a caller waits, after storage has already failed once.
    """
    return boto3.session.Session().client("sqs", config=CALLER_IS_WAITING)


class SqsRegistrationBuffer:
    """`RegistrationBuffer` on an SQS queue."""

    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self._queue_url = queue_url
        self._client = client

    def defer(self, message: BufferedWork) -> None:
        """Send the work as JSON; DependencyError (no AWS message) when even the queue fails."""
        client = self._client if self._client is not None else sqs_client()
        try:
            client.send_message(QueueUrl=self._queue_url, MessageBody=message.model_dump_json())
        except (ClientError, BotoCoreError):
            raise DependencyError("sqs: SendMessage failed") from None


def registration_buffer() -> SqsRegistrationBuffer:
    """The queue named by REGISTRATION_BUFFER_QUEUE_URL."""
    return SqsRegistrationBuffer(get_settings().registration_buffer_queue_url)


# SnapStart: a restored environment makes its own (clients, credentials, cached keys).
snapstart.after_restore(sqs_client.cache_clear)
