"""The custodian's ReleasesTable (key `disclosure_id` S, TTL `expires_at`; P3, P7).

One item per release: the `ReleaseRecord` as JSON (ids, basis, the grounds, the organisation's
approvers, the custodian officer's decision), never an identifier. `expires_at` (epoch seconds) is
written on every change, 30 days after it, so the table's TTL clears old releases.

Creation is a conditional PutItem (only the release intake function may put); every later change is an
UpdateItem on condition of `version` (optimistic locking, as `dal.disclosures`), so two officers cannot
both decide, and the API and the decrypt function never need PutItem, which could create a release.
"""

from __future__ import annotations

from typing import Any, Final

from helpline.dal.dynamodb import ConditionFailedError, DynamoTable, dynamodb_errors, from_item, to_item
from helpline.logic.releases import StaleReleaseError
from helpline.models.releases import ReleaseRecord
from helpline.settings import get_settings

KEY: Final = "disclosure_id"


def _record(item: dict[str, Any]) -> ReleaseRecord:
    data = from_item(item)
    return ReleaseRecord.model_validate(data)


class DynamoReleaseStore(DynamoTable):
    """`ReleaseStore` on ReleasesTable."""

    def create(self, record: ReleaseRecord) -> bool:
        return self._put_if_absent(record.model_dump(mode="json", exclude_none=True), KEY)

    def get(self, disclosure_id: str) -> ReleaseRecord | None:
        with dynamodb_errors("GetItem"):
            response = self._dynamodb.get_item(
                TableName=self._table_name, Key=to_item({KEY: disclosure_id}), ConsistentRead=True
            )
        item = response.get("Item")
        return _record(dict(item)) if item else None

    def update(self, record: ReleaseRecord) -> ReleaseRecord:
        """SET every field of `record` (REMOVE those that are None), on condition of the stored version."""
        stored = record.model_copy(update={"version": record.version + 1})
        try:
            self._update_versioned(
                {KEY: record.disclosure_id}, stored.model_dump(mode="json"), expected_version=record.version
            )
        except ConditionFailedError:
            raise StaleReleaseError(record.disclosure_id) from None
        return stored

    def list_all(self) -> list[ReleaseRecord]:
        """Every release: a Scan (needs dynamodb:Scan; releases are few, and the TTL keeps them few)."""
        request: dict[str, Any] = {"TableName": self._table_name, "ConsistentRead": True}
        found: list[ReleaseRecord] = []
        while True:
            with dynamodb_errors("Scan"):
                response = self._dynamodb.scan(**request)
            found.extend(_record(dict(item)) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def release_store() -> DynamoReleaseStore:
    """The table named by RELEASES_TABLE."""
    return DynamoReleaseStore(get_settings().releases_table)
