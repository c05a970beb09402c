"""Listening in (P9): the group must fit the role, the contact must exist, and it is recorded first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes_memory_staff import (
    FakeSupervisionProvider,
    InMemoryAuditLog,
    InMemoryRegister,
    InMemorySupervisionStore,
)

from helpline.auth import Caller
from helpline.logic.supervision import (
    SupervisionDeniedError,
    SupervisionModeError,
    SupervisionNotFoundError,
    list_supervision,
    start_supervision,
)
from helpline.models.register import ContactView
from helpline.models.supervision import SupervisionRequest

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
CALL = "c" * 32
CHAT = "d" * 32


class World:
    def __init__(self) -> None:
        base = {"line": "national", "region": "Utrecht", "limit_outcome": "allowed", "started_at": NOW}
        self.register = InMemoryRegister(
            [ContactView(id=CALL, channel="voice", **base), ContactView(id=CHAT, channel="chat", **base)]
        )
        self.store = InMemorySupervisionStore()
        self.audit = InMemoryAuditLog()
        self.provider = FakeSupervisionProvider()

    def start(self, groups: set[str], role: str, contact: str = CALL, mode: str = "listen") -> object:
        request = SupervisionRequest.model_validate({"contact_id": contact, "mode": mode, "role": role})
        caller = Caller(username="sup-1", groups=frozenset(groups))
        return start_supervision(request, caller, self.register, self.store, self.audit, self.provider, NOW)


@pytest.mark.parametrize(
    ("group", "role"),
    [("professional", "professional"), ("mentor", "mentor"), ("volunteer", "trainee")],
)
def test_each_group_may_take_its_own_role(group: str, role: str) -> None:
    world = World()
    world.start({group}, role)
    assert [(r.role, r.supervisor) for r in world.store.items] == [(role, "sup-1")]
    assert world.provider.calls == [(CALL, "listen", "sup-1")]


@pytest.mark.parametrize(
    ("group", "role"),
    [
        ("volunteer", "mentor"),
        ("volunteer", "professional"),
        ("mentor", "professional"),
        ("mentor", "trainee"),
        ("professional", "mentor"),
        ("staff", "trainee"),
    ],
)
def test_a_role_the_group_does_not_allow_is_denied_and_nothing_happens(group: str, role: str) -> None:
    world = World()
    with pytest.raises(SupervisionDeniedError, match="volunteers only as trainee"):
        world.start({group}, role)
    assert world.store.items == []
    assert world.audit.items == []
    assert world.provider.calls == []


def test_an_unknown_contact_is_not_found() -> None:
    world = World()
    with pytest.raises(SupervisionNotFoundError):
        world.start({"mentor"}, "mentor", contact="e" * 32)
    assert world.store.items == []


def test_the_mode_must_fit_the_channel() -> None:
    world = World()
    with pytest.raises(SupervisionModeError):
        world.start({"mentor"}, "mentor", contact=CHAT, mode="listen")
    with pytest.raises(SupervisionModeError):
        world.start({"mentor"}, "mentor", contact=CALL, mode="read")
    world.start({"mentor"}, "mentor", contact=CHAT, mode="read")
    assert world.provider.calls == [(CHAT, "read", "sup-1")]


def test_it_is_recorded_on_the_audit_log_with_role_and_mode() -> None:
    world = World()
    world.start({"volunteer"}, "trainee")
    (entry,) = world.audit.items
    assert (entry.actor, entry.action, entry.subject) == ("sup-1", "supervision.recorded", CALL)
    assert entry.details == {"role": "trainee", "mode": "listen", "record": world.store.items[0].id}


def test_the_record_lists_newest_first() -> None:
    world = World()
    world.start({"mentor"}, "mentor")
    world.start({"professional"}, "professional")
    page = list_supervision(world.store, 1, None)
    assert len(page.items) == 1
    assert page.next_token is not None
    assert len(list_supervision(world.store, 1, page.next_token).items) == 1
