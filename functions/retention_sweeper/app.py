"""RetentionSweeperFunction: daily, removes what is past its retention and still physically there (P7, P8).

Scheduled once a day just after midnight UTC (retention counts whole UTC days from our receipt). It
removes `identifier_ciphertext` from every register record whose `identifier_retain_until` is before
today, and deletes transcript rows whose `expires_at` has passed that DynamoDB's TTL has not deleted
yet (`helpline.logic.retention.sweep`). Logical erasure does not wait for it (readers and the disclosure
path treat an expired item as gone at once), and key destruction removes what it cannot reach (backups).

Identifiers need no catch-up: every run reads every erase month a record can still be in (back
RegisterRetentionDays), so the first run after any gap erases all that fell due in it (P7). The event
may carry `{"lookback_days": N}` (1 to 36500) to widen the transcript pass after the sweep did not run
for longer than a week, for rows TTL has not deleted either; the schedule sends none. The answer is
counts only, never an id.

Loaded by file path as well as by Lambda, so only absolute imports.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline import clock
from helpline.dal.retention import retention_store
from helpline.logic.retention import DEFAULT_SWEEP_LOOKBACK, MAX_SWEEP_LOOKBACK, RetentionPolicy, sweep
from helpline.settings import get_settings

logger = Logger()


class InvalidSweepRequestError(ValueError):
    """The invocation asked for something the sweep does not do; the message names the field only."""


def lookback(event: dict[str, Any] | None) -> timedelta:
    """The transcript pass's catch-up window asked for, or the default week."""
    raw = (event or {}).get("lookback_days")
    if raw is None:
        return DEFAULT_SWEEP_LOOKBACK
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_SWEEP_LOOKBACK.days:
        raise InvalidSweepRequestError(
            f"lookback_days must be a whole number from 1 to {MAX_SWEEP_LOOKBACK.days}"
        )
    return timedelta(days=raw)


@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """A scheduled event in, the counts of what was removed out."""
    settings = get_settings()
    policy = RetentionPolicy(
        register_retention_days=settings.register_retention_days,
        transcript_retention_days=settings.transcript_retention_days,
        lookback=lookback(event),
    )
    counts = sweep(retention_store(), policy, clock.now()).as_dict()
    logger.info("Retention sweep done", extra=counts)
    return counts
