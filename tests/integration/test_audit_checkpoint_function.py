"""AuditCheckpointFunction over moto (P7): the chain's head, signed by the custodian's key, written once
to the custodian's bucket under Object Lock, and only when the head moved."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext
from audit_custody import Custody, checkpoint_versions, make_custody
from botocore.exceptions import ClientError
from conftest import create_table_from_template

from helpline.dal.audit import DynamoAuditLog
from helpline.dal.checkpoints import S3CheckpointStore
from helpline.logic.audit import AuditEvent
from helpline.logic.audit_checkpoints import SignedCheckpoint, checkpoint_key

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def audit_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_table_from_template("AuditTable")
    monkeypatch.setenv("AUDIT_TABLE", name)
    return name


@pytest.fixture
def custody(aws: None, monkeypatch: pytest.MonkeyPatch) -> Custody:
    monkeypatch.setenv("AUDIT_CHECKPOINT_RETENTION_DAYS", "30")
    return make_custody(monkeypatch)


@pytest.fixture
def run(
    audit_table: str, custody: Custody, load_handler: Callable[[str], Any]
) -> Callable[[], dict[str, Any]]:
    handler = load_handler("functions/audit_checkpoint/app.py")
    return lambda: handler({"source": "aws.events", "detail-type": "Scheduled Event"}, FakeLambdaContext())


def append(table: str, count: int) -> None:
    log = DynamoAuditLog(table)
    for n in range(count):
        log.append(
            AuditEvent(at=NOW, actor=f"compliance-{n}", action="disclosure.approved", subject="d" * 32)
        )


def stored(custody: Custody, seq: int) -> tuple[SignedCheckpoint, Any]:
    response = boto3.client("s3").get_object(Bucket=custody.bucket, Key=checkpoint_key(seq))
    return SignedCheckpoint.model_validate_json(response["Body"].read()), response


def test_an_empty_chain_writes_nothing(run: Callable[[], dict[str, Any]], custody: Custody) -> None:
    assert run() == {"outcome": "empty", "seq": None}
    assert checkpoint_versions(custody.bucket) == []


def test_a_checkpoint_is_written_only_when_the_head_moved(
    run: Callable[[], dict[str, Any]], audit_table: str, custody: Custody
) -> None:
    append(audit_table, 3)
    assert run() == {"outcome": "written", "seq": 3}
    assert run() == {"outcome": "unchanged", "seq": 3}
    assert run() == {"outcome": "unchanged", "seq": 3}
    append(audit_table, 2)
    assert run() == {"outcome": "written", "seq": 5}
    assert [version["Key"] for version in checkpoint_versions(custody.bucket)] == [
        checkpoint_key(3),
        checkpoint_key(5),
    ], "one version each: nothing rewritten"


def test_the_checkpoint_is_the_head_signed_by_the_custodians_key(
    run: Callable[[], dict[str, Any]], audit_table: str, custody: Custody
) -> None:
    append(audit_table, 4)
    head = DynamoAuditLog(audit_table).last()
    assert head is not None
    run()

    checkpoint, _ = stored(custody, 4)

    assert (checkpoint.chain, checkpoint.seq, checkpoint.hash) == ("audit", 4, head.hash)
    assert checkpoint.key_id == custody.key_arn, "KMS names the key's ARN though it was addressed by alias"
    verified = boto3.client("kms").verify(
        KeyId=custody.alias_arn,
        Message=checkpoint.checkpoint().message(),
        MessageType="RAW",
        Signature=base64.b64decode(checkpoint.signature),
        SigningAlgorithm="ECDSA_SHA_256",
    )
    assert verified["SignatureValid"] is True


def test_the_checkpoint_is_locked_in_compliance_mode_for_the_retention(
    run: Callable[[], dict[str, Any]], audit_table: str, custody: Custody
) -> None:
    append(audit_table, 1)
    before = datetime.now(UTC)
    run()
    _, response = stored(custody, 1)
    assert response["ObjectLockMode"] == "COMPLIANCE"
    until = response["ObjectLockRetainUntilDate"]
    assert (
        before + timedelta(days=30) - timedelta(seconds=5) <= until <= datetime.now(UTC) + timedelta(days=30)
    )


def test_a_locked_checkpoint_cannot_be_deleted(
    run: Callable[[], dict[str, Any]], audit_table: str, custody: Custody
) -> None:
    """moto enforces this much of Object Lock: a locked version is not deleted, bypass or not."""
    append(audit_table, 1)
    run()
    [version] = checkpoint_versions(custody.bucket)
    for bypass in (False, True):
        with pytest.raises(ClientError, match="AccessDenied"):
            boto3.client("s3").delete_object(
                Bucket=custody.bucket,
                Key=version["Key"],
                VersionId=version["VersionId"],
                BypassGovernanceRetention=bypass,
            )


def test_a_second_put_at_the_same_key_is_refused(audit_table: str, custody: Custody) -> None:
    """The store never gives a checkpoint's key a second version (If-None-Match: *)."""
    append(audit_table, 1)
    head = DynamoAuditLog(audit_table).last()
    assert head is not None
    checkpoint = SignedCheckpoint(
        chain="audit",
        seq=1,
        hash=head.hash,
        at=NOW,
        key_id="k",
        signing_algorithm="ECDSA_SHA_256",
        signature="AA==",
    )
    store = S3CheckpointStore(custody.bucket)
    until = datetime.now(UTC) + timedelta(days=1)
    assert store.put(checkpoint, until) is True
    assert store.put(checkpoint.model_copy(update={"hash": "f" * 64}), until) is False
    assert len(checkpoint_versions(custody.bucket)) == 1
    assert store.has(1) is True
    assert store.has(2) is False
