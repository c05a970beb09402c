"""Disclosure requests in DisclosuresTable (pk/sk, GSI `by-requester`, TTL `expires_at`; P6, P7).

Items (pk `disclosure#<id>`):

- sk `request`: the `DisclosureRecord` as JSON (ids, basis, legal order, approvals, timeline, the
  task token only sealed); `requested_by` and `requested_at` feed the `by-requester` index.
- sk `result`: `ciphertext` (the released result sealed under DisclosureKey), `created_at`, and
  `expires_at` (epoch seconds, 24 hours after approval) for the table's TTL. It has no `requested_by`,
  so the index never shows it, and it is deleted when retrieved.

Every update is conditional on `version` (optimistic locking): two decisions cannot both count. Only
`UpdateItem` changes a request, since the workflow's roles may not `PutItem` it.

Also here: `DynamoContactDirectory` (which table holds a contact id, P11) and `DynamoIdentifierSource`
(the contact's ciphertext, for the decrypt function only).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from helpline.dal.dynamodb import (
    ConditionFailedError,
    DynamoTable,
    dynamodb_errors,
    from_item,
    to_item,
    utc_text,
)
from helpline.logic.disclosures import ContactState, StaleRecordError
from helpline.models.disclosures import DisclosureRecord
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

REQUEST_SK: Final = "request"
RESULT_SK: Final = "result"
BY_REQUESTER_INDEX: Final = "by-requester"
_KEY_FIELDS: Final = ("pk", "sk")


def _pk(disclosure_id: str) -> str:
    return f"disclosure#{disclosure_id}"


def _key(disclosure_id: str, sk: str) -> dict[str, Any]:
    return to_item({"pk": _pk(disclosure_id), "sk": sk})


def _record(item: dict[str, Any]) -> DisclosureRecord:
    data = from_item(item)
    for field in _KEY_FIELDS:
        data.pop(field, None)
    return DisclosureRecord.model_validate(data)


class DynamoDisclosureStore(DynamoTable):
    """`DisclosureStore` on DisclosuresTable."""

    def create(self, item: DisclosureRecord) -> None:
        data = {"pk": _pk(item.id), "sk": REQUEST_SK, **item.model_dump(mode="json", exclude_none=True)}
        with dynamodb_errors("PutItem"):
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item=to_item(data),
                ConditionExpression="attribute_not_exists(pk)",
            )

    def get(self, disclosure_id: str) -> DisclosureRecord | None:
        with dynamodb_errors("GetItem"):
            response = self._dynamodb.get_item(
                TableName=self._table_name, Key=_key(disclosure_id, REQUEST_SK), ConsistentRead=True
            )
        item = response.get("Item")
        return _record(dict(item)) if item else None

    def update(self, item: DisclosureRecord) -> DisclosureRecord:
        """SET every field of `item` (REMOVE those that are None), on condition of the stored version."""
        stored = item.model_copy(update={"version": item.version + 1})
        data = stored.model_dump(mode="json")
        names: dict[str, str] = {"#version": "version"}
        values: dict[str, Any] = {":expected": item.version}
        sets: list[str] = []
        removes: list[str] = []
        for index, (field, value) in enumerate(data.items()):
            if field == "id":
                continue
            names[f"#f{index}"] = field
            if value is None:
                removes.append(f"#f{index}")
            else:
                values[f":v{index}"] = value
                sets.append(f"#f{index} = :v{index}")
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        try:
            with dynamodb_errors("UpdateItem"):
                self._dynamodb.update_item(
                    TableName=self._table_name,
                    Key=_key(item.id, REQUEST_SK),
                    UpdateExpression=expression,
                    ConditionExpression="#version = :expected",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_item(values),
                )
        except ConditionFailedError:
            raise StaleRecordError(item.id) from None
        return stored

    def list_by_requester(self, username: str) -> list[DisclosureRecord]:
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "IndexName": BY_REQUESTER_INDEX,
            "KeyConditionExpression": "requested_by = :by",
            "ExpressionAttributeValues": to_item({":by": username}),
            "ScanIndexForward": False,
        }
        return self._pages("Query", request)

    def list_all(self) -> list[DisclosureRecord]:
        """Every request: a Scan filtered on sk (needs dynamodb:Scan; requests are few)."""
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "FilterExpression": "sk = :sk",
            "ExpressionAttributeValues": to_item({":sk": REQUEST_SK}),
        }
        return self._pages("Scan", request)

    def put_result(self, disclosure_id: str, ciphertext: str, expires_at: datetime, now: datetime) -> None:
        data = {
            "pk": _pk(disclosure_id),
            "sk": RESULT_SK,
            "ciphertext": ciphertext,
            "created_at": utc_text(now),
            "expires_at": int(expires_at.timestamp()),
        }
        with dynamodb_errors("PutItem"):
            self._dynamodb.put_item(TableName=self._table_name, Item=to_item(data))

    def take_result(self, disclosure_id: str) -> str | None:
        """DeleteItem returning the old item, on condition it exists: of two concurrent calls one wins."""
        try:
            with dynamodb_errors("DeleteItem"):
                response = self._dynamodb.delete_item(
                    TableName=self._table_name,
                    Key=_key(disclosure_id, RESULT_SK),
                    ConditionExpression="attribute_exists(pk)",
                    ReturnValues="ALL_OLD",
                )
        except ConditionFailedError:
            return None
        old = from_item(response.get("Attributes", {}))
        ciphertext = old.get("ciphertext")
        return ciphertext if isinstance(ciphertext, str) else None

    def delete_result(self, disclosure_id: str) -> None:
        with dynamodb_errors("DeleteItem"):
            self._dynamodb.delete_item(TableName=self._table_name, Key=_key(disclosure_id, RESULT_SK))

    def _pages(self, operation: str, request: dict[str, Any]) -> list[DisclosureRecord]:
        found: list[DisclosureRecord] = []
        call = self._dynamodb.query if operation == "Query" else self._dynamodb.scan
        while True:
            with dynamodb_errors(operation):
                response = call(**request)
            found.extend(_record(dict(item)) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class DynamoContactDirectory(DynamoTable):
    """`ContactDirectory`: ContactsTable first (helpline, P8), then OfficeContactsTable (P11).

    Reads only whether `identifier_ciphertext` is present (a projection), never the ciphertext itself.
    """

    def __init__(self, contacts_table: str, office_table: str, client: DynamoDBClient | None = None) -> None:
        super().__init__(contacts_table, client)
        self._office_table = office_table

    def state(self, contact_id: str) -> ContactState:
        key = to_item({"id": contact_id})
        with dynamodb_errors("GetItem"):
            found = self._dynamodb.get_item(
                TableName=self._table_name,
                Key=key,
                ProjectionExpression="#id, #c",
                ExpressionAttributeNames={"#id": "id", "#c": "identifier_ciphertext"},
            ).get("Item")
        if found:
            return "helpline" if "identifier_ciphertext" in found else "erased"
        with dynamodb_errors("GetItem"):
            office = self._dynamodb.get_item(
                TableName=self._office_table,
                Key=key,
                ProjectionExpression="#id",
                ExpressionAttributeNames={"#id": "id"},
            ).get("Item")
        return "office" if office else "unknown"


class DynamoIdentifierReader(DynamoTable):
    """The contact's `identifier_ciphertext` from ContactsTable (decrypt function only, P7)."""

    def ciphertext(self, contact_id: str) -> str | None:
        with dynamodb_errors("GetItem"):
            item = self._dynamodb.get_item(
                TableName=self._table_name,
                Key=to_item({"id": contact_id}),
                ProjectionExpression="#c",
                ExpressionAttributeNames={"#c": "identifier_ciphertext"},
                ConsistentRead=True,
            ).get("Item")
        value = from_item(item).get("identifier_ciphertext") if item else None
        return value if isinstance(value, str) else None


def disclosure_store() -> DynamoDisclosureStore:
    """The table named by DISCLOSURES_TABLE."""
    return DynamoDisclosureStore(get_settings().disclosures_table)


def contact_directory() -> DynamoContactDirectory:
    """CONTACTS_TABLE and OFFICE_CONTACTS_TABLE."""
    settings = get_settings()
    return DynamoContactDirectory(settings.contacts_table, settings.office_contacts_table)


def identifier_reader() -> DynamoIdentifierReader:
    """CONTACTS_TABLE, for the decrypt function."""
    return DynamoIdentifierReader(get_settings().contacts_table)
