"""The KMS vault and transcript sealer against moto: what is stored is ciphertext (P2, P3, P8), the
pseudonym counts a person without knowing who (P10), and KMS is called within the bench budget."""

from __future__ import annotations

import base64
import json
import socket
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import aws_encryption_sdk
import boto3
import botocore.session
import pytest
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.key_providers.kms import StrictAwsKmsMasterKeyProvider
from botocore.exceptions import EndpointConnectionError
from botocore.retries.standard import ExponentialBackoff
from moto.server import ThreadedMotoServer

from helpline import identifiers
from helpline.dal.kms import (
    KmsIdentifierVault,
    KmsTranscriptSealer,
    identifier_vault,
    kms_session,
    transcript_sealer,
)
from helpline.logic.ports import DependencyError, IdentifierVault, TranscriptSealer
from helpline.settings import get_settings

NUMBER = "+31612345678"
NUMBER_FORMS = (NUMBER, "0612345678", "31612345678", "612345678", "06-12345678", "0031612345678")
REFERENCE = identifiers.reference("CA0123456789abcdef0123456789abcdef")
CONTACT_ID = uuid.uuid4().hex


class KmsCalls:
    """Counts KMS requests by operation with the `before-call.kms` event (one per API call, before
    retries) and `before-send.kms` (one per HTTP attempt)."""

    def __init__(self, session: botocore.session.Session) -> None:
        self.calls: Counter[str] = Counter()
        self.sends = 0
        session.register("before-call.kms", self._on_call)
        session.register("before-send.kms", self._on_send)

    def _on_call(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _on_send(self, **_: Any) -> None:
        self.sends += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@pytest.fixture
def keys(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The three keys as template.yaml declares them, their ids in the function's environment."""
    kms = boto3.client("kms")
    made = {
        "IDENTIFIER_KEY_ARN": kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT"),
        "TRANSCRIPT_KEY_ARN": kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT"),
        "PSEUDONYM_KEY_ID": kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC"),
    }
    arns = {name: response["KeyMetadata"]["Arn"] for name, response in made.items()}
    for name, arn in arns.items():
        monkeypatch.setenv(name, arn)
    get_settings.cache_clear()
    kms_session.cache_clear()
    identifier_vault.cache_clear()
    transcript_sealer.cache_clear()
    yield arns
    kms_session.cache_clear()
    identifier_vault.cache_clear()
    transcript_sealer.cache_clear()


@pytest.fixture
def kms_calls(keys: dict[str, str]) -> KmsCalls:
    """Counts the requests of the process's KMS session, the one the accessors' adapters use."""
    return KmsCalls(kms_session())


def decrypt(blob: str, key_arn: str) -> tuple[dict[str, Any], dict[str, str]]:
    """What the disclosure path would do (P7): decrypt with a strict provider on the key ARN."""
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    provider = StrictAwsKmsMasterKeyProvider(key_ids=[key_arn])
    plaintext, header = client.decrypt(source=base64.b64decode(blob), key_provider=provider)
    return json.loads(plaintext), dict(header.encryption_context)


def test_the_adapters_implement_the_ports(keys: dict[str, str]) -> None:
    vault: IdentifierVault = identifier_vault()
    sealer: TranscriptSealer = transcript_sealer()
    assert isinstance(vault, KmsIdentifierVault)
    assert isinstance(sealer, KmsTranscriptSealer)
    assert identifier_vault() is vault, "one vault per process: one data-key cache"


def test_a_sealed_identifier_decrypts_to_its_record(keys: dict[str, str]) -> None:
    """P2/P7: only the disclosure path can read it back, and the contact id is bound inside."""
    blob = identifier_vault().seal(CONTACT_ID, "voice", identifiers.phone("0612345678"), REFERENCE)
    payload, context = decrypt(blob, keys["IDENTIFIER_KEY_ARN"])
    assert payload == {
        "contact_id": CONTACT_ID,
        "kind": "phone",
        "value": NUMBER,
        "reference": REFERENCE.reveal(),
    }
    # The key policy grants GenerateDataKey only with purpose=contact-identifier; nothing per record.
    assert context == {"purpose": "contact-identifier", "channel": "voice"}


def test_a_contact_without_identifier_still_seals_its_reference(keys: dict[str, str]) -> None:
    blob = identifier_vault().seal(CONTACT_ID, "chat", None, REFERENCE)
    payload, _ = decrypt(blob, keys["IDENTIFIER_KEY_ARN"])
    assert payload == {"contact_id": CONTACT_ID, "kind": None, "value": None, "reference": REFERENCE.reveal()}


def test_the_ciphertext_holds_no_trace_of_the_number(keys: dict[str, str]) -> None:
    """P2: the number is stored only encrypted, in no format."""
    blob = identifier_vault().seal(CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE)
    raw = base64.b64decode(blob)
    for form in NUMBER_FORMS:
        assert form not in blob
        assert form.encode() not in raw
        assert form.encode("utf-16-le") not in raw
        assert base64.b64encode(form.encode()).decode().rstrip("=") not in blob
    assert REFERENCE.reveal().encode() not in raw


def test_fifty_seals_in_one_channel_cost_at_most_two_data_keys(
    keys: dict[str, str], kms_calls: KmsCalls
) -> None:
    """The bench budget (<= 1,010 KMS requests per 1,000 contacts) needs cached data keys."""
    vault = identifier_vault()
    for n in range(50):
        vault.seal(uuid.uuid4().hex, "voice", identifiers.phone(f"+316123456{n:02d}"), REFERENCE)
    assert kms_calls.calls["GenerateDataKey"] <= 2
    assert set(kms_calls.calls) == {"GenerateDataKey"}, "ingest never decrypts"


def test_transcripts_are_sealed_under_their_own_key(keys: dict[str, str], kms_calls: KmsCalls) -> None:
    """P8: word for word, but encrypted; with cached data keys too."""
    sealer = transcript_sealer()
    blobs = [sealer.seal(CONTACT_ID, "chat", "visitor", f"Ik heet Anna, bericht {n}") for n in range(20)]
    payload, context = decrypt(blobs[3], keys["TRANSCRIPT_KEY_ARN"])
    assert payload == {"contact_id": CONTACT_ID, "sender": "visitor", "text": "Ik heet Anna, bericht 3"}
    assert context == {"purpose": "contact-transcript", "channel": "chat"}
    assert b"Anna" not in base64.b64decode(blobs[0])
    assert kms_calls.calls["GenerateDataKey"] == 1
    with pytest.raises(Exception):  # noqa: B017,PT011 - any failure will do: the identifier key must not open it
        decrypt(blobs[0], keys["IDENTIFIER_KEY_ARN"])


def test_the_pseudonym_is_one_per_number_whatever_its_format(
    keys: dict[str, str], kms_calls: KmsCalls
) -> None:
    """P10: counting works on the person, and costs one GenerateMac per contact."""
    vault = identifier_vault()
    pseudonyms = {vault.pseudonym(identifiers.phone(form)) for form in NUMBER_FORMS}
    assert len(pseudonyms) == 1
    (pseudonym,) = pseudonyms
    assert len(pseudonym) == 64
    assert int(pseudonym, 16) >= 0
    assert NUMBER.lstrip("+") not in pseudonym
    assert vault.pseudonym(identifiers.phone("+31612345679")) != pseudonym
    assert kms_calls.calls == Counter({"GenerateMac": len(NUMBER_FORMS) + 1})


def test_the_pseudonym_is_the_same_in_every_process(keys: dict[str, str]) -> None:
    """Every ingest Lambda must count the same person under the same pseudonym (P10)."""
    one = KmsIdentifierVault(keys["IDENTIFIER_KEY_ARN"], keys["PSEUDONYM_KEY_ID"])
    other = KmsIdentifierVault(
        keys["IDENTIFIER_KEY_ARN"], keys["PSEUDONYM_KEY_ID"], botocore.session.Session()
    )
    assert one.pseudonym(identifiers.phone(NUMBER)) == other.pseudonym(identifiers.phone("0612345678"))
    assert one.reference_key(REFERENCE) == other.reference_key(REFERENCE)


def test_pseudonyms_of_different_kinds_never_collide(keys: dict[str, str]) -> None:
    vault = identifier_vault()
    assert vault.pseudonym(identifiers.email("A@Example.org")) == vault.pseudonym(
        identifiers.email("a@example.org")
    )
    assert vault.pseudonym(identifiers.ip_address("192.0.2.1")) != vault.pseudonym(
        identifiers.reference("192.0.2.1")
    )


def test_reference_keys_call_kms_once_per_process(keys: dict[str, str], kms_calls: KmsCalls) -> None:
    """Status callbacks and provider retries find their contact without a KMS request."""
    vault = identifier_vault()
    keys_by_reference = {
        f"CA{n:032x}": vault.reference_key(identifiers.reference(f"CA{n:032x}")) for n in range(100)
    }
    assert len(set(keys_by_reference.values())) == 100
    assert vault.reference_key(identifiers.reference("CA" + "0" * 32)) == keys_by_reference["CA" + "0" * 32]
    assert all(reference not in key for reference, key in keys_by_reference.items())
    assert kms_calls.calls == Counter({"GenerateMac": 1})


def test_a_steady_state_contact_costs_one_kms_request(keys: dict[str, str], kms_calls: KmsCalls) -> None:
    """The bench target: <= 1,010 KMS requests per 1,000 contacts. Measured here for 200 contacts,
    each: pseudonym, reference key, seal, and two status callbacks (reference key again)."""
    vault = identifier_vault()
    for n in range(200):
        number = identifiers.phone(f"+3161234{n:04d}")
        reference = identifiers.reference(f"CA{n:032x}")
        vault.pseudonym(number)
        vault.reference_key(reference)
        vault.seal(uuid.uuid4().hex, "voice", number, reference)
        vault.reference_key(reference)
        vault.reference_key(reference)
    assert kms_calls.calls == Counter({"GenerateMac": 201, "GenerateDataKey": 1})


def test_a_kms_failure_is_a_dependency_error_without_the_identifier(keys: dict[str, str]) -> None:
    """P2: an error message or its chained cause must not carry the number."""
    number = identifiers.phone(NUMBER)
    with pytest.raises(DependencyError) as mac_failure:  # an encryption key cannot MAC
        KmsIdentifierVault(keys["IDENTIFIER_KEY_ARN"], keys["IDENTIFIER_KEY_ARN"]).pseudonym(number)
    missing = keys["IDENTIFIER_KEY_ARN"].rsplit("/", 1)[0] + "/" + str(uuid.uuid4())
    with pytest.raises(DependencyError) as missing_key:
        KmsIdentifierVault(missing, keys["PSEUDONYM_KEY_ID"]).seal(CONTACT_ID, "voice", number, REFERENCE)
    assert str(mac_failure.value) == "kms: GenerateMac failed"
    assert str(missing_key.value) == "kms: GenerateDataKey failed"
    for failure in (mac_failure.value, missing_key.value):
        assert failure.__suppress_context__, "the SDK's exception is not shown with ours"
        assert failure.__cause__ is None
        assert not any(form in str(failure) for form in NUMBER_FORMS)


def test_an_unreachable_kms_is_retried_then_a_dependency_error(
    keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry policy reaches the Encryption SDK's own KMS clients too.

    Three attempts in all (`total_max_attempts`), then the domain fails open.
    """
    attempts: Counter[str] = Counter()

    def unreachable(request: Any, **_: Any) -> None:
        attempts[request.headers["X-Amz-Target"].decode().rsplit(".", 1)[1]] += 1
        raise EndpointConnectionError(endpoint_url="https://kms.invalid")

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda _self, _context: 0.0)
    kms_session().register("before-send.kms", unreachable)
    vault = identifier_vault()
    for _ in range(3):  # the SDK drops its regional client after a failure; later ones must fail alike
        with pytest.raises(DependencyError, match=r"^kms: GenerateDataKey failed$"):
            vault.seal(CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE)
    with pytest.raises(DependencyError, match=r"^kms: GenerateMac failed$"):
        vault.pseudonym(identifiers.phone(NUMBER))
    assert attempts == Counter({"GenerateDataKey": 9, "GenerateMac": 3})


def test_the_clients_follow_aws_endpoint_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local stack sets AWS_ENDPOINT_URL; the SDK's own KMS clients must go there too."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        kms = boto3.client("kms", endpoint_url=endpoint)
        key_arn = kms.create_key()["KeyMetadata"]["Arn"]
        mac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
        session = botocore.session.Session()
        calls = KmsCalls(session)
        vault = KmsIdentifierVault(key_arn, mac_key, session)
        blob = vault.seal(CONTACT_ID, "email", identifiers.email("iemand@example.org"), REFERENCE)
        vault.pseudonym(identifiers.email("iemand@example.org"))
        payload, _ = decrypt(blob, key_arn)  # a fresh provider: also through AWS_ENDPOINT_URL
        assert payload["value"] == "iemand@example.org"
        assert calls.calls == Counter({"GenerateDataKey": 1, "GenerateMac": 1})
    finally:
        server.stop()
