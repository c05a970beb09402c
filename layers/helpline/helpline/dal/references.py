"""Keyed hashes of provider references -> their contact, in ReferencesTable (key `id`, TTL `expires_at`).

A provider reference (CallSid, Connect ContactId, chat session id, Message-ID) leads back to a person
through the provider, so it is an identifier (P2, P3) and is never stored: the item's key is
`ref#` + the vault's keyed hash of it. The entry lets a provider retry get the answer it got the first
time, and a status callback find its contact, without a KMS call (see `KmsIdentifierVault`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from helpline.dal.dynamodb import (
    ConditionFailedError,
    DynamoTable,
    dynamodb_errors,
    from_item,
    to_item,
)
from helpline.logic.ports import DependencyError, ReferenceEntry
from helpline.settings import get_settings

KEY_PREFIX: Final = "ref#"


class DynamoReferenceIndex(DynamoTable):
    """`ReferenceIndex` on ReferencesTable."""

    def claim(self, ref_key: str, entry: ReferenceEntry, expires_at: datetime) -> ReferenceEntry | None:
        """Put on condition `attribute_not_exists(id)`; a retry gets the entry of the first attempt."""
        item: dict[str, Any] = {
            "id": KEY_PREFIX + ref_key,
            "contact_id": entry.contact_id,
            "line_kind": entry.line_kind,
            "sequence": entry.sequence,
            "expires_at": int(expires_at.timestamp()),
        }
        if entry.started_at is not None:
            item["started_at"] = entry.started_at.astimezone(UTC).isoformat()
        if entry.allowed is not None:
            item["allowed"] = entry.allowed
        if entry.contacts_last_24h is not None:
            item["contacts_last_24h"] = entry.contacts_last_24h
        if self._put_if_absent(item, "id"):
            return None
        existing = self.find(ref_key)
        if existing is None:  # deleted between the two calls (TTL): rare enough to let the caller retry
            raise DependencyError("dynamodb: PutItem failed")
        return existing

    def find(self, ref_key: str) -> ReferenceEntry | None:
        """Consistent read: a status callback may arrive milliseconds after the claim."""
        with dynamodb_errors("GetItem"):
            response = self._dynamodb.get_item(
                TableName=self._table_name, Key=to_item({"id": KEY_PREFIX + ref_key}), ConsistentRead=True
            )
        if "Item" not in response:
            return None
        item = from_item(response["Item"])
        last_24h = item.get("contacts_last_24h")
        return ReferenceEntry(
            contact_id=str(item["contact_id"]),
            line_kind=str(item["line_kind"]),
            started_at=datetime.fromisoformat(str(item["started_at"])) if "started_at" in item else None,
            allowed=bool(item["allowed"]) if "allowed" in item else None,
            contacts_last_24h=int(last_24h) if last_24h is not None else None,
            sequence=int(item.get("sequence", -1)),
        )

    def settle(self, ref_key: str, allowed: bool, contacts_last_24h: int | None) -> None:
        """Record the limit outcome (P10) so that a provider retry is answered the same way.

        Conditional on the entry existing, so that an update never creates an entry without a contact;
        if it is gone (expired), there is no retry left to answer and nothing to do.
        """
        values: dict[str, Any] = {":allowed": allowed}
        if contacts_last_24h is None:
            update = "SET allowed = :allowed REMOVE contacts_last_24h"
        else:
            update = "SET allowed = :allowed, contacts_last_24h = :count"
            values[":count"] = contacts_last_24h
        try:
            with dynamodb_errors("UpdateItem"):
                self._dynamodb.update_item(
                    TableName=self._table_name,
                    Key=to_item({"id": KEY_PREFIX + ref_key}),
                    UpdateExpression=update,
                    ConditionExpression="attribute_exists(#id)",
                    ExpressionAttributeNames={"#id": "id"},
                    ExpressionAttributeValues=to_item(values),
                )
        except ConditionFailedError:
            return

    def advance(self, ref_key: str, sequence: int) -> bool:
        """Set the last applied provider sequence on condition it only grows: events that arrive late
        or twice (providers deliver at least once, in any order) are recognised and skipped."""
        try:
            with dynamodb_errors("UpdateItem"):
                self._dynamodb.update_item(
                    TableName=self._table_name,
                    Key=to_item({"id": KEY_PREFIX + ref_key}),
                    UpdateExpression="SET #seq = :seq",
                    ConditionExpression="attribute_exists(#id) AND #seq < :seq",
                    ExpressionAttributeNames={"#id": "id", "#seq": "sequence"},
                    ExpressionAttributeValues=to_item({":seq": sequence}),
                )
        except ConditionFailedError:
            return False
        return True


def reference_index() -> DynamoReferenceIndex:
    """The table named by REFERENCES_TABLE (on the process's shared DynamoDB client)."""
    return DynamoReferenceIndex(get_settings().references_table)
