"""E-mail: SES stores the raw message in the mail bucket, S3 notifies us, we register and encrypt.

The raw message holds the sender's address in clear, so it is deleted from the bucket as soon as the
registration and the encrypted body are stored (P3): every version of it, because the bucket is
versioned and a plain delete would only hide the message behind a delete marker. A mail that cannot be
understood is deleted the same way (it is logged by its problem, never its content). A failure raises,
so the notification is retried and nothing is lost; the object then stays until a retry succeeds (or
the bucket's lifecycle removes what an intake that never succeeded left behind).

Retention is counted from `now`, our receipt (`helpline.clock.now()`), never from the `Date:` header.

A helpline mail's body is kept encrypted (P8) if the person was let through; an office mail's body is
kept with the office contact, in clear, for its purpose (P11). Whether SES authenticated the sender
decides only whether the mail counts toward the daily limit (`logic.ingest`), never whether it is
taken in: fail open for people. Nothing here logs a header: SES's verdict headers hold the address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger

from helpline.logic.conversation import TranscriptPorts, add_transcript_part
from helpline.logic.ingest import IngestPolicy, IngestPorts, RegistrationNotKeptError, admit_contact
from helpline.metrics import count_admission
from helpline.providers import email
from helpline.providers.errors import MalformedEvent

logger = Logger(child=True)


class RawMailStore(Protocol):
    def read(self, bucket: str, key: str) -> bytes: ...

    def delete_every_version(self, bucket: str, key: str) -> int:
        """Delete every version and delete marker of the object; how many were deleted."""
        ...


def objects(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of every object an S3 notification names; keys arrive URL-encoded."""
    return [
        (record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"]))
        for record in event.get("Records", [])
        if str(record.get("eventName", "")).startswith("ObjectCreated")
    ]


def receive(
    bucket: str,
    key: str,
    mail: RawMailStore,
    ports: Callable[[], IngestPorts],
    transcripts: Callable[[], TranscriptPorts],
    policy: Callable[[], IngestPolicy],
    now: datetime,
) -> bool:
    """Register one e-mail and keep its body encrypted; True if it was a helpline contact.

    Only once both are stored (or the mail is found unreadable) is the raw object deleted, every
    version of it (P3); any failure before that raises, so the notification is retried. A
    registration is all or nothing (`logic.ingest`): when it fails, its claims are given back before
    this raises, so the retry registers the mail afresh and never keeps a body under a contact that
    was not registered.
    """
    raw = mail.read(bucket, key)
    try:
        started, body = email.parse_message(raw, now)
    except MalformedEvent as error:
        logger.error("Mail not understood; deleted", extra={"problem": error.problem})
        mail.delete_every_version(bucket, key)
        return False
    current_policy = policy()
    admission = admit_contact(started, ports(), current_policy, now, office_text=body.text)
    count_admission(started.channel, admission)
    if not admission.kept:
        # Neither stored nor buffered (its reference and limit slot were given back): the retried
        # notification registers it afresh. Its body must not be kept under a contact that exists
        # nowhere, and the raw mail stays until then.
        raise RegistrationNotKeptError("mail registration not kept")
    helpline = admission.line_kind != "office"
    if helpline and admission.allowed:
        add_transcript_part(body, transcripts(), current_policy, now)
    versions = mail.delete_every_version(bucket, key)
    logger.info(
        "Mail registered",
        extra={
            "contact_id": admission.contact_id,
            "allowed": admission.allowed,
            "sender_authenticated": started.sender_authenticated,
            "versions_deleted": versions,
        },
    )
    return helpline
