"""StatsAggregatorFunction: keeps the statistics aggregates up to date from the contacts stream (P8).

Each contact is counted once, also when the stream redelivers: counting happens on the record that
first has the contact (INSERT), its length on the record where `duration_s` first appears (INSERT with
it, or a MODIFY whose old image lacks it), and the store refuses an application it has made before.
REMOVE records are ignored: a registration that expires stays counted. That is what retention needs:
DynamoDB's TTL deletes a record past its `expires_at` (P8) with a REMOVE whose `userIdentity` is the
service (`{"type": "Service", "principalId": "dynamodb.amazonaws.com"}`), and the retention sweep
removes an expired identifier with a MODIFY that changes no counted field (P7); neither may change
the statistics of the past.

Images are never logged: they hold the encrypted identifier (P2, P3). A record whose image cannot be
read will never become readable; it is logged by field name and skipped, not retried, so it does not
hold up the shard. A storage failure is reported as a batch item failure and retried.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from helpline.dal.stats import statistics_store
from helpline.models.stats import ContactFacts

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def record_handler(record: DynamoDBRecord) -> None:
    """Apply one stream record: count a new contact, add a length that just appeared."""
    change = record.dynamodb
    if change is None or record.event_name is None or record.event_name.name == "REMOVE":
        return
    new_image = change.new_image  # deserialised by Powertools (TypeDeserializer)
    if not new_image:
        return
    try:
        facts = ContactFacts.model_validate(new_image)
    except ValidationError as error:
        fields = sorted({str(detail["loc"][0]) for detail in error.errors() if detail["loc"]})
        known = set(ContactFacts.model_fields)
        logger.error(
            "Unreadable contact image: skipped, not counted",
            extra={"fields": [name if name in known else "(other)" for name in fields]},
        )
        return
    old_image = change.old_image or {}
    store = statistics_store()
    if record.event_name.name == "INSERT" or not old_image:
        counted = store.apply_contact(facts)
        logger.debug("Contact counted" if counted else "Contact was already counted")
    if facts.duration_s is not None and old_image.get("duration_s") is None:
        timed = store.apply_duration(facts)
        logger.debug("Length added" if timed else "Length was already added")


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """DynamoDB stream batch in, `{"batchItemFailures": [{"itemIdentifier": <sequence number>}]}` out."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
