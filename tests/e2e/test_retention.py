"""Retention rehearsed with the local clock (P7): past its time an identifier is gone from every copy.

A stack of its own, because this module moves its clock more than a year forward. Contacts by phone,
chat and e-mail are taken in; the items and transcript rows are copied out as a backup would hold them;
then the clock moves past the identifier retention of their month, past the key's pending window, and
the copies are written back. Nothing discloses or decrypts them any more: not the API (410 "erased by
retention"), not the custodian, not any key or credential of the stand-in. A contact of a later month
still is disclosed.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import aws_encryption_sdk
import pytest
import requests
from aws_encryption_sdk.key_providers.kms import KMSMasterKey
from ingest_support import Ingest, identifier_forms
from running_stack import RunningStack, running_stack
from support import wait_until
from test_disclosure import legal_order

CALLER = "+31611122233"
CHAT_IP = "203.0.113.91"
MAILER = "vergeten.persoon@example.nl"
IDENTIFIER_RETENTION_DAYS = 365  # template default
KEY_DELETION_WINDOW_DAYS = 7  # template default


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with running_stack(tmp_path_factory.mktemp("retention-stack")) as running:
        yield running


@pytest.fixture(scope="module")
def ingest(stack: RunningStack) -> Ingest:
    return Ingest(stack)


def as_group(ingest: Ingest, group: str, method: str, path: str, body: Any = None) -> requests.Response:
    base = ingest.stack.custodian_api if group == "custodian" else ingest.stack.api
    headers = {"Authorization": f"Bearer {ingest.stack.token(group)}"}
    response = requests.request(method, base + path, json=body, headers=headers, timeout=60)
    ingest.keep(response.text)
    return response


def new_contact(ingest: Ingest, action: Any, channel: str) -> dict[str, Any]:
    before = {item["id"]["S"] for item in ingest.contacts()}
    action()
    [record] = wait_until(
        lambda: [c for c in ingest.contacts() if c["id"]["S"] not in before and c["channel"]["S"] == channel]
    )
    return record


def chat_event(kind: str, session: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "session_id": session, "timestamp": "2026-12-01T10:00:00Z", **fields}


def take_in_three_contacts(ingest: Ingest) -> dict[str, dict[str, Any]]:
    """One phone call, one chat with a message, one e-mail: their register items, by channel."""
    call = new_contact(ingest, lambda: ingest.call(CALLER, "CA" + uuid.uuid4().hex), "voice")
    session = "chat-" + uuid.uuid4().hex
    chat = new_contact(
        ingest,
        lambda: ingest.chat(chat_event("chat.started", session, channel="web-chat", client_ip=CHAT_IP)),
        "chat",
    )
    message = chat_event("chat.message", session, message_id="m1", sender="contact", text="Ik ben zo moe.")
    assert ingest.chat(message).status_code == 201
    ingest.feed(MAILER)
    raw = (
        f"From: <{MAILER}>\r\nTo: hulp@helpline.example\r\nSubject: hulp\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mail.example.nl>\r\nDate: Tue, 1 Dec 2026 09:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nIk weet het niet meer.\r\n"
    ).encode()
    mail = new_contact(
        ingest,
        lambda: ingest.client("s3").put_object(
            Bucket=ingest.resource("MailBucket"), Key="inbound/" + uuid.uuid4().hex, Body=raw
        ),
        "email",
    )
    return {"voice": call, "chat": chat, "email": mail}


def transcript_rows(ingest: Ingest, contact_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ingest.client("dynamodb").query(
        TableName=ingest.resource("TranscriptsTable"),
        KeyConditionExpression="contact_id = :c",
        ExpressionAttributeValues={":c": {"S": contact_id}},
        ConsistentRead=True,
    )["Items"]
    return rows


def opens_under_any_key(ingest: Ingest, ciphertext_b64: str) -> bool:
    """Whether any key of the stand-in, used with the stand-in's credentials, opens the message."""
    kms = ingest.client("kms")
    sdk = aws_encryption_sdk.EncryptionSDKClient()
    for key in kms.list_keys()["Keys"]:
        try:
            sdk.decrypt(
                source=base64.b64decode(ciphertext_b64),
                key_provider=KMSMasterKey(key_id=key["KeyArn"], client=kms),
            )
        except Exception:  # noqa: S112 - every failure is the outcome this probe is after
            continue
        return True
    return False


def disclose_and_deliver(ingest: Ingest, contact_id: str) -> requests.Response:
    """Request, approve, confirm at the custodian, and retrieve: the whole happy path."""
    created = as_group(ingest, "professional", "POST", "/disclosures", legal_order(ingest, contact_id))
    assert created.status_code == 202, created.text
    disclosure_id = created.json()["id"]

    def status() -> str:
        return str(as_group(ingest, "compliance", "GET", f"/disclosures/{disclosure_id}").json()["status"])

    wait_until(lambda: status() == "awaiting_decision", timeout_s=30)
    approve = {"reason": "Order checked against the register."}
    assert as_group(ingest, "compliance", "POST", f"/disclosures/{disclosure_id}/approve", approve).ok
    wait_until(lambda: status() == "awaiting_custodian", timeout_s=30)
    # The workflow hands the release to the custodian a moment after the request shows it waits.
    wait_until(lambda: as_group(ingest, "custodian", "GET", f"/releases/{disclosure_id}").ok, timeout_s=30)
    confirm = {"reason": "Demand verified with the public prosecutor's office."}
    confirmed = as_group(ingest, "custodian", "POST", f"/releases/{disclosure_id}/confirm", confirm)
    assert confirmed.status_code == 200, confirmed.text
    wait_until(lambda: status() == "delivered", timeout_s=60)
    # The one delivery holds the identifier by design: it is not kept for the leak scan.
    headers = {"Authorization": f"Bearer {ingest.stack.token('professional')}"}
    return requests.get(f"{ingest.stack.api}/disclosures/{disclosure_id}/result", headers=headers, timeout=60)


def test_past_retention_every_copy_is_gone_and_a_later_month_is_still_disclosed(ingest: Ingest) -> None:
    contacts = take_in_three_contacts(ingest)
    ids = {channel: item["id"]["S"] for channel, item in contacts.items()}
    backup_items = {channel: ingest.contact(contact_id) for channel, contact_id in ids.items()}
    backup_rows = {channel: transcript_rows(ingest, contact_id) for channel, contact_id in ids.items()}
    assert backup_rows["chat"], "chat messages are kept, encrypted"
    assert backup_rows["email"], "e-mail bodies are kept, encrypted"
    for item in backup_items.values():
        assert item is not None
        assert opens_under_any_key(ingest, item["identifier_ciphertext"]["S"])

    # Past the retention of December 2026's last identifier: the key steward retires the month's key,
    # the sweep removes the ciphertexts, DynamoDB's TTL takes the transcript rows.
    moved = ingest.stack.advance_clock(IDENTIFIER_RETENTION_DAYS + 32)
    assert moved["schedules_failed"] == []
    for channel, contact_id in ids.items():
        refused = as_group(ingest, "professional", "POST", "/disclosures", legal_order(ingest, contact_id))
        assert refused.status_code == 410, (channel, refused.text)
        assert "retention" in refused.json()["message"]
        item = ingest.contact(contact_id)
        assert item is not None, "the anonymised record outlives the identifier (P8)"
        assert "identifier_ciphertext" not in item, channel
        assert transcript_rows(ingest, contact_id) == [], channel

    # Past the key's pending window: KMS destroys the key material.
    moved = ingest.stack.advance_clock(KEY_DELETION_WINDOW_DAYS + 1)
    assert moved["keys_destroyed"] >= 1

    # A backup written back after erasure: still nothing opens, by any route or any credentials.
    dynamodb = ingest.client("dynamodb")
    for channel, item in backup_items.items():
        assert item is not None
        dynamodb.put_item(TableName=ingest.resource("ContactsTable"), Item=item)
        for row in backup_rows[channel]:
            dynamodb.put_item(TableName=ingest.resource("TranscriptsTable"), Item=row)
    for channel, contact_id in ids.items():
        refused = as_group(ingest, "professional", "POST", "/disclosures", legal_order(ingest, contact_id))
        assert refused.status_code == 410, (channel, refused.text)
        item = backup_items[channel]
        assert item is not None
        assert not opens_under_any_key(ingest, item["identifier_ciphertext"]["S"]), channel
        for row in backup_rows[channel]:
            assert not opens_under_any_key(ingest, row["ciphertext"]["S"]), channel
    for channel in ("chat", "email"):
        read = as_group(ingest, "mentor", "GET", f"/contacts/{ids[channel]}/transcript?purpose=training")
        assert read.status_code in (200, 404, 410), read.text
        assert "moe" not in read.text, "no expired part is shown"
        assert "niet meer" not in read.text, "no expired part is shown"

    # A contact of a later month is disclosed as ever.
    later_caller = "+31699988877"
    later = new_contact(ingest, lambda: ingest.call(later_caller, "CA" + uuid.uuid4().hex), "voice")
    result = disclose_and_deliver(ingest, later["id"]["S"])
    assert result.status_code == 200, result.text
    assert result.json()["identifier"] == later_caller


def test_the_rehearsal_clock_is_refused_a_step_back(stack: RunningStack) -> None:
    response = requests.post(f"{stack.api}/_local/clock", json={"advance_days": -1}, timeout=30)
    assert response.status_code == 400
    assert "forward" in response.json()["message"]


def test_no_identifier_reached_the_logs_of_this_stack(stack: RunningStack) -> None:
    forms = {CHAT_IP, MAILER} | identifier_forms(CALLER) | identifier_forms("+31699988877")
    assert not [form for form in forms if form in stack.log()]
