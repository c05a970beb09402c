"""The custodian's side of the audit checkpoints in moto: a bucket with Object Lock and an ECC signing key.

Made as infrastructure/custodian/template.yaml is to declare them (the lead wires the template): a
bucket created with Object Lock (so versioned), and an ECC_NIST_P256 SIGN_VERIFY key behind an alias.
Also what a table writer does to the chain, and what an auditor copies out for the offline verifier.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from fakes_audit import rewritten_from

from helpline.dal.audit import DynamoAuditLog
from helpline.dal.dynamodb import to_item
from helpline.logic.audit import CHAIN
from helpline.logic.audit_checkpoints import checkpoint_prefix


@dataclass(frozen=True)
class Custody:
    bucket: str
    key_arn: str
    alias_arn: str


def make_custody(monkeypatch: pytest.MonkeyPatch) -> Custody:
    """The bucket and the key, and the organisation's functions' environment naming them."""
    bucket = f"audit-checkpoints-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        ObjectLockEnabledForBucket=True,
    )
    kms = boto3.client("kms")
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    alias = f"alias/audit-checkpoints-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    alias_arn = f"{key['Arn'].rsplit(':', 1)[0]}:{alias}"
    monkeypatch.setenv("AUDIT_CHECKPOINT_BUCKET", bucket)
    monkeypatch.setenv("AUDIT_SIGNING_KEY_ARN", alias_arn)
    return Custody(bucket=bucket, key_arn=key["Arn"], alias_arn=alias_arn)


def checkpoint_versions(bucket: str) -> list[dict[str, str]]:
    """Every version under the chain's prefix, as S3 lists them."""
    listed = boto3.client("s3").list_object_versions(Bucket=bucket, Prefix=checkpoint_prefix(CHAIN))
    return [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in listed.get("Versions", [])]


def download_checkpoints(bucket: str, target: Path) -> Path:
    """Copy every version of every checkpoint into `target`, as an auditor would for the offline check."""
    s3 = boto3.client("s3")
    for number, version in enumerate(checkpoint_versions(bucket)):
        body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
        path = target / version["Key"].replace(".json", f".v{number}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return target


def save_public_key(custody: Custody, target: Path) -> Path:
    """kms:GetPublicKey's DER, as given to whoever verifies offline."""
    path = target / "audit-signing-key.der"
    path.write_bytes(boto3.client("kms").get_public_key(KeyId=custody.alias_arn)["PublicKey"])
    return path


def delete_newest(table: str, count: int) -> None:
    """What a table writer can do: delete the newest `count` entries."""
    log = DynamoAuditLog(table)
    last = log.last()
    assert last is not None
    for seq in range(last.seq - count + 1, last.seq + 1):
        boto3.client("dynamodb").delete_item(
            TableName=table, Key={"chain": {"S": CHAIN}, "seq": {"N": str(seq)}}
        )


def rewrite_and_rehash(table: str, seq: int) -> None:
    """What a table writer can do: change entry `seq` and re-hash every entry after it, so it links."""
    log = DynamoAuditLog(table)
    for entry in rewritten_from(log.entries(), seq, actor="someone-else"):
        if entry.seq >= seq:
            boto3.client("dynamodb").put_item(
                TableName=table, Item=to_item({"chain": CHAIN, **entry.model_dump(mode="json")})
            )
