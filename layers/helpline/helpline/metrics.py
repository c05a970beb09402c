"""CloudWatch metrics, in embedded metric format (Powertools), for the alarms and the dashboard.

One metric so far, `Contacts` (namespace `Helpline`): one per contact registered, by channel and by what
the daily limit said (`allowed`, `limited`, `unchecked`, `unauthenticated`), so an alarm sees contacts
let through unchecked while KMS or DynamoDB fail (P10, fail open). Dimensions come from fixed
vocabularies only (channel, outcome, stage, service): never an identifier, a contact id or free text
(P2, P3, P8), since a dimension is shown to anyone who can read the account's metrics.
"""

from __future__ import annotations

import os
from typing import Final

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from helpline.logic.ingest import Admission
from helpline.models.common import Channel

NAMESPACE: Final = "Helpline"
CONTACTS: Final = "Contacts"


def count_admission(channel: Channel, admission: Admission) -> None:
    """Count a contact registered now; a provider's repeat or an office-line contact is not counted."""
    if admission.duplicate or admission.limit_outcome is None:
        return
    stage = os.environ.get("STAGE", "local")
    with single_metric(
        name=CONTACTS,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"stage": stage},
    ) as metric:
        metric.add_dimension("channel", channel)
        metric.add_dimension("outcome", admission.limit_outcome)
