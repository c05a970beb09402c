"""The key steward function against moto (P7, P8: crypto-shredding): it makes the keys ingest needs, with
the period key policy, and retires every period past retention (disabled, deletion scheduled, alias
gone), by our clock; running it again changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext

from helpline import clock
from helpline.dal.key_steward import KmsKeySteward
from helpline.logic.ports import DependencyError
from helpline.period_key_policy import period_key_policy
from helpline.settings import get_settings

ACCOUNT = "123456789012"  # moto's
REGION = "eu-west-1"
IDENTIFIER_PREFIX = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/helpline-custodian/identifiers"
TRANSCRIPT_PREFIX = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/helpline-dev/transcripts"
ORGANISATION = "444455556666"
DECRYPT_ROLE = f"arn:aws:iam::{ACCOUNT}:role/helpline-custodian-DisclosureDecryptRole"
READER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/helpline-dev-TranscriptsFunctionRole"

Handler = Callable[[dict[str, Any], Any], Any]


class Clock:
    """`helpline.clock.now` for the test: set to a moment, moved by hand."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(datetime(2026, 12, 15, 9, tzinfo=UTC))
    monkeypatch.setattr(clock, "now", fake)
    return fake


@pytest.fixture
def steward(
    aws: None,
    monkeypatch: pytest.MonkeyPatch,
    now: Clock,
    load_handler: Callable[[str], Handler],
) -> Iterator[Callable[[str], dict[str, Any]]]:
    """Runs the handler for a family, with the environment the two templates give it."""
    environment = {
        "IDENTIFIER_KEY_ALIAS_PREFIX": IDENTIFIER_PREFIX,
        "IDENTIFIER_RETENTION_DAYS": "365",
        "IDENTIFIER_KEY_ENCRYPT_ACCOUNT": ORGANISATION,
        "IDENTIFIER_KEY_DECRYPT_ROLE_ARN": DECRYPT_ROLE,
        "TRANSCRIPT_KEY_ALIAS_PREFIX": TRANSCRIPT_PREFIX,
        "TRANSCRIPT_RETENTION_DAYS": "180",
        "TRANSCRIPT_KEY_ENCRYPT_ACCOUNT": ACCOUNT,
        "TRANSCRIPT_KEY_DECRYPT_ROLE_ARN": READER_ROLE,
        "KEY_ADMIN_ACCOUNT": ACCOUNT,
        "KEY_DELETION_WINDOW_DAYS": "7",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    handler = load_handler("functions/key_steward/app.py")
    yield lambda family: handler({"family": family}, FakeLambdaContext())
    get_settings.cache_clear()


def aliases(prefix_name: str) -> dict[str, str]:
    """Period alias name -> key id, as KMS lists them."""
    listed = boto3.client("kms").list_aliases()["Aliases"]
    return {
        alias["AliasName"]: alias["TargetKeyId"]
        for alias in listed
        if alias["AliasName"].startswith(prefix_name + "/")
    }


def key(key_id: str) -> dict[str, Any]:
    metadata: dict[str, Any] = boto3.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]
    return metadata


IDENTIFIER_ALIASES = "alias/helpline-custodian/identifiers"
TRANSCRIPT_ALIASES = "alias/helpline-dev/transcripts"


def test_the_current_and_next_period_keys_are_made_with_the_period_policy(
    steward: Callable[[str], dict[str, Any]],
) -> None:
    """P3/P7: each key carries the policy that lets the organisation encrypt and one role decrypt."""
    answer = steward("identifiers")
    assert answer == {"family": "identifiers", "created": ["2026-12", "2027-01"], "retired": []}
    made = aliases(IDENTIFIER_ALIASES)
    assert set(made) == {f"{IDENTIFIER_ALIASES}/2026-12", f"{IDENTIFIER_ALIASES}/2027-01"}
    kms = boto3.client("kms")
    expected_policy = period_key_policy(
        admin_account=ACCOUNT,
        encrypt_account=ORGANISATION,
        decrypt_role_arn=DECRYPT_ROLE,
        purpose="contact-identifier",
    )
    for alias, key_id in made.items():
        period = alias.rsplit("/", 1)[1]
        metadata = key(key_id)
        assert metadata["KeyState"] == "Enabled"
        assert metadata["KeySpec"] == "SYMMETRIC_DEFAULT"
        assert metadata["KeyUsage"] == "ENCRYPT_DECRYPT"
        assert period in metadata["Description"]
        policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
        assert policy == expected_policy
        tags = {tag["TagKey"]: tag["TagValue"] for tag in kms.list_resource_tags(KeyId=key_id)["Tags"]}
        assert tags == {"helpline:family": "identifiers", "helpline:period": period}
    assert len(set(made.values())) == 2, "one key per period"


def test_running_twice_creates_nothing_twice(steward: Callable[[str], dict[str, Any]]) -> None:
    steward("identifiers")
    keys_before = boto3.client("kms").list_keys()["Keys"]
    aliases_before = aliases(IDENTIFIER_ALIASES)
    assert steward("identifiers") == {"family": "identifiers", "created": [], "retired": []}
    assert boto3.client("kms").list_keys()["Keys"] == keys_before
    assert aliases(IDENTIFIER_ALIASES) == aliases_before


def test_a_new_month_adds_only_the_month_after(steward: Callable[[str], dict[str, Any]], now: Clock) -> None:
    steward("identifiers")
    now.moment = datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert steward("identifiers")["created"] == ["2027-02"]
    assert len(aliases(IDENTIFIER_ALIASES)) == 3


def test_periods_past_retention_are_disabled_scheduled_for_deletion_and_lose_their_alias(
    steward: Callable[[str], dict[str, Any]], now: Clock
) -> None:
    """P7: 2026-12 + 365 days ends 2028-01-01; from then on its key must go, and only its key."""
    steward("identifiers")
    december = aliases(IDENTIFIER_ALIASES)[f"{IDENTIFIER_ALIASES}/2026-12"]
    january = aliases(IDENTIFIER_ALIASES)[f"{IDENTIFIER_ALIASES}/2027-01"]

    now.moment = datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC)
    early = steward("identifiers")
    assert early["retired"] == []
    assert key(december)["KeyState"] == "Enabled"

    now.moment = datetime(2028, 1, 1, tzinfo=UTC)
    before_run = datetime.now(UTC)
    answer = steward("identifiers")
    assert answer["retired"] == ["2026-12"]
    assert answer["created"] == ["2028-02"]
    retired = key(december)
    assert retired["KeyState"] == "PendingDeletion"
    assert retired["Enabled"] is False
    # moto dates the deletion by its own (real) clock: the configured 7-day window from now.
    deletion = retired["DeletionDate"]
    deletion = deletion if deletion.tzinfo else deletion.replace(tzinfo=UTC)
    assert before_run + timedelta(days=7) - timedelta(minutes=1) <= deletion
    assert deletion <= datetime.now(UTC) + timedelta(days=7, minutes=1)
    assert f"{IDENTIFIER_ALIASES}/2026-12" not in aliases(IDENTIFIER_ALIASES)
    assert key(january)["KeyState"] == "Enabled", "a period still in retention keeps its key"
    assert f"{IDENTIFIER_ALIASES}/2027-01" in aliases(IDENTIFIER_ALIASES)

    assert steward("identifiers") == {"family": "identifiers", "created": [], "retired": []}


def test_a_retirement_left_half_done_is_finished(
    steward: Callable[[str], dict[str, Any]], now: Clock
) -> None:
    """The alias is the steward's handle: while it exists, the next run completes the retirement."""
    steward("identifiers")
    kms = boto3.client("kms")
    disabled_only = aliases(IDENTIFIER_ALIASES)[f"{IDENTIFIER_ALIASES}/2026-12"]
    kms.disable_key(KeyId=disabled_only)
    already_pending = aliases(IDENTIFIER_ALIASES)[f"{IDENTIFIER_ALIASES}/2027-01"]
    kms.schedule_key_deletion(KeyId=already_pending, PendingWindowInDays=30)
    now.moment = datetime(2029, 1, 1, tzinfo=UTC)
    answer = steward("identifiers")
    assert answer["retired"] == ["2026-12", "2027-01"]
    assert key(disabled_only)["KeyState"] == "PendingDeletion"
    assert not {f"{IDENTIFIER_ALIASES}/2026-12", f"{IDENTIFIER_ALIASES}/2027-01"} & set(
        aliases(IDENTIFIER_ALIASES)
    )


def test_other_aliases_and_the_other_family_are_left_alone(
    steward: Callable[[str], dict[str, Any]], now: Clock
) -> None:
    kms = boto3.client("kms")
    foreign = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/someone-else/2020-01", TargetKeyId=foreign)
    kms.create_alias(AliasName=f"{IDENTIFIER_ALIASES}-old/2020-01", TargetKeyId=foreign)
    steward("transcripts")
    transcript_keys = aliases(TRANSCRIPT_ALIASES)
    assert set(transcript_keys) == {f"{TRANSCRIPT_ALIASES}/2026-12", f"{TRANSCRIPT_ALIASES}/2027-01"}

    now.moment = datetime(2030, 1, 1, tzinfo=UTC)
    answer = steward("identifiers")
    assert answer == {"family": "identifiers", "created": ["2030-01", "2030-02"], "retired": []}
    assert key(foreign)["KeyState"] == "Enabled"
    assert all(key(key_id)["KeyState"] == "Enabled" for key_id in transcript_keys.values())


def test_transcript_keys_open_for_the_transcript_reader_only(
    steward: Callable[[str], dict[str, Any]],
) -> None:
    """P8: the transcript family's policy names its own purpose and reader role."""
    steward("transcripts")
    key_id = aliases(TRANSCRIPT_ALIASES)[f"{TRANSCRIPT_ALIASES}/2026-12"]
    policy = json.loads(boto3.client("kms").get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    (decrypt,) = [statement for statement in policy["Statement"] if "kms:Decrypt" in statement["Action"]]
    assert decrypt["Principal"] == {"AWS": READER_ROLE}
    assert decrypt["Condition"] == {"StringEquals": {"kms:EncryptionContext:purpose": "contact-transcript"}}


def test_transcripts_retire_after_their_own_retention(
    steward: Callable[[str], dict[str, Any]], now: Clock
) -> None:
    """180 days for transcripts: 2026-12 ends 2027-01-01, + 180 days = 2027-06-30."""
    steward("transcripts")
    now.moment = datetime(2027, 6, 29, 23, tzinfo=UTC)
    assert steward("transcripts")["retired"] == []
    now.moment = datetime(2027, 6, 30, tzinfo=UTC)
    assert steward("transcripts")["retired"] == ["2026-12"]


@pytest.mark.parametrize("event", [{}, {"family": "pseudonyms"}, {"family": None}])
def test_an_unknown_family_is_refused_and_nothing_is_made(
    steward: Callable[[str], dict[str, Any]],
    load_handler: Callable[[str], Handler],
    event: dict[str, Any],
) -> None:
    handler = load_handler("functions/key_steward/app.py")
    with pytest.raises(Exception, match="key family") as failure:
        handler(event, FakeLambdaContext())
    assert type(failure.value).__name__ == "KeyStewardFailed"
    assert boto3.client("kms").list_keys()["Keys"] == []


def test_one_failed_step_does_not_stop_the_others_but_fails_the_run(
    steward: Callable[[str], dict[str, Any]], now: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A period left undone must show as a failed run (the schedule retries), never as success."""
    steward("identifiers")
    original = KmsKeySteward.retire

    def retire(self: KmsKeySteward, period: str, key_id: str, deletion_window_days: int) -> None:
        if period == "2026-12":
            raise DependencyError("kms: DisableKey failed")
        original(self, period, key_id, deletion_window_days)

    monkeypatch.setattr(KmsKeySteward, "retire", retire)
    now.moment = datetime(2029, 1, 1, tzinfo=UTC)
    with pytest.raises(Exception, match=r"^period keys not done: 2026-12$"):
        steward("identifiers")
    assert f"{IDENTIFIER_ALIASES}/2026-12" in aliases(IDENTIFIER_ALIASES)
    assert f"{IDENTIFIER_ALIASES}/2027-01" not in aliases(IDENTIFIER_ALIASES)
    assert {f"{IDENTIFIER_ALIASES}/2029-01", f"{IDENTIFIER_ALIASES}/2029-02"} <= set(
        aliases(IDENTIFIER_ALIASES)
    )


def test_a_key_whose_alias_another_run_made_first_is_scheduled_for_deletion(aws: None) -> None:
    """Two runs racing: the loser's key never lingers without an alias (it would cost and hold nothing)."""
    kms = boto3.client("kms")
    winner = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"{IDENTIFIER_ALIASES}/2026-12", TargetKeyId=winner)
    adapter = KmsKeySteward(IDENTIFIER_PREFIX, "identifiers", client=kms)
    policy = period_key_policy(
        admin_account=ACCOUNT,
        encrypt_account=ORGANISATION,
        decrypt_role_arn=DECRYPT_ROLE,
        purpose="contact-identifier",
    )
    with pytest.raises(DependencyError, match=r"^kms: CreateAlias failed$"):
        adapter.create("2026-12", policy)
    states = {entry["KeyId"]: key(entry["KeyId"])["KeyState"] for entry in kms.list_keys()["Keys"]}
    assert states.pop(winner) == "Enabled"
    assert list(states.values()) == ["PendingDeletion"]
    assert adapter.existing() == {"2026-12": winner}


def test_the_alias_prefix_must_be_a_customer_alias() -> None:
    with pytest.raises(ValueError, match="customer alias"):
        KmsKeySteward("alias/aws/kms", "identifiers")
    with pytest.raises(ValueError, match="alias"):
        KmsKeySteward(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234", "identifiers")
