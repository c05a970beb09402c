"""Settings: parsed from the environment once; a missing variable fails only where it is used."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpline.settings import MissingSettingError, Settings, get_settings


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_table_names_come_from_the_template_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINES_TABLE", "lines-abc")
    monkeypatch.setenv("CONTACTS_TABLE", "contacts-abc")
    assert get_settings().lines_table == "lines-abc"
    assert get_settings().contacts_table == "contacts-abc"


def test_a_missing_variable_fails_only_when_its_setting_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lines function has no CONTACTS_TABLE (least privilege); that must not break it."""
    monkeypatch.setenv("LINES_TABLE", "lines-abc")
    monkeypatch.delenv("CONTACTS_TABLE", raising=False)
    settings = get_settings()
    assert settings.lines_table == "lines-abc"
    with pytest.raises(MissingSettingError, match="CONTACTS_TABLE"):
        _ = settings.contacts_table


def test_an_empty_variable_counts_as_missing() -> None:
    with pytest.raises(MissingSettingError, match="LINES_TABLE"):
        _ = Settings({"LINES_TABLE": " "}).lines_table


def test_settings_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINES_TABLE", "first")
    assert get_settings().lines_table == "first"
    monkeypatch.setenv("LINES_TABLE", "second")
    assert get_settings().lines_table == "first"
