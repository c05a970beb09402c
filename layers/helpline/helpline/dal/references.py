"""Keyed hashes of provider references -> their contact, in ReferencesTable (key `id`, TTL `expires_at`).

A provider reference (CallSid, Connect ContactId, chat session id, Message-ID) leads back to a person
through the provider, so it is an identifier (P2, P3) and is never stored: the item's key is
`ref#` + the vault's keyed hash of it. The entry lets a provider retry get the answer it got the first
time, and a status callback find its contact, without a KMS call (see `KmsIdentifierVault`).

Items (all with the TTL `expires_at`):

- `ref#<keyed hash>`: `contact_id`, `line_kind`, `sequence` (the last applied provider sequence),
  `started_at`, `allowed`, `contacts_last_24h` as before, and `parts`, the counter that numbers the
  contact's transcript parts (`part_sequence`; absent until the first part, so every entry written
  before it still reads);
- `part#<part key>`: `seq`, the `seq` one transcript part got, so that a redelivery gets it again.
  The part key is a hash of the reference's keyed hash and the provider's message id
  (`logic.conversation.part_key`): neither is stored.
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
PART_PREFIX: Final = "part#"


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

    def release(self, ref_key: str, contact_id: str) -> None:
        """DeleteItem on condition that the entry still names `contact_id` (a later claim is not ours)."""
        try:
            with dynamodb_errors("DeleteItem"):
                self._dynamodb.delete_item(
                    TableName=self._table_name,
                    Key=to_item({"id": KEY_PREFIX + ref_key}),
                    ConditionExpression="#contact = :contact",
                    ExpressionAttributeNames={"#contact": "contact_id"},
                    ExpressionAttributeValues=to_item({":contact": contact_id}),
                )
        except ConditionFailedError:
            return

    def part_sequence(self, ref_key: str, part_key: str, base: int, expires_at: datetime) -> int | None:
        """The part's `seq`: the one remembered under `part_key`, else `base` + the next of the entry's
        counter.

        Race-free without a transaction: the counter is an atomic `ADD` (UpdateItem, on condition the
        entry exists), and the number is remembered by an UpdateItem on condition that the part's item
        has none yet. Of two deliveries of one part that race, the one that loses that condition reads
        the winner's number and uses it (its own counter value stays unused: a gap, not a reordering).
        """
        remembered = self._remembered(part_key)
        if remembered is not None:
            return remembered
        try:
            with dynamodb_errors("UpdateItem"):
                response = self._dynamodb.update_item(
                    TableName=self._table_name,
                    Key=to_item({"id": KEY_PREFIX + ref_key}),
                    UpdateExpression="ADD #parts :one",
                    ConditionExpression="attribute_exists(#id)",
                    ExpressionAttributeNames={"#id": "id", "#parts": "parts"},
                    ExpressionAttributeValues=to_item({":one": 1}),
                    ReturnValues="UPDATED_NEW",
                )
        except ConditionFailedError:
            return None
        number = base + int(from_item(response["Attributes"])["parts"])
        try:
            with dynamodb_errors("UpdateItem"):
                self._dynamodb.update_item(
                    TableName=self._table_name,
                    Key=to_item({"id": PART_PREFIX + part_key}),
                    UpdateExpression="SET #seq = :seq, #expires = :expires",
                    ConditionExpression="attribute_not_exists(#seq)",
                    ExpressionAttributeNames={"#seq": "seq", "#expires": "expires_at"},
                    ExpressionAttributeValues=to_item(
                        {":seq": number, ":expires": int(expires_at.timestamp())}
                    ),
                )
        except ConditionFailedError:
            remembered = self._remembered(part_key)
            if remembered is None:  # expired between the two calls: rare enough to let the caller retry
                raise DependencyError("dynamodb: UpdateItem failed") from None
            return remembered
        return number

    def _remembered(self, part_key: str) -> int | None:
        with dynamodb_errors("GetItem"):
            response = self._dynamodb.get_item(
                TableName=self._table_name, Key=to_item({"id": PART_PREFIX + part_key}), ConsistentRead=True
            )
        seq = from_item(response["Item"]).get("seq") if "Item" in response else None
        return None if seq is None else int(seq)


def reference_index() -> DynamoReferenceIndex:
    """The table named by REFERENCES_TABLE (on the process's shared DynamoDB client)."""
    return DynamoReferenceIndex(get_settings().references_table)
