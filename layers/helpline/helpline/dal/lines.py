"""The line registry in DynamoDB (LinesTable, key `line_id`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpline.dal.dynamodb import dynamodb_client, from_item, to_item
from helpline.models.lines import Line
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class DynamoLinesRepository:
    """`LinesRepository` on a DynamoDB table; the table is small, so listing is a scan."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table_name = table_name
        self._client = client

    @property
    def _dynamodb(self) -> DynamoDBClient:
        return self._client if self._client is not None else dynamodb_client()

    def list_lines(self) -> list[Line]:
        """Every line, across scan pages."""
        pages = self._dynamodb.get_paginator("scan").paginate(TableName=self._table_name)
        return [Line.model_validate(from_item(item)) for page in pages for item in page["Items"]]

    def put_line(self, line: Line) -> None:
        """Create or replace the line."""
        self._dynamodb.put_item(TableName=self._table_name, Item=to_item(line.model_dump(mode="json")))


def lines_repository() -> DynamoLinesRepository:
    """The registry named by LINES_TABLE."""
    return DynamoLinesRepository(get_settings().lines_table)
