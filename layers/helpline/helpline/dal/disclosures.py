"""Disclosure requests in DisclosuresTable (pk/sk, GSI `by-requester`, TTL `expires_at`; P6, P7).

Items (pk `disclosure#<id>`):

- sk `request`: the `DisclosureRecord` as JSON (ids, basis, legal order, approvals, timeline, the
  task token only sealed); `requested_by` and `requested_at` feed the `by-requester` index.
The released result lives in DisclosureResultsTable (same key shape, sk `result`): `ciphertext` (sealed
under DisclosureKey), `created_at`, and `expires_at` (epoch seconds, 24 hours after the custodian
decrypted it) for the table's TTL. Put by the custodian's decrypt function, once; read by the one
retrieval and deleted (on condition it is still there) only once it was opened, so a failure of KMS
never destroys it: the disclosures role needs GetItem and DeleteItem on that table. A table of its own
because it must have no point-in-time backups (P7: a sealed identifier would otherwise be restorable for
35 days).

Every update is conditional on `version` (optimistic locking): two decisions cannot both count. Only
`UpdateItem` changes a request, since the workflow's roles may not `PutItem` it. A request's
`audit_pending` (a list of maps) and `callback_pending` (a boolean) are stored like its other fields.

Also here: `DynamoContactDirectory` (which table holds a contact id, P11, whether its identifier is
still within retention, and when the contact started), and for the custodian's decrypt function only,
which reaches the organisation's tables by ARN: `DynamoIdentifierReader` (the contact's ciphertext and
`identifier_retain_until`) and `DynamoResultDrop` (the one `result` item, written once).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final

from helpline import clock
from helpline.dal.dynamodb import (
    ConditionFailedError,
    DynamoTable,
    dynamodb_errors,
    from_item,
    to_item,
    utc_text,
)
from helpline.logic.disclosures import ContactState, StaleRecordError, retention_over
from helpline.logic.releases import StoredIdentifier
from helpline.metrics import count_disclosure
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
    """`DisclosureStore` on DisclosuresTable, and on DisclosureResultsTable for the released result."""

    def __init__(
        self,
        table_name: str,
        results_table: str | None = None,
        client: DynamoDBClient | None = None,
    ) -> None:
        super().__init__(table_name, client)
        self._results_table = results_table

    @property
    def _results(self) -> str:
        """DisclosureResultsTable; read from the settings on first use, since only the disclosures
        function is given it (DISCLOSURE_RESULTS_TABLE): the workflow's steps never touch a result."""
        return self._results_table or get_settings().disclosure_results_table

    def create(self, item: DisclosureRecord) -> None:
        data = {"pk": _pk(item.id), "sk": REQUEST_SK, **item.model_dump(mode="json", exclude_none=True)}
        with dynamodb_errors("PutItem"):
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item=to_item(data),
                ConditionExpression="attribute_not_exists(pk)",
            )
        count_disclosure(item.status)

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
        try:
            before = self._update_versioned(
                {"pk": _pk(item.id), "sk": REQUEST_SK},
                stored.model_dump(mode="json"),
                expected_version=item.version,
                unchanged=frozenset({"id"}),
            )
        except ConditionFailedError:
            raise StaleRecordError(item.id) from None
        if before.get("status", stored.status) != stored.status:  # UPDATED_OLD may leave out the unchanged
            count_disclosure(stored.status)
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
        with dynamodb_errors("PutItem"):
            self._dynamodb.put_item(
                TableName=self._results, Item=_result_item(disclosure_id, ciphertext, expires_at, now)
            )

    def result(self, disclosure_id: str) -> str | None:
        """GetItem (consistent) of the sealed result, left in place: it is taken only once opened."""
        with dynamodb_errors("GetItem"):
            response = self._dynamodb.get_item(
                TableName=self._results,
                Key=_key(disclosure_id, RESULT_SK),
                ProjectionExpression="#c",
                ExpressionAttributeNames={"#c": "ciphertext"},
                ConsistentRead=True,
            )
        ciphertext = from_item(response.get("Item", {})).get("ciphertext")
        return ciphertext if isinstance(ciphertext, str) else None

    def take_result(self, disclosure_id: str, ciphertext: str) -> bool:
        """DeleteItem on condition that the result is still there and is `ciphertext`: of two concurrent
        calls one wins (True), the other finds it gone (False)."""
        try:
            with dynamodb_errors("DeleteItem"):
                self._dynamodb.delete_item(
                    TableName=self._results,
                    Key=_key(disclosure_id, RESULT_SK),
                    ConditionExpression="#c = :c",
                    ExpressionAttributeNames={"#c": "ciphertext"},
                    ExpressionAttributeValues=to_item({":c": ciphertext}),
                )
        except ConditionFailedError:
            return False
        return True

    def delete_result(self, disclosure_id: str) -> None:
        with dynamodb_errors("DeleteItem"):
            self._dynamodb.delete_item(TableName=self._results, Key=_key(disclosure_id, RESULT_SK))

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


def _result_item(disclosure_id: str, ciphertext: str, expires_at: datetime, now: datetime) -> dict[str, Any]:
    return to_item(
        {
            "pk": _pk(disclosure_id),
            "sk": RESULT_SK,
            "ciphertext": ciphertext,
            "created_at": utc_text(now),
            "expires_at": int(expires_at.timestamp()),
        }
    )


def _today() -> date:
    return clock.now().date()


def _retain_until(value: object) -> date | None:
    """The stored `identifier_retain_until` (ISO date text), or None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _started_at(value: object) -> datetime | None:
    """The stored `started_at` (ISO time with its zone), or None when absent, unreadable or zoneless."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


class DynamoContactDirectory(DynamoTable):
    """`ContactDirectory`: ContactsTable first (helpline, P8), then OfficeContactsTable (P11).

    Reads whether `identifier_ciphertext` is present and `identifier_retain_until` (a projection; the
    ciphertext's value is not used). Past its retention date, on our clock, a contact is `erased` at
    once (P7), whether or not the sweep and the key steward have erased it physically yet. And, for the
    dates of a request's grounds, `started_at` (a projection of its own).
    """

    def __init__(
        self,
        contacts_table: str,
        office_table: str,
        client: DynamoDBClient | None = None,
        today: Callable[[], date] = _today,
    ) -> None:
        super().__init__(contacts_table, client)
        self._office_table = office_table
        self._today = today

    def state(self, contact_id: str) -> ContactState:
        key = to_item({"id": contact_id})
        with dynamodb_errors("GetItem"):
            found = self._dynamodb.get_item(
                TableName=self._table_name,
                Key=key,
                ProjectionExpression="#id, #c, #r",
                ExpressionAttributeNames={
                    "#id": "id",
                    "#c": "identifier_ciphertext",
                    "#r": "identifier_retain_until",
                },
            ).get("Item")
        if found:
            data = from_item(found)
            if "identifier_ciphertext" not in data:
                return "erased"
            retain_until = _retain_until(data.get("identifier_retain_until"))
            return "erased" if retention_over(retain_until, self._today()) else "helpline"
        with dynamodb_errors("GetItem"):
            office = self._dynamodb.get_item(
                TableName=self._office_table,
                Key=key,
                ProjectionExpression="#id",
                ExpressionAttributeNames={"#id": "id"},
            ).get("Item")
        return "office" if office else "unknown"

    def started_at(self, contact_id: str) -> datetime | None:
        """The contact's `started_at` from ContactsTable, projected alone (least privilege: nothing else
        of the registration is read), for the dates of a request's grounds; None if not on record."""
        with dynamodb_errors("GetItem"):
            found = self._dynamodb.get_item(
                TableName=self._table_name,
                Key=to_item({"id": contact_id}),
                ProjectionExpression="#s",
                ExpressionAttributeNames={"#s": "started_at"},
            ).get("Item")
        return _started_at(from_item(found).get("started_at")) if found else None


class DynamoIdentifierReader(DynamoTable):
    """A contact's `identifier_ciphertext` and `identifier_retain_until` from the organisation's
    ContactsTable, named by its ARN (the custodian's decrypt function only, P7).

    DynamoDB takes a table ARN as TableName, which is how a role of the custodian's account reads a
    table of the organisation's (its resource policy allows GetItem to that role alone).
    """

    def stored(self, contact_id: str) -> StoredIdentifier | None:
        with dynamodb_errors("GetItem"):
            item = self._dynamodb.get_item(
                TableName=self._table_name,
                Key=to_item({"id": contact_id}),
                ProjectionExpression="#id, #c, #r",
                ExpressionAttributeNames={
                    "#id": "id",
                    "#c": "identifier_ciphertext",
                    "#r": "identifier_retain_until",
                },
                ConsistentRead=True,
            ).get("Item")
        if not item:
            return None
        data = from_item(item)
        ciphertext = data.get("identifier_ciphertext")
        return StoredIdentifier(
            ciphertext=ciphertext if isinstance(ciphertext, str) else None,
            retain_until=_retain_until(data.get("identifier_retain_until")),
        )


class DynamoResultDrop(DynamoTable):
    """The `result` item of the organisation's DisclosureResultsTable, by ARN (the custodian's decrypt
    function only): a PutItem on condition that none is there, so a result is written once."""

    def put_result_once(
        self, disclosure_id: str, ciphertext: str, expires_at: datetime, now: datetime
    ) -> bool:
        try:
            with dynamodb_errors("PutItem"):
                self._dynamodb.put_item(
                    TableName=self._table_name,
                    Item=_result_item(disclosure_id, ciphertext, expires_at, now),
                    ConditionExpression="attribute_not_exists(pk)",
                )
        except ConditionFailedError:
            return False
        return True


def disclosure_store() -> DynamoDisclosureStore:
    """The table named by DISCLOSURES_TABLE."""
    return DynamoDisclosureStore(get_settings().disclosures_table)


def contact_directory() -> DynamoContactDirectory:
    """CONTACTS_TABLE and OFFICE_CONTACTS_TABLE."""
    settings = get_settings()
    return DynamoContactDirectory(settings.contacts_table, settings.office_contacts_table)


def identifier_reader() -> DynamoIdentifierReader:
    """ORGANISATION_CONTACTS_TABLE_ARN, for the custodian's decrypt function."""
    return DynamoIdentifierReader(get_settings().organisation_contacts_table_arn)


def result_drop() -> DynamoResultDrop:
    """ORGANISATION_DISCLOSURE_RESULTS_TABLE_ARN, for the custodian's decrypt function."""
    return DynamoResultDrop(get_settings().organisation_disclosure_results_table_arn)
