"""One DynamoDB client per process, created on first use, and the item (de)serialisation.

Created lazily so that importing a handler costs no AWS call and tests can start moto first;
created once so that warm Lambda invocations reuse its connections. A client, not a resource,
because clients are thread-safe, which matters when the local stack runs several invocations in one
process. The endpoint follows boto3's own `AWS_ENDPOINT_URL` variables, which is how the local stack
points functions at its AWS stand-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@cache
def dynamodb_client() -> DynamoDBClient:
    """The process's DynamoDB client (tests call `dynamodb_client.cache_clear()`)."""
    # A session of its own: boto3's default session is not safe to use from several threads.
    return boto3.session.Session().client("dynamodb")


def to_item(data: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-shaped mapping (strings, ints, lists, dicts) as DynamoDB attribute values."""
    return {key: _serializer.serialize(value) for key, value in data.items()}


def from_item(item: Mapping[str, AttributeValueTypeDef]) -> dict[str, Any]:
    """DynamoDB attribute values back to plain Python values (numbers come back as Decimal)."""
    return {key: _deserializer.deserialize(value) for key, value in item.items()}
