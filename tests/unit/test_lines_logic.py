"""Four eyes on lines (DESIGN.md "No single insider", P11), over in-memory ports (no AWS).

Who needs a second admin, that the proposer never is one, that only a pending change is decided, that
an address belongs to one line, and that every step is on the audit chain.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes_lines import InMemoryLineChangeStore, InMemoryLineRegistry
from fakes_memory_staff import InMemoryAuditLog

from helpline.logic.audit import verify_chain
from helpline.logic.lines import (
    LineConflictError,
    LineForbiddenError,
    LineNotFoundError,
    LineRuleError,
    address_holder,
    approve_change,
    four_eyes_reasons,
    list_changes,
    put_line,
    reject_change,
    retire_line,
    stamped,
)
from helpline.models.lines import Line, LineChange, LineIn

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
HELPLINE = {"kind": "helpline", "channel": "voice", "address": "088 123 4000", "display_name": "Hulplijn"}
OFFICE = {"kind": "office", "channel": "voice", "address": "020 123 4567", "display_name": "Kantoor"}


def line_in(base: Mapping[str, Any] = HELPLINE, **overrides: Any) -> LineIn:
    return LineIn.model_validate({**base, **overrides})


class World:
    def __init__(self) -> None:
        self.registry = InMemoryLineRegistry()
        self.changes = InMemoryLineChangeStore()
        self.audit = InMemoryAuditLog()
        self._ids = (f"{n:032x}" for n in itertools.count(1))

    def put(self, line_id: str, line: LineIn, actor: str = "admin-a") -> Line | LineChange:
        return put_line(
            self.registry, self.changes, self.audit, line_id, line, actor, NOW, lambda: next(self._ids)
        )

    def retire(self, line_id: str, actor: str = "admin-a") -> LineChange:
        return retire_line(
            self.registry, self.changes, self.audit, line_id, actor, NOW, lambda: next(self._ids)
        )

    def approve(self, change_id: str, actor: str = "admin-b") -> LineChange:
        return approve_change(
            self.registry, self.changes, self.audit, change_id, actor, NOW + timedelta(hours=1)
        )

    def reject(self, change_id: str, actor: str = "admin-b", reason: str = "no") -> LineChange:
        return reject_change(self.changes, self.audit, change_id, reason, actor, NOW)

    def actions(self) -> list[tuple[str, str, str]]:
        return [(entry.actor, entry.action, entry.subject) for entry in self.audit.entries()]

    def seed(self, line_id: str, line: LineIn) -> Line:
        stored = stamped(line_id, line, "seed", NOW)
        self.registry.put_line(stored)
        return stored


@pytest.fixture
def world() -> World:
    return World()


# ---------------------------------------------------------------- who needs four eyes


def test_a_new_helpline_needs_one_admin_and_a_new_office_line_two() -> None:
    assert four_eyes_reasons(None, line_in()) == []
    assert four_eyes_reasons(None, line_in(OFFICE)) == ["office_line_created"]


def test_name_queue_and_limit_need_one_admin() -> None:
    before = stamped("l", line_in(), "a", NOW)
    assert four_eyes_reasons(before, line_in(display_name="Nieuw", queue="night", daily_limit=5)) == []


@pytest.mark.parametrize(
    ("change", "reasons"),
    [
        ({"kind": "office"}, ["kind_changed"]),
        ({"address": "088 123 4001"}, ["address_changed"]),
        ({"channel": "chat", "address": "web-chat"}, ["channel_changed", "address_changed"]),
    ],
)
def test_kind_channel_and_address_need_two(change: dict[str, Any], reasons: list[str]) -> None:
    before = stamped("l", line_in(), "a", NOW)
    assert four_eyes_reasons(before, line_in(**change)) == reasons


def test_turning_an_office_line_back_into_a_helpline_needs_two_as_well() -> None:
    before = stamped("l", line_in(OFFICE), "a", NOW)
    assert four_eyes_reasons(before, line_in(OFFICE, kind="helpline")) == ["kind_changed"]


def test_retiring_needs_two() -> None:
    assert four_eyes_reasons(stamped("l", line_in(), "a", NOW), None) == ["line_retired"]


# ---------------------------------------------------------------- single-admin changes, audited


def test_a_new_helpline_is_stored_at_once_and_audited(world: World) -> None:
    stored = world.put("national", line_in())
    assert isinstance(stored, Line)
    assert world.registry.items["national"] == stored
    [entry] = world.audit.entries()
    assert (entry.actor, entry.action, entry.subject) == ("admin-a", "line.created", "national")
    assert entry.details == {"kind": "helpline", "channel": "voice", "address": "+31881234000"}


def test_a_new_name_is_stored_at_once_and_audited_by_field_name_only(world: World) -> None:
    world.seed("national", line_in())
    stored = world.put("national", line_in(display_name="Landelijk", daily_limit=4))
    assert isinstance(stored, Line)
    assert world.registry.items["national"].display_name == "Landelijk"
    [entry] = world.audit.entries()
    assert entry.action == "line.updated"
    assert entry.details == {"kind": "helpline", "channel": "voice", "fields": "display_name,daily_limit"}
    assert "Landelijk" not in str(entry)


def test_a_reserved_line_id_is_refused(world: World) -> None:
    with pytest.raises(LineRuleError) as refused:
        world.put("changes", line_in())
    assert refused.value.status == 400
    assert world.registry.items == {}


# ---------------------------------------------------------------- proposals


def test_a_new_office_line_is_only_proposed(world: World) -> None:
    change = world.put("office", line_in(OFFICE))
    assert isinstance(change, LineChange)
    assert change.status == "pending"
    assert change.reasons == ["office_line_created"]
    assert world.registry.items == {}
    [entry] = world.audit.entries()
    assert (entry.actor, entry.action, entry.subject) == ("admin-a", "line.change_proposed", "office")
    assert entry.details == {
        "change_id": change.change_id,
        "change": "put",
        "reasons": "office_line_created",
        "kind": "office",
        "channel": "voice",
        "address": "+31201234567",
    }


def test_turning_a_helpline_into_an_office_line_is_only_proposed(world: World) -> None:
    before = world.seed("national", line_in())
    change = world.put("national", line_in(kind="office"))
    assert isinstance(change, LineChange)
    assert change.before == before
    assert world.registry.items["national"] == before


def test_a_second_admin_applies_it_and_both_steps_are_audited(world: World) -> None:
    change = world.put("office", line_in(OFFICE))
    assert isinstance(change, LineChange)
    applied = world.approve(change.change_id, actor="admin-b")
    assert applied.status == "applied"
    assert applied.decided_by == "admin-b"
    stored = world.registry.items["office"]
    assert (stored.kind, stored.address, stored.updated_by) == ("office", "+31201234567", "admin-b")
    assert world.actions() == [
        ("admin-a", "line.change_proposed", "office"),
        ("admin-b", "line.change_approved", "office"),
        ("admin-b", "line.change_applied", "office"),
    ]
    assert world.audit.entries()[1].details == {"change_id": change.change_id, "proposed_by": "admin-a"}
    assert verify_chain(world.audit.entries()).ok


def test_the_proposer_cannot_approve(world: World) -> None:
    change = world.put("office", line_in(OFFICE), actor="admin-a")
    assert isinstance(change, LineChange)
    with pytest.raises(LineForbiddenError):
        world.approve(change.change_id, actor="admin-a")
    assert world.registry.items == {}
    assert world.changes.items[change.change_id].status == "pending"
    assert [action for _, action, _ in world.actions()] == ["line.change_proposed"]


def test_a_rejected_change_changes_nothing_and_is_audited(world: World) -> None:
    change = world.put("office", line_in(OFFICE))
    assert isinstance(change, LineChange)
    rejected = world.reject(change.change_id, reason="Geen kantoorlijn op dit nummer")
    assert (rejected.status, rejected.reason, rejected.decided_by) == (
        "rejected",
        "Geen kantoorlijn op dit nummer",
        "admin-b",
    )
    assert world.registry.items == {}
    assert world.actions()[-1] == ("admin-b", "line.change_rejected", "office")
    assert "kantoorlijn" not in str(world.audit.entries()[-1])  # the reason stays with the change


def test_the_proposer_may_withdraw_by_rejecting(world: World) -> None:
    change = world.put("office", line_in(OFFICE), actor="admin-a")
    assert isinstance(change, LineChange)
    assert world.reject(change.change_id, actor="admin-a").status == "rejected"


@pytest.mark.parametrize("first", ["approve", "reject"])
def test_a_change_that_is_not_pending_is_409(world: World, first: str) -> None:
    change = world.put("office", line_in(OFFICE))
    assert isinstance(change, LineChange)
    getattr(world, first)(change.change_id)
    for decide in (world.approve, world.reject):
        with pytest.raises(LineConflictError) as conflict:
            decide(change.change_id, "admin-c")
        assert conflict.value.status == 409


def test_an_unknown_change_is_404(world: World) -> None:
    with pytest.raises(LineNotFoundError):
        world.approve("f" * 32)


def test_two_admins_cannot_both_decide(world: World) -> None:
    """The version check: a decision made on a read that another decision overtook loses (409)."""
    change = world.put("office", line_in(OFFICE))
    assert isinstance(change, LineChange)

    class Overtaken(InMemoryLineChangeStore):
        def get(self, change_id: str) -> LineChange | None:
            found = super().get(change_id)
            if found is not None and found.status == "pending":  # another admin rejects right after
                self.update(found.model_copy(update={"status": "rejected"}))
            return found

    overtaken = Overtaken()
    overtaken.items = dict(world.changes.items)
    with pytest.raises(LineConflictError, match="decided meanwhile"):
        approve_change(world.registry, overtaken, world.audit, change.change_id, "admin-b", NOW)
    assert world.registry.items == {}
    assert overtaken.items[change.change_id].status == "rejected"


def test_a_proposal_on_a_line_that_changed_since_is_not_applied(world: World) -> None:
    world.seed("national", line_in())
    change = world.put("national", line_in(kind="office"))
    assert isinstance(change, LineChange)
    world.put("national", line_in(display_name="Ander"), actor="admin-c")  # one admin's change, meanwhile
    with pytest.raises(LineConflictError, match="changed since"):
        world.approve(change.change_id)
    assert world.registry.items["national"].kind == "helpline"


def test_retiring_is_a_proposal_and_an_approval_removes_the_line(world: World) -> None:
    world.seed("office", line_in(OFFICE))
    change = world.retire("office")
    assert change.reasons == ["line_retired"]
    assert "office" in world.registry.items
    world.approve(change.change_id)
    assert world.registry.items == {}
    assert world.actions()[-1] == ("admin-b", "line.change_applied", "office")


def test_retiring_an_unknown_line_is_404(world: World) -> None:
    with pytest.raises(LineNotFoundError):
        world.retire("nothing")


def test_changes_are_listed_pending_first(world: World) -> None:
    first = world.put("a-office", line_in(OFFICE))
    second = world.put("b-office", line_in(OFFICE, address="020 123 4568"))
    assert isinstance(first, LineChange)
    assert isinstance(second, LineChange)
    world.reject(first.change_id)
    assert [(c.change_id, c.status) for c in list_changes(world.changes)] == [
        (second.change_id, "pending"),
        (first.change_id, "rejected"),
    ]


# ---------------------------------------------------------------- one address, one line


def test_an_address_held_by_another_line_is_409_naming_it(world: World) -> None:
    world.seed("national", line_in())
    for attempt in (line_in(display_name="Tweede"), line_in(kind="office")):
        with pytest.raises(LineConflictError) as conflict:
            world.put("second", attempt)
        assert "'national'" in conflict.value.reason
    assert set(world.registry.items) == {"national"}
    assert world.changes.items == {}


def test_addresses_are_compared_normalised_and_per_channel(world: World) -> None:
    world.seed("national", line_in())
    with pytest.raises(LineConflictError):
        world.put("second", line_in(address="+31 88 123 4000"))
    assert address_holder(world.registry.list_lines(), "x", "chat", "+31881234000") is None
    assert address_holder(world.registry.list_lines(), "national", "voice", "+31881234000") is None


def test_an_approval_checks_the_address_again(world: World) -> None:
    change = world.put("office", line_in(OFFICE))
    assert isinstance(change, LineChange)
    world.put("helpline", line_in(address=OFFICE["address"]))  # takes the address meanwhile
    with pytest.raises(LineConflictError, match="'helpline'"):
        world.approve(change.change_id)
    assert world.registry.items["helpline"].kind == "helpline"
    assert "office" not in world.registry.items
    assert world.changes.items[change.change_id].status == "pending"


def test_a_line_that_changed_while_the_change_was_applied_fails_the_change(world: World) -> None:
    """The write is conditional on the line read: a line written in between is not overwritten."""
    world.seed("national", line_in())
    change = world.put("national", line_in(kind="office"))
    assert isinstance(change, LineChange)

    class Racing(InMemoryLineRegistry):
        def put_line_if(self, line: Line, expected: Line | None) -> bool:
            return False  # another writer came first

    racing = Racing()
    racing.items = dict(world.registry.items)
    with pytest.raises(LineConflictError, match="while the change was applied"):
        approve_change(racing, world.changes, world.audit, change.change_id, "admin-b", NOW)
    assert world.changes.items[change.change_id].status == "failed"
    assert [action for _, action, _ in world.actions()][-2:] == ["line.change_approved", "line.change_failed"]
