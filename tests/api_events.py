"""Hand-built Lambda events and context, shaped as API Gateway (REST proxy) and SQS send them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

DEFAULT_STAGE = "dev"


@dataclass
class FakeLambdaContext:
    """What Powertools' Logger and Tracer read from the Lambda context."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:test-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def rest_event(
    method: str,
    resource: str,
    path: str | None = None,
    *,
    username: str | None = "alice",
    groups: Any = None,
    body: Any = None,
    path_parameters: dict[str, str] | None = None,
    with_resource: bool = True,
) -> dict[str, Any]:
    """A REST API proxy event; `username=None` means no authorizer claims at all."""
    path = path or resource
    request_context: dict[str, Any] = {
        "resourcePath": resource,
        "httpMethod": method,
        "path": f"/{DEFAULT_STAGE}{path}",
        "stage": DEFAULT_STAGE,
        "requestId": str(uuid.uuid4()),
        "identity": {"sourceIp": "192.0.2.1"},
    }
    if username is not None:
        claims: dict[str, Any] = {"cognito:username": username, "token_use": "id"}
        if groups is not None:
            claims["cognito:groups"] = groups
        request_context["authorizer"] = {"claims": claims}
    raw_body = body if body is None or isinstance(body, str) else json.dumps(body)
    event: dict[str, Any] = {
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": request_context,
        "body": raw_body,
        "isBase64Encoded": False,
    }
    if with_resource:
        event["resource"] = resource
    return event


def sqs_event(*bodies: str, message_ids: list[str] | None = None) -> dict[str, Any]:
    """An SQS batch, one record per body."""
    ids = message_ids or [str(uuid.uuid4()) for _ in bodies]
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": f"handle-{message_id}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1764410400000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1764410400001",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:registration-buffer",
                "awsRegion": "eu-west-1",
            }
            for message_id, body in zip(ids, bodies, strict=True)
        ]
    }


def response_json(response: dict[str, Any]) -> Any:
    """The decoded body of a proxy response."""
    return json.loads(response["body"])
