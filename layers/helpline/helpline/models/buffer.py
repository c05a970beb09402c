"""Work that waits in the registration buffer queue because storage failed on the first try.

Never an identifier in clear (P2, P3): a registration carries only its anonymised record, whose
identifier is already ciphertext; an end carries the contact id, not the provider's reference.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from helpline.models.common import Model, UtcDateTime
from helpline.models.contacts import ContactRecord


class BufferedRegistration(Model):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["registration"] = "registration"
    record: ContactRecord


class BufferedEnd(Model):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["ended"] = "ended"
    contact_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    ended_at: UtcDateTime
    duration_s: int | None = Field(default=None, ge=0)


BufferedWork = Annotated[BufferedRegistration | BufferedEnd, Field(discriminator="kind")]
