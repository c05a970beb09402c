"""The retention sweep's view of ContactsTable and TranscriptsTable (`logic.retention.RetentionStore`).

Physical enforcement besides TTL and key destruction (P7, P8): the encrypted identifier of a register
record has no TTL of its own (the record is kept longer, for the anonymised statistics), so the sweep
removes it; and TTL deletes expired transcript rows only "within a few days", so the sweep deletes
what it has not deleted yet.

Never a table scan. Identifiers due are found through the sparse `by-erase-month` index (hash
`erase_month`, range `identifier_retain_until` as "YYYY-MM-DD", projection KEYS_ONLY), which holds a
record exactly while it has a ciphertext: one Query per erase month (`logic.retention.erase_months`)
for `identifier_retain_until < today` returns only records still due, however long ago they fell due.
Transcript owners are found through the `by-month` index (hash `month`, range `started_at`), one
bounded `started_at` range per month (`logic.retention.sweep_ranges`). Every page is followed. Every
write is conditioned on still being due, so sweeps are idempotent and a record written back in between
(a restore, which brings its `erase_month` back with it) is judged again, not blindly changed.

A client of its own with the SDK's standard retries: a daily batch job has time, unlike ingest.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config

from helpline.dal.dynamodb import ConditionFailedError, DynamoTable, dynamodb_errors, from_item, to_item
from helpline.logic.retention import MonthRange
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

BY_MONTH: Final = "by-month"
BY_ERASE_MONTH: Final = "by-erase-month"
TRANSCRIPT_CHANNELS: Final = ("chat", "email")
"""Calls are never recorded (P1): only chat and e-mail contacts have transcript rows."""
BATCH_JOB: Final = Config(
    retries={"mode": "standard", "total_max_attempts": 8}, connect_timeout=5, read_timeout=30
)


def sweep_client() -> DynamoDBClient:
    """A DynamoDB client for one sweep: made per invocation, so it follows the environment it runs in."""
    return boto3.session.Session().client("dynamodb", config=BATCH_JOB)


class DynamoRetentionStore(DynamoTable):
    """`RetentionStore` on ContactsTable (by its `by-erase-month` and `by-month` indexes) and
    TranscriptsTable."""

    def __init__(
        self,
        contacts_table: str,
        transcripts_table: str,
        client: DynamoDBClient | None = None,
        page_size: int | None = None,
    ) -> None:
        """`page_size`: items a Query evaluates per page (default: DynamoDB's 1 MB); tests set it small
        to show that every page is followed."""
        super().__init__(contacts_table, client)
        self._transcripts_table = transcripts_table
        self._page_size = page_size

    def contacts_with_identifier_due(self, erase_month: str, today: date) -> Iterator[str]:
        """Ids of `erase_month`'s records kept until before `today`: a key condition, no filter, so
        every item read is one to erase (the index holds only records that still have a ciphertext).

        The index is eventually consistent: an id just erased may come once more, and the conditioned
        `erase_identifier` then does nothing.
        """
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "IndexName": BY_ERASE_MONTH,
            "KeyConditionExpression": "#erase = :erase AND #until < :today",
            "ProjectionExpression": "#id",
            "ExpressionAttributeNames": {
                "#erase": "erase_month",
                "#until": "identifier_retain_until",
                "#id": "id",
            },
            "ExpressionAttributeValues": to_item({":erase": erase_month, ":today": today.isoformat()}),
        }
        for item in self._pages(request):
            yield str(item["id"])

    def erase_identifier(self, contact_id: str, today: date) -> bool:
        """UpdateItem REMOVE `identifier_ciphertext` and `erase_month` (which takes the record out of
        the sweep's index), on condition that the ciphertext is there and still due."""
        try:
            with dynamodb_errors("UpdateItem"):
                self._dynamodb.update_item(
                    TableName=self._table_name,
                    Key=to_item({"id": contact_id}),
                    UpdateExpression="REMOVE #ct, #erase",
                    ConditionExpression="attribute_exists(#ct) AND #until < :today",
                    ExpressionAttributeNames={
                        "#ct": "identifier_ciphertext",
                        "#erase": "erase_month",
                        "#until": "identifier_retain_until",
                    },
                    ExpressionAttributeValues=to_item({":today": today.isoformat()}),
                )
        except ConditionFailedError:
            return False
        return True

    def contacts_with_transcripts(self, months: MonthRange) -> Iterator[str]:
        """Ids of chat and e-mail records in the range."""
        return self._month_ids(
            months,
            "#channel IN (:chat, :email)",
            {"#channel": "channel"},
            {":chat": TRANSCRIPT_CHANNELS[0], ":email": TRANSCRIPT_CHANNELS[1]},
        )

    def expired_parts(self, contact_id: str, now: datetime) -> Iterator[int]:
        """`seq` of the contact's parts whose `expires_at` is at or before `now`."""
        request: dict[str, Any] = {
            "TableName": self._transcripts_table,
            "KeyConditionExpression": "#contact = :contact",
            "FilterExpression": "#expires <= :now",
            "ProjectionExpression": "#seq",
            "ExpressionAttributeNames": {"#contact": "contact_id", "#expires": "expires_at", "#seq": "seq"},
            "ExpressionAttributeValues": to_item({":contact": contact_id, ":now": int(now.timestamp())}),
        }
        for item in self._pages(request):
            yield int(item["seq"])

    def delete_part(self, contact_id: str, seq: int, now: datetime) -> bool:
        """DeleteItem on condition that the part is there and its `expires_at` has passed."""
        try:
            with dynamodb_errors("DeleteItem"):
                self._dynamodb.delete_item(
                    TableName=self._transcripts_table,
                    Key=to_item({"contact_id": contact_id, "seq": seq}),
                    ConditionExpression="#expires <= :now",
                    ExpressionAttributeNames={"#expires": "expires_at"},
                    ExpressionAttributeValues=to_item({":now": int(now.timestamp())}),
                )
        except ConditionFailedError:
            return False
        return True

    def _month_ids(
        self, months: MonthRange, condition: str, names: dict[str, str], values: dict[str, Any]
    ) -> Iterator[str]:
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "IndexName": BY_MONTH,
            "KeyConditionExpression": "#month = :month AND #started BETWEEN :first AND :last",
            "FilterExpression": condition,
            "ProjectionExpression": "#id",
            "ExpressionAttributeNames": {"#month": "month", "#started": "started_at", "#id": "id", **names},
            "ExpressionAttributeValues": to_item(
                {":month": months.month, ":first": months.first, ":last": months.last, **values}
            ),
        }
        for item in self._pages(request):
            yield str(item["id"])

    def _pages(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a Query, page by page (a filter can leave a page empty that is not the last)."""
        if self._page_size is not None:
            request = {**request, "Limit": self._page_size}
        while True:
            with dynamodb_errors("Query"):
                response = self._dynamodb.query(**request)
            yield from (from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return
            request = {**request, "ExclusiveStartKey": response["LastEvaluatedKey"]}


def retention_store() -> DynamoRetentionStore:
    """CONTACTS_TABLE and TRANSCRIPTS_TABLE, on a client made for this sweep."""
    settings = get_settings()
    return DynamoRetentionStore(settings.contacts_table, settings.transcripts_table, sweep_client())
