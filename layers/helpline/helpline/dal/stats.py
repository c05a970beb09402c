"""The statistics aggregates in DynamoDB (StatisticsTable, pk/sk, TTL `expires_at`; P8).

Items:

- aggregates: pk `agg#<subset>#<YYYY-MM>`, sk `<YYYY-MM-DDTHH or YYYY-MM-DD>[|<line>][|<channel>][|<region>]`,
  numbers `contacts`, `limited`, `durations` and one `d<i>` per length bucket (`logic.stats`), plus
  the cell's `hour`, `line`, `channel`, `region` as plain attributes. A month per partition: a year by
  day is 12 or 13 Queries, and each returns only the cells of the subset asked for. No TTL: they hold
  counts, not contacts.
- markers: pk `counted#<contact id>` or `duration#<contact id>`, sk `-`, with `expires_at`. A marker
  and the cell updates it guards are one transaction, so a redelivered stream record fails the
  marker's condition and changes nothing. The stream keeps records 24 hours, so a marker is needed
  for days, not years; it expires after `MARKER_TTL` and keeps nothing but the random contact id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from helpline.clock import now as clock_now
from helpline.dal.dynamodb import DynamoTable, dynamodb_errors, from_item, to_item
from helpline.logic.ports import DependencyError
from helpline.logic.stats import (
    Aggregate,
    CellKey,
    cell_keys,
    duration_bucket,
    hour_key,
    key_width,
)
from helpline.models.stats import ContactFacts
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

MARKER_TTL: Final = timedelta(days=7)
_SK_END: Final = "~"
"""Sorts after `|`: `<hour>~` is above every sort key of that hour."""
_CELL_NAMES: Final = {"#hour": "hour", "#line": "line", "#channel": "channel", "#region": "region"}


class AlreadyAppliedError(Exception):
    """The marker exists: this application was made before (a redelivery)."""


def aggregate_pk(subset: str, hour: str) -> str:
    """The partition of a cell: its subset and month."""
    return f"agg#{subset}#{hour[:7]}"


def aggregate_sk(key: CellKey) -> str:
    """The sort key of a cell: its hour, then the values of its subset."""
    values = [value for value in (key.line, key.channel, key.region) if value is not None]
    return "|".join([key.hour, *values])


def _months(start: datetime, end: datetime) -> Iterator[tuple[str, str, str]]:
    """(month, first hour key, last hour key) of each month that [start, end) touches."""
    last = end - timedelta(hours=1)
    cursor = start
    while cursor <= last:
        month_end = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1, hour=0)
        upper = min(last, month_end - timedelta(hours=1))
        yield cursor.strftime("%Y-%m"), hour_key(cursor), hour_key(upper)
        cursor = month_end


class DynamoStatisticsStore(DynamoTable):
    """`StatisticsStore` on StatisticsTable."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        clock: Callable[[], datetime] = clock_now,
    ) -> None:
        super().__init__(table_name, client)
        self._clock = clock

    def apply_contact(self, facts: ContactFacts) -> bool:
        """Count the contact (and whether it was limited, P10) in its sixteen cells, once."""
        limited = 1 if facts.limit_outcome == "limited" else 0
        return self._apply(
            f"counted#{facts.id}",
            facts,
            "ADD #contacts :one, #limited :limited",
            {"#contacts": "contacts", "#limited": "limited"},
            {":one": 1, ":limited": limited},
        )

    def apply_duration(self, facts: ContactFacts) -> bool:
        """Add the contact's length (P8) to its cells' histograms, once; False without a length."""
        if facts.duration_s is None:
            return False
        return self._apply(
            f"duration#{facts.id}",
            facts,
            "ADD #durations :one, #bucket :one",
            {"#durations": "durations", "#bucket": f"d{duration_bucket(facts.duration_s)}"},
            {":one": 1},
        )

    def _apply(
        self,
        marker: str,
        facts: ContactFacts,
        add: str,
        names: dict[str, str],
        values: dict[str, int],
    ) -> bool:
        expires_at = int((self._clock() + MARKER_TTL).timestamp())
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table_name,
                    "Item": to_item({"pk": marker, "sk": "-", "expires_at": expires_at}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        for key in cell_keys(facts):
            cell_names = {**names, "#hour": "hour"}
            cell_values: dict[str, Any] = {**values, ":hour": key.hour}
            sets = ["#hour = :hour"]
            for name in ("line", "channel", "region"):
                value = getattr(key, name)
                if value is not None:
                    cell_names[f"#{name}"] = name
                    cell_values[f":{name}"] = value
                    sets.append(f"#{name} = :{name}")
            items.append(
                {
                    "Update": {
                        "TableName": self._table_name,
                        "Key": to_item({"pk": aggregate_pk(key.subset, key.hour), "sk": aggregate_sk(key)}),
                        "UpdateExpression": f"{add} SET {', '.join(sets)}",
                        "ExpressionAttributeNames": cell_names,
                        "ExpressionAttributeValues": to_item(cell_values),
                    }
                }
            )
        try:
            self._dynamodb.transact_write_items(TransactItems=items)
        except ClientError as error:
            reasons = error.response.get("CancellationReasons", [])
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False  # the marker exists: applied before, a redelivery
            raise DependencyError("dynamodb: TransactWriteItems failed") from None
        except BotoCoreError:
            raise DependencyError("dynamodb: TransactWriteItems failed") from None
        return True

    def read_aggregates(self, subset: str, start: datetime, end: datetime) -> Iterator[Aggregate]:
        """The cells of `subset` in [start, end): one Query per month touched (paged past 1 MB)."""
        width = key_width(subset)
        for month, first_hour, last_hour in _months(start, end):
            first, last = first_hour[:width], last_hour[:width]
            request: dict[str, Any] = {
                "TableName": self._table_name,
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
                "ExpressionAttributeValues": to_item(
                    {":pk": f"agg#{subset}#{month}", ":first": first, ":last": last + _SK_END}
                ),
            }
            while True:
                with dynamodb_errors("Query"):
                    page = self._dynamodb.query(**request)
                for item in page.get("Items", []):
                    yield _aggregate(subset, from_item(item))
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _aggregate(subset: str, data: dict[str, Any]) -> Aggregate:
    return Aggregate(
        key=CellKey(
            subset=subset,
            hour=str(data["hour"]),
            line=data.get("line"),
            channel=data.get("channel"),
            region=data.get("region"),
        ),
        contacts=int(data.get("contacts", 0)),
        limited=int(data.get("limited", 0)),
        durations={
            int(name[1:]): int(count)
            for name, count in data.items()
            if name.startswith("d") and name[1:].isdigit() and int(count) > 0
        },
    )


def statistics_store() -> DynamoStatisticsStore:
    """The aggregates table named by STATISTICS_TABLE."""
    return DynamoStatisticsStore(get_settings().statistics_table)
