"""KMS for the disclosure workflow (P7): the waiting task token, the released result, and opening an
identifier.

- Task token and result: KMS `Encrypt`/`Decrypt` directly under DisclosureKey (DISCLOSURE_KEY_ARN), with
  the encryption context `{"purpose": "workflow-token" | "disclosure-result", "disclosure_id": id}`, so a
  ciphertext only opens for its own request and purpose. Both are small, so no envelope is needed.
- Identifier: the contact's Encryption SDK message (sealed by `dal.kms.KmsIdentifierVault.seal`) opened
  with a `StrictAwsKmsMasterKeyProvider` on IDENTIFIER_KEY_ARN, its context checked
  (`purpose=contact-identifier`). The SDK is imported inside `KmsIdentifierOpener` only, and only the
  disclosure decrypt function, whose role alone may `kms:Decrypt` on that key, builds one.

Errors name the operation only (`kms_errors`), never a value.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from helpline.dal.kms import kms_client, kms_errors, kms_session
from helpline.logic.ports import DependencyError
from helpline.models.disclosures import SealedIdentifier
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_kms.client import KMSClient

TOKEN_PURPOSE: Final = "workflow-token"  # noqa: S105 - a KMS context label, not a secret
RESULT_PURPOSE: Final = "disclosure-result"
IDENTIFIER_PURPOSE: Final = "contact-identifier"


class CiphertextError(DependencyError):
    """A stored ciphertext is malformed or does not open under the expected key and context."""


@cache
def disclosure_kms_client() -> KMSClient:
    """The process's KMS client on the shared KMS session (tests call `cache_clear()`)."""
    return kms_client(kms_session())


class KmsDisclosureSealer:
    """`TokenSealer` and `ResultSealer` in one: KMS Encrypt/Decrypt under DisclosureKey."""

    def __init__(self, key_arn: str, client: KMSClient | None = None) -> None:
        self._key_arn = key_arn
        self._client = client

    @property
    def _kms(self) -> KMSClient:
        return self._client if self._client is not None else disclosure_kms_client()

    def _encrypt(self, purpose: str, disclosure_id: str, plaintext: bytes) -> str:
        with kms_errors("Encrypt"):
            response = self._kms.encrypt(
                KeyId=self._key_arn,
                Plaintext=plaintext,
                EncryptionContext={"purpose": purpose, "disclosure_id": disclosure_id},
            )
        return base64.b64encode(response["CiphertextBlob"]).decode("ascii")

    def _decrypt(self, purpose: str, disclosure_id: str, ciphertext: str) -> bytes:
        try:
            blob = base64.b64decode(ciphertext, validate=True)
        except (binascii.Error, ValueError):
            raise CiphertextError("kms: stored ciphertext is not base64") from None
        with kms_errors("Decrypt"):
            response = self._kms.decrypt(
                KeyId=self._key_arn,
                CiphertextBlob=blob,
                EncryptionContext={"purpose": purpose, "disclosure_id": disclosure_id},
            )
        return response["Plaintext"]


class KmsTokenSealer(KmsDisclosureSealer):
    """The Step Functions task token, sealed while a request waits (context purpose=workflow-token)."""

    def seal(self, disclosure_id: str, token: str) -> str:
        return self._encrypt(TOKEN_PURPOSE, disclosure_id, token.encode())

    def open(self, disclosure_id: str, ciphertext: str) -> str:
        return self._decrypt(TOKEN_PURPOSE, disclosure_id, ciphertext).decode()


class KmsResultSealer(KmsDisclosureSealer):
    """The released result until its one retrieval (context purpose=disclosure-result)."""

    def seal(self, disclosure_id: str, result: Mapping[str, Any]) -> str:
        plaintext = json.dumps(dict(result), separators=(",", ":"), ensure_ascii=False).encode()
        return self._encrypt(RESULT_PURPOSE, disclosure_id, plaintext)

    def open(self, disclosure_id: str, ciphertext: str) -> dict[str, Any]:
        opened = json.loads(self._decrypt(RESULT_PURPOSE, disclosure_id, ciphertext))
        if not isinstance(opened, dict):
            raise CiphertextError("kms: stored result is not an object")
        return opened


class KmsIdentifierOpener:
    """Opens a contact's `identifier_ciphertext` (P7). For the disclosure decrypt function only.

    The Encryption SDK message must name IDENTIFIER_KEY_ARN (strict provider) and carry the context
    `purpose=contact-identifier`; the plaintext's `contact_id` is checked by the caller against the
    request. A failure says which check failed, never what the plaintext held.
    """

    def __init__(self, key_arn: str) -> None:
        from aws_encryption_sdk import CommitmentPolicy, EncryptionSDKClient
        from aws_encryption_sdk.key_providers.kms import StrictAwsKmsMasterKeyProvider

        self._client = EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
        self._provider = StrictAwsKmsMasterKeyProvider(key_ids=[key_arn], botocore_session=kms_session())

    def open(self, ciphertext: str) -> SealedIdentifier:
        try:
            blob = base64.b64decode(ciphertext, validate=True)
        except (binascii.Error, ValueError):
            raise CiphertextError("kms: identifier ciphertext is not base64") from None
        with kms_errors("Decrypt"):
            plaintext, header = self._client.decrypt(source=blob, key_provider=self._provider)
        if header.encryption_context.get("purpose") != IDENTIFIER_PURPOSE:
            raise CiphertextError("kms: identifier ciphertext has the wrong encryption context")
        try:
            return SealedIdentifier.model_validate_json(plaintext)
        except ValueError:
            raise CiphertextError("kms: identifier plaintext is not the sealed shape") from None


def token_sealer() -> KmsTokenSealer:
    """Under DISCLOSURE_KEY_ARN."""
    return KmsTokenSealer(get_settings().disclosure_key_arn)


def result_sealer() -> KmsResultSealer:
    """Under DISCLOSURE_KEY_ARN."""
    return KmsResultSealer(get_settings().disclosure_key_arn)


@cache
def identifier_opener() -> KmsIdentifierOpener:
    """On IDENTIFIER_KEY_ARN; one per process (tests call `identifier_opener.cache_clear()`)."""
    return KmsIdentifierOpener(get_settings().identifier_key_arn)
