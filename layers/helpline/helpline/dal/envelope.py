"""Envelope encryption with the AWS Encryption SDK: committing suite, cached data keys.

Imported only when something is to be encrypted or decrypted (see `dal.kms.PeriodEncryptors`), so that
functions which do neither never load the SDK and its cryptography stack.

Per-period keys (P7, crypto-shredding): a message is encrypted under a period key's *alias* ARN
(`<prefix>/<YYYY-MM>`), and the SDK records in the message the *key* ARN that KMS answers in
GenerateDataKey's `KeyId`, never the alias. So a message names the one key that can open it, and
re-pointing or deleting the alias later changes nothing about who can decrypt it. A strict provider
accepts an alias ARN for encryption (it only checks that a key id is given); for decryption it would
compare the message's key ARN with the alias ARN by string and refuse, which is why decryption uses a
discovery provider limited to the account (and partition) that holds the period keys.
"""

from __future__ import annotations

import base64
import threading
from datetime import datetime, timedelta
from typing import Any, Final

import botocore.session
from aws_encryption_sdk import CommitmentPolicy, EncryptionSDKClient
from aws_encryption_sdk.caches.local import LocalCryptoMaterialsCache
from aws_encryption_sdk.identifiers import Algorithm
from aws_encryption_sdk.key_providers.kms import (
    DiscoveryAwsKmsMasterKeyProvider,
    DiscoveryFilter,
    StrictAwsKmsMasterKeyProvider,
)
from aws_encryption_sdk.materials_managers.caching import CachingCryptoMaterialsManager

from helpline import clock
from helpline.dal.kms import WrongPurposeError, kms_errors, kms_session
from helpline.models.common import Channel

ALGORITHM: Final = Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY
"""Key-committing, without the ECDSA signature: the decrypting side is trusted, so signing would
only add ~200 bytes a message."""

DATA_KEY_MAX_AGE_S: Final = 300.0
DATA_KEY_MAX_MESSAGES: Final = 1000
DECRYPT_DATA_KEY_MAX_AGE_S: Final = 60.0
"""How long an opened data key is reused for decryption: long enough for one transcript read (all its
parts share a data key, so the read costs about one kms:Decrypt), short enough that a key destroyed
by the steward stops opening anything in a warm process soon after."""


class CachingEncryptor:
    """Encryption SDK messages under one KMS key, with data keys cached and reused.

    The encryption context is static per channel ({"purpose": ..., "channel": ...}): a per-record value
    would change the cache key and cost a GenerateDataKey per message. What binds a ciphertext to its
    record is inside the authenticated plaintext instead.
    """

    def __init__(self, key_id: str, purpose: str, session: botocore.session.Session) -> None:
        """`key_id`: a key ARN or a period key's alias ARN (the message records the key ARN)."""
        self._purpose = purpose
        self._client = EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
        provider = StrictAwsKmsMasterKeyProvider(key_ids=[key_id], botocore_session=session)
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


class PeriodKeyDecryptor:
    """Opens Encryption SDK messages sealed under any period key of one alias prefix (P7, P8).

    For the custodian's disclosure decrypt function (identifiers, `purpose=contact-identifier`) and the
    organisation's transcript reader (`purpose=contact-transcript`): the only roles whose key policy
    grants `kms:Decrypt`, and only with that purpose in the encryption context. A discovery provider,
    because a message names its period's key ARN, which no configuration can list in advance; limited by
    a `DiscoveryFilter` to the account and partition of the alias prefix ARN, so a message naming a key
    of any other account is not even attempted. The purpose is checked here too, so a message of the
    other family is refused even where a policy is looser than it should be.

    Data keys are cached for `DECRYPT_DATA_KEY_MAX_AGE_S` by the SDK's clock and by ours
    (`helpline.clock`): the cache is dropped once our clock has moved that far since it was made, so
    a clock moved forward (the local stack's rehearsal of retention) never finds a data key that was
    opened before a key's destruction.

    Errors go through `kms_errors` (an SDK message could quote its input); a wrong purpose is a
    `WrongPurposeError` naming the check only.
    """

    def __init__(
        self, alias_prefix: str, purpose: str, session: botocore.session.Session | None = None
    ) -> None:
        partition, account = _partition_and_account(alias_prefix)
        self._purpose = purpose
        self._client = EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
        self._provider = DiscoveryAwsKmsMasterKeyProvider(
            discovery_filter=DiscoveryFilter(account_ids=[account], partition=partition),
            botocore_session=session or kms_session(),
        )
        self._lock = threading.Lock()
        self._materials: Any = None
        self._materials_made: datetime | None = None

    def decrypt(self, blob: bytes) -> bytes:
        """The plaintext of one raw (not base64) Encryption SDK message whose context has our purpose."""
        with kms_errors("Decrypt"):
            plaintext, header = self._client.decrypt(source=blob, materials_manager=self._caching())
        if dict(header.encryption_context).get("purpose") != self._purpose:
            raise WrongPurposeError("kms: message has the wrong encryption context purpose")
        result: bytes = plaintext
        return result

    def _caching(self) -> Any:
        """The caching materials manager, replaced once our clock has moved past its maximum age."""
        now = clock.now()
        with self._lock:
            made = self._materials_made
            if made is None or not made <= now < made + timedelta(seconds=DECRYPT_DATA_KEY_MAX_AGE_S):
                self._materials = CachingCryptoMaterialsManager(
                    master_key_provider=self._provider,
                    cache=LocalCryptoMaterialsCache(capacity=16),
                    max_age=DECRYPT_DATA_KEY_MAX_AGE_S,
                )
                self._materials_made = now
            return self._materials


def _partition_and_account(alias_prefix: str) -> tuple[str, str]:
    """Partition and account of an alias ARN prefix (`arn:<partition>:kms:<region>:<account>:alias/...`)."""
    parts = alias_prefix.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "kms" or not parts[5].startswith("alias/"):
        raise ValueError("a period key alias prefix must be a KMS alias ARN")
    if not parts[1] or not parts[4].isdigit():
        raise ValueError("a period key alias prefix must name its partition and account")
    return parts[1], parts[4]
