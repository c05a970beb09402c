"""The record of listening in (P9) in SupervisionTable (pk, sk).

All records share the partition `pk = "supervision"`, sorted by `sk = "<at>#<record id>"`, so staff read
them newest first with one Query. The `next_token` is URL-safe base64 of the sort key (a time and an
id, nothing else).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError

from helpline.dal.dynamodb import DynamoTable, dynamodb_errors, from_item, to_item
from helpline.logic.supervision import InvalidTokenError
from helpline.models.supervision import SupervisionRecord
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

PARTITION: Final = "supervision"
_SORT_KEY: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z#[0-9a-f]{32}$")


class DynamoSupervisionStore(DynamoTable):
    """`SupervisionStore` on SupervisionTable."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        super().__init__(table_name, client)

    def put(self, item: SupervisionRecord) -> None:
        """PutItem; the record id is random, so no condition is needed."""
        data = item.model_dump(mode="json")
        data.update(pk=PARTITION, sk=f"{data['at']}#{item.id}")
        with dynamodb_errors("PutItem"):
            self._dynamodb.put_item(TableName=self._table_name, Item=to_item(data))

    def page(self, limit: int, token: str | None) -> tuple[list[SupervisionRecord], str | None]:
        """Query newest first; the token is the sort key of the last record returned."""
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": "pk"},
            "ExpressionAttributeValues": to_item({":pk": PARTITION}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if token:
            request["ExclusiveStartKey"] = to_item({"pk": PARTITION, "sk": decode_token(token)})
        with dynamodb_errors("Query"):
            response = self._dynamodb.query(**request)
        items = []
        for raw in response.get("Items", []):
            data = from_item(raw)
            data.pop("pk", None)
            data.pop("sk", None)
            try:
                items.append(SupervisionRecord.model_validate(data))
            except ValidationError:
                raise RuntimeError("supervision record is malformed") from None
        last = response.get("LastEvaluatedKey")
        next_token = encode_token(str(from_item(last)["sk"])) if last else None
        return items, next_token


def encode_token(sort_key: str) -> str:
    """The opaque next_token of a sort key."""
    return base64.urlsafe_b64encode(sort_key.encode()).decode("ascii")


def decode_token(token: str) -> str:
    """The sort key in a next_token; InvalidTokenError if it is not one we issued."""
    try:
        sort_key = base64.urlsafe_b64decode(token.encode("ascii")).decode()
    except (UnicodeError, binascii.Error, ValueError):
        raise InvalidTokenError("next_token is not valid") from None
    if not _SORT_KEY.fullmatch(sort_key):
        raise InvalidTokenError("next_token is not valid")
    return sort_key


def supervision_store() -> DynamoSupervisionStore:
    """The record in the table named by SUPERVISION_TABLE."""
    return DynamoSupervisionStore(get_settings().supervision_table)
