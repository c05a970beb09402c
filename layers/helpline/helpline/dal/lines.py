"""The line registry in DynamoDB (LinesTable, key `line_id`)."""

from __future__ import annotations

from helpline.dal.dynamodb import DynamoTable, from_item, to_item
from helpline.models.lines import Line
from helpline.settings import get_settings


class DynamoLinesRepository(DynamoTable):
    """`LinesRepository` on a DynamoDB table; the table is small, so listing is a scan."""

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
