"""Raw e-mail in the mail bucket (S3): read once, then deleted (it holds the sender in clear, P3)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from helpline.logic.ports import DependencyError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


@cache
def s3_client() -> S3Client:
    return boto3.session.Session().client("s3")


class S3RawMailStore:
    def read(self, bucket: str, key: str) -> bytes:
        try:
            return s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
        except (BotoCoreError, ClientError):
            raise DependencyError("s3: GetObject failed") from None

    def delete(self, bucket: str, key: str) -> None:
        try:
            s3_client().delete_object(Bucket=bucket, Key=key)
        except (BotoCoreError, ClientError):
            raise DependencyError("s3: DeleteObject failed") from None
