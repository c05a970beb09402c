"""RegistrationBufferFunction: apply work that waited in the buffer queue (P8).

Each SQS message body is one `BufferedWork` as JSON: a registration (an anonymised `ContactRecord`)
or the end of a contact. Storing is idempotent (a redelivery is a
success), and each failed message is reported on its own (ReportBatchItemFailures), so one bad
message does not send the good ones of its batch round again.

A body that is not valid `BufferedWork` will never become valid. It is still reported as failed,
not dropped and not raised: SQS redelivers it until the queue's maxReceiveCount (10 in
template.yaml) and then moves it to the dead-letter queue, whose alarm calls a person to look.
Dropping it would lose a registration silently; raising for the whole batch would retry the good
messages with it. So it cannot be retried forever. Its body is never logged: it may hold the
encrypted identifier, and a malformed one may hold anything (P2, P3).

Retention (P7): a registration that waited past its identifier's retention (`identifier_retain_until`,
counted from the receipt of the contact, not of this message) is stored without its ciphertext: what
is past its date is gone at once, and is not written back only for the sweep to remove it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter, ValidationError

from helpline import clock
from helpline.dal.contacts import contacts_repository
from helpline.logic.registrations import apply_buffered_work
from helpline.logic.retention import without_expired_identifier
from helpline.models.buffer import BufferedEnd, BufferedRegistration, BufferedWork
from helpline.models.contacts import ContactRecord

WORK: TypeAdapter[BufferedWork] = TypeAdapter(BufferedWork)
logger = Logger()
tracer = Tracer()
# Not raising when the whole batch fails: listing every message has the same effect on SQS, and
# keeps out of the function log the per-record tracebacks Powertools would attach to its error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class MalformedRegistrationError(ValueError):
    """The message body is not BufferedWork; the message carries no detail of the body."""


def invalid_fields(error: ValidationError) -> list[str]:
    """Invalid field names for the log; an unknown key is not named, being input itself."""
    known = {
        "kind",
        "record",
        "registration",
        "ended",
        *ContactRecord.model_fields,
        *BufferedEnd.model_fields,
    }
    return sorted(
        {
            ".".join(
                str(part) if part in known else "(other)" for part in detail["loc"] if isinstance(part, str)
            )
            for detail in error.errors()
        }
    )


def record_handler(record: SQSRecord) -> None:
    """Parse one message and apply it once."""
    try:
        work = WORK.validate_json(record.body)
    except ValidationError as error:
        logger.error(
            "Malformed registration: reported as failed, goes to the DLQ after its retries",
            extra={"message_id": record.message_id, "fields": invalid_fields(error)},
        )
        raise MalformedRegistrationError("message body is not buffered work") from None
    if isinstance(work, BufferedRegistration):
        work = BufferedRegistration(record=without_expired_identifier(work.record, clock.now()))
    applied = apply_buffered_work(contacts_repository(), work)
    logger.info(
        "Buffered work applied" if applied else "Buffered work was already applied", extra={"kind": work.kind}
    )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS batch in, `{"batchItemFailures": [{"itemIdentifier": <messageId>}, ...]}` out."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
