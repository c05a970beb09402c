"""Deliver the template's non-HTTP event sources to in-process handlers, as the Lambda service would.

- SQS: poll the queue, invoke with a batch, delete what succeeded; with `ReportBatchItemFailures` only
  the reported items stay; a failed message becomes visible again after a short local retry delay and
  moves to its dead-letter queue after the queue's `maxReceiveCount`, by the queue's own redrive policy.
- DynamoDB Streams: read each shard from its starting position; a failing batch is retried, blocking the
  shard, until it succeeds or `MaximumRetryAttempts` is spent.
- S3 notifications and EventBridge rules: the embedded stand-in delivers them to a hidden SQS queue that
  this module drains, one asynchronous invocation per event, retried twice like Lambda's async invoke.
- Schedules (`rate(...)`): a timer invokes the handler with a scheduled event.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local_stack.lambdas import FunctionError, LambdaRuntime

log = logging.getLogger("local_stack.events")
ASYNC_ATTEMPTS = 3


@dataclass
class PollerSettings:
    retry_delay_s: int = 1
    wait_s: int = 1


class Poller(threading.Thread):
    """A daemon thread that runs `poll_once` until stopped."""

    def __init__(self, name: str, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self._stop_event = stop

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                worked = self.poll_once()
            except Exception:  # the stand-in may be stopping; never kill the poller over it
                log.exception("poller %s failed; retrying", self.name)
                worked = False
            if not worked:
                self._stop_event.wait(0.2)

    def poll_once(self) -> bool:
        raise NotImplementedError


def _sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "dataType": value.get("DataType"),
                "stringListValues": [],
                "binaryListValues": [],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class SqsEventSource(Poller):
    """An SQS event source mapping."""

    def __init__(
        self,
        *,
        sqs: Any,
        runtime: LambdaRuntime,
        function_name: str,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        report_batch_item_failures: bool,
        settings: PollerSettings,
        stop: threading.Event,
    ) -> None:
        super().__init__(f"sqs:{queue_arn.rsplit(':', 1)[-1]}->{function_name}", stop)
        self._sqs, self._runtime, self._function = sqs, runtime, function_name
        self._url, self._arn = queue_url, queue_arn
        self._batch = max(1, min(batch_size, 10))
        self._partial = report_batch_item_failures
        self._settings = settings

    def poll_once(self) -> bool:
        messages = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=self._batch,
            WaitTimeSeconds=self._settings.wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return False
        region = self._arn.split(":")[3]
        event = {"Records": [_sqs_record(m, self._arn, region) for m in messages]}
        try:
            result = self._runtime.invoke(self._function, event)
        except FunctionError:
            failed = {m["MessageId"] for m in messages}
        else:
            failed = set()
            if self._partial and isinstance(result, dict):
                failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(
                    QueueUrl=self._url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self._settings.retry_delay_s,
                )
            else:
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        return True


class AsyncQueueEventSource(Poller):
    """Drains a hidden queue that S3 or EventBridge delivers to: one async invocation per event."""

    def __init__(
        self,
        *,
        sqs: Any,
        runtime: LambdaRuntime,
        function_name: str,
        queue_url: str,
        unwrap: Callable[[dict[str, Any]], dict[str, Any] | None],
        settings: PollerSettings,
        stop: threading.Event,
        attempts: int = ASYNC_ATTEMPTS,
        on_failure_queue_url: str | None = None,
    ) -> None:
        super().__init__(f"async:{function_name}", stop)
        self._sqs, self._runtime, self._function = sqs, runtime, function_name
        self._url, self._unwrap, self._settings = queue_url, unwrap, settings
        self._attempts, self._on_failure = attempts, on_failure_queue_url

    def poll_once(self) -> bool:
        messages = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=self._settings.wait_s,
            AttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        for message in messages:
            event = self._unwrap(json.loads(message["Body"]))
            done = True
            if event is not None:
                try:
                    self._runtime.invoke(self._function, event)
                except FunctionError:
                    attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                    done = attempts >= self._attempts
                    if done:
                        self._give_up(event, attempts)
            if done:
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
            else:
                self._sqs.change_message_visibility(
                    QueueUrl=self._url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self._settings.retry_delay_s,
                )
        return bool(messages)

    def _give_up(self, event: dict[str, Any], attempts: int) -> None:
        """As Lambda does after the last retry: to the on-failure destination, or discarded."""
        if self._on_failure is None:
            log.error("%s failed %d times; event discarded", self._function, attempts)
            return
        record = {
            "version": "1.0",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "requestContext": {
                "functionArn": self._function,
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        }
        self._sqs.send_message(QueueUrl=self._on_failure, MessageBody=json.dumps(record))
        log.error("%s failed %d times; event sent to its on-failure destination", self._function, attempts)


def unwrap_s3(body: dict[str, Any]) -> dict[str, Any] | None:
    """S3 delivers `{"Records": [...]}`; its one-off `s3:TestEvent` is not for the function."""
    return None if body.get("Event") == "s3:TestEvent" else body


def unwrap_eventbridge(body: dict[str, Any]) -> dict[str, Any] | None:
    """EventBridge puts the event itself on an SQS target."""
    return body


class DynamoDbStreamEventSource(Poller):
    """A DynamoDB Streams event source mapping over every shard of one table's stream."""

    def __init__(
        self,
        *,
        streams: Any,
        runtime: LambdaRuntime,
        function_name: str,
        stream_arn: str,
        starting_position: str,
        batch_size: int,
        max_retries: int,
        settings: PollerSettings,
        stop: threading.Event,
    ) -> None:
        super().__init__(f"stream:{function_name}", stop)
        self._streams, self._runtime, self._function = streams, runtime, function_name
        self._arn, self._start = stream_arn, starting_position
        self._batch, self._max_retries, self._settings = batch_size, max_retries, settings
        self._iterators: dict[str, str | None] = {}
        self._failures = 0

    def _refresh_shards(self) -> None:
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType=self._start
                )["ShardIterator"]

    def poll_once(self) -> bool:
        self._refresh_shards()
        worked = False
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            response = self._streams.get_records(ShardIterator=iterator, Limit=self._batch)
            records = response.get("Records", [])
            if records and not self._deliver(records):
                continue  # keep the same iterator: the batch is retried
            self._iterators[shard_id] = response.get("NextShardIterator")
            worked = worked or bool(records)
        return worked

    def _deliver(self, records: list[dict[str, Any]]) -> bool:
        for record in records:
            record.setdefault("eventSourceARN", self._arn)
        try:
            self._runtime.invoke(self._function, {"Records": records})
        except FunctionError:
            self._failures += 1
            if 0 <= self._max_retries < self._failures:
                log.error("%s: stream batch skipped after %d attempts", self._function, self._failures)
                self._failures = 0
                return True
            self._stop_event.wait(self._settings.retry_delay_s)
            return False
        self._failures = 0
        return True


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    """Seconds between runs of a `rate(...)` schedule; None for a `cron(...)` expression."""
    match = _RATE.fullmatch(expression.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


class ScheduleEventSource(Poller):
    """Invokes a handler on a `rate(...)` schedule with an EventBridge scheduled event."""

    def __init__(
        self,
        *,
        runtime: LambdaRuntime,
        function_name: str,
        every_s: int,
        rule_arn: str,
        region: str,
        account: str,
        stop: threading.Event,
        payload: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"schedule:{function_name}", stop)
        self._runtime, self._function, self._every = runtime, function_name, every_s
        self._rule_arn, self._region, self._account = rule_arn, region, account
        self._payload = payload
        self._next = time.monotonic() + every_s
        self._lock = threading.Lock()

    @property
    def function_name(self) -> str:
        return self._function

    def poll_once(self) -> bool:
        if time.monotonic() < self._next:
            return False
        self._next += self._every
        with contextlib.suppress(FunctionError):  # logged by the runtime; the next tick runs again
            self.run_now()
        return True

    def run_now(self) -> Any:
        """One run, now (at start-up, and when the rehearsal clock moves); a failure raises.

        With the schedule's `Input` the function gets that JSON, as EventBridge sends it; else a
        scheduled event. One run at a time, as a schedule's runs rarely overlap.
        """
        if self._payload is not None:
            with self._lock:
                return self._runtime.invoke(self._function, self._payload)
        event = {
            "version": "0",
            "id": str(time.time_ns()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self._account,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": self._region,
            "resources": [self._rule_arn],
            "detail": {},
        }
        with self._lock:
            return self._runtime.invoke(self._function, event)
