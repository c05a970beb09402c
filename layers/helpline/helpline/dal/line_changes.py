"""Proposed line changes in LineChangesTable (key `change_id` S; DESIGN.md "No single insider").

One item per change: the `LineChange` as JSON (ids, kinds, channels, the organisation's own
addresses, admins' usernames, a rejection reason), never a caller's identifier. Creation is a
conditional PutItem; every decision is an UpdateItem on condition of `version` (optimistic locking,
as `dal.releases`), so two admins cannot both decide the same change. Listing is a Scan: changes are
few. Needs dynamodb:PutItem, GetItem, UpdateItem and Scan on LineChangesTable.
"""

from __future__ import annotations

from typing import Any, Final

from helpline.dal.dynamodb import ConditionFailedError, DynamoTable, dynamodb_errors, from_item, to_item
from helpline.logic.lines import StaleLineChangeError
from helpline.models.lines import LineChange
from helpline.settings import get_settings

KEY: Final = "change_id"


def _change(item: dict[str, Any]) -> LineChange:
    return LineChange.model_validate(from_item(item))


class DynamoLineChangeStore(DynamoTable):
    """`LineChangeStore` on LineChangesTable."""

    def create(self, change: LineChange) -> bool:
        return self._put_if_absent(change.model_dump(mode="json", exclude_none=True), KEY)

    def get(self, change_id: str) -> LineChange | None:
        with dynamodb_errors("GetItem"):
            response = self._dynamodb.get_item(
                TableName=self._table_name, Key=to_item({KEY: change_id}), ConsistentRead=True
            )
        item = response.get("Item")
        return _change(dict(item)) if item else None

    def update(self, change: LineChange) -> LineChange:
        """SET every field of `change` (REMOVE those that are None), on condition of the stored version."""
        stored = change.model_copy(update={"version": change.version + 1})
        try:
            self._update_versioned(
                {KEY: change.change_id}, stored.model_dump(mode="json"), expected_version=change.version
            )
        except ConditionFailedError:
            raise StaleLineChangeError(change.change_id) from None
        return stored

    def list_all(self) -> list[LineChange]:
        """Every change, across scan pages (consistent reads: a decision just made is listed)."""
        request: dict[str, Any] = {"TableName": self._table_name, "ConsistentRead": True}
        found: list[LineChange] = []
        while True:
            with dynamodb_errors("Scan"):
                response = self._dynamodb.scan(**request)
            found.extend(_change(dict(item)) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def line_change_store() -> DynamoLineChangeStore:
    """The table named by LINE_CHANGES_TABLE."""
    return DynamoLineChangeStore(get_settings().line_changes_table)
