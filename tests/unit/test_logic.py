"""Domain functions over the in-memory repositories (no AWS)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from fakes_memory import InMemoryContactsRepository, InMemoryLinesRepository

from helpline.logic.lines import list_lines, register_line
from helpline.logic.registrations import store_buffered_registration
from helpline.models.contacts import ContactRecord
from helpline.models.lines import LineIn

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def voice_line(name: str = "Hulplijn", address: str = "088 123 4000") -> LineIn:
    return LineIn(kind="helpline", channel="voice", address=address, display_name=name)


def test_register_line_stamps_who_and_when_and_stores_it() -> None:
    repo = InMemoryLinesRepository()
    stored = register_line(repo, "national-helpline", voice_line(), actor="admin-1", now=NOW)
    assert stored.line_id == "national-helpline"
    assert stored.updated_by == "admin-1"
    assert stored.updated_at == NOW
    assert stored.address == "+31881234000"
    assert list_lines(repo) == [stored]


def test_register_line_replaces_an_existing_line() -> None:
    repo = InMemoryLinesRepository()
    register_line(repo, "national-helpline", voice_line("Old"), actor="a", now=NOW)
    replaced = register_line(repo, "national-helpline", voice_line("New"), actor="b", now=NOW)
    assert list_lines(repo) == [replaced]
    assert replaced.display_name == "New"
    assert replaced.updated_by == "b"


def test_list_lines_is_sorted_by_line_id() -> None:
    repo = InMemoryLinesRepository()
    for line_id in ["web-chat", "email", "office", "national-helpline"]:
        register_line(repo, line_id, voice_line(), actor="a", now=NOW)
    assert [line.line_id for line in list_lines(repo)] == [
        "email",
        "national-helpline",
        "office",
        "web-chat",
    ]


def test_list_lines_of_an_empty_registry() -> None:
    assert list_lines(InMemoryLinesRepository()) == []


def contact(**overrides: object) -> ContactRecord:
    return ContactRecord.model_validate(
        {
            "channel": "chat",
            "line": "web-chat",
            "started_at": "2026-11-29T10:00:00Z",
            "region": "unknown",
            "limit_outcome": "limited",
            **overrides,
        }
    )


def test_a_buffered_registration_is_stored() -> None:
    repo = InMemoryContactsRepository()
    record = contact()
    assert store_buffered_registration(repo, record) is True
    assert repo.items == {record.id: record}


def test_a_redelivered_registration_is_a_success_and_not_a_duplicate() -> None:
    repo = InMemoryContactsRepository()
    record = contact()
    store_buffered_registration(repo, record)
    assert store_buffered_registration(repo, record.model_copy()) is False
    assert list(repo.items) == [record.id]


def test_a_redelivery_does_not_overwrite_the_first_store() -> None:
    repo = InMemoryContactsRepository()
    first = contact()
    store_buffered_registration(repo, first)
    ciphertext = base64.b64encode(b"x").decode()
    again = contact(id=first.id, identifier_ciphertext=ciphertext, identifier_retain_until="2027-01-01")
    store_buffered_registration(repo, again)
    assert repo.items[first.id] == first


def test_different_registrations_are_all_stored() -> None:
    repo = InMemoryContactsRepository()
    records = [contact(), contact(), contact()]
    assert [store_buffered_registration(repo, record) for record in records] == [True] * 3
    assert len(repo.items) == 3
