"""Envelope encryption with the AWS Encryption SDK: committing suite, cached data keys.

Imported only when something is to be encrypted (see `dal.kms.LazyEncryptor`).
"""

from __future__ import annotations

import base64
from typing import Final

import botocore.session
from aws_encryption_sdk import CommitmentPolicy, EncryptionSDKClient
from aws_encryption_sdk.caches.local import LocalCryptoMaterialsCache
from aws_encryption_sdk.identifiers import Algorithm
from aws_encryption_sdk.key_providers.kms import StrictAwsKmsMasterKeyProvider
from aws_encryption_sdk.materials_managers.caching import CachingCryptoMaterialsManager

from helpline.models.common import Channel

ALGORITHM: Final = Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY
"""Key-committing, without the ECDSA signature: the decrypting side is trusted, so signing would
only add ~200 bytes a message."""

DATA_KEY_MAX_AGE_S: Final = 300.0
DATA_KEY_MAX_MESSAGES: Final = 1000


class CachingEncryptor:
    """Encryption SDK messages under one KMS key, with data keys cached and reused.

    The encryption context is static per channel ({"purpose": ..., "channel": ...}): a per-record value
    would change the cache key and cost a GenerateDataKey per message. What binds a ciphertext to its
    record is inside the authenticated plaintext instead.
    """

    def __init__(self, key_arn: str, purpose: str, session: botocore.session.Session) -> None:
        self._purpose = purpose
        self._client = EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
        provider = StrictAwsKmsMasterKeyProvider(key_ids=[key_arn], botocore_session=session)
        self._materials = CachingCryptoMaterialsManager(
            master_key_provider=provider,
            cache=LocalCryptoMaterialsCache(capacity=16),
            max_age=DATA_KEY_MAX_AGE_S,
            max_messages_encrypted=DATA_KEY_MAX_MESSAGES,
        )

    def encrypt(self, channel: Channel, plaintext: bytes) -> str:
        """Base64 Encryption SDK message of `plaintext`; SDK and KMS errors propagate to the caller."""
        ciphertext, _header = self._client.encrypt(
            source=plaintext,
            materials_manager=self._materials,
            encryption_context={"purpose": self._purpose, "channel": channel},
            algorithm=ALGORITHM,
        )
        return base64.b64encode(ciphertext).decode("ascii")
