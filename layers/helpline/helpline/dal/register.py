"""The register's read side on ContactsTable (P8): GetItem by id, Query on the `by-month` index.

Both read with a projection of `VIEW_FIELDS` only, so the encrypted identifier, its retention date and
the index key never even leave DynamoDB for this function (P2, P3). A page walks the month partitions
of the period from the last back to the first, newest first within each; its position is the last
contact returned (month, started_at, id), which is also a valid `ExclusiveStartKey` of the index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from helpline.dal.dynamodb import DynamoTable, dynamodb_errors, from_item, to_item
from helpline.logic.register import day_bounds, months_newest_first
from helpline.models.register import VIEW_FIELDS, ContactFilter, ContactView, RegisterPosition
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

BY_MONTH_INDEX: Final = "by-month"
_FILTERS: Final = ("line", "channel", "region", "limit_outcome")
_PROJECTION: Final = ", ".join(f"#{name}" for name in VIEW_FIELDS)


class DynamoRegister(DynamoTable):
    """`RegisterStore` on ContactsTable."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        super().__init__(table_name, client)

    def get(self, contact_id: str) -> ContactView | None:
        """GetItem of the view's attributes only."""
        with dynamodb_errors("GetItem"):
            response = self._dynamodb.get_item(
                TableName=self._table_name,
                Key=to_item({"id": contact_id}),
                ProjectionExpression=_PROJECTION,
                ExpressionAttributeNames={f"#{name}": name for name in VIEW_FIELDS},
            )
        item = response.get("Item")
        return _view(from_item(item)) if item else None

    def page(
        self, query: ContactFilter, after: RegisterPosition | None, limit: int
    ) -> tuple[list[ContactView], RegisterPosition | None]:
        """Query month by month, newest first, until `limit` contacts matched or the period is done.

        Each Query asks for at most the contacts still missing, so a page never reads past the last
        contact it returns, and that contact is exactly where the next page starts.
        """
        months = months_newest_first(query.first_day, query.last_day)
        if after is not None:
            months = months[months.index(after.month) :]
        lowest, highest = day_bounds(query)
        items: list[ContactView] = []
        for month_number, month in enumerate(months):
            start: dict[str, Any] | None = None
            if after is not None and month == after.month:
                start = {"month": after.month, "started_at": after.started_at, "id": after.id}
            while True:
                request = self._query(query, month, lowest, highest, limit - len(items), start)
                with dynamodb_errors("Query"):
                    response = self._dynamodb.query(**request)
                last_month = month_number == len(months) - 1
                items.extend(_view(from_item(item)) for item in response.get("Items", []))
                more_here = "LastEvaluatedKey" in response
                if len(items) >= limit:
                    if not more_here and last_month:
                        return items, None
                    newest = items[-1]
                    return items, RegisterPosition(
                        month=month, started_at=_text(newest.started_at), id=newest.id
                    )
                if not more_here:
                    break
                start = from_item(response["LastEvaluatedKey"])
        return items, None

    def _query(
        self,
        query: ContactFilter,
        month: str,
        lowest: str,
        highest: str,
        limit: int,
        start: dict[str, Any] | None,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {":month": month, ":lowest": lowest, ":highest": highest}
        names = {"#month": "month", "#started_at": "started_at"}
        names.update({f"#{name}": name for name in VIEW_FIELDS})
        conditions = []
        for name in _FILTERS:
            wanted = getattr(query, name)
            if wanted is not None:
                values[f":{name}"] = wanted
                conditions.append(f"#{name} = :{name}")
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "IndexName": BY_MONTH_INDEX,
            "KeyConditionExpression": "#month = :month AND #started_at BETWEEN :lowest AND :highest",
            "ProjectionExpression": _PROJECTION,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if conditions:
            request["FilterExpression"] = " AND ".join(conditions)
        if start is not None:
            request["ExclusiveStartKey"] = to_item(start)
        return request


def _view(data: dict[str, Any]) -> ContactView:
    """A view from the whitelisted attributes only (numbers come back as Decimal)."""
    picked = {name: data[name] for name in VIEW_FIELDS if name in data}
    if "duration_s" in picked:
        picked["duration_s"] = int(picked["duration_s"])
    return ContactView.model_validate(picked)


def _text(value: Any) -> str:
    return str(value.strftime("%Y-%m-%dT%H:%M:%SZ"))


def register_store() -> DynamoRegister:
    """The register on the table named by CONTACTS_TABLE."""
    return DynamoRegister(get_settings().contacts_table)
