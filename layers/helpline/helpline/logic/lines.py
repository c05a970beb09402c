"""Use cases of the line registry: list, register or change a line, and four eyes on what could
betray a person (DESIGN.md "No single insider", P11).

An office line stores its callers' numbers, chat IPs and e-mail addresses in clear (P11). So whatever
could put a person's contacts on an office line needs two admins: creating an office line, changing a
line's kind, channel or address, and retiring a line. Such a request is a *proposal* (a `LineChange`,
status pending) and nothing changes until a second admin approves; the proposer never can (403).
Display name, queue and daily limit stay one admin's change, and so does creating a helpline. Every
step lands on the audit chain; audit details are ids, kinds, channels and the organisation's own
addresses, never a caller's identifier.

Addresses are unique per channel across all lines (as normalised by `LineIn`): a second line on an
address would make "which line was contacted" depend on scan order. A write or an approval whose
address another line holds is refused (409) naming that line. The check reads the registry before the
write; two admins registering the same address on two different lines in the same instant could both
pass, which is why `CachedLineDirectory` resolves such a tie to the helpline, never the office line.

Retiring a line removes it from the registry (the audit chain keeps its record). Contacts on its
address then meet no line and the ingest path treats them as a helpline's: anonymous, the safe side.

Order of writes, so that a line never changes without an entry authorising it: the change's own
decision is written (version-checked) and recorded on the chain before the line is touched, and
`line.change_applied` follows the write. Single-admin changes are recorded after their conditional
write succeeded, so the chain does not claim a change that was refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Final, Protocol

from helpline.logic.audit import AuditLog, record
from helpline.logic.ports import LinesRepository
from helpline.models.common import Channel
from helpline.models.lines import (
    RESERVED_LINE_IDS,
    FourEyesReason,
    Line,
    LineChange,
    LineIn,
)

PROPOSED: Final = "line.change_proposed"
APPROVED: Final = "line.change_approved"
REJECTED: Final = "line.change_rejected"
APPLIED: Final = "line.change_applied"
FAILED: Final = "line.change_failed"
CREATED: Final = "line.created"
UPDATED: Final = "line.updated"

SINGLE_ADMIN_FIELDS: Final = ("display_name", "daily_limit", "queue")
"""What one admin may change alone: nothing here decides whether a caller stays anonymous."""


class LineRegistry(LinesRepository, Protocol):
    """The registry with conditional writes, so a change applies only onto the line it was judged on."""

    def put_line_if(self, line: Line, expected: Line | None) -> bool:
        """Create or replace `line` if the stored line is still `expected` (None: no line yet);
        False, and nothing written, if it is not."""
        ...

    def delete_line_if(self, expected: Line) -> bool:
        """Remove the line if it is still `expected`; False, and nothing removed, if it is not."""
        ...


class StaleLineChangeError(Exception):
    """The stored change's version is not the one read: another admin decided it first."""


class LineChangeStore(Protocol):
    """Proposals (LineChangesTable in `dal.line_changes`)."""

    def create(self, change: LineChange) -> bool:
        """Store a new change unless its id exists; True if stored now."""
        ...

    def get(self, change_id: str) -> LineChange | None: ...

    def update(self, change: LineChange) -> LineChange:
        """Store `change` if the stored version is still `change.version`; returns it with the next
        version. `StaleLineChangeError` if another writer came first."""
        ...

    def list_all(self) -> list[LineChange]: ...


class LineRuleError(Exception):
    """A refusal with a plain reason the caller may read; `status` is the HTTP answer."""

    status: int = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LineNotFoundError(LineRuleError):
    status = 404


class LineForbiddenError(LineRuleError):
    status = 403


class LineConflictError(LineRuleError):
    status = 409


def list_lines(repo: LinesRepository) -> list[Line]:
    """All lines, sorted by line_id so that every listing reads the same."""
    return sorted(repo.list_lines(), key=lambda line: line.line_id)


def register_line(repo: LinesRepository, line_id: str, line: LineIn, actor: str, now: datetime) -> Line:
    """Store `line` under `line_id` (create or replace), stamped with who saved it and when.

    Unconditional and unaudited: for callers that have made their own checks (tests, benchmarks).
    The API goes through `put_line`, which decides whether four eyes are needed.
    """
    stored = stamped(line_id, line, actor, now)
    repo.put_line(stored)
    return stored


def stamped(line_id: str, line: LineIn, actor: str, now: datetime) -> Line:
    """The line as stored: its content, and who saved it when (the clock and actor come in: pure)."""
    return Line(line_id=line_id, updated_at=now, updated_by=actor, **line.model_dump())


def four_eyes_reasons(before: Line | None, after: LineIn | None) -> list[FourEyesReason]:
    """Why changing `before` into `after` needs a second admin; empty when one admin may do it.

    None for `before` is a new line, None for `after` a retirement. A new helpline needs no second
    admin (its callers stay anonymous); a new office line does (P11: its callers' identifiers are
    stored in clear). Any change of kind, channel or address does, either way: an office line moved
    onto a helpline's address, or a helpline moved off one, changes who is anonymous.
    """
    if after is None:
        return ["line_retired"]
    if before is None:
        return ["office_line_created"] if after.kind == "office" else []
    reasons: list[FourEyesReason] = []
    if before.kind != after.kind:
        reasons.append("kind_changed")
    if before.channel != after.channel:
        reasons.append("channel_changed")
    if before.address != after.address:
        reasons.append("address_changed")
    return reasons


def address_holder(lines: Iterable[Line], line_id: str, channel: Channel, address: str) -> str | None:
    """The id of another line that holds `address` on `channel`, or None when it is free.

    Addresses are compared as `LineIn` normalises them, which is how the registry stores them.
    """
    holders = sorted(
        line.line_id
        for line in lines
        if line.line_id != line_id and line.channel == channel and line.address == address
    )
    return holders[0] if holders else None


def _check_line_id(line_id: str) -> None:
    if line_id in RESERVED_LINE_IDS:
        raise LineRuleError(f"'{line_id}' is reserved and cannot be a line id")


def _check_address_free(lines: Iterable[Line], line_id: str, line: LineIn) -> None:
    holder = address_holder(lines, line_id, line.channel, line.address)
    if holder is not None:
        raise LineConflictError(f"This {line.channel} address is held by line '{holder}'")


def _current(lines: Iterable[Line], line_id: str) -> Line | None:
    return next((line for line in lines if line.line_id == line_id), None)


def put_line(
    registry: LineRegistry,
    changes: LineChangeStore,
    audit: AuditLog,
    line_id: str,
    line: LineIn,
    actor: str,
    now: datetime,
    new_id: Callable[[], str],
) -> Line | LineChange:
    """Apply `line` at once (one admin may: a new helpline, name, queue, limit) and return the `Line`,
    or store a pending proposal and return the `LineChange` (a second admin must approve).

    409 when another line holds the address, or when the line changed between reading and writing.
    """
    _check_line_id(line_id)
    lines = registry.list_lines()
    current = _current(lines, line_id)
    _check_address_free(lines, line_id, line)
    reasons = four_eyes_reasons(current, line)
    if reasons:
        return _propose(changes, audit, line_id, "put", reasons, current, line, actor, now, new_id)
    stored = stamped(line_id, line, actor, now)
    if not registry.put_line_if(stored, expected=current):
        raise LineConflictError("The line changed meanwhile; read it again and retry")
    if current is None:
        record(
            audit, now, actor, CREATED, line_id, kind=line.kind, channel=line.channel, address=line.address
        )
    else:
        changed = [name for name in SINGLE_ADMIN_FIELDS if getattr(current, name) != getattr(line, name)]
        record(
            audit,
            now,
            actor,
            UPDATED,
            line_id,
            kind=line.kind,
            channel=line.channel,
            fields=",".join(changed),
        )
    return stored


def retire_line(
    registry: LineRegistry,
    changes: LineChangeStore,
    audit: AuditLog,
    line_id: str,
    actor: str,
    now: datetime,
    new_id: Callable[[], str],
) -> LineChange:
    """Propose removing the line from the registry (404 if there is none); a second admin approves."""
    current = _current(registry.list_lines(), line_id)
    if current is None:
        raise LineNotFoundError(f"No line '{line_id}'")
    return _propose(changes, audit, line_id, "retire", ["line_retired"], current, None, actor, now, new_id)


def _propose(
    changes: LineChangeStore,
    audit: AuditLog,
    line_id: str,
    action: str,
    reasons: list[FourEyesReason],
    before: Line | None,
    after: LineIn | None,
    actor: str,
    now: datetime,
    new_id: Callable[[], str],
) -> LineChange:
    change = LineChange.model_validate(
        {
            "change_id": new_id(),
            "line_id": line_id,
            "action": action,
            "reasons": reasons,
            "before": before,
            "after": after,
            "status": "pending",
            "proposed_by": actor,
            "proposed_at": now,
        }
    )
    if not changes.create(change):
        raise RuntimeError("change id collision")  # a random 128-bit id: not expected to happen
    record(audit, now, actor, PROPOSED, line_id, **_change_details(change))
    return change


def _change_details(change: LineChange) -> dict[str, str]:
    """Audit details of a change: its id and what it does to kind, channel and address (the
    organisation's own addresses, not callers'); never a name, a queue or a reason text."""
    details = {"change_id": change.change_id, "change": change.action, "reasons": ",".join(change.reasons)}
    if change.before is not None:
        details.update(
            before_kind=change.before.kind,
            before_channel=change.before.channel,
            before_address=change.before.address,
        )
    if change.after is not None:
        details.update(kind=change.after.kind, channel=change.after.channel, address=change.after.address)
    return details


def list_changes(changes: LineChangeStore) -> list[LineChange]:
    """Every change: pending ones first (they wait for someone), each group newest first."""
    newest_first = sorted(
        changes.list_all(), key=lambda change: (change.proposed_at, change.change_id), reverse=True
    )
    return sorted(newest_first, key=lambda change: change.status != "pending")


def _pending(changes: LineChangeStore, change_id: str) -> LineChange:
    change = changes.get(change_id)
    if change is None:
        raise LineNotFoundError(f"No line change '{change_id}'")
    if change.status != "pending":
        raise LineConflictError(f"The change is {change.status}, not pending")
    return change


def _decided(changes: LineChangeStore, change: LineChange, **update: object) -> LineChange:
    try:
        return changes.update(change.model_copy(update=update))
    except StaleLineChangeError:
        raise LineConflictError("The change was decided meanwhile") from None


def approve_change(
    registry: LineRegistry,
    changes: LineChangeStore,
    audit: AuditLog,
    change_id: str,
    actor: str,
    now: datetime,
) -> LineChange:
    """The second admin's approval: checks again, then applies the change (four eyes).

    403 for the proposer. 409 when the change is not pending, when the line is no longer what the
    proposal was made on (reject it and propose again), or when another line took the address since.
    """
    change = _pending(changes, change_id)
    if actor == change.proposed_by:
        raise LineForbiddenError("The proposer cannot approve their own change: a second admin must")
    lines = registry.list_lines()
    current = _current(lines, change.line_id)
    if current != change.before:
        raise LineConflictError(
            "The line changed since this change was proposed; reject it and propose again"
        )
    if change.after is not None:
        _check_address_free(lines, change.line_id, change.after)

    approved = _decided(changes, change, status="approved", decided_by=actor, decided_at=now)
    record(audit, now, actor, APPROVED, change.line_id, change_id=change_id, proposed_by=change.proposed_by)

    if change.after is not None:
        written = registry.put_line_if(stamped(change.line_id, change.after, actor, now), expected=current)
    else:
        written = current is not None and registry.delete_line_if(current)
    if not written:
        _decided(changes, approved, status="failed")
        record(audit, now, actor, FAILED, change.line_id, change_id=change_id)
        raise LineConflictError("The line changed while the change was applied; propose it again")

    applied = _decided(changes, approved, status="applied", applied_at=now)
    record(audit, now, actor, APPLIED, change.line_id, **_change_details(change))
    return applied


def reject_change(
    changes: LineChangeStore, audit: AuditLog, change_id: str, reason: str, actor: str, now: datetime
) -> LineChange:
    """Refuse a pending change; nothing in the registry changes.

    Any admin may, the proposer too (a withdrawal): refusing needs no second pair of eyes. The reason
    is kept with the change, not on the audit chain, whose details are ids and kinds only.
    """
    change = _pending(changes, change_id)
    rejected = _decided(changes, change, status="rejected", decided_by=actor, decided_at=now, reason=reason)
    record(audit, now, actor, REJECTED, change.line_id, change_id=change_id, proposed_by=change.proposed_by)
    return rejected
