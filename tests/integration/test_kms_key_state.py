"""The stand-in's KMS honours key state (P7, P8: crypto-shredding must be real locally).

moto 5.2.5 alone still encrypts and decrypts with a disabled key or one pending deletion, and never
destroys a key. With `local_stack.kms_state` it refuses as KMS does, and `purge_keys_due` destroys a
key whose waiting period is over, after which nothing sealed under it opens with any credentials.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.kms.models import KmsBackend, kms_backends
from moto.server import ThreadedMotoServer

from local_stack.kms_state import install_key_state_hook, purge_keys_due, uninstall_key_state_hook

if TYPE_CHECKING:
    from mypy_boto3_kms.client import KMSClient

CONTEXT = {"purpose": "contact-identifier"}
GONE = {"NotFoundException", "InvalidCiphertextException", "AccessDeniedException"}


@pytest.fixture
def hook() -> Iterator[None]:
    install_key_state_hook()
    yield
    uninstall_key_state_hook()


@pytest.fixture
def kms(aws: None) -> KMSClient:
    return boto3.client("kms")


def code(failure: pytest.ExceptionInfo[ClientError]) -> str:
    return str(failure.value.response["Error"]["Code"])


def sealed(kms: KMSClient) -> tuple[str, bytes]:
    """A key with alias, and a data key sealed under it while it was enabled."""
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/helpline/identifiers/2026-12", TargetKeyId=key_id)
    blob = kms.generate_data_key(KeyId=key_id, NumberOfBytes=32, EncryptionContext=CONTEXT)["CiphertextBlob"]
    return key_id, blob


def test_without_the_hook_moto_still_decrypts_with_a_disabled_key(kms: KMSClient) -> None:
    """Why the hook exists: shredding would be fake locally."""
    key_id, blob = sealed(kms)
    kms.disable_key(KeyId=key_id)
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)["Plaintext"]


@pytest.mark.usefixtures("hook")
def test_a_disabled_key_neither_decrypts_nor_makes_data_keys(kms: KMSClient) -> None:
    key_id, blob = sealed(kms)
    kms.disable_key(KeyId=key_id)
    with pytest.raises(ClientError) as decrypt:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)
    with pytest.raises(ClientError) as decrypt_by_key:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT, KeyId=key_id)
    with pytest.raises(ClientError) as data_key:
        kms.generate_data_key(KeyId="alias/helpline/identifiers/2026-12", NumberOfBytes=32)
    with pytest.raises(ClientError) as encrypt:
        kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext=CONTEXT)
    for failure in (decrypt, decrypt_by_key, data_key, encrypt):
        assert code(failure) == "DisabledException"
        assert failure.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    kms.enable_key(KeyId=key_id)
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)["Plaintext"]


@pytest.mark.usefixtures("hook")
def test_a_key_pending_deletion_refuses_every_cryptographic_operation(kms: KMSClient) -> None:
    key_id, blob = sealed(kms)
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    with pytest.raises(ClientError) as decrypt:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)
    with pytest.raises(ClientError) as data_key:
        kms.generate_data_key(KeyId=key_id, NumberOfBytes=32, EncryptionContext=CONTEXT)
    with pytest.raises(ClientError) as re_encrypt:  # moving the data key to a live key is no way out
        kms.re_encrypt(
            CiphertextBlob=blob,
            SourceEncryptionContext=CONTEXT,
            DestinationKeyId=other,
            DestinationEncryptionContext=CONTEXT,
        )
    for failure in (decrypt, data_key, re_encrypt):
        assert code(failure) == "KMSInvalidStateException"
    # Cancelled, the key is Disabled (as in KMS), and still refuses until enabled.
    kms.cancel_key_deletion(KeyId=key_id)
    with pytest.raises(ClientError) as cancelled:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)
    assert code(cancelled) == "DisabledException"


@pytest.mark.usefixtures("hook")
def test_a_disabled_hmac_key_neither_makes_nor_verifies_macs(kms: KMSClient) -> None:
    key_id = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    mac = kms.generate_mac(KeyId=key_id, MacAlgorithm="HMAC_SHA_256", Message=b"m")["Mac"]
    kms.disable_key(KeyId=key_id)
    with pytest.raises(ClientError) as generate:
        kms.generate_mac(KeyId=key_id, MacAlgorithm="HMAC_SHA_256", Message=b"m")
    with pytest.raises(ClientError) as verify:
        kms.verify_mac(KeyId=key_id, MacAlgorithm="HMAC_SHA_256", Message=b"m", Mac=mac)
    assert code(generate) == code(verify) == "DisabledException"


@pytest.mark.usefixtures("hook")
def test_purge_destroys_due_keys_and_what_they_sealed_never_opens_again(kms: KMSClient) -> None:
    """P7: after the waiting period, the copy of a data key in any backup is noise."""
    key_id, blob = sealed(kms)
    living_id = kms.create_key()["KeyMetadata"]["KeyId"]
    living_blob = kms.encrypt(KeyId=living_id, Plaintext=b"still here", EncryptionContext=CONTEXT)[
        "CiphertextBlob"
    ]
    deletion = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)["DeletionDate"]
    deletion = deletion if deletion.tzinfo else deletion.replace(tzinfo=UTC)

    assert purge_keys_due(deletion - timedelta(seconds=1)) == []
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"

    purged = purge_keys_due(deletion + timedelta(seconds=1))
    assert purged == [f"arn:aws:kms:eu-west-1:123456789012:key/{key_id}"]
    with pytest.raises(ClientError) as described:
        kms.describe_key(KeyId=key_id)
    assert code(described) == "NotFoundException"
    assert all(alias.get("TargetKeyId") != key_id for alias in kms.list_aliases()["Aliases"])
    for attempt in (
        lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT),
        lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT, KeyId=key_id),
        lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT, KeyId=living_id),
        lambda: kms.decrypt(CiphertextBlob=blob),
    ):
        with pytest.raises(ClientError) as failure:
            attempt()
        assert code(failure) in GONE
    # Other keys are untouched, and purging again finds nothing.
    assert kms.decrypt(CiphertextBlob=living_blob, EncryptionContext=CONTEXT)["Plaintext"] == b"still here"
    assert purge_keys_due(deletion + timedelta(days=365)) == []


@pytest.mark.usefixtures("hook")
def test_purge_reaches_every_account_and_region(kms: KMSClient) -> None:
    """Locally the custodian and the organisation share an account, but the purge must not rely on it."""
    elsewhere: KmsBackend = kms_backends["111122223333"]["eu-central-1"]
    key = elsewhere.create_key(
        policy=None, key_usage="ENCRYPT_DECRYPT", key_spec="SYMMETRIC_DEFAULT", description="", tags=None
    )
    elsewhere.schedule_key_deletion(key.id, 7)
    assert key.deletion_date is not None
    local_clock = datetime.now(UTC) + timedelta(days=400)
    assert purge_keys_due(local_clock) == [key.arn]
    assert key.id not in elsewhere.keys


@pytest.mark.usefixtures("aws")
def test_an_advanced_clock_dates_deletions_by_itself() -> None:
    """With the local clock, a key retired in the rehearsal dies a window later on that clock."""
    local_now = datetime(2031, 3, 1, tzinfo=UTC)
    install_key_state_hook(now=lambda: local_now)
    try:
        kms = boto3.client("kms")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        answer = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
        deletion = answer["DeletionDate"]
        deletion = deletion if deletion.tzinfo else deletion.replace(tzinfo=UTC)
        assert deletion == local_now + timedelta(days=7)
        assert purge_keys_due(local_now + timedelta(days=6, hours=23)) == []
        assert len(purge_keys_due(local_now + timedelta(days=7))) == 1
    finally:
        uninstall_key_state_hook()


def test_purge_wants_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        purge_keys_due(datetime(2030, 1, 1))  # naive: the point of the test


def test_uninstall_puts_moto_back(kms: KMSClient) -> None:
    originals = {name: KmsBackend.__dict__[name] for name in ("encrypt", "decrypt", "schedule_key_deletion")}
    install_key_state_hook(now=lambda: datetime(2031, 1, 1, tzinfo=UTC))
    install_key_state_hook()  # twice: still one layer
    assert KmsBackend.__dict__["decrypt"] is not originals["decrypt"]
    assert KmsBackend.__dict__["decrypt"].__wrapped__ is originals["decrypt"]
    uninstall_key_state_hook()
    assert {name: KmsBackend.__dict__[name] for name in originals} == originals
    key_id, blob = sealed(kms)
    kms.disable_key(KeyId=key_id)
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)["Plaintext"]
    uninstall_key_state_hook()  # again: nothing to do


def test_the_refusal_reaches_clients_of_the_threaded_server() -> None:
    """The local stack runs moto's server in-process: the same hook answers over HTTP."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    install_key_state_hook()
    try:
        kms = boto3.client("kms", endpoint_url=f"http://127.0.0.1:{port}")
        key_id, blob = sealed(kms)
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
        with pytest.raises(ClientError) as failure:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)
        assert code(failure) == "KMSInvalidStateException"
        assert purge_keys_due(datetime.now(UTC) + timedelta(days=8))
        with pytest.raises(ClientError) as gone:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)
        assert code(gone) in GONE
    finally:
        uninstall_key_state_hook()
        server.stop()
