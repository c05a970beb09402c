"""The audit chain in AuditTable (key `chain` S + `seq` N): append-only, hash-linked (P4, P7, P9).

`append` reads the last entry (a consistent read), computes the next seq and hash, and puts the entry on
condition `attribute_not_exists(seq)`. If another writer took that seq in between, the put is refused;
the chain is read again and the entry rebuilt on the new tail, a bounded number of times. So two writers
can never give out the same seq, and every entry links to the one actually before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from helpline.dal.dynamodb import DynamoTable, dynamodb_errors, from_item, to_item
from helpline.logic.audit import CHAIN, AuditEntry, AuditEvent, next_entry
from helpline.logic.ports import DependencyError
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

MAX_APPEND_ATTEMPTS: Final = 8


class AuditContentionError(DependencyError):
    """Every attempt to append lost the race for the next seq; nothing was stored."""


class DynamoAuditLog(DynamoTable):
    """`AuditLog` on AuditTable, one chain in the partition `chain = "audit"`."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None, chain: str = CHAIN) -> None:
        super().__init__(table_name, client)
        self._chain = chain

    def append(self, event: AuditEvent) -> AuditEntry:
        """Put `event` after the current last entry; re-read and retry if a concurrent writer won."""
        for _ in range(MAX_APPEND_ATTEMPTS):
            entry = next_entry(self.last(), event)
            if self._put_if_absent({"chain": self._chain, **entry.model_dump(mode="json")}, "seq"):
                return entry
        raise AuditContentionError("audit: append lost the race for the next seq too often")

    def last(self) -> AuditEntry | None:
        """The entry with the highest seq (consistent read), or None for an empty chain."""
        with dynamodb_errors("Query"):
            response = self._dynamodb.query(
                TableName=self._table_name,
                KeyConditionExpression="#chain = :chain",
                ExpressionAttributeNames={"#chain": "chain"},
                ExpressionAttributeValues=to_item({":chain": self._chain}),
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
            )
        items = response.get("Items", [])
        return _entry(from_item(items[0])) if items else None

    def entries(self, after_seq: int = 0, limit: int | None = None) -> list[AuditEntry]:
        """Entries with seq > `after_seq`, oldest first, at most `limit` (consistent reads)."""
        found: list[AuditEntry] = []
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "#chain = :chain AND #seq > :after",
            "ExpressionAttributeNames": {"#chain": "chain", "#seq": "seq"},
            "ExpressionAttributeValues": to_item({":chain": self._chain, ":after": after_seq}),
            "ScanIndexForward": True,
            "ConsistentRead": True,
        }
        if limit is not None:
            request["Limit"] = limit
        while True:
            with dynamodb_errors("Query"):
                response = self._dynamodb.query(**request)
            found.extend(_entry(from_item(item)) for item in response.get("Items", []))
            if limit is not None and len(found) >= limit:
                return found[:limit]
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _entry(data: dict[str, Any]) -> AuditEntry:
    data.pop("chain", None)
    data["seq"] = int(data["seq"])
    return AuditEntry.model_validate(data)


def audit_log() -> DynamoAuditLog:
    """The chain in the table named by AUDIT_TABLE."""
    return DynamoAuditLog(get_settings().audit_table)
