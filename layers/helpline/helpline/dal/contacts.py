"""The anonymised contact registration in DynamoDB (ContactsTable, key `id`; P8)."""

from __future__ import annotations

from datetime import datetime

from helpline.dal.dynamodb import (
    ConditionFailedError,
    DynamoTable,
    dynamodb_errors,
    to_item,
    utc_text,
)
from helpline.models.contacts import ContactRecord
from helpline.settings import get_settings


class DynamoContactsRepository(DynamoTable):
    """`ContactStore` on a DynamoDB table."""

    def put_if_absent(self, record: ContactRecord) -> bool:
        """Put on condition `attribute_not_exists(id)`: a redelivered record is not stored twice."""
        return self._put_if_absent(record.model_dump(mode="json", exclude_none=True), "id")

    def mark_ended(self, contact_id: str, ended_at: datetime, duration_s: int | None) -> bool:
        """Set the end (and length, P8) of a stored contact; False if it is not stored (yet).

        The condition `attribute_exists(id)` keeps an update from creating a record of its own; the
        caller buffers the end and tries again once the registration is stored.
        """
        names = {"#id": "id", "#ended": "ended_at"}
        values: dict[str, str | int] = {":ended": utc_text(ended_at)}
        update = "SET #ended = :ended"
        if duration_s is not None:
            names["#duration"] = "duration_s"
            values[":duration"] = duration_s
            update += ", #duration = :duration"
        try:
            with dynamodb_errors("UpdateItem"):
                self._dynamodb.update_item(
                    TableName=self._table_name,
                    Key=to_item({"id": contact_id}),
                    UpdateExpression=update,
                    ConditionExpression="attribute_exists(#id)",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_item(values),
                )
        except ConditionFailedError:
            return False
        return True


def contacts_repository() -> DynamoContactsRepository:
    """The registration table named by CONTACTS_TABLE."""
    return DynamoContactsRepository(get_settings().contacts_table)
