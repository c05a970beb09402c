"""The provider webhooks in the OpenAPI document, so a chat platform (or Twilio) knows what to send.

The webhooks are not Powertools routes: a signature is checked over the raw body before anything is
parsed, so they are described here, the chat body from the very models that parse it.
"""

from __future__ import annotations

from typing import Any, Final

from helpline.providers import chat
from helpline.providers.twilio import NON_TERMINAL_STATUSES, TERMINAL_STATUSES

SCHEMA_REF: Final = "#/components/schemas/{model}"

CHAT_DESCRIPTION: Final = (
    "One chat event per request (JSON). Signed: header `X-Helpline-Signature: t=<unix seconds>,v1=<hex>` "
    "with `<hex>` = lowercase hex of HMAC-SHA256(shared secret, `<t>` + '.' + raw body). Refused with 403 "
    "when the signature is missing or wrong, or `t` is more than 300 s from our clock (replay window). "
    "`chat.started` answers whether the chat may go ahead (the daily limit, POLICY P10); messages are "
    "kept word for word, encrypted (P8). The client IP is stored only encrypted (P3)."
)


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _message(description: str) -> dict[str, Any]:
    return _json(description, {"type": "object", "properties": {"message": {"type": "string"}}})


def _signature_header(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


CALL_SID: Final = {"type": "string", "pattern": "^CA[0-9a-f]{32}$", "description": "Twilio's call id"}
DIGITS: Final = {"type": "string", "pattern": "^[0-9]{1,9}$"}
INCOMING_CALL_FORM: Final = {
    "type": "object",
    "description": "Twilio's voice request (its other fields are accepted and ignored)",
    "properties": {
        "CallSid": CALL_SID,
        "To": {"type": "string", "description": "The helpline's number, as Twilio writes it"},
        "From": {"type": "string", "description": "The caller, or a withheld id; stored only encrypted (P3)"},
    },
    "required": ["CallSid", "To"],
    "additionalProperties": {"type": "string"},
}
STATUS_CALLBACK_FORM: Final = {
    "type": "object",
    "description": (
        "Twilio's status callback (its other fields are accepted and ignored; an optional `Timestamp` "
        "must be an RFC 2822 date)"
    ),
    "properties": {
        "CallSid": CALL_SID,
        "CallStatus": {"type": "string", "enum": sorted(NON_TERMINAL_STATUSES | TERMINAL_STATUSES)},
        "CallDuration": {**DIGITS, "description": "Seconds"},
        "SequenceNumber": {**DIGITS, "description": "Order of the callbacks of one call"},
    },
    "required": ["CallSid", "CallStatus"],
    "additionalProperties": {"type": "string"},
}


def _twilio_operation(
    summary: str,
    description: str,
    operation_id: str,
    form: dict[str, Any],
    refusals: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": description,
        "operationId": operation_id,
        "tags": ["webhooks"],
        "security": [],
        "parameters": [
            _signature_header(
                "X-Twilio-Signature",
                "Twilio's signature: base64 HMAC-SHA1 (auth token) of the URL plus the sorted form fields",
            )
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": form},
            },
        },
        "responses": {
            "200": {"description": "TwiML", "content": {"text/xml": {"schema": {"type": "string"}}}},
            "403": _message("The request is not signed by Twilio; nothing is written"),
            "413": _message("Body larger than 256 KiB"),
            **(refusals or {}),
        },
    }


def webhook_spec() -> dict[str, Any]:
    """`paths` and `components.schemas` for the provider webhooks."""
    body_schema = chat.ChatEventAdapter.json_schema(ref_template=SCHEMA_REF)
    schemas: dict[str, Any] = body_schema.pop("$defs", {})
    chat_operation = {
        "summary": "A web chat event",
        "description": CHAT_DESCRIPTION,
        "operationId": "chatEvent",
        "tags": ["webhooks"],
        "security": [],
        "parameters": [_signature_header("X-Helpline-Signature", "t=<unix seconds>,v1=<hex HMAC-SHA256>")],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body_schema}}},
        "responses": {
            "200": _json(
                "chat.started: may the chat go ahead; chat.message: already stored; chat.ended: applied",
                {
                    "type": "object",
                    "properties": {
                        "allowed": {"type": "boolean"},
                        "contacts_last_24h": {"type": ["integer", "null"]},
                        "message": {"type": "string", "description": "Shown to the person when not allowed"},
                        "stored": {"type": "boolean"},
                        "applied": {"type": "boolean"},
                    },
                },
            ),
            "201": _json(
                "chat.message: stored", {"type": "object", "properties": {"stored": {"type": "boolean"}}}
            ),
            "400": _message("The event is malformed; the message names the fields, never their values"),
            "403": _message("Invalid signature or outside the 5-minute window; nothing is written"),
            "404": _message("No chat line for this channel, or no chat started with this session id"),
            "413": _message("Body larger than 256 KiB, or a text longer than 8000 characters"),
            "503": _message("Temporarily unavailable: retry the same event"),
        },
    }
    paths = {
        "/webhooks/chat": {"post": chat_operation},
        "/webhooks/twilio/voice": {
            "post": _twilio_operation(
                "Twilio: an incoming call",
                "Registers the call (P8) and answers the line's routing (`<Enqueue>`), or, over the daily "
                "limit (P10), a short Dutch message and `<Hangup/>`. A signed call is always answered "
                "with TwiML that routes it, even when its fields cannot be read: a caller is waiting.",
                "twilioIncomingCall",
                INCOMING_CALL_FORM,
            )
        },
        "/webhooks/twilio/status": {
            "post": _twilio_operation(
                "Twilio: a call status callback",
                "Fills in the end and length of a call; repeats and out-of-order callbacks (SequenceNumber) "
                "change nothing.",
                "twilioCallStatus",
                STATUS_CALLBACK_FORM,
                {
                    "400": _message(
                        "A field is missing or unreadable; the message names it, never its value"
                    ),
                    "503": {
                        "description": "Not stored nor buffered: Twilio retries the callback",
                        "content": {"text/xml": {"schema": {"type": "string"}}},
                    },
                },
            )
        },
    }
    return {"paths": paths, "components": {"schemas": schemas}}
