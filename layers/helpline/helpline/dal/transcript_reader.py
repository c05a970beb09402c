"""Decrypting transcripts for the training read (P4, P8): TranscriptsTable + the Encryption SDK.

Only the transcripts function may `kms:Decrypt` with the transcript key, and only with the encryption
context `purpose=contact-transcript` (template.yaml). This reader checks the same context itself, and
that the contact id sealed inside each part is the one asked for: a ciphertext copied into another
contact's partition is refused, not shown (`TranscriptIntegrityError`).

A strict provider on the one key ARN, so a message under any other key is not even attempted. Data keys
are cached for decryption like they are for encryption: the sealer reuses one data key for many parts,
so a transcript costs about one `kms:Decrypt`, not one per message.
"""

from __future__ import annotations

import base64
import json
import threading
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import botocore.session
from pydantic import ValidationError

from helpline.dal.dynamodb import DynamoTable, dynamodb_errors, from_item, to_item
from helpline.dal.kms import kms_errors, kms_session
from helpline.models.transcripts import DecryptedPart
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

PURPOSE: Final = "contact-transcript"
DATA_KEY_MAX_AGE_S: Final = 300.0


class TranscriptIntegrityError(RuntimeError):
    """A stored part is not what it claims to be (wrong context or contact): nothing is returned."""


class KmsTranscriptReader(DynamoTable):
    """`TranscriptReader` on TranscriptsTable and the transcript key."""

    def __init__(
        self,
        table_name: str,
        transcript_key_arn: str,
        client: DynamoDBClient | None = None,
        session: botocore.session.Session | None = None,
    ) -> None:
        super().__init__(table_name, client)
        self._key_arn = transcript_key_arn
        self._session = session
        self._sdk: tuple[Any, Any] | None = None
        self._lock = threading.Lock()

    def read(self, contact_id: str) -> list[DecryptedPart]:
        """Every part of the contact in seq order (the order they were sent), decrypted and checked."""
        return [self._decrypt(contact_id, item) for item in self._items(contact_id)]

    def _items(self, contact_id: str) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "#contact = :contact",
            "ExpressionAttributeNames": {"#contact": "contact_id"},
            "ExpressionAttributeValues": to_item({":contact": contact_id}),
            "ScanIndexForward": True,
        }
        items: list[dict[str, Any]] = []
        while True:
            with dynamodb_errors("Query"):
                response = self._dynamodb.query(**request)
            items.extend(from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _decrypt(self, contact_id: str, item: dict[str, Any]) -> DecryptedPart:
        client, materials = self._encryption_sdk()
        with kms_errors("Decrypt"):
            plaintext, header = client.decrypt(
                source=base64.b64decode(str(item["ciphertext"])), materials_manager=materials
            )
        if dict(header.encryption_context).get("purpose") != PURPOSE:
            raise TranscriptIntegrityError("transcript part has the wrong encryption context")
        try:
            payload = json.loads(plaintext)
        except ValueError:
            raise TranscriptIntegrityError("transcript part is not a sealed message") from None
        if not isinstance(payload, dict) or payload.get("contact_id") != contact_id:
            raise TranscriptIntegrityError("transcript part belongs to another contact")
        try:
            return DecryptedPart(
                sender=payload.get("sender"), sent_at=item["sent_at"], text=payload.get("text")
            )
        except ValidationError:
            raise TranscriptIntegrityError("transcript part is malformed") from None

    def _encryption_sdk(self) -> tuple[Any, Any]:
        """The SDK client and a caching materials manager, loaded on the first part to decrypt."""
        with self._lock:
            if self._sdk is None:
                from aws_encryption_sdk import CommitmentPolicy, EncryptionSDKClient
                from aws_encryption_sdk.caches.local import LocalCryptoMaterialsCache
                from aws_encryption_sdk.key_providers.kms import StrictAwsKmsMasterKeyProvider
                from aws_encryption_sdk.materials_managers.caching import CachingCryptoMaterialsManager

                provider = StrictAwsKmsMasterKeyProvider(
                    key_ids=[self._key_arn], botocore_session=self._session or kms_session()
                )
                materials = CachingCryptoMaterialsManager(
                    master_key_provider=provider,
                    cache=LocalCryptoMaterialsCache(capacity=16),
                    max_age=DATA_KEY_MAX_AGE_S,
                )
                client = EncryptionSDKClient(
                    commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
                )
                self._sdk = (client, materials)
            return self._sdk


@cache
def transcript_reader() -> KmsTranscriptReader:
    """The process's reader (TRANSCRIPTS_TABLE, TRANSCRIPT_KEY_ARN), so its data-key cache is reused.

    Tests call `transcript_reader.cache_clear()`.
    """
    settings = get_settings()
    return KmsTranscriptReader(settings.transcripts_table, settings.transcript_key_arn)
