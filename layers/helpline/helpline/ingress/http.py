"""API Gateway REST proxy events in and out, for the provider webhooks.

Error answers name the problem and never echo input (P2, P3): a webhook body is full of identifiers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from helpline.providers.errors import MalformedEvent, PayloadTooLarge, SignatureError

MAX_BODY_BYTES = 256 * 1024


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body as sent; 413 (PayloadTooLarge) over 256 KiB."""
    body = event.get("body") or ""
    data = base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode("utf-8")
    if len(data) > MAX_BODY_BYTES:
        raise PayloadTooLarge("body larger than 256 KiB")
    return data


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header, case-insensitively."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if str(key).lower() == wanted:
            return str(value)
    return None


def response(status: int, body: str, content_type: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": content_type}, "body": body}


def json_response(status: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    return response(status, json.dumps(payload), "application/json")


def error_response(error: Exception) -> dict[str, Any] | None:
    """The answer for a provider error (403, 400, 413), or None for anything else."""
    if isinstance(error, SignatureError):
        return json_response(403, {"message": "Forbidden: invalid signature"})
    if isinstance(error, PayloadTooLarge):
        return json_response(413, {"message": str(error) or "Payload too large"})
    if isinstance(error, MalformedEvent):
        return json_response(400, {"message": f"Bad request: {error}"})
    return None
