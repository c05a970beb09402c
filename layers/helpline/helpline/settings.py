"""The function's environment, parsed once into a model.

Each function gets from template.yaml only the variables it needs (least privilege: the lines
function knows no contacts table). So a missing variable is no error at import time; it is one, with
a message that names the variable, the first time code asks for that setting.
"""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, field_validator


class MissingSettingError(RuntimeError):
    """A setting was used that this function's environment does not give."""

    def __init__(self, variable: str) -> None:
        super().__init__(
            f"Environment variable {variable} is not set: give it to this function in template.yaml"
        )
        self.variable = variable


class Settings(BaseModel):
    """Environment variables, by their template names; read them through the properties."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    lines_table_name: str | None = Field(default=None, validation_alias="LINES_TABLE")
    contacts_table_name: str | None = Field(default=None, validation_alias="CONTACTS_TABLE")

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_missing(cls, value: object) -> object:
        """An empty variable is as good as none: treat it as missing, not as a table named ''."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @property
    def lines_table(self) -> str:
        """Name of the line registry table (LinesTable)."""
        return _required(self.lines_table_name, "LINES_TABLE")

    @property
    def contacts_table(self) -> str:
        """Name of the anonymised contact registration table (ContactsTable, P8)."""
        return _required(self.contacts_table_name, "CONTACTS_TABLE")


def _required(value: str | None, variable: str) -> str:
    if value is None:
        raise MissingSettingError(variable)
    return value


@cache
def get_settings() -> Settings:
    """This process's settings, parsed on first use (tests call `get_settings.cache_clear()`)."""
    return Settings.model_validate(dict(os.environ))
