"""Raw e-mail in the mail bucket (S3): read once, then every version deleted (it holds the sender, P3).

The bucket is versioned. On a versioned bucket `DeleteObject` without a version id deletes nothing: it
puts a delete marker on top, and the message, with the sender's address in clear, stays as a
non-current version until a lifecycle rule expires it. So the object is erased version by version:
every version id and every delete marker of exactly this key (`s3:ListBucketVersions` on the bucket,
`s3:DeleteObjectVersion` on its objects). On a bucket without versioning the one version is called
"null" and is deleted the same way.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from helpline import snapstart
from helpline.logic.ports import DependencyError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


@cache
def s3_client() -> S3Client:
    return boto3.session.Session().client("s3")


class S3RawMailStore:
    """`RawMailStore` (helpline.ingress.email) on S3. Errors name the operation, never the key: an
    object key is chosen by SES, but the message must not depend on that."""

    def read(self, bucket: str, key: str) -> bytes:
        try:
            return s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
        except (BotoCoreError, ClientError):
            raise DependencyError("s3: GetObject failed") from None

    def delete_every_version(self, bucket: str, key: str) -> int:
        """Delete every version and delete marker of `key`; how many were deleted (0: already gone).

        Idempotent: a retried notification finds fewer versions, or none. Versions are listed by the
        key as prefix and then matched exactly, so `mail/1` never touches `mail/10`. Deleting them one
        by one, with their version id, is what removes a version for good (`s3:DeleteObjectVersion`).
        """
        deleted = 0
        for version_id in self._versions(bucket, key):
            try:
                s3_client().delete_object(Bucket=bucket, Key=key, VersionId=version_id)
            except (BotoCoreError, ClientError):
                raise DependencyError("s3: DeleteObjectVersion failed") from None
            deleted += 1
        return deleted

    def _versions(self, bucket: str, key: str) -> list[str]:
        """Every version id and delete-marker id of exactly `key`, all pages."""
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": key}
        found: list[str] = []
        while True:
            try:
                page = s3_client().list_object_versions(**request)
            except (BotoCoreError, ClientError):
                raise DependencyError("s3: ListObjectVersions failed") from None
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if entry.get("Key") == key and entry.get("VersionId"):
                    found.append(str(entry["VersionId"]))
            if not page.get("IsTruncated"):
                return found
            request["KeyMarker"] = page.get("NextKeyMarker")
            request["VersionIdMarker"] = page.get("NextVersionIdMarker")


# SnapStart: a restored environment makes its own (clients, credentials, cached keys).
snapstart.after_restore(s3_client.cache_clear)
