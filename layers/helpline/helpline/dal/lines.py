"""The line registry in DynamoDB (LinesTable, key `line_id`).

Changes made through the API are conditional on the line being exactly what the change was judged on
(`logic.lines`): a change that one admin may make alone must not overwrite, say, a kind another pair
of admins has just approved, and an approval must not land on a line that changed under it. Needs
dynamodb:Scan, PutItem and DeleteItem on LinesTable.
"""

from __future__ import annotations

from typing import Any

from helpline.dal.dynamodb import ConditionFailedError, DynamoTable, dynamodb_errors, from_item, to_item
from helpline.models.lines import Line
from helpline.settings import get_settings


def _is_exactly(expected: Line | None) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A condition that holds only while the stored item is `expected` (None: no item), field by field.

    A field that is None may be absent or stored as NULL (how `put_line` wrote it before).
    """
    if expected is None:
        return "attribute_not_exists(#f0)", {"#f0": "line_id"}, {}
    terms: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    for index, (field, value) in enumerate(expected.model_dump(mode="json").items()):
        names[f"#f{index}"] = field
        if value is None:
            values[":null"] = "NULL"  # DynamoDB refuses values an expression does not use
            terms.append(f"(attribute_not_exists(#f{index}) OR attribute_type(#f{index}, :null))")
        else:
            values[f":v{index}"] = value
            terms.append(f"#f{index} = :v{index}")
    return " AND ".join(terms), names, values


class DynamoLinesRepository(DynamoTable):
    """`LineRegistry` on a DynamoDB table; the table is small, so listing is a scan."""

    def list_lines(self) -> list[Line]:
        """Every line, across scan pages."""
        pages = self._dynamodb.get_paginator("scan").paginate(TableName=self._table_name)
        return [Line.model_validate(from_item(item)) for page in pages for item in page["Items"]]

    def put_line(self, line: Line) -> None:
        """Create or replace the line, unconditionally (tests, tools; the API uses `put_line_if`)."""
        self._dynamodb.put_item(
            TableName=self._table_name, Item=to_item(line.model_dump(mode="json", exclude_none=True))
        )

    def put_line_if(self, line: Line, expected: Line | None) -> bool:
        """Create or replace the line if the stored one is still `expected`; False if it is not."""
        condition, names, values = _is_exactly(expected)
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "Item": to_item(line.model_dump(mode="json", exclude_none=True)),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            request["ExpressionAttributeValues"] = to_item(values)
        try:
            with dynamodb_errors("PutItem"):
                self._dynamodb.put_item(**request)
        except ConditionFailedError:
            return False
        return True

    def delete_line_if(self, expected: Line) -> bool:
        """Remove the line if it is still `expected`; False if it is not (or is gone)."""
        condition, names, values = _is_exactly(expected)
        try:
            with dynamodb_errors("DeleteItem"):
                self._dynamodb.delete_item(
                    TableName=self._table_name,
                    Key=to_item({"line_id": expected.line_id}),
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_item(values),
                )
        except ConditionFailedError:
            return False
        return True


def lines_repository() -> DynamoLinesRepository:
    """The registry named by LINES_TABLE."""
    return DynamoLinesRepository(get_settings().lines_table)
