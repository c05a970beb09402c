"""The KMS vault and transcript sealer against moto: what is stored is ciphertext (P2, P3, P8), the
pseudonym counts a person without knowing who (P10), and KMS is called within the bench budget.

Per-period keys (P7, crypto-shredding): each message is sealed under the key of the month we received
it in, names that key's ARN, and opens with `PeriodKeyDecryptor` while the key lives and never again
once the key steward has retired it and KMS has destroyed it."""

from __future__ import annotations

import base64
import io
import json
import socket
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
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

from helpline import clock, identifiers
from helpline.dal.envelope import PeriodKeyDecryptor
from helpline.dal.key_steward import KmsKeySteward
from helpline.dal.kms import (
    KmsIdentifierVault,
    KmsTranscriptSealer,
    WrongPurposeError,
    identifier_vault,
    kms_session,
    transcript_sealer,
)
from helpline.logic.ports import DependencyError, IdentifierVault, TranscriptSealer
from helpline.settings import get_settings
from local_stack.kms_state import install_key_state_hook, purge_keys_due, uninstall_key_state_hook

NUMBER = "+31612345678"
NUMBER_FORMS = (NUMBER, "0612345678", "31612345678", "612345678", "06-12345678", "0031612345678")
REFERENCE = identifiers.reference("CA0123456789abcdef0123456789abcdef")
CONTACT_ID = uuid.uuid4().hex
ACCOUNT = "123456789012"  # moto's
IDENTIFIER_PREFIX = f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/helpline-custodian/identifiers"
TRANSCRIPT_PREFIX = f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/helpline-dev/transcripts"
PERIODS = ("2026-12", "2027-01")
RECEIVED = datetime(2026, 12, 15, 10, 30, tzinfo=UTC)
NEXT_MONTH = datetime(2027, 1, 2, 8, tzinfo=UTC)


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
    """Period keys of December 2026 and January 2027 for both families, as the key steward makes them
    (alias `<prefix>/<YYYY-MM>`), and the pseudonym key; the prefixes in the function's environment.

    Returns key ARNs by `identifiers/2026-12`, `transcripts/2027-01`, ..., and `PSEUDONYM_KEY_ID`.
    """
    kms = boto3.client("kms")
    arns: dict[str, str] = {}
    for family, prefix in (("identifiers", IDENTIFIER_PREFIX), ("transcripts", TRANSCRIPT_PREFIX)):
        for period in PERIODS:
            metadata = kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
            kms.create_alias(AliasName=alias_name(prefix, period), TargetKeyId=metadata["KeyId"])
            arns[f"{family}/{period}"] = metadata["Arn"]
    mac = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
    arns["PSEUDONYM_KEY_ID"] = mac
    monkeypatch.setenv("IDENTIFIER_KEY_ALIAS_PREFIX", IDENTIFIER_PREFIX)
    monkeypatch.setenv("TRANSCRIPT_KEY_ALIAS_PREFIX", TRANSCRIPT_PREFIX)
    monkeypatch.setenv("PSEUDONYM_KEY_ID", mac)
    get_settings.cache_clear()
    kms_session.cache_clear()
    identifier_vault.cache_clear()
    transcript_sealer.cache_clear()
    yield arns
    kms_session.cache_clear()
    identifier_vault.cache_clear()
    transcript_sealer.cache_clear()


@pytest.fixture
def key_state() -> Iterator[None]:
    """The stand-in's KMS refuses disabled and deleted keys, as KMS does (`local_stack.kms_state`)."""
    install_key_state_hook()
    yield
    uninstall_key_state_hook()
    clock.reset()


def alias_name(prefix: str, period: str) -> str:
    return "alias/" + prefix.split(":alias/", 1)[1] + "/" + period


@pytest.fixture
def kms_calls(keys: dict[str, str]) -> KmsCalls:
    """Counts the requests of the process's KMS session, the one the accessors' adapters use."""
    return KmsCalls(kms_session())


def decrypt(blob: str, key_arn: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Decrypt with a strict provider on one KEY ARN: it opens only a message that names that key."""
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
    blob = identifier_vault().seal(CONTACT_ID, "voice", identifiers.phone("0612345678"), REFERENCE, RECEIVED)
    payload, context = decrypt(blob, keys["identifiers/2026-12"])
    assert payload == {
        "contact_id": CONTACT_ID,
        "kind": "phone",
        "value": NUMBER,
        "reference": REFERENCE.reveal(),
    }
    # The key policy grants GenerateDataKey only with purpose=contact-identifier; nothing per record.
    assert context == {"purpose": "contact-identifier", "channel": "voice"}


def test_a_contact_without_identifier_still_seals_its_reference(keys: dict[str, str]) -> None:
    blob = identifier_vault().seal(CONTACT_ID, "chat", None, REFERENCE, RECEIVED)
    payload, _ = decrypt(blob, keys["identifiers/2026-12"])
    assert payload == {"contact_id": CONTACT_ID, "kind": None, "value": None, "reference": REFERENCE.reveal()}


@pytest.mark.parametrize("authenticated", [True, False])
def test_an_email_sender_is_sealed_with_whether_ses_authenticated_it(
    keys: dict[str, str], authenticated: bool
) -> None:
    """Issue 9: a disclosure must say whether the address was proven; the flag is bound to it inside
    the ciphertext, so it cannot be changed beside it."""
    mail = identifiers.reference("<m1@mail.example.nl>")
    blob = identifier_vault().seal(
        CONTACT_ID,
        "email",
        identifiers.email("Iemand@Example.NL"),
        mail,
        RECEIVED,
        sender_authenticated=authenticated,
    )
    payload, context = decrypt(blob, keys["identifiers/2026-12"])
    assert payload == {
        "contact_id": CONTACT_ID,
        "kind": "email",
        "value": "iemand@example.nl",
        "reference": mail.reveal(),
        "sender_authenticated": authenticated,
    }
    assert context == {"purpose": "contact-identifier", "channel": "email"}
    assert "example.nl" not in blob


def test_the_ciphertext_holds_no_trace_of_the_number(keys: dict[str, str]) -> None:
    """P2: the number is stored only encrypted, in no format."""
    blob = identifier_vault().seal(CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE, RECEIVED)
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
        vault.seal(uuid.uuid4().hex, "voice", identifiers.phone(f"+316123456{n:02d}"), REFERENCE, RECEIVED)
    assert kms_calls.calls["GenerateDataKey"] <= 2
    assert set(kms_calls.calls) == {"GenerateDataKey"}, "ingest never decrypts"


def test_transcripts_are_sealed_under_their_own_key(keys: dict[str, str], kms_calls: KmsCalls) -> None:
    """P8: word for word, but encrypted; with cached data keys too."""
    sealer = transcript_sealer()
    blobs = [
        sealer.seal(CONTACT_ID, "chat", "visitor", f"Ik heet Anna, bericht {n}", RECEIVED) for n in range(20)
    ]
    payload, context = decrypt(blobs[3], keys["transcripts/2026-12"])
    assert payload == {"contact_id": CONTACT_ID, "sender": "visitor", "text": "Ik heet Anna, bericht 3"}
    assert context == {"purpose": "contact-transcript", "channel": "chat"}
    assert b"Anna" not in base64.b64decode(blobs[0])
    assert kms_calls.calls["GenerateDataKey"] == 1
    with pytest.raises(Exception):  # noqa: B017,PT011 - any failure will do: the identifier key must not open it
        decrypt(blobs[0], keys["identifiers/2026-12"])


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
    one = KmsIdentifierVault(IDENTIFIER_PREFIX, keys["PSEUDONYM_KEY_ID"])
    other = KmsIdentifierVault(IDENTIFIER_PREFIX, keys["PSEUDONYM_KEY_ID"], botocore.session.Session())
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
        vault.seal(uuid.uuid4().hex, "voice", number, reference, RECEIVED + timedelta(seconds=n))
        vault.reference_key(reference)
        vault.reference_key(reference)
    assert kms_calls.calls == Counter({"GenerateMac": 201, "GenerateDataKey": 1})


def test_a_kms_failure_is_a_dependency_error_without_the_identifier(keys: dict[str, str]) -> None:
    """P2: an error message or its chained cause must not carry the number."""
    number = identifiers.phone(NUMBER)
    with pytest.raises(DependencyError) as mac_failure:  # an encryption key cannot MAC
        KmsIdentifierVault(IDENTIFIER_PREFIX, keys["identifiers/2026-12"]).pseudonym(number)
    missing = IDENTIFIER_PREFIX + "-nobody-made"
    with pytest.raises(DependencyError) as missing_key:
        KmsIdentifierVault(missing, keys["PSEUDONYM_KEY_ID"]).seal(
            CONTACT_ID, "voice", number, REFERENCE, RECEIVED
        )
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
            vault.seal(CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE, RECEIVED)
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
        key = kms.create_key()["KeyMetadata"]
        kms.create_alias(AliasName=alias_name(IDENTIFIER_PREFIX, "2026-12"), TargetKeyId=key["KeyId"])
        mac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
        session = botocore.session.Session()
        calls = KmsCalls(session)
        vault = KmsIdentifierVault(IDENTIFIER_PREFIX, mac_key, session)
        blob = vault.seal(CONTACT_ID, "email", identifiers.email("iemand@example.org"), REFERENCE, RECEIVED)
        vault.pseudonym(identifiers.email("iemand@example.org"))
        payload, _ = decrypt(blob, key["Arn"])  # a fresh provider: also through AWS_ENDPOINT_URL
        assert payload["value"] == "iemand@example.org"
        reader_session = botocore.session.Session()
        reader_calls = KmsCalls(reader_session)
        opened = PeriodKeyDecryptor(IDENTIFIER_PREFIX, "contact-identifier", reader_session).decrypt(
            base64.b64decode(blob)
        )
        assert json.loads(opened)["value"] == "iemand@example.org"
        assert calls.calls == Counter({"GenerateDataKey": 1, "GenerateMac": 1})
        assert reader_calls.calls == Counter({"Decrypt": 1})
    finally:
        server.stop()


# ------------------------------------------------------------------ per-period keys (P7, crypto-shredding)


def key_arn_named_in(blob: str) -> str:
    """The key ARN the Encryption SDK recorded in the message header (one encrypted data key)."""
    from aws_encryption_sdk.internal.formatting.deserialize import deserialize_header

    header, _ = deserialize_header(io.BytesIO(base64.b64decode(blob)))
    (data_key,) = header.encrypted_data_keys
    return data_key.key_provider.key_info.decode()


def test_a_contact_is_sealed_under_the_key_of_the_month_we_received_it(keys: dict[str, str]) -> None:
    """P7: December's contact under December's key, January's under January's, named by KEY ARN (not
    the alias), so re-pointing or deleting an alias later changes nothing about who can open it."""
    vault = identifier_vault()
    december = vault.seal(CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE, RECEIVED)
    january = vault.seal(CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE, NEXT_MONTH)
    assert key_arn_named_in(december) == keys["identifiers/2026-12"]
    assert key_arn_named_in(january) == keys["identifiers/2027-01"]
    assert decrypt(december, keys["identifiers/2026-12"])[0]["value"] == NUMBER
    assert decrypt(january, keys["identifiers/2027-01"])[0]["value"] == NUMBER
    with pytest.raises(Exception):  # noqa: B017,PT011 - the other month's key must not open it
        decrypt(december, keys["identifiers/2027-01"])


def test_the_month_is_the_utc_month_of_our_receipt(keys: dict[str, str]) -> None:
    """New Year's Eve 00:30 in Amsterdam is still December in UTC; the last microsecond of December
    too. Transcripts follow the same rule under their own keys (P8)."""
    amsterdam = timezone(timedelta(hours=1))
    vault, sealer = identifier_vault(), transcript_sealer()
    new_years_night = datetime(2027, 1, 1, 0, 30, tzinfo=amsterdam)
    last_microsecond = datetime(2027, 1, 1, tzinfo=UTC) - timedelta(microseconds=1)
    first_moment = datetime(2027, 1, 1, tzinfo=UTC)
    for moment, period in (
        (new_years_night, "2026-12"),
        (last_microsecond, "2026-12"),
        (first_moment, "2027-01"),
    ):
        blob = vault.seal(CONTACT_ID, "chat", identifiers.ip_address("192.0.2.1"), REFERENCE, moment)
        part = sealer.seal(CONTACT_ID, "chat", "visitor", "hallo", moment)
        assert key_arn_named_in(blob) == keys[f"identifiers/{period}"]
        assert key_arn_named_in(part) == keys[f"transcripts/{period}"]


def test_a_month_without_a_key_fails_closed_without_the_identifier(keys: dict[str, str]) -> None:
    """If the steward has not made February's key, nothing is stored in the clear or under another
    month's key: sealing fails, naming the operation only (P2)."""
    with pytest.raises(DependencyError) as failure:
        identifier_vault().seal(
            CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE, datetime(2027, 2, 1, tzinfo=UTC)
        )
    assert str(failure.value) == "kms: GenerateDataKey failed"
    assert failure.value.__cause__ is None
    assert failure.value.__suppress_context__


def test_the_budget_holds_across_a_month_boundary(keys: dict[str, str], kms_calls: KmsCalls) -> None:
    """<= 1,010 KMS requests per 1,000 contacts: a new month costs one more data key, not one per contact."""
    vault = identifier_vault()
    start = datetime(2026, 12, 31, 23, 58, tzinfo=UTC)
    for n in range(200):
        number = identifiers.phone(f"+3161234{n:04d}")
        vault.pseudonym(number)
        vault.seal(uuid.uuid4().hex, "voice", number, REFERENCE, start + timedelta(seconds=n))
    assert kms_calls.calls == Counter({"GenerateMac": 200, "GenerateDataKey": 2})
    assert "Decrypt" not in kms_calls.calls, "ingest never decrypts"


def test_the_period_decryptor_opens_every_month_of_its_account(keys: dict[str, str]) -> None:
    """P7: the custodian's decrypt function opens identifiers of any living month, purpose checked."""
    vault = identifier_vault()
    decryptor = PeriodKeyDecryptor(IDENTIFIER_PREFIX, "contact-identifier")
    for moment in (RECEIVED, NEXT_MONTH):
        blob = vault.seal(CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE, moment)
        assert json.loads(decryptor.decrypt(base64.b64decode(blob))) == {
            "contact_id": CONTACT_ID,
            "kind": "phone",
            "value": NUMBER,
            "reference": REFERENCE.reveal(),
        }


def test_the_period_decryptor_refuses_the_other_familys_messages(keys: dict[str, str]) -> None:
    """P8/P7: the transcript reader never gets an identifier, nor the custodian a transcript, even where
    a key policy would let the KMS call through (moto enforces none)."""
    identifier = identifier_vault().seal(CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE, RECEIVED)
    part = transcript_sealer().seal(CONTACT_ID, "chat", "visitor", "Ik heet Anna", RECEIVED)
    with pytest.raises(WrongPurposeError) as as_transcript:
        PeriodKeyDecryptor(TRANSCRIPT_PREFIX, "contact-transcript").decrypt(base64.b64decode(identifier))
    with pytest.raises(WrongPurposeError) as as_identifier:
        PeriodKeyDecryptor(IDENTIFIER_PREFIX, "contact-identifier").decrypt(base64.b64decode(part))
    for failure in (as_transcript.value, as_identifier.value):
        assert str(failure) == "kms: message has the wrong encryption context purpose"
        assert isinstance(failure, DependencyError)
        assert NUMBER not in str(failure)
        assert "Anna" not in str(failure)


def test_the_period_decryptor_trusts_only_the_account_of_its_prefix(keys: dict[str, str]) -> None:
    """A DiscoveryFilter on the prefix's account: a message naming a key of any other account is not
    even sent to KMS (the organisation cannot point the custodian's decryptor at its own key)."""
    blob = identifier_vault().seal(CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE, RECEIVED)
    session = botocore.session.Session()
    calls = KmsCalls(session)
    elsewhere = "arn:aws:kms:eu-west-1:999988887777:alias/helpline-custodian/identifiers"
    with pytest.raises(DependencyError, match=r"^kms: Decrypt failed$") as failure:
        PeriodKeyDecryptor(elsewhere, "contact-identifier", session).decrypt(base64.b64decode(blob))
    assert failure.value.__cause__ is None
    assert calls.total == 0
    other_partition = IDENTIFIER_PREFIX.replace("arn:aws:", "arn:aws-cn:")
    with pytest.raises(DependencyError, match=r"^kms: Decrypt failed$"):
        PeriodKeyDecryptor(other_partition, "contact-identifier", session).decrypt(base64.b64decode(blob))
    assert calls.total == 0


@pytest.mark.parametrize(
    "prefix",
    [
        "alias/helpline-custodian/identifiers",
        "arn:aws:kms:eu-west-1:123456789012:key/0000",
        "arn:aws:kms:eu-west-1::alias/helpline-custodian/identifiers",
        "arn:aws:iam::123456789012:alias/x",
    ],
)
def test_the_period_decryptor_wants_an_alias_arn_prefix(prefix: str) -> None:
    """Without an account to filter on, discovery would try any account's key: refused at once."""
    with pytest.raises(ValueError, match=r"alias ARN|partition and account"):
        PeriodKeyDecryptor(prefix, "contact-identifier", botocore.session.Session())


def test_a_transcript_read_costs_about_one_decrypt(keys: dict[str, str]) -> None:
    """The sealer reuses a data key for many parts; the decryptor caches it likewise (P8 reads)."""
    sealer = transcript_sealer()
    parts = [sealer.seal(CONTACT_ID, "chat", "visitor", f"bericht {n}", RECEIVED) for n in range(20)]
    session = botocore.session.Session()
    calls = KmsCalls(session)
    decryptor = PeriodKeyDecryptor(TRANSCRIPT_PREFIX, "contact-transcript", session)
    texts = [json.loads(decryptor.decrypt(base64.b64decode(part)))["text"] for part in parts]
    assert texts == [f"bericht {n}" for n in range(20)]
    assert calls.calls == Counter({"Decrypt": 1})


@pytest.mark.usefixtures("key_state")
def test_our_clock_moving_past_the_cache_age_drops_cached_data_keys(keys: dict[str, str]) -> None:
    """A data key opened before is not reused once our clock has moved on (the local stack's rehearsal
    moves it by days): the next message costs a Decrypt again."""
    part = transcript_sealer().seal(CONTACT_ID, "chat", "visitor", "hallo", RECEIVED)
    session = botocore.session.Session()
    calls = KmsCalls(session)
    decryptor = PeriodKeyDecryptor(TRANSCRIPT_PREFIX, "contact-transcript", session)
    decryptor.decrypt(base64.b64decode(part))
    decryptor.decrypt(base64.b64decode(part))
    assert calls.calls == Counter({"Decrypt": 1})
    clock.advance(timedelta(seconds=61))
    decryptor.decrypt(base64.b64decode(part))
    assert calls.calls == Counter({"Decrypt": 2})


@pytest.mark.usefixtures("key_state")
def test_a_retired_and_destroyed_month_never_opens_again_and_the_next_month_still_does(
    keys: dict[str, str],
) -> None:
    """P7 crypto-shredding: the steward retires December (disable, schedule deletion, alias gone); from
    then on December's identifiers are refused, and once KMS has destroyed the key a copy of the
    ciphertext (as a backup holds it) opens for no one, with no credentials and no decryptor, even one
    that opened it before. January, still in retention, opens."""
    vault = identifier_vault()
    december = base64.b64decode(
        vault.seal(CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE, RECEIVED)
    )
    january = base64.b64decode(
        vault.seal(CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE, NEXT_MONTH)
    )
    warm = PeriodKeyDecryptor(IDENTIFIER_PREFIX, "contact-identifier")
    assert json.loads(warm.decrypt(december))["value"] == NUMBER

    kms = boto3.client("kms")
    december_key = keys["identifiers/2026-12"].rsplit("/", 1)[1]
    KmsKeySteward(IDENTIFIER_PREFIX, "identifiers", client=kms).retire("2026-12", december_key, 7)
    assert kms.describe_key(KeyId=december_key)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    with pytest.raises(DependencyError, match=r"^kms: Decrypt failed$"):
        PeriodKeyDecryptor(IDENTIFIER_PREFIX, "contact-identifier").decrypt(december)

    # The local stack's rehearsal: our clock moves past the deletion window and the due keys go.
    clock.advance(timedelta(days=8))
    assert purge_keys_due(datetime.now(UTC) + timedelta(days=8)) == [keys["identifiers/2026-12"]]
    for decryptor in (warm, PeriodKeyDecryptor(IDENTIFIER_PREFIX, "contact-identifier")):
        with pytest.raises(DependencyError, match=r"^kms: Decrypt failed$") as failure:
            decryptor.decrypt(december)
        assert NUMBER not in str(failure.value)
        assert failure.value.__cause__ is None
    with pytest.raises(Exception):  # noqa: B017,PT011 - any failure will do: nothing opens it
        decrypt(base64.b64encode(december).decode(), keys["identifiers/2026-12"])
    assert json.loads(warm.decrypt(january))["value"] == NUMBER


@pytest.mark.usefixtures("key_state")
def test_ingest_cannot_seal_under_a_retired_month(keys: dict[str, str]) -> None:
    """A disabled key makes no data keys: a late message of a retired month is refused, not stored."""
    kms = boto3.client("kms")
    kms.disable_key(KeyId=keys["identifiers/2026-12"].rsplit("/", 1)[1])
    vault = KmsIdentifierVault(IDENTIFIER_PREFIX, keys["PSEUDONYM_KEY_ID"], botocore.session.Session())
    with pytest.raises(DependencyError, match=r"^kms: GenerateDataKey failed$"):
        vault.seal(CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE, RECEIVED)
    assert vault.seal(CONTACT_ID, "voice", identifiers.phone(NUMBER), REFERENCE, NEXT_MONTH)
