"""Listening in and reading along (P9): the request, and the record of it.

The record holds our contact id, the supervisor's username, role, mode and time: never a provider
reference (a call SID or Connect contact id leads back to the caller, P2) and nothing that was said.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from helpline.models.common import Model, UtcDateTime
from helpline.models.register import CONTACT_ID_PATTERN

SupervisionMode = Literal["listen", "read"]
"""`listen` to a call, `read` along with a chat or e-mail."""
SupervisionRole = Literal["professional", "trainee", "mentor"]


class SupervisionRequest(Model):
    """POST /supervision: which contact, how, and in what role (P9)."""

    model_config = ConfigDict(extra="forbid")

    contact_id: str = Field(pattern=CONTACT_ID_PATTERN)
    mode: SupervisionMode
    role: SupervisionRole


class SupervisionRecord(Model):
    """One act of listening in, as recorded (SupervisionTable) and shown to staff (P9)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    contact_id: str = Field(pattern=CONTACT_ID_PATTERN)
    supervisor: str = Field(description="username of who listened in")
    role: SupervisionRole
    mode: SupervisionMode
    at: UtcDateTime
    monitoring: str = Field(description="which provider adapter started it, e.g. recorded-only")


class SupervisionStarted(Model):
    """The answer to POST /supervision: the record, and what the provider reported."""

    model_config = ConfigDict(extra="forbid")

    record: SupervisionRecord
    monitoring: str = Field(
        description="e.g. recorded-only, connect-silent-monitor, twilio-muted-participant"
    )


class SupervisionPage(Model):
    """GET /supervision: the record, newest first; `next_token` for the next page (none: the end)."""

    model_config = ConfigDict(extra="forbid")

    items: list[SupervisionRecord]
    next_token: str | None = None
