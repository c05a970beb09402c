"""Listening in (P9): who may, in which role, and the record that it happened.

P9 lets a professional, a volunteer in training or an experienced mentor volunteer listen in on a call or
read along with a chat or e-mail, unannounced. Here that becomes: the caller's Cognito group must fit the
role (a volunteer only as a trainee), the contact must exist, the mode must fit its channel, and the act
is recorded (SupervisionTable and the audit log) *before* the provider is asked to start monitoring: no
listening in without a record (fail closed for data, DESIGN.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Final, Protocol

from helpline.auth import Caller
from helpline.logic.audit import SUPERVISION_RECORDED, AuditLog, record
from helpline.logic.register import RegisterStore
from helpline.models.supervision import (
    SupervisionMode,
    SupervisionPage,
    SupervisionRecord,
    SupervisionRequest,
    SupervisionRole,
    SupervisionStarted,
)

ROLES_BY_GROUP: Final[Mapping[str, frozenset[SupervisionRole]]] = {
    "professional": frozenset({"professional"}),
    "mentor": frozenset({"mentor"}),
    "volunteer": frozenset({"trainee"}),
}
"""P9: which role each Cognito group may take when listening in."""


class SupervisionDeniedError(PermissionError):
    """The caller may not listen in in this role (403); the message is plain and safe to show."""


class SupervisionNotFoundError(LookupError):
    """No such contact (404)."""


class SupervisionModeError(ValueError):
    """The mode does not fit the contact's channel (422: a rule, not a shape)."""


class InvalidTokenError(ValueError):
    """A `next_token` we did not issue (400)."""


class SupervisionStore(Protocol):
    """The record of listening in (SupervisionTable in `dal.supervision`)."""

    def put(self, item: SupervisionRecord) -> None:
        """Store one record."""
        ...

    def page(self, limit: int, token: str | None) -> tuple[list[SupervisionRecord], str | None]:
        """Up to `limit` records newest first, from `token` on; and the token of the next page."""
        ...


class SupervisionProvider(Protocol):
    """Starts silent monitoring at the telephony or chat provider (`providers.supervision`)."""

    name: str

    def start_monitoring(self, contact_id: str, mode: SupervisionMode, supervisor: str) -> str:
        """Start monitoring our contact `contact_id` for `supervisor`; a short label of what was done."""
        ...


def allowed_roles(caller: Caller) -> frozenset[SupervisionRole]:
    """Every role the caller's groups allow (P9)."""
    roles: frozenset[SupervisionRole] = frozenset()
    for group in caller.groups:
        roles |= ROLES_BY_GROUP.get(group, frozenset())
    return roles


def check_role(caller: Caller, role: SupervisionRole) -> None:
    """SupervisionDeniedError unless one of the caller's groups allows `role` (P9)."""
    if role not in allowed_roles(caller):
        raise SupervisionDeniedError(
            f"You may not listen in as {role}: professionals listen in as professional, "
            "mentors as mentor, and volunteers only as trainee"
        )


def start_supervision(
    request: SupervisionRequest,
    caller: Caller,
    register: RegisterStore,
    store: SupervisionStore,
    audit: AuditLog,
    provider: SupervisionProvider,
    now: datetime,
) -> SupervisionStarted:
    """Check, record (table and audit log), then ask the provider to start monitoring (P9)."""
    check_role(caller, request.role)
    contact = register.get(request.contact_id)
    if contact is None:
        raise SupervisionNotFoundError("No such contact")
    if request.mode == "listen" and contact.channel != "voice":
        raise SupervisionModeError("Only calls can be listened in on; use mode read for chat and e-mail")
    if request.mode == "read" and contact.channel == "voice":
        raise SupervisionModeError("Calls are never recorded; use mode listen to listen in on a call")
    entry = SupervisionRecord(
        id=uuid.uuid4().hex,
        contact_id=request.contact_id,
        supervisor=caller.username,
        role=request.role,
        mode=request.mode,
        at=now,
        monitoring=provider.name,
    )
    store.put(entry)
    record(
        audit,
        now,
        caller.username,
        SUPERVISION_RECORDED,
        request.contact_id,
        role=request.role,
        mode=request.mode,
        record=entry.id,
    )
    monitoring = provider.start_monitoring(request.contact_id, request.mode, caller.username)
    return SupervisionStarted(record=entry, monitoring=monitoring)


def list_supervision(store: SupervisionStore, limit: int, token: str | None) -> SupervisionPage:
    """The record of who listened in on what, when: newest first (P9)."""
    items, next_token = store.page(limit, token)
    return SupervisionPage(items=items, next_token=next_token)
