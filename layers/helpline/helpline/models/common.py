"""Types shared by several models: line ids, channels, UTC timestamps."""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    TypeAdapter,
)
from pydantic_core import PydanticCustomError

from helpline import snapstart

DEFERRED: Final = ConfigDict(defer_build=True)
"""Config of a module-level `TypeAdapter`: built on first use, like `Model`."""


class Model(BaseModel):
    """The base of every model here: its validator is built on first use, not at import.

    A function imports far more models than it uses (the contact path imports the line models for one
    of them), and building each at import made up most of a cold start beyond the bare runtime
    (`bench/ingest.py`). Functions with SnapStart build all they imported before the snapshot
    (`build_imported_models`), so a restored environment has them ready.
    """

    model_config = ConfigDict(defer_build=True)


@snapstart.before_snapshot
def build_imported_models() -> int:
    """Build the validator of every model and adapter in the modules of ours imported so far; returns
    how many it built."""
    built = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("helpline.") or module is None:
            continue
        for value in list(vars(module).values()):
            if (
                isinstance(value, type)
                and issubclass(value, Model)
                and value.__module__ == name
                and not value.__pydantic_complete__
            ):
                value.model_rebuild()
                built += 1
            elif isinstance(value, TypeAdapter) and not value.pydantic_complete:
                value.rebuild()
                built += 1
    return built


LINE_ID_PATTERN: Final = r"^[a-z0-9][a-z0-9-]{0,62}$"
"""A line id is a slug: it appears in URLs and in every registration (P8: "the entry")."""

LineId = Annotated[str, StringConstraints(pattern=LINE_ID_PATTERN)]

_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_text(value: Any) -> Any:
    """Only `YYYY-MM-DD` is a date here: pydantic would also read `0` as 1 January 1970."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date, YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
"""A date query parameter as the OpenAPI document states it (`format: date`), and nothing else."""

RULE_BROKEN: Final = "rule_broken"
"""Error type of a value that fits the schema but breaks a rule no JSON Schema can state (a chat line
given a phone number as its address): the API answers it with 422, not 400 (`helpline.api`)."""


def rule_broken(problem: str) -> PydanticCustomError:
    """A validation error of type `RULE_BROKEN`; `problem` names the rule, never the value."""
    return PydanticCustomError(RULE_BROKEN, "{problem}", {"problem": problem})


Channel = Literal["voice", "chat", "email"]
"""The ways a person reaches a line: phone, chat or e-mail (P1, P3)."""


def _utc_whole_seconds(value: datetime) -> datetime:
    """Store every time in UTC, to the second.

    One format keeps ISO strings sortable as DynamoDB range keys (the contacts `by-month` index
    sorts on `started_at`), and an anonymised registration (P8) needs no sub-second precision.
    """
    return value.astimezone(UTC).replace(microsecond=0)


UtcDateTime = Annotated[AwareDatetime, AfterValidator(_utc_whole_seconds)]
"""A time with an explicit zone, kept as UTC; serialised as `YYYY-MM-DDTHH:MM:SSZ`."""
