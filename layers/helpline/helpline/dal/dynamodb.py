"""One DynamoDB client per process, created on first use, and the item (de)serialisation.

Created lazily so that importing a handler costs no AWS call and tests can start moto first;
created once so that warm Lambda invocations reuse its connections. A client, not a resource,
because clients are thread-safe, which matters when the local stack runs several invocations in one
process. The endpoint follows boto3's own `AWS_ENDPOINT_URL` variables, which is how the local stack
points functions at its AWS stand-in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import TypeAdapter

from helpline import snapstart
from helpline.dal.retries import CALLER_IS_WAITING
from helpline.logic.ports import DependencyError
from helpline.models.common import DEFERRED, UtcDateTime

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@cache
def dynamodb_client() -> DynamoDBClient:
    """The process's DynamoDB client (tests call `dynamodb_client.cache_clear()`).

    Few retries and short timeouts: on the ingest path a caller is waiting on the line, and what
    does not succeed quickly goes to the buffer queue instead (DynamoDB's default is ten retries).
    """
    # A session of its own: boto3's default session is not safe to use from several threads.
    return boto3.session.Session().client("dynamodb", config=CALLER_IS_WAITING)


def to_item(data: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-shaped mapping (strings, ints, lists, dicts) as DynamoDB attribute values."""
    return {key: _serializer.serialize(value) for key, value in data.items()}


def from_item(item: Mapping[str, AttributeValueTypeDef]) -> dict[str, Any]:
    """DynamoDB attribute values back to plain Python values (numbers come back as Decimal)."""
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


_UTC_TIME: Final = TypeAdapter(UtcDateTime, config=DEFERRED)


class ConditionFailedError(Exception):
    """DynamoDB refused a conditional write: an expected outcome, not a failure."""


@contextmanager
def dynamodb_errors(operation: str) -> Iterator[None]:
    """ConditionalCheckFailed as `ConditionFailedError`; any other failure as `DependencyError`.

    The message names only the operation, never AWS's message: that can quote a key or a value.
    """
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ConditionFailedError(operation) from None
        raise DependencyError(f"dynamodb: {operation} failed") from None
    except BotoCoreError:
        raise DependencyError(f"dynamodb: {operation} failed") from None


def utc_text(value: datetime) -> str:
    """A time as the models store it (`YYYY-MM-DDTHH:MM:SSZ`), so updates sort with puts."""
    text: str = _UTC_TIME.dump_python(_UTC_TIME.validate_python(value), mode="json")
    return text


class DynamoTable:
    """Base of the adapters over one table: its name, and the process's client unless a test gives one."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table_name = table_name
        self._client = client

    @property
    def _dynamodb(self) -> DynamoDBClient:
        return self._client if self._client is not None else dynamodb_client()

    def _update_versioned(
        self,
        key: Mapping[str, Any],
        data: Mapping[str, Any],
        expected_version: int,
        unchanged: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """Optimistic locking: SET every field of `data` but the key's and `unchanged` (REMOVE those that
        are None), on condition that the stored `version` is still `expected_version`;
        `ConditionFailedError` if not. Returns the fields it changed as they were before.

        Every field is written, not a diff, so what is stored is exactly the model that was validated.
        """
        names: dict[str, str] = {"#version": "version"}
        values: dict[str, Any] = {":expected": expected_version}
        sets: list[str] = []
        removes: list[str] = []
        for index, (field, value) in enumerate(data.items()):
            if field in key or field in unchanged:
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
        with dynamodb_errors("UpdateItem"):
            response = self._dynamodb.update_item(
                TableName=self._table_name,
                Key=to_item(dict(key)),
                UpdateExpression=expression,
                ConditionExpression="#version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
                ReturnValues="UPDATED_OLD",
            )
        return from_item(response.get("Attributes", {}))

    def _put_if_absent(self, item: Mapping[str, Any], key_attribute: str) -> bool:
        """PutItem on condition that no item has this key yet; False when one had (a redelivery, a
        provider retry, a concurrent writer that won). Any other failure is a `DependencyError`."""
        try:
            with dynamodb_errors("PutItem"):
                self._dynamodb.put_item(
                    TableName=self._table_name,
                    Item=to_item(item),
                    ConditionExpression="attribute_not_exists(#key)",
                    ExpressionAttributeNames={"#key": key_attribute},
                )
        except ConditionFailedError:
            return False
        return True


# SnapStart: a restored environment makes its own (clients, credentials, cached keys).
snapstart.after_restore(dynamodb_client.cache_clear)
