"""Volunteer reports (P4, P5, P8): what a volunteer submits, and what is stored after scrubbing.

P8: volunteers write a short report of each conversation, for their own development and to improve
the service, and nobody can trace it back to a person. P5: a name a person said never goes into it.
So `ReportIn.text` exists only in the request; `Report.text` is what `helpline.scrub` made of it,
and it is the only text that is stored, returned or listed (P4: for training and quality).
"""

from __future__ import annotations

import uuid
from typing import Final

from pydantic import ConfigDict, Field

from helpline.models.common import Model, UtcDateTime

REPORT_MAX_LENGTH: Final = 1500
CONTACT_ID_PATTERN: Final = r"^[0-9a-f]{32}$"
"""A contact id as ContactRecord makes it (uuid4 hex)."""


def new_report_id() -> str:
    """A random id: nothing about the author, the contact or the time can be read from it."""
    return uuid.uuid4().hex


class ReportIn(Model):
    """Body of POST /contacts/{id}/reports: the report as the volunteer wrote it (never stored)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        min_length=1,
        max_length=REPORT_MAX_LENGTH,
        repr=False,
        description="The report, at most 1,500 characters; names and other identifying details are "
        "replaced by tags before it is stored (P5, P8)",
    )


class Report(Model):
    """A stored report: the scrubbed text only; the item of ReportsTable and the API's answer."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=new_report_id, pattern=r"^[0-9a-f]{32}$")
    contact_id: str = Field(pattern=CONTACT_ID_PATTERN)
    author: str = Field(min_length=1, max_length=128, description="Username of the volunteer or mentor")
    text: str = Field(
        min_length=1,
        description="The report as stored: names, places, numbers and addresses replaced by tags",
    )
    created_at: UtcDateTime
    month: str = Field(
        pattern=r"^\d{4}-(?:0[1-9]|1[0-2])$",
        description="YYYY-MM of created_at (UTC); key of the by-month index",
    )


class ReportList(Model):
    """Answer of GET /contacts/{id}/reports and GET /reports, newest first."""

    items: list[Report]
