"""Chat and e-mail transcripts, word for word but encrypted (P8), in TranscriptsTable (contact_id, seq).

Only ciphertext from the `TranscriptSealer` is stored. Every row carries `expires_at`, the table's TTL:
midnight UTC of our receipt day + TRANSCRIPT_RETENTION_DAYS, computed by the domain
(`logic.retention.expiry_epoch`) from our clock, never from the provider's time (an e-mail dated 2150
would otherwise be kept for a century, one dated 1970 would get a TTL DynamoDB never acts on). Readers
treat a row as gone from that moment (`dal.transcript_reader`); the sweep and the table's TTL delete it.

`seq` (the sort key) is the part's place in its transcript, given by the domain: its send time in ms
times `logic.conversation.PART_COUNTER_SPAN` plus a per-contact counter (`dal.references.part_sequence`).
Rows written before that counter carry send time in ms * 1000 + a CRC of the part id: smaller than
every `seq` now, so they sort first and read as before.
"""

from __future__ import annotations

from datetime import datetime

from helpline.dal.dynamodb import (
    DynamoTable,
    utc_text,
)
from helpline.settings import get_settings


class DynamoTranscriptStore(DynamoTable):
    """`TranscriptStore` on TranscriptsTable."""

    def append(
        self, contact_id: str, seq: int, sender: str, ciphertext: str, sent_at: datetime, expires_at: int
    ) -> bool:
        """Put on condition `attribute_not_exists(seq)`: a redelivered part is not stored twice."""
        item = {
            "contact_id": contact_id,
            "seq": seq,
            "sender": sender,
            "ciphertext": ciphertext,
            "sent_at": utc_text(sent_at),
            "expires_at": expires_at,
        }
        return self._put_if_absent(item, "seq")


def transcript_store() -> DynamoTranscriptStore:
    """TRANSCRIPTS_TABLE (on the shared DynamoDB client)."""
    return DynamoTranscriptStore(get_settings().transcripts_table)
