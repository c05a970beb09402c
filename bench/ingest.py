"""Ingestion benchmark: KMS and DynamoDB requests per contact, our own time per contact, cold start.

Prints its figures; it asserts nothing (timings on shared machines are noisy, so the cold start is a
ratio against a baseline measured in the same run). Run with `make bench` or `python bench/ingest.py`.

- KMS requests for 1,000 contacts at steady state (after a warm-up), with the real KMS adapter on
  moto, beside a naive design that asks KMS for a data key and a MAC per contact.
- Per-period keys (crypto-shredding, P7): how many keys the stewards keep alive at once, and what they
  cost a month.
- DynamoDB requests per contact (registration, then its status callback), real adapters on moto.
- Time per contact in our own code (p50, p99): the domain with in-memory adapters, no AWS.
- Import time of the ingest handlers against a bare Powertools handler (boto3 and Logger only), and
  the time until each is ready for its first contact (what its SnapStart snapshot holds).
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

import boto3
import botocore.session
from fakes_memory import (
    FakeIdentifierVault,
    InMemoryContactStore,
    InMemoryLimitCounter,
    InMemoryLineDirectory,
    InMemoryOfficeContactStore,
    InMemoryReferenceIndex,
    InMemoryRegistrationBuffer,
)
from moto import mock_aws

from helpline import identifiers
from helpline.logic.conversation import end_contact
from helpline.logic.ingest import IngestPolicy, IngestPorts, admit_contact
from helpline.models.events import ContactEnded, ContactStarted
from helpline.models.lines import Line
from local_stack.template import REPO_ROOT, load_template

CONTACTS = 1_000
WARM_UP = 20
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
LINE = Line(
    line_id="national-helpline",
    kind="helpline",
    channel="voice",
    address="+31881234000",
    display_name="Hulplijn",
    updated_at=NOW,
    updated_by="bench",
)
BARE_HANDLER = """
import boto3
from aws_lambda_powertools import Logger

logger = Logger()


def lambda_handler(event, context):
    return {}
"""
INGEST_HANDLERS = ("twilio_webhook", "connect_contact", "chat_webhook", "email_intake", "connect_events")


def caller(n: int) -> str:
    return f"+3161{n:07d}"


def started(n: int) -> ContactStarted:
    return ContactStarted(
        channel="voice",
        line_address=LINE.address,
        identifier=identifiers.phone(caller(n)),
        provider_reference=identifiers.reference(f"CA{n:032d}"),
        started_at=NOW + timedelta(seconds=n),
    )


def ended(n: int) -> ContactEnded:
    return ContactEnded("voice", identifiers.reference(f"CA{n:032d}"), NOW + timedelta(seconds=n + 60), 60, 9)


def counting_session(counter: Counter[str], service: str) -> botocore.session.Session:
    session = botocore.session.Session()

    def count(model: Any, **_: Any) -> None:
        counter[model.name] += 1

    session.register(f"before-call.{service}", count)
    return session


# ------------------------------------------------------------------------------------------- KMS
def kms_requests() -> None:
    from helpline.dal.envelope import CachingEncryptor
    from helpline.dal.kms import KmsIdentifierVault

    with mock_aws():
        kms = boto3.client("kms")
        identifier_key = kms.create_key(KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]["Arn"]
        mac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
        # The vault encrypts under the key of the receipt month, by alias `<prefix>/<YYYY-MM>` (P7).
        kms.create_alias(AliasName=f"alias/bench/identifiers/{NOW:%Y-%m}", TargetKeyId=identifier_key)
        account = identifier_key.split(":")[4]
        alias_prefix = f"arn:aws:kms:{os.environ['AWS_DEFAULT_REGION']}:{account}:alias/bench/identifiers"

        counter: Counter[str] = Counter()
        vault = KmsIdentifierVault(alias_prefix, mac_key, session=counting_session(counter, "kms"))

        def contact(n: int) -> None:
            vault.reference_key(identifiers.reference(f"CA{n}"))  # the claim
            vault.seal(
                f"{n:032x}", "voice", identifiers.phone(caller(n)), identifiers.reference(f"CA{n}"), NOW
            )
            vault.pseudonym(identifiers.phone(caller(n)))
            vault.reference_key(identifiers.reference(f"CA{n}"))  # its status callback

        for n in range(WARM_UP):
            contact(n)
        counter.clear()
        for n in range(WARM_UP, WARM_UP + CONTACTS):
            contact(n)
        ours = sum(counter.values())

        naive_counter: Counter[str] = Counter()
        naive_session = counting_session(naive_counter, "kms")
        naive_kms = boto3.session.Session(botocore_session=naive_session).client("kms")
        from aws_encryption_sdk import CommitmentPolicy, EncryptionSDKClient
        from aws_encryption_sdk.key_providers.kms import StrictAwsKmsMasterKeyProvider

        sdk = EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
        provider = StrictAwsKmsMasterKeyProvider(key_ids=[identifier_key], botocore_session=naive_session)
        for n in range(CONTACTS):
            sdk.encrypt(source=caller(n).encode(), key_provider=provider, encryption_context={"purpose": "x"})
            naive_kms.generate_mac(KeyId=mac_key, MacAlgorithm="HMAC_SHA_256", Message=caller(n).encode())
        naive = sum(naive_counter.values())
        assert CachingEncryptor  # the adapter's encryptor is the caching one

    print(f"KMS requests for {CONTACTS} contacts (steady state, each with a status callback)")
    print(f"  ours:  {ours:5d}  {dict(counter)}   target <= 1010")
    print(f"  naive: {naive:5d}  {dict(naive_counter)}   (a data key and a MAC per contact)")


# ------------------------------------------------------------------------------- per-period keys
KEY_MONTHLY_USD = 1.00
"""AWS KMS's list price for a customer managed key, per month (eu-west-1)."""
REQUESTS_PER_10K_USD = 0.03
"""AWS KMS's list price for symmetric requests, per 10,000."""
CONTACTS_PER_DAY = 2_000


def period_keys() -> None:
    """Keys alive at once (enabled, or pending deletion, counted as billed) under the steward's plan.

    The steward runs every hour; here once a day for two years from NOW, with the template's
    retention defaults, so the steady state shows. Each family also has a key pending deletion for
    the deletion window after a month is retired.
    """
    from helpline.logic.key_steward import plan

    def simulate(retention_days: int, window_days: int = 7) -> int:
        alive: set[str] = set()
        pending: dict[str, datetime] = {}
        most = 0
        for day in range(730):
            now = NOW + timedelta(days=day)
            steps = plan(alive, retention_days, now)
            alive |= set(steps.create)
            for period in steps.retire:
                alive.discard(period)
                pending[period] = now + timedelta(days=window_days)
            pending = {period: at for period, at in pending.items() if at > now}
            if day >= 400:  # past the first retention: the steady state
                most = max(most, len(alive) + len(pending))
        return most

    identifier_keys = simulate(365)
    transcript_keys = simulate(180)
    keys = identifier_keys + transcript_keys
    requests_per_month = CONTACTS_PER_DAY * 30 * 1.01
    request_usd = requests_per_month / 10_000 * REQUESTS_PER_10K_USD
    print("Per-period keys at steady state (most alive at once, pending deletion included)")
    print(f"  identifier keys (custodian, 365 days): {identifier_keys}")
    print(f"  transcript keys (organisation, 180 days): {transcript_keys}")
    print(
        f"  monthly cost: {keys} keys x ${KEY_MONTHLY_USD:.2f} = ${keys * KEY_MONTHLY_USD:.2f}"
        f" + requests at {CONTACTS_PER_DAY} contacts a day ~${request_usd:.2f}"
        f" = ~${keys * KEY_MONTHLY_USD + request_usd:.2f}"
    )


# -------------------------------------------------------------------------------------- DynamoDB
def dynamodb_requests() -> None:
    from fakes_memory import InMemoryLinesRepository

    from helpline.dal import dynamodb
    from helpline.dal.buffer import SqsRegistrationBuffer
    from helpline.dal.contacts import DynamoContactsRepository
    from helpline.dal.limits import DynamoLimitCounter
    from helpline.dal.line_directory import CachedLineDirectory
    from helpline.dal.office import DynamoOfficeContactStore
    from helpline.dal.references import DynamoReferenceIndex

    template = load_template()["Resources"]
    with mock_aws():
        counter: Counter[str] = Counter()
        client = boto3.session.Session(botocore_session=counting_session(counter, "dynamodb")).client(
            "dynamodb"
        )
        names = {}
        for logical_id in ("ContactsTable", "ContactLimitTable", "ReferencesTable", "OfficeContactsTable"):
            props = template[logical_id]["Properties"]
            names[logical_id] = logical_id
            keys = ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")
            client.create_table(TableName=logical_id, **{k: props[k] for k in keys if k in props})
        queue = boto3.client("sqs").create_queue(QueueName="buffer")["QueueUrl"]
        registry = InMemoryLinesRepository()
        registry.put_line(LINE)
        ports = IngestPorts(
            lines=CachedLineDirectory(lambda: registry),
            vault=FakeIdentifierVault(),
            limits=DynamoLimitCounter(names["ContactLimitTable"], client=client),
            references=DynamoReferenceIndex(names["ReferencesTable"], client=client),
            contacts=DynamoContactsRepository(names["ContactsTable"], client=client),
            buffer=SqsRegistrationBuffer(queue),
            office=DynamoOfficeContactStore(names["OfficeContactsTable"], client=client),
        )
        policy = IngestPolicy()
        counter.clear()
        for n in range(CONTACTS):
            admit_contact(started(n), ports, policy, NOW + timedelta(seconds=n))
        admissions = dict(counter)
        counter.clear()
        for n in range(CONTACTS):
            end_contact(ended(n), ports, NOW + timedelta(seconds=n + 60))
        callbacks = dict(counter)
        assert dynamodb  # the adapters share its helpers
    per_contact = sum(admissions.values()) / CONTACTS
    per_callback = sum(callbacks.values()) / CONTACTS
    print(f"DynamoDB requests per contact: {per_contact:.2f} {admissions}")
    print(f"DynamoDB requests per status callback: {per_callback:.2f} {callbacks}")


# ------------------------------------------------------------------------------------- our time
def own_time() -> None:
    ports = IngestPorts(
        lines=InMemoryLineDirectory([LINE]),
        vault=FakeIdentifierVault(),
        limits=InMemoryLimitCounter(),
        references=InMemoryReferenceIndex(),
        contacts=InMemoryContactStore(),
        buffer=InMemoryRegistrationBuffer(),
        office=InMemoryOfficeContactStore(),
    )
    policy = IngestPolicy()

    def timed(action: Callable[[int], Any]) -> list[float]:
        for n in range(WARM_UP):
            action(10_000_000 + n)
        samples = []
        for n in range(CONTACTS):
            began = time.perf_counter()
            action(n)
            samples.append((time.perf_counter() - began) * 1e6)
        return samples

    admits = timed(lambda n: admit_contact(started(n), ports, policy, NOW + timedelta(seconds=n)))
    ends = timed(lambda n: end_contact(ended(n), ports, NOW))
    for label, samples in (("registration", admits), ("status callback", ends)):
        cuts = statistics.quantiles(samples, n=100)
        print(f"Our code per {label} (in-memory adapters): p50 {cuts[49]:.0f} us, p99 {cuts[98]:.0f} us")


# ----------------------------------------------------------------------------------- cold start
def import_seconds(path: Path, *, ready: bool = False) -> float:
    """Seconds to import the handler at `path` in a fresh interpreter.

    `ready`: also run the before-snapshot hooks (`helpline.snapstart`): the models, adapters and phone
    metadata that our modules build on first use. That is what a SnapStart snapshot holds, and what an
    environment without SnapStart still pays during its first event.
    """
    prime = "; import helpline.snapstart as h; h.run_before_snapshot()" if ready else ""
    code = (
        "import time, runpy; s = time.perf_counter(); "
        f"runpy.run_path({str(path)!r}){prime}; print(time.perf_counter() - s)"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)  # noqa: S603
    return float(done.stdout.strip().splitlines()[-1])


def cold_start(runs: int = 9) -> None:
    """Import time of each contact-path handler against a bare Powertools handler (target <= 1.5), and
    the time until it is ready for its first contact with everything built."""
    # Our modules compiled once, as boto3's and Powertools' were when installed: measure imports, not
    # compilation (the measuring interpreter writes no bytecode).
    for directory in (REPO_ROOT / "layers" / "helpline" / "helpline", REPO_ROOT / "functions"):
        compileall.compile_dir(directory, quiet=1)
    with tempfile.TemporaryDirectory() as scratch:
        bare = Path(scratch) / "bare_handler.py"
        bare.write_text(BARE_HANDLER, encoding="utf-8")
        import_seconds(bare)  # fill the OS file cache before measuring anything
        handlers = {name: REPO_ROOT / "functions" / name / "app.py" for name in INGEST_HANDLERS}
        samples: dict[str, list[float]] = {"bare": []}
        for _ in range(runs):  # interleaved, so machine noise hits all alike
            samples["bare"].append(import_seconds(bare))
            for name, path in handlers.items():
                samples.setdefault(name, []).append(import_seconds(path))
                samples.setdefault(f"{name} ready", []).append(import_seconds(path, ready=True))
    baseline = statistics.median(samples["bare"])
    print(f"Cold start (median of {runs}): bare Powertools handler imports in {baseline * 1000:.0f} ms")
    print("  handler            import   ratio (target <= 1.5)   ready for a contact   ratio")
    for name in handlers:
        imported = statistics.median(samples[name])
        ready = statistics.median(samples[f"{name} ready"])
        print(
            f"  {name:16s} {imported * 1000:6.0f} ms   {imported / baseline:5.2f}"
            f"                 {ready * 1000:6.0f} ms          {ready / baseline:5.2f}"
        )


if __name__ == "__main__":
    kms_requests()
    period_keys()
    dynamodb_requests()
    own_time()
    cold_start()
