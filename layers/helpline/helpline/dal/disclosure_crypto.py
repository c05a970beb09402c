"""KMS for the disclosure workflow (P7): the waiting task token, the released result, and opening an
identifier.

- Task token and result: KMS `Encrypt`/`Decrypt` directly under DisclosureKey (DISCLOSURE_KEY_ARN), with
  the encryption context `{"purpose": "workflow-token" | "disclosure-result", "disclosure_id": id}`, so a
  ciphertext only opens for its own request and purpose. Both are small, so no envelope is needed. The
  custodian's decrypt function seals a result (Encrypt only) under the organisation's key by its ARN.
- Identifier: the contact's Encryption SDK message (sealed by `dal.kms.KmsIdentifierVault.seal` under
  the custodian's key of its period) opened by `dal.envelope.PeriodKeyDecryptor`: a discovery provider
  limited to the custodian's account (named in IDENTIFIER_KEY_ALIAS_PREFIX), its context checked
  (`purpose=contact-identifier`). The SDK is imported only when a ciphertext is opened, and only the
  custodian's decrypt function, whose role alone may `kms:Decrypt` under identifier keys, does so. A
  period key destroyed by the key steward opens nothing any more (crypto-shredding).

Errors name the operation only (`kms_errors`), never a value.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import botocore.session

from helpline import snapstart
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
    """Opens a contact's `identifier_ciphertext` (P7). For the custodian's decrypt function only.

    The Encryption SDK message names the period key it was sealed under; `PeriodKeyDecryptor` accepts
    only keys of the custodian's account (the account of `alias_prefix`) and the context
    `purpose=contact-identifier`. The plaintext's `contact_id` is checked by the caller against the
    release. A failure says which step failed, never what the plaintext held.
    """

    def __init__(self, alias_prefix: str, session: botocore.session.Session | None = None) -> None:
        self._alias_prefix = alias_prefix
        self._session = session
        self._decryptor: Any = None
        self._lock = threading.Lock()

    def open(self, ciphertext: str) -> SealedIdentifier:
        try:
            blob = base64.b64decode(ciphertext, validate=True)
        except (binascii.Error, ValueError):
            raise CiphertextError("kms: identifier ciphertext is not base64") from None
        with kms_errors("Decrypt"):
            plaintext: bytes = self._period_decryptor().decrypt(blob)
        try:
            return SealedIdentifier.model_validate_json(plaintext)
        except ValueError:
            raise CiphertextError("kms: identifier plaintext is not the sealed shape") from None

    def _period_decryptor(self) -> Any:
        """Built on the first ciphertext to open: only then is the Encryption SDK imported."""
        with self._lock:
            if self._decryptor is None:
                from helpline.dal.envelope import PeriodKeyDecryptor

                self._decryptor = PeriodKeyDecryptor(
                    self._alias_prefix, IDENTIFIER_PURPOSE, self._session or kms_session()
                )
            return self._decryptor


def token_sealer() -> KmsTokenSealer:
    """Under DISCLOSURE_KEY_ARN."""
    return KmsTokenSealer(get_settings().disclosure_key_arn)


def result_sealer() -> KmsResultSealer:
    """Under DISCLOSURE_KEY_ARN."""
    return KmsResultSealer(get_settings().disclosure_key_arn)


@cache
def identifier_opener() -> KmsIdentifierOpener:
    """Under the periods of IDENTIFIER_KEY_ALIAS_PREFIX; one per process (tests call
    `identifier_opener.cache_clear()`)."""
    return KmsIdentifierOpener(get_settings().identifier_key_alias_prefix)


# SnapStart: a restored environment makes its own (clients, credentials, cached keys).
snapstart.after_restore(disclosure_kms_client.cache_clear)
snapstart.after_restore(identifier_opener.cache_clear)
