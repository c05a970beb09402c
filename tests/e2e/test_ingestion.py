"""Contacts through every provider against the running local stack (P1-P3, P8, P10, P11).

Each test uses its own caller identifiers, so the daily limit of one test does not touch another.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import requests
from ingest_support import HELPLINE_NUMBER, Ingest
from running_stack import RunningStack
from support import wait_until


@pytest.fixture(scope="module")
def ingest(local_stack: RunningStack) -> Ingest:
    return Ingest(local_stack)


def new_contacts(ingest: Ingest, action: Callable[[], Any]) -> tuple[Any, list[dict[str, Any]]]:
    """Run `action`; return its result and the contact records it added."""
    before = {item["id"]["S"] for item in ingest.contacts()}
    result = action()
    added = [item for item in ingest.contacts() if item["id"]["S"] not in before]
    return result, added


def test_a_twilio_call_is_registered_routed_and_completed(ingest: Ingest) -> None:
    sid = "CA" + uuid.uuid4().hex
    response, added = new_contacts(ingest, lambda: ingest.call("030 765 4321", sid))

    assert response.status_code == 200
    assert "<Enqueue>volunteers</Enqueue>" in response.text
    [record] = added
    assert record["channel"] == {"S": "voice"}
    assert record["line"] == {"S": "national-helpline"}
    assert record["region"] == {"S": "Utrecht"}
    assert record["limit_outcome"] == {"S": "allowed"}
    sealed = ingest.decrypt(record["identifier_ciphertext"]["S"])
    assert sealed == {
        "contact_id": record["id"]["S"],
        "kind": "phone",
        "value": "+31307654321",
        "reference": sid,
    }

    # Callbacks repeat and arrive out of order: the final one, by sequence, wins.
    assert ingest.call_status(sid, "030 765 4321", "completed", 42, sequence=4).status_code == 200
    assert ingest.call_status(sid, "030 765 4321", "completed", 42, sequence=4).status_code == 200
    assert ingest.call_status(sid, "030 765 4321", "in-progress", None, sequence=2).status_code == 200
    stored = wait_until(
        lambda: (
            (ingest.contact(record["id"]["S"]) or {}).get("duration_s") and ingest.contact(record["id"]["S"])
        )
    )
    assert stored["duration_s"] == {"N": "42"}
    assert len([c for c in ingest.contacts() if c["id"] == record["id"]]) == 1


def test_the_fourth_call_in_24_hours_gets_the_limited_answer(ingest: Ingest) -> None:
    """P10: three calls a day per person (the default), whatever format the network sends."""
    answers = [
        ingest.call(number, "CA" + uuid.uuid4().hex)
        for number in ("+31612345678", "0612345678", "06-12345678")
    ]
    assert all("<Enqueue>" in a.text for a in answers)

    fourth, added = new_contacts(ingest, lambda: ingest.call("+31612345678", "CA" + uuid.uuid4().hex))

    assert "<Hangup" in fourth.text
    assert '<Say language="nl-NL">' in fourth.text
    assert "<Enqueue>" not in fourth.text
    assert [r["limit_outcome"] for r in added] == [{"S": "limited"}]
    assert added[0]["region"] == {"S": "mobile"}


def test_a_request_with_one_parameter_changed_is_refused_and_writes_nothing(ingest: Ingest) -> None:
    params = {
        "CallSid": "CA" + uuid.uuid4().hex,
        "From": "+31699999999",
        "To": HELPLINE_NUMBER,
        "AccountSid": "AC1",
    }
    ingest.feed(params["CallSid"], "+31699999999", "+31699999998")
    before_refs = len(ingest.items("ReferencesTable"))

    response, added = new_contacts(
        ingest, lambda: ingest.twilio("/webhooks/twilio/voice", params, tamper={"From": "+31699999998"})
    )

    assert response.status_code == 403
    assert added == []
    assert len(ingest.items("ReferencesTable")) == before_refs


def test_a_provider_retry_is_one_record(ingest: Ingest) -> None:
    sid = "CA" + uuid.uuid4().hex
    _, added = new_contacts(ingest, lambda: [ingest.call("+31611111111", sid) for _ in range(3)])
    assert len(added) == 1


def test_an_office_call_is_not_a_helpline_contact(ingest: Ingest) -> None:
    """P11: kept apart, never counted, never in the helpline registration."""
    before = len(ingest.items("OfficeContactsTable"))
    response, added = new_contacts(
        ingest, lambda: ingest.call("+31622222222", "CA" + uuid.uuid4().hex, to="+31201234567")
    )
    assert "<Enqueue>" in response.text
    assert added == []
    assert len(ingest.items("OfficeContactsTable")) == before + 1


def test_an_amazon_connect_contact_and_its_disconnect(ingest: Ingest) -> None:
    contact_id = str(uuid.uuid4())
    started = datetime.now(UTC).replace(microsecond=0)
    event = {
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {
                "Channel": "VOICE",
                "ContactId": contact_id,
                "InitialContactId": contact_id,
                "InitiationMethod": "INBOUND",
                "CustomerEndpoint": {"Address": "+31633333333", "Type": "TELEPHONE_NUMBER"},
                "SystemEndpoint": {"Address": HELPLINE_NUMBER, "Type": "TELEPHONE_NUMBER"},
                "InstanceARN": "arn:aws:connect:eu-west-1:123456789012:instance/local",
                "Attributes": {},
                "InitiationTimestamp": started.isoformat().replace("+00:00", "Z"),
            },
            "Parameters": {},
        },
    }
    ingest.feed(contact_id, "+31633333333")
    lambda_client = ingest.client("lambda")

    def invoke() -> dict[str, str]:
        answer = lambda_client.invoke(
            FunctionName=ingest.resource("ConnectContactFunction"), Payload=json.dumps(event)
        )
        payload = answer["Payload"].read().decode()
        ingest.keep(payload)
        return json.loads(payload)

    answer, added = new_contacts(ingest, invoke)

    assert answer == {"allowed": "true", "contactsLast24h": "1", "message": answer["message"]}
    assert all(isinstance(v, str) for v in answer.values())
    [record] = added
    assert record["line"] == {"S": "national-helpline"}
    assert ingest.decrypt(record["identifier_ciphertext"]["S"])["reference"] == contact_id

    ended = started + timedelta(seconds=185)
    detail = {
        "eventType": "DISCONNECTED",
        "contactId": contact_id,
        "channel": "VOICE",
        "initiationMethod": "INBOUND",
        "initiationTimestamp": started.isoformat().replace("+00:00", "Z"),
        "disconnectTimestamp": ended.isoformat().replace("+00:00", "Z"),
    }
    entry = {
        "Source": "aws.connect",
        "DetailType": "Amazon Connect Contact Event",
        "Detail": json.dumps(detail),
    }
    ingest.client("events").put_events(Entries=[entry, entry])  # EventBridge may deliver twice

    stored = wait_until(lambda: (ingest.contact(record["id"]["S"]) or {}).get("duration_s"))
    assert stored == {"N": "185"}


def chat_event(kind: str, session: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "session_id": session, "timestamp": datetime.now(UTC).isoformat(), **fields}


def test_a_chat_session_with_messages(ingest: Ingest) -> None:
    session = "chat-" + uuid.uuid4().hex
    started, added = new_contacts(
        ingest,
        lambda: ingest.chat(
            chat_event("chat.started", session, channel="web-chat", client_ip="203.0.113.77")
        ),
    )
    assert started.status_code == 200
    assert started.json()["allowed"] is True
    [record] = added
    assert record["channel"] == {"S": "chat"}
    assert record["line"] == {"S": "web-chat"}
    assert ingest.decrypt(record["identifier_ciphertext"]["S"])["value"] == "203.0.113.77"

    texts = [
        ("contact", "Ik kan niet slapen en voel me zo alleen."),
        ("volunteer", "Wat fijn dat je het vertelt."),
    ]
    for number, (sender, text) in enumerate(texts):
        message = chat_event("chat.message", session, message_id=f"m{number}", sender=sender, text=text)
        assert ingest.chat(message).status_code == 201
        assert ingest.chat(message).status_code == 200, "a redelivered message is stored once"
    assert ingest.chat(chat_event("chat.ended", session)).status_code == 200

    parts = ingest.transcript(record["id"]["S"])
    assert [(p["sender"], p["text"]) for p in parts] == texts
    assert {p["contact_id"] for p in parts} == {record["id"]["S"]}
    assert "duration_s" in (ingest.contact(record["id"]["S"]) or {})


def test_chat_refusals(ingest: Ingest) -> None:
    session = "chat-" + uuid.uuid4().hex
    start = chat_event("chat.started", session, channel="web-chat", client_ip="198.51.100.9")
    _, added = new_contacts(ingest, lambda: ingest.chat(start, secret="wrong-secret"))
    assert added == []
    assert ingest.chat(start, secret="wrong-secret").status_code == 403
    stale = datetime.now(UTC) - timedelta(minutes=6)
    assert ingest.chat(start, at=stale).status_code == 403, "outside the 5-minute replay window"
    unknown = chat_event("chat.started", session, channel="no-such-chat", client_ip="198.51.100.9")
    assert ingest.chat(unknown).status_code == 404
    malformed = ingest.chat({"type": "chat.started", "session_id": session, "client_ip": "198.51.100.9"})
    assert malformed.status_code == 400
    assert "198.51.100.9" not in malformed.text
    too_long = chat_event("chat.message", session, message_id="m", sender="contact", text="x" * 8001)
    assert ingest.chat(too_long).status_code == 413
    oversized = requests.post(f"{ingest.stack.api}/webhooks/chat", data=b"x" * (256 * 1024 + 1), timeout=30)
    assert oversized.status_code == 413


def test_a_call_to_an_unregistered_number_is_still_routed(ingest: Ingest) -> None:
    response, added = new_contacts(
        ingest, lambda: ingest.call("+31644444444", "CA" + uuid.uuid4().hex, to="+31101234567")
    )
    assert "<Enqueue>volunteers</Enqueue>" in response.text
    assert [r["line"] for r in added] == [{"S": "unknown"}]


def test_an_email_is_registered_with_its_body_encrypted(ingest: Ingest) -> None:
    message_id = f"<{uuid.uuid4().hex}@mail.example.nl>"
    body = "Beste hulplijn,\n\nIk weet niet meer wat ik moet doen.\n\nGroet"
    raw = (
        "From: Iemand <iemand.anoniem@example.nl>\r\n"
        "To: hulp@helpline.example\r\n"
        "Subject: hulp\r\n"
        f"Message-ID: {message_id}\r\n"
        "Date: Sun, 29 Nov 2026 12:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.replace("\n", "\r\n")
    ).encode()
    ingest.feed(message_id, "iemand.anoniem@example.nl")
    bucket = ingest.resource("MailBucket")
    before = {item["id"]["S"] for item in ingest.contacts()}
    key = "inbound/" + uuid.uuid4().hex
    ingest.client("s3").put_object(Bucket=bucket, Key=key, Body=raw)

    added = wait_until(
        lambda: [
            c for c in ingest.contacts() if c["id"]["S"] not in before and c["channel"] == {"S": "email"}
        ]
    )

    [record] = added
    assert record["line"] == {"S": "email"}
    sealed = ingest.decrypt(record["identifier_ciphertext"]["S"])
    assert sealed["value"] == "iemand.anoniem@example.nl"
    [part] = wait_until(lambda: ingest.transcript(record["id"]["S"]))
    assert part["text"] == body
    assert wait_until(lambda: ingest.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0)


def test_no_version_of_a_raw_mail_is_left_once_it_is_taken_in(ingest: Ingest) -> None:
    """P3: the mail bucket is versioned, so a plain delete would leave the sender's address behind."""
    s3 = ingest.client("s3")
    bucket = ingest.resource("MailBucket")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    raw = (
        "From: <nog.iemand@example.nl>\r\nTo: hulp@helpline.example\r\nSubject: hoi\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mail.example.nl>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHallo.\r\n"
    ).encode()
    ingest.feed("nog.iemand@example.nl")
    key = "inbound/" + uuid.uuid4().hex
    s3.put_object(Bucket=bucket, Key=key, Body=raw)
    s3.put_object(Bucket=bucket, Key=key, Body=raw)  # SES retried: two versions of one object

    def leftovers() -> list[Any]:
        listed = s3.list_object_versions(Bucket=bucket, Prefix=key)
        return [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]

    wait_until(lambda: s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) == 0)
    assert wait_until(lambda: leftovers() == [])


ABSURD_TIMES = ["1970-01-01T00:00:00Z", "2150-06-01T12:00:00Z", "9999-12-31T23:59:59Z"]


def assert_retention_from_receipt(record: dict[str, Any]) -> None:
    """P7: retention is counted from our receipt, never from the provider's clock; the absurd time is
    not kept as the contact's start either."""
    today = datetime.now(UTC).date()
    started = datetime.fromisoformat(record["started_at"]["S"].replace("Z", "+00:00"))
    assert abs(started - datetime.now(UTC)) < timedelta(hours=1)
    retain_until = date.fromisoformat(record["identifier_retain_until"]["S"])
    assert retain_until - today in (timedelta(days=365), timedelta(days=364))


@pytest.mark.parametrize("timestamp", ABSURD_TIMES)
def test_a_chat_with_an_absurd_timestamp_is_registered_with_retention_from_receipt(
    ingest: Ingest, timestamp: str
) -> None:
    session = "chat-" + uuid.uuid4().hex
    event = {**chat_event("chat.started", session, channel="web-chat", client_ip="198.51.100.61")}
    event["timestamp"] = timestamp
    started, added = new_contacts(ingest, lambda: ingest.chat(event))
    assert started.status_code == 200, started.text
    [record] = added
    assert_retention_from_receipt(record)
    assert ingest.chat(event).status_code == 200, "a retry is answered from the claim, not a 5xx"
    assert [c for c in ingest.contacts() if c["id"] == record["id"]] == [record], "and stored once"


@pytest.mark.parametrize("timestamp", ABSURD_TIMES)
def test_a_mail_with_an_absurd_date_is_registered_with_retention_from_receipt(
    ingest: Ingest, timestamp: str
) -> None:
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    raw = (
        "From: <tijdreiziger@example.nl>\r\nTo: hulp@helpline.example\r\nSubject: hoi\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mail.example.nl>\r\nDate: {format_datetime(moment)}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHallo.\r\n"
    ).encode()
    ingest.feed("tijdreiziger@example.nl")
    before = {item["id"]["S"] for item in ingest.contacts()}
    bucket, key = ingest.resource("MailBucket"), "inbound/" + uuid.uuid4().hex
    ingest.client("s3").put_object(Bucket=bucket, Key=key, Body=raw)
    [record] = wait_until(
        lambda: [c for c in ingest.contacts() if c["id"]["S"] not in before and c["channel"]["S"] == "email"]
    )
    assert_retention_from_receipt(record)


# ---------------------------------------------------------------- forged senders (issue 9, P10)

SES_PASS = "amazonses.com; spf=pass; dkim=pass header.i=@example.nl; dmarc=pass header.from=example.nl"
SES_FORGED = (
    "amazonses.com; spf=fail (spfCheck: domain of example.nl does not designate 203.0.113.9 as permitted "
    "sender) client-ip=203.0.113.9; dkim=fail header.i=@example.nl; dmarc=fail header.from=example.nl"
)


def mail_from(ingest: Ingest, sender: str, verdict: str, body: str = "Hallo.") -> dict[str, Any]:
    """Put one mail as SES stores it (its verdict on top) in the mail bucket; its contact record."""
    message_id = f"<{uuid.uuid4().hex}@mail.example.nl>"
    ingest.feed(sender, message_id)
    raw = (
        f"Return-Path: <{sender}>\r\n"
        "Received: from mail.example.nl by inbound-smtp.eu-west-1.amazonaws.com with SMTP id e2e\r\n"
        "X-SES-Spam-Verdict: PASS\r\nX-SES-Virus-Verdict: PASS\r\n"
        f"Authentication-Results: {verdict}\r\n"
        f"From: <{sender}>\r\nTo: hulp@helpline.example\r\nSubject: hoi\r\nMessage-ID: {message_id}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()
    before = {item["id"]["S"] for item in ingest.contacts()}
    bucket, key = ingest.resource("MailBucket"), "inbound/" + uuid.uuid4().hex
    ingest.client("s3").put_object(Bucket=bucket, Key=key, Body=raw)
    [record] = wait_until(
        lambda: [c for c in ingest.contacts() if c["id"]["S"] not in before and c["channel"]["S"] == "email"]
    )
    return dict(record)


def test_forged_mails_do_not_limit_the_real_senders_fourth_mail(ingest: Ingest) -> None:
    """Issue 9: three mails `From:` someone, which SES found forged (SPF, DKIM and DMARC fail), are
    taken in and answered, but their fourth, authenticated mail is let through with its body. The
    real sender's own mails still count: the limit (3 a day) stops their fourth authenticated one."""
    sender = f"echt.{uuid.uuid4().hex[:8]}@example.nl"
    forged = [mail_from(ingest, sender, SES_FORGED, f"Vervalst {i}.") for i in range(3)]
    assert [r["limit_outcome"] for r in forged] == [{"S": "unauthenticated"}] * 3
    assert all(wait_until(lambda r=r: ingest.transcript(r["id"]["S"])) for r in forged), "taken in"

    real = mail_from(ingest, sender, SES_PASS, "Dit ben ik echt.")
    assert real["limit_outcome"] == {"S": "allowed"}
    [part] = wait_until(lambda: ingest.transcript(real["id"]["S"]))
    assert part["text"] == "Dit ben ik echt.\n"

    later = [mail_from(ingest, sender, SES_PASS) for _ in range(3)]
    assert [r["limit_outcome"]["S"] for r in later] == ["allowed", "allowed", "limited"]


def test_a_disclosure_of_an_unauthenticated_sender_says_so(ingest: Ingest) -> None:
    """Issue 9: the police must not be handed a forged `From` as "the mailer". The custodian's result
    carries whether SES authenticated the address, sealed with it at intake."""
    # The disclosure flow's own helpers, so that a change of the request's format applies here too.
    from test_disclosure import as_custodian, call_as, custodian_release, decide, legal_order, status_of

    sender = f"niet.bewezen.{uuid.uuid4().hex[:8]}@example.nl"
    contact_id = mail_from(ingest, sender, SES_FORGED)["id"]["S"]

    requested = call_as(ingest, "professional", "POST", "/disclosures", legal_order(ingest, contact_id))
    ingest.keep(requested.text)
    assert requested.status_code == 202, requested.text
    disclosure_id = requested.json()["id"]
    wait_until(lambda: status_of(ingest, "compliance", disclosure_id) == "awaiting_decision", timeout_s=30)
    assert decide(ingest, disclosure_id, "approve", "Order checked against the registry.").status_code == 200
    wait_until(lambda: status_of(ingest, "professional", disclosure_id) == "awaiting_custodian", timeout_s=30)
    wait_until(lambda: custodian_release(ingest, disclosure_id), timeout_s=30)  # handed over a moment later
    confirmed = as_custodian(
        ingest, "POST", f"/releases/{disclosure_id}/confirm", {"reason": "Demand verified by phone."}
    )
    ingest.keep(confirmed.text)
    assert confirmed.status_code == 200, confirmed.text
    wait_until(lambda: status_of(ingest, "professional", disclosure_id) == "delivered", timeout_s=30)

    # The one delivery holds the address by design: it is not kept for the leak scan.
    result = call_as(ingest, "professional", "GET", f"/disclosures/{disclosure_id}/result")
    assert result.status_code == 200, result.text
    delivered = result.json()
    assert (delivered["identifier"], delivered["identifier_type"]) == (sender, "email")
    assert delivered["sender_authenticated"] is False
    again = call_as(ingest, "professional", "GET", f"/disclosures/{disclosure_id}/result")
    ingest.keep(again.text)
    assert again.status_code == 410


def test_an_amazon_connect_chat_is_registered_and_ended(ingest: Ingest) -> None:
    """P8: Connect sends a chat without `SystemEndpoint` or `CustomerEndpoint`. It used to be refused as
    malformed: the person was connected and the chat registered nowhere. Now it is a record on the line
    `unknown`, not counted and without ciphertext (there is no address to count or keep), and its
    DISCONNECTED event gives it its length."""
    contact_id = str(uuid.uuid4())
    ingest.feed(contact_id)
    started = datetime.now(UTC).replace(microsecond=0)
    event = {
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {
                "Attributes": {},
                "Channel": "CHAT",
                "ContactId": contact_id,
                "InitialContactId": contact_id,
                "InitiationMethod": "API",
                "CustomerEndpoint": None,
                "SystemEndpoint": None,
                "Queue": None,
                "InstanceARN": "arn:aws:connect:eu-west-1:123456789012:instance/local",
            },
            "Parameters": {},
        },
    }
    lambda_client = ingest.client("lambda")

    def invoke() -> dict[str, str]:
        answer = lambda_client.invoke(
            FunctionName=ingest.resource("ConnectContactFunction"), Payload=json.dumps(event)
        )
        return json.loads(ingest.keep(answer["Payload"].read().decode()))

    answer, added = new_contacts(ingest, invoke)

    assert answer["allowed"] == "true"
    [record] = added
    assert (record["channel"], record["line"]) == ({"S": "chat"}, {"S": "unknown"})
    assert record["limit_outcome"] == {"S": "unchecked"}
    assert "identifier_ciphertext" not in record
    _, again = new_contacts(ingest, invoke)
    assert again == [], "a second invocation for the contact is the same contact"

    detail = {
        "eventType": "DISCONNECTED",
        "contactId": contact_id,
        "channel": "CHAT",
        "initiationTimestamp": started.isoformat().replace("+00:00", "Z"),
        "disconnectTimestamp": (started + timedelta(minutes=12)).isoformat().replace("+00:00", "Z"),
    }
    entry = {
        "Source": "aws.connect",
        "DetailType": "Amazon Connect Contact Event",
        "Detail": json.dumps(detail),
    }
    ingest.client("events").put_events(Entries=[entry])
    assert wait_until(lambda: (ingest.contact(record["id"]["S"]) or {}).get("duration_s")) == {"N": "720"}


def test_two_messages_sent_in_the_same_second_are_both_kept_in_order(ingest: Ingest) -> None:
    """P8: m7 and m16 with one timestamp got one `seq`, and m16 was dropped as m7's duplicate."""
    session = "chat-" + uuid.uuid4().hex
    start = chat_event("chat.started", session, channel="web-chat", client_ip="203.0.113.78")
    started, [record] = new_contacts(ingest, lambda: ingest.chat(start))
    assert started.status_code == 200
    moment = datetime.now(UTC).replace(microsecond=0).isoformat()
    m7 = chat_event("chat.message", session, message_id="m7", sender="contact", text="Een.")
    m16 = chat_event("chat.message", session, message_id="m16", sender="contact", text="Twee.")

    codes = [ingest.chat({**message, "timestamp": moment}).status_code for message in (m7, m16, m7, m16)]

    assert codes == [201, 201, 200, 200], "both stored, and a redelivery of either stored once"
    assert [p["text"] for p in ingest.transcript(record["id"]["S"])] == ["Een.", "Twee."]


def utf8_mail(sender: str, message_id: str, body: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: hulp@helpline.example\r\nSubject: hoi\r\nMessage-ID: {message_id}\r\n"
        f"Date: Sun, 29 Nov 2026 12:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def feed_address(ingest: Ingest, address: str, ascii_form: str) -> None:
    """An address in every form it could be found in: as written, JSON-escaped, in ASCII (IDNA)."""
    ingest.feed(address, json.dumps(address)[1:-1], ascii_form)


def mail_contacts_after(ingest: Ingest, before: set[str], count: int) -> list[dict[str, Any]]:
    return wait_until(
        lambda: (
            found
            if len(
                found := [
                    c
                    for c in ingest.contacts()
                    if c["id"]["S"] not in before and c["channel"] == {"S": "email"}
                ]
            )
            >= count
            else None
        )
    )


@pytest.mark.parametrize(
    ("sender", "sealed"),
    [("jösé.{}@example.nl", "jösé.{}@example.nl"), ("jan.{}@exämple.nl", "jan.{}@xn--exmple-cua.nl")],
)
def test_a_mail_from_a_utf8_address_is_registered_and_kept(ingest: Ingest, sender: str, sealed: str) -> None:
    """P3, P8: a UTF-8 local part failed the intake after the reference was claimed; a UTF-8 domain had the
    mail deleted unread. Both are registered, the body kept, the address only in the ciphertext."""
    tag = uuid.uuid4().hex[:8]
    address, sealed = sender.format(tag), sealed.format(tag)
    feed_address(ingest, address, sealed)
    message_id = f"<{uuid.uuid4().hex}@mail.example.nl>"
    ingest.feed(message_id)
    before = {item["id"]["S"] for item in ingest.contacts()}
    bucket = ingest.resource("MailBucket")
    ingest.client("s3").put_object(
        Bucket=bucket, Key="inbound/" + tag, Body=utf8_mail(address, message_id, "Hoi.")
    )

    [record] = mail_contacts_after(ingest, before, 1)

    assert ingest.decrypt(record["identifier_ciphertext"]["S"])["value"] == sealed
    assert [p["text"] for p in wait_until(lambda: ingest.transcript(record["id"]["S"]))] == ["Hoi.\n"]


def test_a_new_mail_reusing_a_message_id_is_a_new_contact(ingest: Ingest) -> None:
    """P8: a Message-ID is the sender's claim: another mail under it is another contact with its own body."""
    message_id = f"<{uuid.uuid4().hex}@mail.example.nl>"
    ingest.feed(message_id, "eerste.afzender@example.nl", "tweede.afzender@example.nl")
    before = {item["id"]["S"] for item in ingest.contacts()}
    s3, bucket = ingest.client("s3"), ingest.resource("MailBucket")
    s3.put_object(
        Bucket=bucket,
        Key="inbound/" + uuid.uuid4().hex,
        Body=utf8_mail("eerste.afzender@example.nl", message_id, "A"),
    )
    mail_contacts_after(ingest, before, 1)
    s3.put_object(
        Bucket=bucket,
        Key="inbound/" + uuid.uuid4().hex,
        Body=utf8_mail("tweede.afzender@example.nl", message_id, "B"),
    )

    records = mail_contacts_after(ingest, before, 2)

    assert len(records) == 2
    bodies = [[p["text"] for p in wait_until(lambda r=r: ingest.transcript(r["id"]["S"]))] for r in records]
    assert sorted(bodies) == [["A\n"], ["B\n"]], "each body under its own contact"
