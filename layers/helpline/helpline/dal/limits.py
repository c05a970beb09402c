"""The daily limit (P10) in DynamoDB: slots in ContactLimitTable (pk, sk; TTL expires_at), linking nothing.

A person who may make `limit` contacts in a rolling 24 hours owns `limit` slots. Admitting a contact
claims a free slot (none, or one whose `expires_at` has passed) and sets `expires_at` to 24 hours after
the hour it was made in, which is also the TTL.

Nothing stored here can be joined to a contact, a report or a transcript, nor can one person's slots be
grouped (P10: the system knows how often someone makes contact without knowing who; DESIGN):

- a slot's key is a hash of the pseudonym and the slot number, so the pseudonym is stored nowhere and
  two slots of one person share nothing; only ingest, which can compute the pseudonym (a KMS MAC of the
  identifier), can find them again;
- a slot's only other attribute, its expiry, is a whole hour: it cannot be matched to the second to a
  contact's `started_at` or a reference's expiry.

The price: a slot frees on the hour after 24 hours, up to an hour later than a to-the-second window.

Race-free: a slot is claimed only by a PutItem on condition `attribute_not_exists(pk) OR
expires_at <= :now`, and DynamoDB applies conditional writes to one item one at a time. So each live
slot was claimed by exactly one contact, and there are never more than `limit` live slots: two
simultaneous contacts of one person cannot both take the last slot. The one that loses the condition
reads again and tries another slot, or is refused when none is left.

A slot whose contact could not be kept (neither stored nor buffered) is given back (`release`, a
conditional DeleteItem): a contact that exists nowhere does not count against the person (P10).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Final

from helpline.dal.dynamodb import (
    ConditionFailedError,
    DynamoTable,
    dynamodb_errors,
    from_item,
    to_item,
)
from helpline.logic.ports import DependencyError
from helpline.settings import get_settings

WINDOW: Final = timedelta(hours=24)
HOUR_S: Final = 3600
SLOT_SK: Final = "slot"
SLOTS_READ: Final = 10
"""Slots read on each admission, at least the limit: a lowered limit still sees the slots taken before."""
SLOTS_RELEASE_READ: Final = 100
"""Slots read to find the one to give back: every slot a line's limit (at most 50) can use, in one
BatchGetItem (at most 100 keys)."""
EXTRA_ROUNDS: Final = 5
"""Rounds beyond `limit` before giving up: each lost round means a concurrent contact took a slot."""


def slot_key(pseudonym: str, slot: int) -> str:
    """SHA-256 of the pseudonym and the slot number: the key of one slot, and nothing else in common."""
    return hashlib.sha256(f"helpline:limit-slot:v1:{pseudonym}:{slot}".encode()).hexdigest()


def slot_expiry(now_s: int) -> int:
    """24 hours after the start of the hour after `now_s` (a whole hour, so it joins to no second)."""
    return -(-now_s // HOUR_S) * HOUR_S + int(WINDOW.total_seconds())


class DynamoLimitCounter(DynamoTable):
    """`LimitCounter` on ContactLimitTable."""

    def admit(self, pseudonym: str, limit: int, now: datetime) -> tuple[bool, int]:
        """Claim a slot unless `limit` are live; (allowed, contacts in the last 24 h incl. this one).

        Raises `DependencyError` when DynamoDB fails, or when slots keep being taken under us (the
        domain then fails open for the person, as for any storage failure).
        """
        now_s = int(now.timestamp())
        for _round in range(limit + EXTRA_ROUNDS):
            live = self._live_slots(pseudonym, max(limit, SLOTS_READ), now_s)
            if len(live) >= limit:
                return False, len(live)
            free = next(i for i in range(limit) if i not in live)
            if self._claim(slot_key(pseudonym, free), now_s):
                return True, len(live) + 1
        raise DependencyError("dynamodb: contact limit contended")

    def release(self, pseudonym: str, now: datetime) -> None:
        """Give back the slot `admit(pseudonym, _, now)` claimed: its contact could not be kept (P10).

        That slot's expiry is `slot_expiry(now)`, so one live slot with exactly that expiry is deleted,
        on condition it still has it (a slot claimed again since is not ours). Two slots of one person
        with one expiry are alike, so which of them goes makes no difference. Nothing when there is none.
        """
        now_s = int(now.timestamp())
        expiry = slot_expiry(now_s)
        for key in self._slots_expiring(pseudonym, SLOTS_RELEASE_READ, expiry):
            try:
                with dynamodb_errors("DeleteItem"):
                    self._dynamodb.delete_item(
                        TableName=self._table_name,
                        Key=to_item({"pk": key, "sk": SLOT_SK}),
                        ConditionExpression="expires_at = :expiry",
                        ExpressionAttributeValues=to_item({":expiry": expiry}),
                    )
            except ConditionFailedError:
                continue
            return

    def _slots_expiring(self, pseudonym: str, slots: int, expiry: int) -> list[str]:
        """The keys of this pseudonym's slots that expire at exactly `expiry`, the highest number first."""
        items = self._slots(pseudonym, slots)
        return [
            key
            for key, (_number, expires_at) in sorted(items.items(), key=lambda pair: -pair[1][0])
            if expires_at == expiry
        ]

    def _live_slots(self, pseudonym: str, slots: int, now_s: int) -> set[int]:
        """The slot numbers whose window has not passed; consistent, so a slot claimed a moment ago counts."""
        return {number for number, expires_at in self._slots(pseudonym, slots).values() if expires_at > now_s}

    def _slots(self, pseudonym: str, slots: int) -> dict[str, tuple[int, int]]:
        """Key → (slot number, expiry) of the first `slots` slots that exist; a consistent read."""
        keys = {slot_key(pseudonym, i): i for i in range(slots)}
        request = {
            self._table_name: {
                "Keys": [to_item({"pk": key, "sk": SLOT_SK}) for key in keys],
                "ConsistentRead": True,
            }
        }
        found: dict[str, tuple[int, int]] = {}
        while request:
            with dynamodb_errors("BatchGetItem"):
                response = self._dynamodb.batch_get_item(RequestItems=request)  # type: ignore[arg-type]
            for raw in response.get("Responses", {}).get(self._table_name, []):
                item = from_item(raw)
                key = str(item["pk"])
                found[key] = (keys[key], int(item.get("expires_at", 0)))
            request = response.get("UnprocessedKeys") or {}  # type: ignore[assignment]
        return found

    def _claim(self, key: str, now_s: int) -> bool:
        try:
            with dynamodb_errors("PutItem"):
                self._dynamodb.put_item(
                    TableName=self._table_name,
                    Item=to_item({"pk": key, "sk": SLOT_SK, "expires_at": slot_expiry(now_s)}),
                    ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                    ExpressionAttributeValues=to_item({":now": now_s}),
                )
        except ConditionFailedError:
            return False
        return True


def limit_counter() -> DynamoLimitCounter:
    """The slot table named by CONTACT_LIMIT_TABLE (on the process's shared DynamoDB client)."""
    return DynamoLimitCounter(get_settings().contact_limit_table)
