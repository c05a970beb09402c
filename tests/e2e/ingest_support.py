"""Talking to the running local stack as the providers do, and reading what it stored."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import aws_encryption_sdk
import boto3
import requests
from aws_encryption_sdk.exceptions import DecryptKeyError
from aws_encryption_sdk.key_providers.kms import KMSMasterKey
from botocore.exceptions import ClientError as KMSClientError
from running_stack import RunningStack
from twilio.request_validator import RequestValidator

from helpline.providers import chat

HELPLINE_NUMBER = "+31881234000"


def identifier_forms(value: str) -> set[str]:
    """A value and, for a Dutch number, how else it is written: +31612345678, 0612345678, 06-12345678."""
    forms = {value}
    digits = "".join(c for c in value if c.isdigit())
    if value.startswith(("+31", "0")) and len(digits) >= 9:
        national = "0" + digits[2:] if digits.startswith("31") else digits
        forms |= {"+31" + national[1:], national, national[:2] + "-" + national[2:], "31" + national[1:]}
    return forms


class Ingest:
    """Provider-side helpers bound to one running stack; keeps every response for the leak test."""

    # Shared on purpose: the leak test scans every response and looks for every identifier fed in.
    responses: list[str] = []  # noqa: RUF012
    fed: set[str] = set()  # noqa: RUF012

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.outputs = stack.outputs

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=self.outputs["Region"],
            endpoint_url=self.outputs["AwsEndpoint"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def resource(self, logical_id: str) -> str:
        return str(self.outputs["Resources"][logical_id])

    def feed(self, *values: str) -> None:
        """Remember identifiers sent to the stack, in every format a number is written in."""
        for value in values:
            Ingest.fed.update(identifier_forms(value))

    def keep(self, text: str) -> str:
        Ingest.responses.append(text)
        return text

    # -------------------------------------------------------------- Twilio
    def twilio(
        self, path: str, params: dict[str, str], tamper: dict[str, str] | None = None
    ) -> requests.Response:
        url = f"{self.stack.api}{path}"
        signature = RequestValidator(self.outputs["TwilioAuthToken"]).compute_signature(url, params)
        sent = {**params, **(tamper or {})}
        response = requests.post(url, data=sent, headers={"X-Twilio-Signature": signature}, timeout=30)
        self.keep(response.text)
        return response

    def call(self, caller: str, sid: str, to: str = HELPLINE_NUMBER) -> requests.Response:
        self.feed(caller, sid)
        params = {
            "AccountSid": "AC" + "0" * 32,
            "CallSid": sid,
            "From": caller,
            "To": to,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "FromCity": "",
        }
        return self.twilio("/webhooks/twilio/voice", params)

    def call_status(
        self, sid: str, caller: str, status: str, duration: int | None, sequence: int
    ) -> requests.Response:
        params = {
            "AccountSid": "AC" + "0" * 32,
            "CallSid": sid,
            "From": caller,
            "To": HELPLINE_NUMBER,
            "CallStatus": status,
            "SequenceNumber": str(sequence),
        }
        if duration is not None:
            params["CallDuration"] = str(duration)
        return self.twilio("/webhooks/twilio/status", params)

    # -------------------------------------------------------------- chat
    def chat(
        self, event: dict[str, Any], secret: str | None = None, at: datetime | None = None
    ) -> requests.Response:
        self.feed(*(str(event[k]) for k in ("session_id", "client_ip") if k in event))
        body = json.dumps(event).encode()
        header = chat.sign(body, secret or self.outputs["ChatWebhookSecret"], at or datetime.now(UTC))
        response = requests.post(
            f"{self.stack.api}/webhooks/chat",
            data=body,
            headers={"Content-Type": "application/json", chat.SIGNATURE_HEADER: header},
            timeout=30,
        )
        self.keep(response.text)
        return response

    # -------------------------------------------------------------- storage
    def items(self, logical_id: str) -> list[dict[str, Any]]:
        pages = self.client("dynamodb").get_paginator("scan").paginate(TableName=self.resource(logical_id))
        return [item for page in pages for item in page["Items"]]

    def contacts(self) -> list[dict[str, Any]]:
        return self.items("ContactsTable")

    def contact(self, contact_id: str) -> dict[str, Any] | None:
        found = self.client("dynamodb").get_item(
            TableName=self.resource("ContactsTable"), Key={"id": {"S": contact_id}}, ConsistentRead=True
        )
        item: dict[str, Any] | None = found.get("Item")
        return item

    def decrypt(self, ciphertext_b64: str) -> dict[str, Any]:
        """What only the disclosure path may do in production: here the test reads back its own data.

        Tried under every symmetric key of the stand-in (the custodian's identifier keys and the
        transcript keys are per month), each with a KMS client pointed at this stack explicitly (never
        through the process environment, which other tests share).
        """
        kms = self.client("kms")
        sdk = aws_encryption_sdk.EncryptionSDKClient()
        for key in kms.list_keys()["Keys"]:
            try:
                plaintext, _ = sdk.decrypt(
                    source=base64.b64decode(ciphertext_b64),
                    key_provider=KMSMasterKey(key_id=key["KeyArn"], client=kms),
                )
            except (DecryptKeyError, KMSClientError):
                continue
            decoded: dict[str, Any] = json.loads(plaintext)
            return decoded
        raise AssertionError("no key of the stand-in decrypts this message")

    def transcript(self, contact_id: str) -> list[dict[str, Any]]:
        parts = self.client("dynamodb").query(
            TableName=self.resource("TranscriptsTable"),
            KeyConditionExpression="contact_id = :c",
            ExpressionAttributeValues={":c": {"S": contact_id}},
            ConsistentRead=True,
        )["Items"]
        return [self.decrypt(part["ciphertext"]["S"]) for part in parts]
