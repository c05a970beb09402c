"""KMS: the identifier vault (P2, P3, P10) and the transcript sealer (P8).

Every KMS call of a process goes through one botocore session, created lazily like the DynamoDB
client: our own client for GenerateMac and the Encryption SDK's clients for GenerateDataKey all get
the same credentials, the same `AWS_ENDPOINT_URL` (botocore reads it when a client is created; that is
how the local stack points us at its stand-in) and the same short timeouts, because a caller is
waiting on the line. Tests pass a botocore session of their own to count requests with the
`before-call.kms` event.

The ingest role may encrypt and MAC, never decrypt: this module calls only `kms:GenerateMac` and
`kms:GenerateDataKey`.

Per-period keys (crypto-shredding, P7): identifiers and transcripts are encrypted under the key of the
calendar month in which we received them (`helpline.periods`), named by the alias `<prefix>/<YYYY-MM>`.
The key steward destroys a period's key once the last retention of its month has run out, and with it
every copy of every message sealed under it, wherever that copy is (table, backup, stream, queue).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

import boto3
import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

from helpline import periods, snapstart
from helpline.dal.retries import CALLER_IS_WAITING
from helpline.identifiers import Identifier
from helpline.logic.ports import DependencyError
from helpline.models.common import Channel
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_kms.client import KMSClient

CLIENT_CONFIG: Final = CALLER_IS_WAITING

PSEUDONYM_PREFIX: Final = b"helpline:contact-count:v1:"
REFERENCE_KEY_LABEL: Final = b"helpline:provider-reference-key:v1"
IDENTIFIER_PURPOSE: Final = "contact-identifier"
TRANSCRIPT_PURPOSE: Final = "contact-transcript"
MAX_PERIOD_ENCRYPTORS: Final = 3
"""Periods with an encryptor (and a data-key cache) in one process: the current one, the one before
(a contact received just before midnight at the month's end) and one spare. The period changes once a
month, so more would only hold data keys that no longer serve."""
_SDK_FAILURES: tuple[type[Exception], ...] = (ClientError, BotoCoreError)
T = TypeVar("T")


@cache
def kms_session() -> botocore.session.Session:
    """The process's botocore session for KMS, with `CLIENT_CONFIG` as every client's default.

    A session of its own, as in `dal.dynamodb`: boto3's default session is not thread-safe.
    Tests call `kms_session.cache_clear()`.
    """
    session = botocore.session.Session()
    session.set_default_client_config(CLIENT_CONFIG)
    return session


def kms_client(session: botocore.session.Session | None = None) -> KMSClient:
    """A KMS client on `session` (default: the process's), configured with `CLIENT_CONFIG`."""
    return boto3.session.Session(botocore_session=session or kms_session()).client("kms")


@contextmanager
def kms_errors(operation: str) -> Iterator[None]:
    """Any KMS or Encryption SDK failure as `DependencyError` naming only the operation.

    `from None` and no SDK message: an SDK message could quote its input (P2, P3).
    """
    try:
        yield
    except Exception as error:
        if isinstance(error, _SDK_FAILURES) or _is_encryption_sdk_error(error):
            raise DependencyError(f"kms: {operation} failed") from None
        raise


def _is_encryption_sdk_error(error: Exception) -> bool:
    """Without importing the SDK: only the sealing path loads it (see `dal.envelope`)."""
    return type(error).__module__.startswith("aws_encryption_sdk")


class WrongPurposeError(DependencyError):
    """A message opened, but its encryption context's `purpose` is not the one asked for.

    Defined here, not beside the decryptor in `dal.envelope`, so that callers can catch it without
    loading the Encryption SDK. Its message names the check, never a value.
    """


class PeriodEncryptors:
    """The Encryption SDK, with one caching encryptor per key period, each made on its period's first
    message (P7: a message is sealed under the key of the month we received it in).

    Only registering a new contact encrypts; status callbacks, contact events and provider retries
    never do, so they (and every cold start) skip loading the SDK and its cryptography stack. The
    period changes once a month, so a process makes one encryptor a month and keeps the data-key
    budget: one GenerateDataKey per channel per period per 5 minutes or 1,000 messages.
    """

    def __init__(self, alias_prefix: str, purpose: str, session: botocore.session.Session) -> None:
        self._alias_prefix = alias_prefix
        self._purpose = purpose
        self._session = session
        self._encryptors: dict[str, Any] = {}
        self._lock = threading.Lock()

    def encrypt(self, received_at: datetime, channel: Channel, payload: dict[str, Any]) -> str:
        """Base64 message of `payload` under the key of `period_of(received_at)`."""
        encryptor = self._encryptor(periods.period_of(received_at))
        plaintext = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        with kms_errors("GenerateDataKey"):
            ciphertext: str = encryptor.encrypt(channel, plaintext)
        return ciphertext

    def _encryptor(self, period: str) -> Any:
        with self._lock:
            encryptor = self._encryptors.get(period)
            if encryptor is None:
                with kms_errors("GenerateDataKey"):
                    from helpline.dal.envelope import CachingEncryptor

                    encryptor = CachingEncryptor(
                        periods.key_alias(self._alias_prefix, period), self._purpose, self._session
                    )
                self._encryptors[period] = encryptor
                while len(self._encryptors) > MAX_PERIOD_ENCRYPTORS:
                    del self._encryptors[min(self._encryptors)]  # the oldest period's data keys go
            return encryptor


class KmsIdentifierVault:
    """`IdentifierVault` on KMS: the one place an identifier becomes something storable.

    KMS budget: the bench target is at most 1,010 KMS requests per 1,000 contacts at steady state.
    That leaves one request per contact, the pseudonym's GenerateMac (it must be keyed in KMS so that
    nobody holding the table can count or guess numbers, P10), plus data keys that the Encryption SDK
    caches (one GenerateDataKey per channel per period per 5 minutes or 1,000 messages). So everything
    else is local: provider references are hashed with a key derived from the HMAC key once per process,
    and status callbacks and provider retries, which look contacts up by that hash, never call KMS.

    Identifiers are sealed under the custodian's key of their period, by alias ARN
    (`identifier_key_alias_prefix` + `/YYYY-MM`): the keys live in the custodian's account, which
    alone may decrypt (P3: "in een extern voor ons niet toegankelijk systeem"). The pseudonym key is
    the organisation's and has no period: a count of 24 hours needs no shredding (P10).
    """

    def __init__(
        self,
        identifier_key_alias_prefix: str,
        pseudonym_key_id: str,
        session: botocore.session.Session | None = None,
    ) -> None:
        session = session or kms_session()
        self._pseudonym_key_id = pseudonym_key_id
        self._kms = kms_client(session)
        self._encryptors = PeriodEncryptors(identifier_key_alias_prefix, IDENTIFIER_PURPOSE, session)
        self._reference_key: bytes | None = None
        self._reference_key_lock = threading.Lock()

    def pseudonym(self, identifier: Identifier) -> str:
        """HMAC-SHA256 in KMS of the normalised identifier (P10): one GenerateMac per contact.

        The same person gets the same pseudonym only if the identifier was normalised first
        (`identifiers.phone` and friends). The kind is part of the message, so an e-mail address
        and a phone number can never share a pseudonym.
        """
        message = PSEUDONYM_PREFIX + f"{identifier.kind}:{identifier.reveal()}".encode()
        return self._mac(message).hex()

    def reference_key(self, reference: Identifier) -> str:
        """HMAC-SHA256 of a provider reference under a key KMS derived once per process: no KMS call
        after the first, so status callbacks and provider retries stay within the KMS budget."""
        message = f"{reference.kind}:{reference.reveal()}".encode()
        return hmac.new(self._derived_reference_key(), message, hashlib.sha256).hexdigest()

    def seal(
        self,
        contact_id: str,
        channel: Channel,
        identifier: Identifier | None,
        reference: Identifier,
        received_at: datetime,
        *,
        sender_authenticated: bool | None = None,
    ) -> str:
        """Base64 Encryption SDK message of the identifier and the provider reference (P2, P3, P7),
        under the key of the period of `received_at` (our receipt time, never a provider's).

        The contact id is inside the authenticated plaintext, so the disclosure path can check that a
        ciphertext belongs to the record it was read from (a copied ciphertext is detected). So is
        `sender_authenticated` for e-mail (issue 9): the custodian's answer must say whether SES
        authenticated the address or it may be forged, and in the ciphertext it is bound to the address;
        without it (other channels) the plaintext is as before.
        """
        payload: dict[str, Any] = {
            "contact_id": contact_id,
            "kind": identifier.kind if identifier is not None else None,
            "value": identifier.reveal() if identifier is not None else None,
            "reference": reference.reveal(),
        }
        if sender_authenticated is not None:
            payload["sender_authenticated"] = sender_authenticated
        return self._encryptors.encrypt(received_at, channel, payload)

    def _derived_reference_key(self) -> bytes:
        with self._reference_key_lock:
            if self._reference_key is None:
                self._reference_key = self._mac(REFERENCE_KEY_LABEL)
            return self._reference_key

    def _mac(self, message: bytes) -> bytes:
        with kms_errors("GenerateMac"):
            response = self._kms.generate_mac(
                KeyId=self._pseudonym_key_id, MacAlgorithm="HMAC_SHA_256", Message=message
            )
        return response["Mac"]


class KmsTranscriptSealer:
    """`TranscriptSealer` on KMS: chat and e-mail stored word for word, but encrypted (P8), under the
    organisation's transcript key of the period we received them in (`transcript_key_alias_prefix`)."""

    def __init__(
        self, transcript_key_alias_prefix: str, session: botocore.session.Session | None = None
    ) -> None:
        self._encryptors = PeriodEncryptors(
            transcript_key_alias_prefix, TRANSCRIPT_PURPOSE, session or kms_session()
        )

    def seal(self, contact_id: str, channel: Channel, sender: str, text: str, received_at: datetime) -> str:
        """Base64 message of one transcript part under the key of `received_at`'s period; the contact
        id is inside, as in the vault."""
        return self._encryptors.encrypt(
            received_at, channel, {"contact_id": contact_id, "sender": sender, "text": text}
        )


class _ProcessSingleton(Generic[T]):
    """Built on first call, exactly once even when threads race (the local stack runs invocations
    in threads): a second vault would mean a second data-key cache and extra KMS requests."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()
        self.__doc__ = build.__doc__

    def __call__(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value

    def cache_clear(self) -> None:
        """Forget the instance (tests), like `functools.cache`'s method of the same name."""
        with self._lock:
            self._value = None


def _build_identifier_vault() -> KmsIdentifierVault:
    """The process's vault (IDENTIFIER_KEY_ALIAS_PREFIX, PSEUDONYM_KEY_ID): one, so that its data-key
    caches and derived reference key serve every invocation. Tests call `identifier_vault.cache_clear()`."""
    settings = get_settings()
    return KmsIdentifierVault(settings.identifier_key_alias_prefix, settings.pseudonym_key_id)


def _build_transcript_sealer() -> KmsTranscriptSealer:
    """The process's transcript sealer (TRANSCRIPT_KEY_ALIAS_PREFIX). Tests call
    `transcript_sealer.cache_clear()`."""
    return KmsTranscriptSealer(get_settings().transcript_key_alias_prefix)


identifier_vault: Final = _ProcessSingleton(_build_identifier_vault)
transcript_sealer: Final = _ProcessSingleton(_build_transcript_sealer)

# SnapStart: a restored environment makes its own (clients, credentials, cached keys).
snapstart.after_restore(kms_session.cache_clear)
snapstart.after_restore(identifier_vault.cache_clear)
snapstart.after_restore(transcript_sealer.cache_clear)
