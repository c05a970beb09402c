"""The anonymised contact registration in DynamoDB (ContactsTable, key `id`; P8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from helpline.dal.dynamodb import dynamodb_client, to_item
from helpline.models.contacts import ContactRecord
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class DynamoContactsRepository:
    """`ContactsRepository` on a DynamoDB table."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table_name = table_name
        self._client = client

    @property
    def _dynamodb(self) -> DynamoDBClient:
        return self._client if self._client is not None else dynamodb_client()

    def put_if_absent(self, record: ContactRecord) -> bool:
        """Put on condition `attribute_not_exists(id)`: a redelivered record is not stored twice."""
        try:
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item=to_item(record.model_dump(mode="json", exclude_none=True)),
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": "id"},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


def contacts_repository() -> DynamoContactsRepository:
    """The registration table named by CONTACTS_TABLE."""
    return DynamoContactsRepository(get_settings().contacts_table)
