"""KMS for the key steward (P7, P8: crypto-shredding): list, create and retire the period keys of one
alias prefix.

A period key is a SYMMETRIC_DEFAULT key with the policy of `helpline.period_key_policy`, tagged
`helpline:family` and `helpline:period`, found by its alias `<alias name prefix>/<YYYY-MM>`. The alias
is the steward's only handle on a key, so it goes last when a key is retired: a retirement that fails
half-way (the key disabled, its deletion not yet scheduled) is found and finished by the next run.

Runs in the account that owns the keys (the custodian's for identifiers, the organisation's for
transcripts): CreateAlias and ListAliases act on the caller's own account, whatever the prefix ARN
says. Errors name the operation only (`kms_errors`), never a value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from helpline import periods
from helpline.dal.kms import kms_errors

if TYPE_CHECKING:
    from mypy_boto3_kms.client import KMSClient

STEWARD_CLIENT_CONFIG: Final = Config(
    retries={"mode": "standard", "total_max_attempts": 5}, connect_timeout=5, read_timeout=10
)
"""Nobody waits on the steward (a schedule runs it), so it may retry longer than ingest."""

FAMILY_TAG: Final = "helpline:family"
PERIOD_TAG: Final = "helpline:period"


def alias_name_prefix(alias_prefix: str) -> str:
    """`alias/...` of an alias prefix given as an ARN (`arn:...:alias/...`) or as a name, no trailing `/`."""
    if alias_prefix.startswith("arn:"):
        if ":alias/" not in alias_prefix:
            raise ValueError("a period key alias prefix ARN must name an alias")
        alias_prefix = "alias/" + alias_prefix.split(":alias/", 1)[1]
    if not alias_prefix.startswith("alias/") or alias_prefix.startswith("alias/aws/"):
        raise ValueError("a period key alias prefix must be a customer alias")
    return alias_prefix.rstrip("/")


class KmsKeySteward:
    """The period keys of one family in this account."""

    def __init__(self, alias_prefix: str, family: str, client: KMSClient | None = None) -> None:
        self._prefix = alias_name_prefix(alias_prefix)
        self._family = family
        self._client = client

    @property
    def _kms(self) -> KMSClient:
        if self._client is None:
            # A session of its own: boto3's default session is not safe to use from several threads.
            self._client = boto3.session.Session().client("kms", config=STEWARD_CLIENT_CONFIG)
        return self._client

    def existing(self) -> dict[str, str]:
        """Period -> key id of every period alias under the prefix (other aliases are ignored)."""
        found: dict[str, str] = {}
        with kms_errors("ListAliases"):
            for page in self._kms.get_paginator("list_aliases").paginate():
                for alias in page.get("Aliases", []):
                    period = periods.period_of_alias(alias.get("AliasName", ""), self._prefix)
                    key_id = alias.get("TargetKeyId")
                    if period is not None and key_id:
                        found[period] = key_id
        return found

    def create(self, period: str, policy: Mapping[str, Any]) -> str:
        """Create the period's key with `policy` and point the period's alias at it; returns the key ARN.

        If the alias cannot be made (another run made it first), the key just created is scheduled for
        deletion at once, so no key without an alias is left behind.
        """
        alias = periods.key_alias(self._prefix, period)
        with kms_errors("CreateKey"):
            metadata = self._kms.create_key(
                Policy=json.dumps(policy),
                Description=f"helpline {self._family} key of {period} (destroyed after retention)",
                KeyUsage="ENCRYPT_DECRYPT",
                KeySpec="SYMMETRIC_DEFAULT",
                Tags=[
                    {"TagKey": FAMILY_TAG, "TagValue": self._family},
                    {"TagKey": PERIOD_TAG, "TagValue": period},
                ],
            )["KeyMetadata"]
        try:
            with kms_errors("CreateAlias"):
                self._kms.create_alias(AliasName=alias, TargetKeyId=metadata["KeyId"])
        except Exception:
            with kms_errors("ScheduleKeyDeletion"):
                self._kms.schedule_key_deletion(KeyId=metadata["KeyId"], PendingWindowInDays=7)
            raise
        return metadata["Arn"]

    def retire(self, period: str, key_id: str, deletion_window_days: int) -> None:
        """Disable the key, schedule its destruction after `deletion_window_days`, delete its alias.

        Finishes a retirement that an earlier run left half-done: each step is skipped when the key's
        state shows it was done already.
        """
        with kms_errors("DescribeKey"):
            state = self._kms.describe_key(KeyId=key_id)["KeyMetadata"].get("KeyState")
        if state == "Enabled":
            with kms_errors("DisableKey"):
                self._kms.disable_key(KeyId=key_id)
        if state != "PendingDeletion":
            with kms_errors("ScheduleKeyDeletion"):
                self._kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=deletion_window_days)
        with kms_errors("DeleteAlias"):
            try:
                self._kms.delete_alias(AliasName=periods.key_alias(self._prefix, period))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "NotFoundException":
                    raise  # gone already is fine: another run finished this retirement
