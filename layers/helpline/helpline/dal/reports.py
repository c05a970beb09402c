"""Volunteer reports in DynamoDB (ReportsTable; P4, P5, P8) and the contact-exists check.

ReportsTable: key (contact_id, id); index `by-month` (month, created_at) for the period listing and
`by-author` (author, created_at) for a volunteer's own reports. Only scrubbed text ever reaches this
module: `Report.text` is what `helpline.scrub` returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from helpline.dal.dynamodb import DynamoTable, dynamodb_errors, from_item, to_item, utc_text
from helpline.logic.reports import months_between
from helpline.models.reports import Report
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


class DynamoReportsRepository(DynamoTable):
    """`ReportsRepository` on ReportsTable."""

    def put(self, report: Report) -> None:
        """Put on condition `attribute_not_exists(id)`: a report id is never reused."""
        with dynamodb_errors("PutItem"):
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item=to_item(report.model_dump(mode="json")),
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": "id"},
            )

    def for_contact(self, contact_id: str) -> list[Report]:
        """Every report of one contact (a Query on the table key)."""
        return self._query(
            KeyConditionExpression="#c = :c",
            ExpressionAttributeNames={"#c": "contact_id"},
            ExpressionAttributeValues=to_item({":c": contact_id}),
        )

    def in_period(self, start: datetime, end: datetime) -> list[Report]:
        """Reports created in [start, end): one Query on `by-month` per month touched."""
        reports: list[Report] = []
        for month in months_between(start, end):
            reports += self._query(
                IndexName="by-month",
                KeyConditionExpression="#m = :m AND #t BETWEEN :from AND :to",
                ExpressionAttributeNames={"#m": "month", "#t": "created_at"},
                ExpressionAttributeValues=to_item({":m": month, **_range(start, end)}),
            )
        return [report for report in reports if start <= report.created_at < end]

    def by_author(self, author: str, start: datetime, end: datetime) -> list[Report]:
        """One author's reports created in [start, end) (a Query on `by-author`)."""
        reports = self._query(
            IndexName="by-author",
            KeyConditionExpression="#a = :a AND #t BETWEEN :from AND :to",
            ExpressionAttributeNames={"#a": "author", "#t": "created_at"},
            ExpressionAttributeValues=to_item({":a": author, **_range(start, end)}),
        )
        return [report for report in reports if start <= report.created_at < end]

    def _query(self, **request: Any) -> list[Report]:
        with dynamodb_errors("Query"):
            pages = self._dynamodb.get_paginator("query").paginate(TableName=self._table_name, **request)
            items: Iterable[Mapping[str, AttributeValueTypeDef]] = [
                item for page in pages for item in page["Items"]
            ]
            return [Report.model_validate(from_item(item)) for item in items]


def _range(start: datetime, end: datetime) -> dict[str, str]:
    # BETWEEN is inclusive; the exclusive end is applied after the query.
    return {":from": utc_text(start), ":to": utc_text(end)}


class DynamoContactLookup(DynamoTable):
    """`ContactLookup` on ContactsTable: a GetItem that fetches the key only, not the record."""

    def exists(self, contact_id: str) -> bool:
        with dynamodb_errors("GetItem"):
            answer = self._dynamodb.get_item(
                TableName=self._table_name,
                Key=to_item({"id": contact_id}),
                ProjectionExpression="#id",
                ExpressionAttributeNames={"#id": "id"},
            )
        return "Item" in answer


def reports_repository() -> DynamoReportsRepository:
    """The table named by REPORTS_TABLE."""
    return DynamoReportsRepository(get_settings().reports_table)


def contact_lookup() -> DynamoContactLookup:
    """The register named by CONTACTS_TABLE."""
    return DynamoContactLookup(get_settings().contacts_table)
