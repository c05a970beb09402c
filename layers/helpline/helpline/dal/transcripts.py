"""Chat and e-mail transcripts, word for word but encrypted (P8), in TranscriptsTable (contact_id, seq).

Only ciphertext from the `TranscriptSealer` is stored; `expires_at` (the TTL) ends each part with the
identifier retention, so a transcript is not kept longer than what a demand under P7 could need.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from helpline.dal.dynamodb import (
    DynamoTable,
    utc_text,
)
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class DynamoTranscriptStore(DynamoTable):
    """`TranscriptStore` on TranscriptsTable."""

    def __init__(self, table_name: str, retention_days: int, client: DynamoDBClient | None = None) -> None:
        super().__init__(table_name, client)
        self._retention = timedelta(days=retention_days)

    def append(self, contact_id: str, seq: int, sender: str, ciphertext: str, sent_at: datetime) -> bool:
        """Put on condition `attribute_not_exists(seq)`: a redelivered part is not stored twice."""
        item = {
            "contact_id": contact_id,
            "seq": seq,
            "sender": sender,
            "ciphertext": ciphertext,
            "sent_at": utc_text(sent_at),
            "expires_at": int((sent_at + self._retention).timestamp()),
        }
        return self._put_if_absent(item, "seq")


def transcript_store() -> DynamoTranscriptStore:
    """TRANSCRIPTS_TABLE, parts kept IDENTIFIER_RETENTION_DAYS (on the shared DynamoDB client)."""
    settings = get_settings()
    return DynamoTranscriptStore(settings.transcripts_table, settings.identifier_retention_days)
