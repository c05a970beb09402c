"""Which period keys to create and which to destroy (P7, P8: crypto-shredding).

Pure: the key steward function lists the period aliases that exist, asks `plan` what to do, and has
the KMS adapter (`dal.key_steward`) do it. Running it twice changes nothing the second time: what
exists is not created again, and what is retired no longer has an alias, so it is not listed again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from helpline import periods

Family = Literal["identifiers", "transcripts"]

PURPOSES: Final[dict[Family, str]] = {
    "identifiers": "contact-identifier",
    "transcripts": "contact-transcript",
}
"""The encryption context `purpose` of each key family: the key policy grants encryption and decryption
only with it, and `dal.kms` seals with it."""


@dataclass(frozen=True)
class KeyPlan:
    """Periods, in order: `create` has no key yet and must have one; `retire` is past retention."""

    create: tuple[str, ...]
    retire: tuple[str, ...]


def plan(existing: Iterable[str], retention_days: int, now: datetime) -> KeyPlan:
    """What the steward must do, given the periods that have a key alias, at `now` (our clock).

    Create the keys of the current and the next period, so ingest finds its key at the first second
    of a month even when the steward's schedule runs late. Retire every period whose last item is past
    retention (`periods.is_retired`): until its key is destroyed, a copy of its items in a backup
    could still be opened (P7: identifiers must not outlive their purpose).
    """
    if retention_days < 0:
        raise ValueError("retention_days must not be negative")
    have = set(existing)
    current = periods.period_of(now)
    wanted = (current, periods.next_period(current))
    create = tuple(
        period
        for period in wanted
        if period not in have and not periods.is_retired(period, retention_days, now)
    )
    retire = tuple(sorted(period for period in have if periods.is_retired(period, retention_days, now)))
    return KeyPlan(create=create, retire=retire)
