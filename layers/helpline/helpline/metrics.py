"""CloudWatch metrics, in embedded metric format (Powertools), for the alarms and the dashboard.

Namespace `Helpline`, every metric by `stage` and `service`:

- `Contacts`: one per contact registered, by channel and by what the daily limit said (`allowed`,
  `limited`, `unchecked`, `unauthenticated`), so an alarm sees contacts let through unchecked while KMS
  or DynamoDB fail (P10, fail open).
- `BufferedRegistrations`: one per registration that could not be stored and waits on the buffer queue,
  by channel (the queue's function stores it; a rising count means DynamoDB is failing).
- `ScrubberFailures`: one per text that could not be scrubbed and so was not stored (P5, P8, fail
  closed): a report or transcript request that failed.
- `Disclosures`: one per disclosure request entering a status (`requested`, `approved`, `delivered`,
  ...), by status (P7): how many wait, how many were released.

Dimensions come from fixed vocabularies only (channel, outcome, status, stage, service): never an
identifier, a contact id or free text (P2, P3, P8), since a dimension is shown to anyone who can read
the account's metrics.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

from aws_lambda_powertools.metrics import MetricUnit, single_metric

if TYPE_CHECKING:
    from helpline.logic.ingest import Admission
    from helpline.models.common import Channel
    from helpline.models.disclosures import Status

NAMESPACE: Final = "Helpline"
CONTACTS: Final = "Contacts"
BUFFERED_REGISTRATIONS: Final = "BufferedRegistrations"
SCRUBBER_FAILURES: Final = "ScrubberFailures"
DISCLOSURES: Final = "Disclosures"


def _count(name: str, **dimensions: str) -> None:
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"stage": os.environ.get("STAGE", "local")},
    ) as metric:
        for dimension, value in dimensions.items():
            metric.add_dimension(dimension, value)


def count_admission(channel: Channel, admission: Admission) -> None:
    """Count a contact registered now (and whether it waits on the buffer queue); a provider's repeat
    or an office-line contact is not counted."""
    if admission.duplicate or admission.limit_outcome is None:
        return
    _count(CONTACTS, channel=channel, outcome=admission.limit_outcome)
    if admission.buffered:
        _count(BUFFERED_REGISTRATIONS, channel=channel)


def count_scrubber_failure() -> None:
    """Count a text that could not be scrubbed, and so was not stored."""
    _count(SCRUBBER_FAILURES)


def count_disclosure(status: Status) -> None:
    """Count a disclosure request entering `status`."""
    _count(DISCLOSURES, status=status)
