"""KeyStewardFunction: creates the period keys that ingest needs and destroys the ones whose time is up
(P7, P8: crypto-shredding).

The same code runs in both stacks, on an EventBridge schedule whose Input names the family:
`{"family": "identifiers"}` in the custodian's account, `{"family": "transcripts"}` in the organisation's.
Each run makes sure the keys of the current and the next month exist (alias `<prefix>/<YYYY-MM>`, the
policy of `helpline.period_key_policy`), and retires every month whose last item is past retention by
our clock (`helpline.clock`): DisableKey, ScheduleKeyDeletion after KEY_DELETION_WINDOW_DAYS, DeleteAlias.
Once KMS has deleted the key, no copy of that month's messages (table, backup, stream, queue) can be
opened again by anyone.

Idempotent: a second run finds the aliases the first made and retired periods no longer listed. One
failed step does not stop the others; the run then fails, so the schedule's retry and the next run
finish it. The answer and the logs hold family and periods only.
Loaded by file path as well as by Lambda, so only absolute imports.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline import clock
from helpline.dal.key_steward import KmsKeySteward
from helpline.logic.key_steward import PURPOSES, Family, plan
from helpline.logic.ports import DependencyError
from helpline.period_key_policy import period_key_policy
from helpline.settings import Settings, get_settings

logger = Logger()


class KeyStewardFailed(Exception):
    """The one error this function raises: a bad event, or steps that failed (named by period only)."""


class FamilySettings(NamedTuple):
    """A NamedTuple, not a dataclass: dataclasses need their module in `sys.modules`, and the local
    stack loads handlers by file path without registering them."""

    alias_prefix: str
    retention_days: int
    encrypt_account: str
    decrypt_role_arn: str


def family_settings(settings: Settings, family: Family) -> FamilySettings:
    """F_KEY_ALIAS_PREFIX, F_RETENTION_DAYS, F_KEY_ENCRYPT_ACCOUNT, F_KEY_DECRYPT_ROLE_ARN of the family."""
    if family == "identifiers":
        return FamilySettings(
            settings.identifier_key_alias_prefix,
            settings.identifier_retention_days,
            settings.identifier_key_encrypt_account,
            settings.identifier_key_decrypt_role_arn,
        )
    return FamilySettings(
        settings.transcript_key_alias_prefix,
        settings.transcript_retention_days,
        settings.transcript_key_encrypt_account,
        settings.transcript_key_decrypt_role_arn,
    )


def _partition(alias_prefix: str) -> str:
    """The partition of an alias prefix ARN (`aws` for a bare alias name)."""
    return alias_prefix.split(":", 2)[1] if alias_prefix.startswith("arn:") else "aws"


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """`{"family"}` in; `{"family", "created": [periods], "retired": [periods]}` out."""
    family = event.get("family") if isinstance(event, dict) else None
    if family not in PURPOSES:
        raise KeyStewardFailed("the event must name the key family: identifiers or transcripts")
    family = cast(Family, family)
    settings = get_settings()
    config = family_settings(settings, family)
    policy = period_key_policy(
        admin_account=settings.key_admin_account,
        encrypt_account=config.encrypt_account,
        decrypt_role_arn=config.decrypt_role_arn,
        purpose=PURPOSES[family],
        partition=_partition(config.alias_prefix),
    )
    deletion_window_days = settings.key_deletion_window_days
    steward = KmsKeySteward(config.alias_prefix, family)
    now = clock.now()
    existing = steward.existing()
    todo = plan(existing, config.retention_days, now)

    created: list[str] = []
    retired: list[str] = []
    failed: list[str] = []
    for period in todo.create:  # first: ingest must find next month's key before it needs it
        try:
            steward.create(period, policy)
        except DependencyError as error:
            logger.error("Period key not created", extra={"period": period, "error": str(error)})
            failed.append(period)
        else:
            created.append(period)
    for period in todo.retire:
        try:
            steward.retire(period, existing[period], deletion_window_days)
        except DependencyError as error:
            logger.error("Period key not retired", extra={"period": period, "error": str(error)})
            failed.append(period)
        else:
            retired.append(period)
    logger.info(
        "Period keys stewarded",
        # `created` is a LogRecord attribute of its own (a timestamp): the keys say what they count.
        extra={
            "family": family,
            "periods_created": created,
            "periods_retired": retired,
            "periods_failed": failed,
        },
    )
    if failed:
        raise KeyStewardFailed(f"period keys not done: {', '.join(sorted(failed))}")
    return {"family": family, "created": created, "retired": retired}
