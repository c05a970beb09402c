"""The DynamoDB adapters against moto: the `logic.ports` contract, as the memory fakes keep it."""

from __future__ import annotations

from datetime import UTC, datetime

from helpline.dal.contacts import DynamoContactsRepository, contacts_repository
from helpline.dal.lines import DynamoLinesRepository, lines_repository
from helpline.models.contacts import ContactRecord
from helpline.models.lines import Line

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def line(line_id: str) -> Line:
    return Line(
        line_id=line_id,
        kind="office",
        channel="email",
        address="Kantoor@Helpline.Example",
        display_name="Kantoor",
        updated_at=NOW,
        updated_by="admin-1",
    )


def test_lines_round_trip(lines_table: str) -> None:
    repo = DynamoLinesRepository(lines_table)
    repo.put_line(line("b"))
    repo.put_line(line("a"))
    repo.put_line(line("a"))
    assert sorted(repo.list_lines(), key=lambda stored: stored.line_id) == [line("a"), line("b")]


def test_the_repository_factory_uses_the_table_from_the_environment(lines_table: str) -> None:
    lines_repository().put_line(line("x"))
    assert DynamoLinesRepository(lines_table).list_lines() == [line("x")]


def test_put_if_absent_stores_once(contacts_table: str) -> None:
    repo = contacts_repository()
    record = ContactRecord(
        channel="voice",
        line="unknown",
        started_at=NOW,
        region="abroad:BE",
        limit_outcome="limited",
    )
    assert repo.put_if_absent(record) is True
    assert repo.put_if_absent(record) is False
    assert DynamoContactsRepository(contacts_table).put_if_absent(record) is False
