"""Decrypting transcripts for the training read (P4, P8): TranscriptsTable + the Encryption SDK.

Only the transcripts function may `kms:Decrypt` with the transcript keys, and only with the encryption
context `purpose=contact-transcript` (the key policies). Each part is sealed under the key of the month
we received it in (`helpline.periods`), so the reader opens it with `PeriodKeyDecryptor`: a discovery
provider limited to the account of TRANSCRIPT_KEY_ALIAS_PREFIX, which checks the purpose itself. This
reader checks, in addition, that the contact id sealed inside each part is the one asked for: a
ciphertext copied into another contact's partition is refused, not shown (`TranscriptIntegrityError`).

Order (P8): parts are read in `seq` order, a Query on the sort key. `seq` is numbered so that parts
stored before the per-contact counter (send time * 1000 + CRC) sort before those stored since (send
time * 10^6 + counter, `logic.conversation.PART_COUNTER_SPAN`): both kinds read alike, in order.

Retention (P8): a part whose `expires_at` has passed is gone at once for this reader, before DynamoDB's
TTL or the sweep deletes the row, and before its period key is destroyed; it is not even decrypted.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Protocol

import botocore.session
from pydantic import ValidationError

from helpline import clock, snapstart
from helpline.dal.dynamodb import DynamoTable, dynamodb_errors, from_item, to_item
from helpline.dal.kms import WrongPurposeError, kms_session
from helpline.logic.retention import is_expired
from helpline.models.transcripts import DecryptedPart
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

PURPOSE: Final = "contact-transcript"


class TranscriptIntegrityError(RuntimeError):
    """A stored part is not what it claims to be (wrong context or contact): nothing is returned."""


class Decryptor(Protocol):
    """`helpline.dal.envelope.PeriodKeyDecryptor`: a raw Encryption SDK message in, its plaintext out."""

    def decrypt(self, blob: bytes) -> bytes: ...


class KmsTranscriptReader(DynamoTable):
    """`TranscriptReader` on TranscriptsTable and the per-period transcript keys."""

    def __init__(
        self,
        table_name: str,
        transcript_key_alias_prefix: str,
        client: DynamoDBClient | None = None,
        session: botocore.session.Session | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """`now`: the clock expiry is judged by (default `helpline.clock.now`, looked up at each read)."""
        super().__init__(table_name, client)
        self._alias_prefix = transcript_key_alias_prefix
        self._session = session
        self._now = now
        self._decryptor: Decryptor | None = None
        self._lock = threading.Lock()

    def read(self, contact_id: str) -> list[DecryptedPart]:
        """Every part of the contact still within its retention, in seq order, decrypted and checked."""
        now = self._now() if self._now is not None else clock.now()
        live = [item for item in self._items(contact_id) if not is_expired(_expiry(item), now)]
        return [self._decrypt(contact_id, item) for item in live]

    def _items(self, contact_id: str) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "#contact = :contact",
            "ExpressionAttributeNames": {"#contact": "contact_id"},
            "ExpressionAttributeValues": to_item({":contact": contact_id}),
            "ScanIndexForward": True,
        }
        items: list[dict[str, Any]] = []
        while True:
            with dynamodb_errors("Query"):
                response = self._dynamodb.query(**request)
            items.extend(from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _decrypt(self, contact_id: str, item: dict[str, Any]) -> DecryptedPart:
        try:
            plaintext = self._period_decryptor().decrypt(base64.b64decode(str(item["ciphertext"])))
        except WrongPurposeError:
            raise TranscriptIntegrityError("transcript part has the wrong encryption context") from None
        try:
            payload = json.loads(plaintext)
        except ValueError:
            raise TranscriptIntegrityError("transcript part is not a sealed message") from None
        if not isinstance(payload, dict) or payload.get("contact_id") != contact_id:
            raise TranscriptIntegrityError("transcript part belongs to another contact")
        try:
            return DecryptedPart(
                sender=payload.get("sender"), sent_at=item["sent_at"], text=payload.get("text")
            )
        except ValidationError:
            raise TranscriptIntegrityError("transcript part is malformed") from None

    def _period_decryptor(self) -> Decryptor:
        """The decryptor, made on the first part to open: only a read loads the Encryption SDK."""
        with self._lock:
            if self._decryptor is None:
                from helpline.dal.envelope import PeriodKeyDecryptor

                self._decryptor = PeriodKeyDecryptor(
                    self._alias_prefix, PURPOSE, self._session or kms_session()
                )
            return self._decryptor


def _expiry(item: dict[str, Any]) -> int | None:
    value = item.get("expires_at")
    return None if value is None else int(value)


@cache
def transcript_reader() -> KmsTranscriptReader:
    """The process's reader (TRANSCRIPTS_TABLE, TRANSCRIPT_KEY_ALIAS_PREFIX), so its data-key cache is
    reused. Tests call `transcript_reader.cache_clear()`."""
    settings = get_settings()
    return KmsTranscriptReader(settings.transcripts_table, settings.transcript_key_alias_prefix)


# SnapStart: a restored environment makes its own (clients, credentials, cached keys).
snapstart.after_restore(transcript_reader.cache_clear)
