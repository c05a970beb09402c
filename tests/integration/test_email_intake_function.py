"""EmailIntakeFunction over moto: no version of the raw mail is left in the versioned bucket (P3), and
retention counts from our receipt, not from the `Date:` header (P7, P8).

The raw mail holds the sender's address in clear. On a versioned bucket a plain DeleteObject only puts
a delete marker on top and the message stays as a non-current version (issue 8): the intake must remove
every version and every delete marker of the key, and only once the registration and the body are stored.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import aws_encryption_sdk
import boto3
import pytest
from api_events import FakeLambdaContext
from aws_encryption_sdk.key_providers.kms import StrictAwsKmsMasterKeyProvider
from conftest import create_table_from_template

from helpline import clock, periods
from helpline.dal.lines import lines_repository
from helpline.logic import retention
from helpline.models.lines import Line
from helpline.process import forget_process_state

Handler = Callable[[dict[str, Any], Any], dict[str, int]]
REGION = "eu-west-1"
MAILBOX = "hulp@hulplijn.example.org"
SENDER = "iemand@example.org"
BUCKET = "helpline-mail-test"


def period_key(family: str) -> str:
    """This month's key of `family` under its period alias; returns the alias ARN prefix."""
    kms = boto3.client("kms")
    key = kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    name_prefix = f"alias/test-org/{family}"
    for moment in (clock.now(), clock.now() + timedelta(days=1)):  # a test run across midnight at month end
        alias = periods.key_alias(name_prefix, periods.period_of(moment))
        if alias not in {a["AliasName"] for a in kms.list_aliases()["Aliases"]}:
            kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return f"arn:aws:kms:{REGION}:{key['Arn'].split(':')[4]}:{name_prefix}"


@pytest.fixture
def intake(aws: None, monkeypatch: pytest.MonkeyPatch, load_handler: Callable[[str], Handler]) -> Handler:
    for logical_id, variable in (
        ("LinesTable", "LINES_TABLE"),
        ("ContactsTable", "CONTACTS_TABLE"),
        ("ContactLimitTable", "CONTACT_LIMIT_TABLE"),
        ("ReferencesTable", "REFERENCES_TABLE"),
        ("TranscriptsTable", "TRANSCRIPTS_TABLE"),
        ("OfficeContactsTable", "OFFICE_CONTACTS_TABLE"),
    ):
        monkeypatch.setenv(variable, create_table_from_template(logical_id))
    queue = boto3.client("sqs").create_queue(QueueName="registration-buffer")["QueueUrl"]
    monkeypatch.setenv("REGISTRATION_BUFFER_QUEUE_URL", queue)
    mac = boto3.client("kms").create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    monkeypatch.setenv("PSEUDONYM_KEY_ID", mac["Arn"])
    monkeypatch.setenv("IDENTIFIER_KEY_ALIAS_PREFIX", period_key("identifiers"))
    monkeypatch.setenv("TRANSCRIPT_KEY_ALIAS_PREFIX", period_key("transcripts"))
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})  # type: ignore[typeddict-item]
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    lines_repository().put_line(
        Line(
            line_id="mail",
            kind="helpline",
            channel="email",
            address=MAILBOX,
            display_name="Mail",
            updated_at=clock.now(),
            updated_by="test",
        )
    )
    return load_handler("functions/email_intake/app.py")


def mail(date: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Iemand <{SENDER}>"
    message["To"] = MAILBOX
    message["Date"] = date
    message["Message-ID"] = message_id
    message["Subject"] = "Even praten"
    message.set_content("Ik wil iets vertellen.\n")
    return message.as_bytes(policy=SMTP)


def notification(*keys: str) -> dict[str, Any]:
    return {
        "Records": [
            {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}}
            for key in keys
        ]
    }


def versions_left(key: str) -> list[dict[str, Any]]:
    listing = boto3.client("s3").list_object_versions(Bucket=BUCKET, Prefix=key)
    return [
        entry
        for entry in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]
        if entry["Key"] == key
    ]


def scan(variable: str) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=os.environ[variable], ConsistentRead=True)["Items"]


def test_no_version_of_the_raw_mail_is_left_after_intake(intake: Handler) -> None:
    """P3: SES wrote it twice (a redelivery makes a second version) and someone deleted it once without
    a version id (a delete marker): after the intake, nothing of it is left, in any version."""
    s3 = boto3.client("s3")
    raw = mail("Tue, 01 Dec 2026 09:00:00 +0000", "<m1@example.org>")
    s3.put_object(Bucket=BUCKET, Key="mail/m1", Body=raw)
    s3.put_object(Bucket=BUCKET, Key="mail/m1", Body=raw)
    s3.put_object(Bucket=BUCKET, Key="mail/m10", Body=raw)
    assert len(versions_left("mail/m1")) == 2

    assert intake(notification("mail/m1"), FakeLambdaContext()) == {"received": 1}

    assert versions_left("mail/m1") == []
    assert len(versions_left("mail/m10")) == 1, "only exactly this key is erased"
    [contact] = scan("CONTACTS_TABLE")
    assert SENDER not in str(contact)
    assert len(scan("TRANSCRIPTS_TABLE")) == 1


def test_a_mail_that_cannot_be_understood_is_erased_in_every_version(intake: Handler) -> None:
    s3 = boto3.client("s3")
    s3.put_object(Bucket=BUCKET, Key="mail/bad", Body=b"\x00\xff not a mail")
    s3.delete_object(Bucket=BUCKET, Key="mail/bad")  # a delete marker on top: the version stays
    s3.put_object(Bucket=BUCKET, Key="mail/bad", Body=b"\x00\xff still not a mail")

    assert intake(notification("mail/bad"), FakeLambdaContext()) == {"received": 0}

    assert versions_left("mail/bad") == []
    assert scan("CONTACTS_TABLE") == []


def test_a_failed_intake_raises_and_keeps_the_mail_for_the_retry(
    intake: Handler, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A failure raises so the notification is retried: the raw mail must still be there for it."""
    boto3.client("s3").put_object(
        Bucket=BUCKET, Key="mail/m2", Body=mail("Tue, 01 Dec 2026 09:00:00 +0000", "<m2@example.org>")
    )
    monkeypatch.setenv("TRANSCRIPTS_TABLE", "no-such-table")
    forget_process_state()
    service = logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"])
    service.addHandler(caplog.handler)
    with pytest.raises(Exception, match=r"^1 mail\(s\) not taken in; retrying$"):
        intake(notification("mail/m2"), FakeLambdaContext())
    service.removeHandler(caplog.handler)
    assert len(versions_left("mail/m2")) == 1
    failures = {(r.error, r.problem) for r in caplog.records if r.levelname == "ERROR"}  # type: ignore[attr-defined]
    assert failures == {("DependencyError", "dynamodb: PutItem failed")}


@pytest.mark.parametrize(
    "date",
    ["Thu, 01 Jan 1970 00:00:00 +0000", "Wed, 01 Jan 2150 00:00:00 +0000", "Fri, 31 Dec 9999 23:59:59 -1400"],
)
def test_retention_counts_from_receipt_whatever_the_date_header_says(intake: Handler, date: str) -> None:
    """Issue 8: `Date: 2150` kept a transcript until 2151, `1970` set a TTL DynamoDB never acts on."""
    boto3.client("s3").put_object(Bucket=BUCKET, Key="mail/d", Body=mail(date, "<d@example.org>"))
    before = clock.now()

    assert intake(notification("mail/d"), FakeLambdaContext()) == {"received": 1}

    after = clock.now()
    [contact] = scan("CONTACTS_TABLE")
    [part] = scan("TRANSCRIPTS_TABLE")
    assert before.replace(microsecond=0) <= datetime.fromisoformat(contact["started_at"]["S"]) <= after
    assert contact["identifier_retain_until"]["S"] in {
        retention.retain_until(moment, 365).isoformat() for moment in (before, after)
    }
    assert int(contact["expires_at"]["N"]) in {
        retention.expiry_epoch(moment, 730) for moment in (before, after)
    }
    assert int(part["expires_at"]["N"]) in {retention.expiry_epoch(moment, 180) for moment in (before, after)}
    assert versions_left("mail/d") == []


# ------------------------------------------------------------- authenticated senders, office mail (issue 9)

OFFICE_MAILBOX = "kantoor@hulplijn.example.org"
SES_PASS = (
    "amazonses.com; spf=pass (spfCheck: domain of example.org designates 192.0.2.1 as permitted sender) "
    f"client-ip=192.0.2.1; envelope-from={SENDER}; dkim=pass header.i=@example.org; "
    "dmarc=pass header.from=example.org;"
)
SES_FORGED = (
    "amazonses.com; spf=fail (spfCheck: domain of example.org does not designate 203.0.113.9) "
    f"client-ip=203.0.113.9; envelope-from={SENDER}; dkim=none; dmarc=fail header.from=example.org;"
)


def as_ses_stored(raw: bytes, verdict: str) -> bytes:
    """`raw` with the headers SES prepends on receipt, its `Authentication-Results` among them."""
    return (
        f"Return-Path: <{SENDER}>\r\n"
        "Received: from mail.example.org by inbound-smtp.eu-west-1.amazonaws.com with SMTP id x\r\n"
        "X-SES-Spam-Verdict: PASS\r\nX-SES-Virus-Verdict: PASS\r\n"
        f"Authentication-Results: {verdict}\r\n"
    ).encode() + raw


def office_line() -> None:
    lines_repository().put_line(
        Line(
            line_id="kantoor-mail",
            kind="office",
            channel="email",
            address=OFFICE_MAILBOX,
            display_name="Kantoor",
            updated_at=clock.now(),
            updated_by="test",
        )
    )


def opened(ciphertext: str) -> dict[str, Any]:
    """The sealed identifier, opened as only the custodian's decrypt path may (here: moto's keys)."""
    kms = boto3.client("kms")
    arns = [key["KeyArn"] for key in kms.list_keys()["Keys"]]
    provider = StrictAwsKmsMasterKeyProvider(key_ids=arns)
    plaintext, _ = aws_encryption_sdk.EncryptionSDKClient().decrypt(
        source=base64.b64decode(ciphertext), key_provider=provider
    )
    payload: dict[str, Any] = json.loads(plaintext)
    return payload


def test_forged_mails_are_taken_in_but_never_count_against_the_real_sender(
    intake: Handler, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 9: three mails with the sender's address forged (SES: SPF and DMARC fail) are registered
    and their bodies kept, but write no limit slot; the real sender's fourth mail counts as their first."""
    service = logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"])  # the handlers' parent logger
    service.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    s3 = boto3.client("s3")
    for i in range(3):
        raw = as_ses_stored(mail("Tue, 01 Dec 2026 09:00:00 +0000", f"<forged{i}@example.org>"), SES_FORGED)
        s3.put_object(Bucket=BUCKET, Key=f"mail/forged{i}", Body=raw)
        assert intake(notification(f"mail/forged{i}"), FakeLambdaContext()) == {"received": 1}
    assert scan("CONTACT_LIMIT_TABLE") == [], "no limit slot for an unauthenticated sender"
    assert {c["limit_outcome"]["S"] for c in scan("CONTACTS_TABLE")} == {"unauthenticated"}

    real = as_ses_stored(mail("Tue, 01 Dec 2026 09:05:00 +0000", "<real@example.org>"), SES_PASS)
    s3.put_object(Bucket=BUCKET, Key="mail/real", Body=real)
    assert intake(notification("mail/real"), FakeLambdaContext()) == {"received": 1}

    contacts = scan("CONTACTS_TABLE")
    assert sorted(c["limit_outcome"]["S"] for c in contacts) == ["allowed", *["unauthenticated"] * 3]
    assert scan("CONTACT_LIMIT_TABLE") != []
    assert len(scan("TRANSCRIPTS_TABLE")) == 4, "every mail is taken in (fail open for people)"
    flags = {c["limit_outcome"]["S"]: opened(c["identifier_ciphertext"]["S"]) for c in contacts}
    assert flags["allowed"]["sender_authenticated"] is True
    assert flags["unauthenticated"]["sender_authenticated"] is False
    assert flags["unauthenticated"]["value"] == SENDER
    for contact in contacts:
        visible = {k: v for k, v in contact.items() if k != "identifier_ciphertext"}
        assert SENDER not in json.dumps(visible)
    service.removeHandler(caplog.handler)
    assert "Mail registered" in caplog.text, "the handler's log lines are captured"
    ours = [record for record in caplog.records if record.name.startswith(service.name)]
    assert ours, "the handlers' log records are captured"
    logged = "\n".join(str(record.__dict__) for record in ours)
    for value in (SENDER, "example.org", "spfCheck", "dmarc"):
        assert value not in logged


def test_an_office_mail_is_kept_with_its_body_and_a_helpline_in_cc_wins(intake: Handler) -> None:
    """P11: an office mail is used for its purpose, so its text is kept with it, in clear, in the
    office table only. With the helpline among the recipients it is a helpline contact (P3)."""
    office_line()
    s3 = boto3.client("s3")
    to_office = mail("Tue, 01 Dec 2026 09:00:00 +0000", "<o1@example.org>").replace(
        f"To: {MAILBOX}".encode(), f"To: {OFFICE_MAILBOX}".encode()
    )
    s3.put_object(Bucket=BUCKET, Key="mail/o1", Body=as_ses_stored(to_office, SES_PASS))
    assert intake(notification("mail/o1"), FakeLambdaContext()) == {"received": 0}

    [office] = scan("OFFICE_CONTACTS_TABLE")
    assert office["line"] == {"S": "kantoor-mail"}
    assert office["caller"] == {"S": SENDER}
    assert office["body"] == {"S": "Ik wil iets vertellen.\n"}
    assert scan("CONTACTS_TABLE") == []
    assert scan("TRANSCRIPTS_TABLE") == []
    assert scan("CONTACT_LIMIT_TABLE") == []
    assert versions_left("mail/o1") == []

    both = to_office.replace(b"Message-ID: <o1@", f"Cc: {MAILBOX}\r\nMessage-ID: <o2@".encode())
    s3.put_object(Bucket=BUCKET, Key="mail/o2", Body=as_ses_stored(both, SES_PASS))
    assert intake(notification("mail/o2"), FakeLambdaContext()) == {"received": 1}
    [contact] = scan("CONTACTS_TABLE")
    assert contact["line"] == {"S": "mail"}
    assert len(scan("OFFICE_CONTACTS_TABLE")) == 1, "the helpline's mail is not copied to the office"
    assert len(scan("TRANSCRIPTS_TABLE")) == 1


# ------------------------------------------------------------- e-mail edge cases (P3, P8)


def smtputf8_mail(sender: bytes, message_id: str, body: str) -> bytes:
    """A mail whose headers carry UTF-8 as such (RFC 6532, SMTPUTF8), as SES stores it."""
    return (
        b"From: "
        + sender
        + f"\r\nTo: {MAILBOX}\r\nMessage-ID: {message_id}\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n".encode()
    )


@pytest.mark.parametrize(
    ("sender", "sealed"),
    [("jösé@example.nl", "jösé@example.nl"), ("Jan <jan@exämple.nl>", "jan@xn--exmple-cua.nl")],
)
def test_a_utf8_sender_is_registered_sealed_and_its_mail_erased(
    intake: Handler, sender: str, sealed: str
) -> None:
    """P3, P8: a UTF-8 local part raised UnicodeEncodeError in the KMS calls after the reference was claimed
    (the retry then kept the body under a contact never registered); a UTF-8 domain got the mail
    deleted unread. Both are taken in: one contact, its body, the address only in the ciphertext."""
    raw = smtputf8_mail(sender.encode(), "<utf8@example.nl>", "Ik wil iets vertellen.")
    boto3.client("s3").put_object(Bucket=BUCKET, Key="mail/utf8", Body=raw)

    assert intake(notification("mail/utf8"), FakeLambdaContext()) == {"received": 1}

    [contact] = scan("CONTACTS_TABLE")
    assert opened(contact["identifier_ciphertext"]["S"])["value"] == sealed
    [part] = scan("TRANSCRIPTS_TABLE")
    assert part["contact_id"] == contact["id"]
    assert versions_left("mail/utf8") == []
    visible = json.dumps(
        {k: v for k, v in contact.items() if k != "identifier_ciphertext"}, ensure_ascii=False
    )
    for form in (sealed, sender, "example.nl", "exämple", "xn--exmple"):
        assert form not in visible


def test_a_new_mail_under_an_old_message_id_is_a_contact_of_its_own(intake: Handler) -> None:
    """P8: a Message-ID is the sender's claim: a second mail reusing it was appended to the first's
    transcript. Now each is a contact with its own body; the very same mail notified twice is one."""
    s3 = boto3.client("s3")
    first = smtputf8_mail(b"jan@example.org", "<reused@example.org>", "Mijn eerste brief.")
    second = smtputf8_mail(b"iemand@example.org", "<reused@example.org>", "Iets heel anders.")
    s3.put_object(Bucket=BUCKET, Key="mail/r1", Body=first)
    s3.put_object(Bucket=BUCKET, Key="mail/r2", Body=second)

    assert intake(notification("mail/r1"), FakeLambdaContext()) == {"received": 1}
    assert intake(notification("mail/r2"), FakeLambdaContext()) == {"received": 1}
    s3.put_object(Bucket=BUCKET, Key="mail/r1", Body=first)  # S3 / SES delivering the first again
    assert intake(notification("mail/r1"), FakeLambdaContext()) == {"received": 1}

    contacts = scan("CONTACTS_TABLE")
    parts = scan("TRANSCRIPTS_TABLE")
    assert len(contacts) == 2
    assert sorted(p["contact_id"]["S"] for p in parts) == sorted(c["id"]["S"] for c in contacts)


def test_a_failing_intake_fails_with_a_count_and_never_an_address(
    intake: Handler, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """P3: whatever an intake fails on, the error the notification is retried with names a count, and the
    log line names the error's type: a library's message may quote what it choked on (P3)."""
    service = logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"])
    service.addHandler(caplog.handler)
    boto3.client("s3").put_object(
        Bucket=BUCKET, Key="mail/boom", Body=smtputf8_mail(b"jan@example.org", "<boom@example.org>", "Hoi")
    )
    boto3.client("s3").put_object(
        Bucket=BUCKET, Key="mail/fine", Body=smtputf8_mail(b"ok@example.org", "<fine@example.org>", "Hoi")
    )
    from helpline.ingress import email as mail_ingress

    original = mail_ingress.receive

    def choking(bucket: str, key: str, *args: Any) -> bool:
        if key == "mail/boom":
            raise ValueError("cannot handle jan@example.org")
        return original(bucket, key, *args)

    monkeypatch.setattr(mail_ingress, "receive", choking)
    with pytest.raises(Exception, match=r"^1 mail\(s\) not taken in; retrying$") as raised:
        intake(notification("mail/boom", "mail/fine"), FakeLambdaContext())
    service.removeHandler(caplog.handler)

    assert raised.value.__cause__ is None
    assert "jan@example.org" not in str(raised.value)
    assert len(scan("CONTACTS_TABLE")) == 1, "the other mail of the notification was taken in"
    assert versions_left("mail/boom") != [], "the failed one waits for the retry"
    logged = "\n".join(str(record.__dict__) for record in caplog.records)
    assert "ValueError" in logged
    assert "jan@example.org" not in logged
