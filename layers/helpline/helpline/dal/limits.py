"""The daily limit (P10) in DynamoDB: slots per pseudonym in ContactLimitTable (pk, sk; TTL expires_at).

A person who may make `limit` contacts in a rolling 24 hours owns `limit` slots: items with
pk = pseudonym, sk = `slot#0` .. `slot#{limit-1}`. Admitting a contact claims a free slot (none, or
one whose `expires_at` has passed) and sets `expires_at` to now + 24 hours, which is also the TTL.

Race-free: a slot is claimed only by a PutItem on condition `attribute_not_exists(pk) OR
expires_at <= :now`, and DynamoDB applies conditional writes to one item one at a time. So each live
slot was claimed by exactly one contact, and there are never more than `limit` live slots: two
simultaneous contacts of one person cannot both take the last slot. The one that loses the condition
reads again and tries another slot, or is refused when none is left.

Only the pseudonym and the slot's expiry are stored, never a contact id: a contact id beside the
pseudonym would link all of one person's contacts to each other.
"""

from __future__ import annotations

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
EXTRA_ROUNDS: Final = 5
"""Rounds beyond `limit` before giving up: each lost round means a concurrent contact took a slot."""


class DynamoLimitCounter(DynamoTable):
    """`LimitCounter` on ContactLimitTable."""

    def admit(self, pseudonym: str, limit: int, now: datetime) -> tuple[bool, int]:
        """Claim a slot unless `limit` are live; (allowed, contacts in the last 24 h incl. this one).

        Raises `DependencyError` when DynamoDB fails, or when slots keep being taken under us (the
        domain then fails open for the person, as for any storage failure).
        """
        now_s = int(now.timestamp())
        for _round in range(limit + EXTRA_ROUNDS):
            live = self._live_slots(pseudonym, now_s)
            if len(live) >= limit:
                return False, len(live)
            free = next(f"slot#{i}" for i in range(limit) if f"slot#{i}" not in live)
            if self._claim(pseudonym, free, now_s):
                return True, len(live) + 1
        raise DependencyError("dynamodb: contact limit contended")

    def _live_slots(self, pseudonym: str, now_s: int) -> set[str]:
        """The slots whose window has not passed; consistent, so a slot claimed a moment ago counts."""
        live: set[str] = set()
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self._table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": pseudonym}),
            ConsistentRead=True,
        )
        with dynamodb_errors("Query"):
            for page in pages:
                for raw in page.get("Items", []):
                    item = from_item(raw)
                    if int(item.get("expires_at", 0)) > now_s:
                        live.add(str(item["sk"]))
        return live

    def _claim(self, pseudonym: str, slot: str, now_s: int) -> bool:
        try:
            with dynamodb_errors("PutItem"):
                self._dynamodb.put_item(
                    TableName=self._table_name,
                    Item=to_item(
                        {"pk": pseudonym, "sk": slot, "expires_at": now_s + int(WINDOW.total_seconds())}
                    ),
                    ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                    ExpressionAttributeValues=to_item({":now": now_s}),
                )
        except ConditionFailedError:
            return False
        return True


def limit_counter() -> DynamoLimitCounter:
    """The slot table named by CONTACT_LIMIT_TABLE (on the process's shared DynamoDB client)."""
    return DynamoLimitCounter(get_settings().contact_limit_table)
