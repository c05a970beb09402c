"""The audit chain's checkpoints in the custodian's write-once bucket, signed by the custodian's key (P7).

The bucket (AUDIT_CHECKPOINT_BUCKET) and the key (AUDIT_SIGNING_KEY_ARN) are in the custodian's
account, so nobody in the organisation's account, its administrators included, can delete or change
a checkpoint once written: the bucket has Object Lock, and each object is put in compliance mode with a
retain-until date. The organisation's checkpoint function may only add objects under
`checkpoints/<chain>/` and ask the key to sign; the audit function may only list and read them and fetch
the key's public key (signatures are checked locally, `helpline.logic.audit_checkpoints`).

Writes are conditional (`If-None-Match: *`): a checkpoint's key is never given a second version by
this code. Reads list every *version* under the prefix, not only the current ones: a later version
at the same key, or a delete marker in front of one, cannot hide what was written first.

Clients are made per store (a session of their own, as in `dal.dynamodb`: boto3's default session is not
thread-safe); a store serves one invocation, so no process-wide cache needs forgetting between stacks.
Errors name the operation only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Final

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from helpline.logic.audit import CHAIN
from helpline.logic.audit_checkpoints import (
    MAX_CHECKPOINT_BYTES,
    SIGNING_ALGORITHM,
    Signature,
    SignedCheckpoint,
    StoredCheckpoint,
    checkpoint_key,
    checkpoint_prefix,
    seq_of_key,
)
from helpline.logic.ports import DependencyError
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_kms.client import KMSClient
    from mypy_boto3_s3.client import S3Client

CLIENT_CONFIG: Final = Config(
    retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=5
)
"""Nobody waits on a line here (a schedule, a compliance check): a few more seconds than ingest."""
LOCK_MODE: Final = "COMPLIANCE"
"""Compliance, not governance: no principal, not even the bucket account's root, can shorten it."""
LIST_PAGE: Final = 1000
_ALREADY_THERE: Final = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


@contextmanager
def _aws_errors(operation: str) -> Iterator[None]:
    """Any AWS failure as `DependencyError` naming only the operation, never AWS's message."""
    try:
        yield
    except (ClientError, BotoCoreError):
        raise DependencyError(f"audit checkpoints: {operation} failed") from None


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3CheckpointStore:
    """`CheckpointWriter` and the checkpoint source of verification, on the custodian's bucket."""

    def __init__(self, bucket: str, client: S3Client | None = None) -> None:
        self._bucket = bucket
        self._s3: S3Client = client or boto3.session.Session().client("s3", config=CLIENT_CONFIG)

    def has(self, seq: int, chain: str = CHAIN) -> bool:
        """Whether the checkpoint at `seq` is listed (s3:ListBucket on the prefix; no read needed)."""
        key = checkpoint_key(seq, chain)
        with _aws_errors("ListObjectsV2"):
            response = self._s3.list_objects_v2(Bucket=self._bucket, Prefix=key, MaxKeys=1)
        return any(item.get("Key") == key for item in response.get("Contents", []))

    def put(self, checkpoint: SignedCheckpoint, retain_until: datetime) -> bool:
        """Write `checkpoint`, locked in compliance mode until `retain_until`; False if its key exists."""
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=checkpoint_key(checkpoint.seq, checkpoint.chain),
                Body=checkpoint.document(),
                ContentType="application/json",
                ObjectLockMode=LOCK_MODE,
                ObjectLockRetainUntilDate=retain_until,
                ChecksumAlgorithm="SHA256",  # Object Lock requires an integrity checksum on PUT
                IfNoneMatch="*",
            )
        except ClientError as error:
            if _error_code(error) in _ALREADY_THERE:
                return False
            raise DependencyError("audit checkpoints: PutObject failed") from None
        except BotoCoreError:
            raise DependencyError("audit checkpoints: PutObject failed") from None
        return True

    def stored(self, chain: str = CHAIN) -> Iterator[StoredCheckpoint]:
        """Every version of every checkpoint of `chain`, in key (so seq) order, a page at a time.

        Needs s3:ListBucketVersions and s3:GetObjectVersion. A body is read up to just past the largest
        checkpoint, so an oversized object is reported, not loaded.
        """
        paginator = self._s3.get_paginator("list_object_versions")
        pages = paginator.paginate(
            Bucket=self._bucket, Prefix=checkpoint_prefix(chain), PaginationConfig={"PageSize": LIST_PAGE}
        )
        with _aws_errors("ListObjectVersions"):
            for page in pages:
                for version in page.get("Versions", []):
                    key = version["Key"]
                    version_id = version.get("VersionId", "null")
                    yield StoredCheckpoint(
                        name=f"{key}?versionId={version_id}",
                        body=self._read(key, version_id),
                        key_seq=seq_of_key(key, chain),
                    )

    def _read(self, key: str, version_id: str) -> bytes:
        with _aws_errors("GetObject"):
            response = self._s3.get_object(Bucket=self._bucket, Key=key, VersionId=version_id)
            body = response["Body"]
            try:
                return body.read(MAX_CHECKPOINT_BYTES + 1)
            finally:
                body.close()


class KmsCheckpointSigner:
    """`CheckpointSigner` on the custodian's asymmetric key (ECC_NIST_P256, SIGN_VERIFY).

    The message is signed raw (KMS hashes it): a checkpoint is a few hundred bytes, under KMS's 4 KB.
    """

    def __init__(self, key_id: str, client: KMSClient | None = None) -> None:
        self._key_id = key_id
        self._kms: KMSClient = client or boto3.session.Session().client("kms", config=CLIENT_CONFIG)

    def sign(self, message: bytes) -> Signature:
        """kms:Sign; the answer names the key's ARN even when it was addressed by alias."""
        with _aws_errors("Sign"):
            response = self._kms.sign(
                KeyId=self._key_id, Message=message, MessageType="RAW", SigningAlgorithm=SIGNING_ALGORITHM
            )
        return Signature(
            key_id=response["KeyId"], algorithm=response["SigningAlgorithm"], signature=response["Signature"]
        )

    def public_key(self) -> bytes:
        """kms:GetPublicKey: the DER public key that checks every checkpoint, offline too."""
        with _aws_errors("GetPublicKey"):
            return self._kms.get_public_key(KeyId=self._key_id)["PublicKey"]


def checkpoint_store() -> S3CheckpointStore:
    """The bucket named by AUDIT_CHECKPOINT_BUCKET."""
    return S3CheckpointStore(get_settings().audit_checkpoint_bucket)


def checkpoint_signer() -> KmsCheckpointSigner:
    """The key named by AUDIT_SIGNING_KEY_ARN."""
    return KmsCheckpointSigner(get_settings().audit_signing_key_arn)


def signing_public_key() -> bytes:
    """The public key of AUDIT_SIGNING_KEY_ARN (one kms:GetPublicKey)."""
    return checkpoint_signer().public_key()
