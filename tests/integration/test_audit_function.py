"""AuditFunction's handler over moto (P7): compliance lists the chain and has it verified, against the
signed checkpoints in the custodian's write-once bucket, as the offline verifier does."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext, response_json, rest_event
from audit_custody import (
    Custody,
    delete_newest,
    download_checkpoints,
    make_custody,
    rewrite_and_rehash,
    save_public_key,
)
from conftest import create_table_from_template

from helpline.audit_verify import main as verify_offline
from helpline.dal.audit import DynamoAuditLog
from helpline.dal.dynamodb import dynamodb_client
from helpline.logic.audit import AuditEvent
from helpline.logic.audit_checkpoints import checkpoint_key
from helpline.routes.audit import create_audit_app

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def audit_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_table_from_template("AuditTable")
    monkeypatch.setenv("AUDIT_TABLE", name)
    return name


@pytest.fixture
def custody(aws: None, monkeypatch: pytest.MonkeyPatch) -> Custody:
    return make_custody(monkeypatch)


@pytest.fixture
def handler(audit_table: str, custody: Custody, load_handler: Callable[[str], Handler]) -> Handler:
    return load_handler("functions/audit/app.py")


@pytest.fixture
def checkpoint(
    audit_table: str, custody: Custody, load_handler: Callable[[str], Handler]
) -> Callable[[], Any]:
    """One scheduled run of the checkpoint function."""
    run = load_handler("functions/audit_checkpoint/app.py")
    return lambda: run({"source": "aws.events"}, FakeLambdaContext())


def append_events(table: str, count: int) -> None:
    log = DynamoAuditLog(table)
    for n in range(1, count + 1):
        log.append(
            AuditEvent(
                at=NOW,
                actor=f"mentor-{n}",
                action="transcript.read",
                subject="a" * 32,
                details={"purpose": "training"},
            )
        )


def get(
    handler: Handler, path: str, query: dict[str, str] | None = None, groups: Any = "[compliance]"
) -> Any:
    event = rest_event("GET", path, username="compliance-1", groups=groups)
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {key: [value] for key, value in (query or {}).items()} or None
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def test_compliance_lists_the_chain_oldest_first(handler: Handler, audit_table: str) -> None:
    append_events(audit_table, 4)
    status, body = get(handler, "/audit")
    assert status == 200
    assert body["next_token"] is None
    assert [(item["seq"], item["actor"]) for item in body["items"]] == [
        (1, "mentor-1"),
        (2, "mentor-2"),
        (3, "mentor-3"),
        (4, "mentor-4"),
    ]
    assert set(body["items"][0]) == {
        "seq",
        "at",
        "actor",
        "action",
        "subject",
        "details",
        "prev_hash",
        "hash",
    }


def test_pages_follow_next_token_until_none(handler: Handler, audit_table: str) -> None:
    append_events(audit_table, 5)
    seqs: list[int] = []
    query = {"limit": "2"}
    for _ in range(5):
        status, body = get(handler, "/audit", query)
        assert status == 200
        seqs.extend(item["seq"] for item in body["items"])
        if body["next_token"] is None:
            break
        query = {"limit": "2", "after": body["next_token"]}
    assert seqs == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "501"}, {"after": "-1"}, {"after": "x"}])
def test_a_bad_page_request_is_400(handler: Handler, query: dict[str, str]) -> None:
    assert get(handler, "/audit", query)[0] == 400


def test_an_intact_chain_verifies_clean(handler: Handler, audit_table: str) -> None:
    append_events(audit_table, 3)
    status, body = get(handler, "/audit/verify")
    assert status == 200
    assert body["ok"] is True
    assert body["entries"] == 3
    assert body["first_problem"] is None
    assert body["last_seq"] == 3


def test_an_empty_chain_verifies_clean(handler: Handler) -> None:
    status, body = get(handler, "/audit/verify")
    assert (status, body["ok"], body["entries"]) == (200, True, 0)


def test_an_item_changed_in_dynamodb_is_named(handler: Handler, audit_table: str) -> None:
    append_events(audit_table, 4)
    boto3.client("dynamodb").update_item(
        TableName=audit_table,
        Key={"chain": {"S": "audit"}, "seq": {"N": "3"}},
        UpdateExpression="SET details.purpose = :p",
        ExpressionAttributeValues={":p": {"S": "nothing to see"}},
    )
    status, body = get(handler, "/audit/verify")
    assert status == 200
    assert body["ok"] is False
    assert body["entries"] == 4
    assert body["first_problem"] == {
        "seq": 3,
        "position": 3,
        "kind": "changed",
        "detail": "its hash does not match its content",
    }


def test_an_item_deleted_in_dynamodb_is_named(handler: Handler, audit_table: str) -> None:
    append_events(audit_table, 4)
    boto3.client("dynamodb").delete_item(
        TableName=audit_table, Key={"chain": {"S": "audit"}, "seq": {"N": "2"}}
    )
    status, body = get(handler, "/audit/verify")
    assert status == 200
    assert (body["ok"], body["first_problem"]["seq"], body["first_problem"]["kind"]) == (False, 2, "removed")


@pytest.mark.parametrize("groups", ["[staff]", "[mentor]", "[admin]", "[volunteer]"])
def test_other_groups_are_403_on_both_routes(handler: Handler, audit_table: str, groups: str) -> None:
    append_events(audit_table, 1)
    for path in ("/audit", "/audit/verify"):
        status, body = get(handler, path, groups=groups)
        assert status == 403
        assert "items" not in body


def test_no_claims_is_401(handler: Handler) -> None:
    response = handler(rest_event("GET", "/audit", username=None), FakeLambdaContext())
    assert response["statusCode"] == 401


# --- against the signed checkpoints (P7) -----------------------------------------------------------------


def export_chain(handler: Handler, target: Path) -> Path:
    """GET /audit page by page into files, as compliance exports it for the offline verifier."""
    query = {"limit": "3"}
    for number in range(1, 100):
        status, body = get(handler, "/audit", query)
        assert status == 200
        (target / f"page-{number:04d}.json").write_text(json.dumps(body), encoding="utf-8")
        if body["next_token"] is None:
            return target
        query = {"limit": "3", "after": body["next_token"]}
    raise AssertionError("the export did not end")


def offline(handler: Handler, custody: Custody, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """The offline verifier on the export, every checkpoint version and the public key."""
    capsys.readouterr()
    (tmp_path / "export").mkdir()
    (tmp_path / "checkpoints").mkdir()
    pages = export_chain(handler, tmp_path / "export")
    checkpoints = download_checkpoints(custody.bucket, tmp_path / "checkpoints")
    key = save_public_key(custody, tmp_path)
    code = verify_offline([str(pages), "--checkpoints", str(checkpoints), "--public-key", str(key)])
    return code, capsys.readouterr().out.strip().splitlines()


def anchored_chain(audit_table: str, checkpoint: Callable[[], Any], *marks: int) -> None:
    """Entries appended with a checkpoint after each mark (the schedule running in between)."""
    done = 0
    for mark in marks:
        append_events(audit_table, mark - done)
        assert checkpoint()["outcome"] == "written"
        done = mark


def test_an_intact_anchored_chain_verifies_clean(
    handler: Handler, audit_table: str, checkpoint: Callable[[], Any]
) -> None:
    anchored_chain(audit_table, checkpoint, 3, 6)
    append_events(audit_table, 1)
    status, body = get(handler, "/audit/verify")
    assert status == 200
    assert (body["ok"], body["entries"], body["checkpoints"], body["unanchored_entries"]) == (True, 7, 2, 1)
    assert body["last_checkpoint"]["seq"] == 6
    assert body["checkpoint_problems"] == []
    assert body["first_problem"] is None


@pytest.mark.parametrize(("deleted", "missing"), [(1, "seq 6"), (3, "seq 4-6")])
def test_deleting_the_newest_entries_is_named_online_and_offline(
    handler: Handler,
    audit_table: str,
    custody: Custody,
    checkpoint: Callable[[], Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    deleted: int,
    missing: str,
) -> None:
    anchored_chain(audit_table, checkpoint, 3, 6)
    delete_newest(audit_table, deleted)

    status, body = get(handler, "/audit/verify")

    assert status == 200
    assert (body["ok"], body["entries"], body["last_seq"]) == (False, 6 - deleted, 6 - deleted)
    [problem] = body["checkpoint_problems"]
    assert (problem["kind"], problem["seq_from"], problem["seq_to"]) == ("removed_at_tail", 7 - deleted, 6)
    assert problem["checkpoint"].startswith(f"{checkpoint_key(6)}?versionId=")
    assert problem["detail"].startswith(f"{missing} removed at the tail: checkpoint 6 signed at ")
    assert (body["first_problem"]["seq"], body["first_problem"]["kind"]) == (7 - deleted, "removed")

    code, lines = offline(handler, custody, tmp_path, capsys)
    assert code == 1
    assert lines[0].startswith(f"entry {7 - deleted}: removed: {missing} removed at the tail: checkpoint 6 ")
    assert ": removed_at_tail: " in lines[1]


def test_a_rewrite_rehashed_to_the_end_is_named_online_and_offline(
    handler: Handler,
    audit_table: str,
    custody: Custody,
    checkpoint: Callable[[], Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    anchored_chain(audit_table, checkpoint, 3, 6, 9)
    rewrite_and_rehash(audit_table, seq=5)
    assert get(handler, "/audit")[1]["items"][4]["actor"] == "someone-else"

    status, body = get(handler, "/audit/verify")

    assert status == 200
    assert body["ok"] is False
    assert [
        (p["kind"], p["checkpoint_seq"], p["seq_from"], p["seq_to"]) for p in body["checkpoint_problems"]
    ] == [
        ("rewritten", 6, 4, 6),
        ("rewritten", 9, 4, 9),
    ]
    assert body["first_problem"]["seq"] == 6
    assert body["first_problem"]["kind"] == "changed"
    assert "checkpoint 3 still agrees, so it began at seq 4-6" in body["first_problem"]["detail"]

    code, lines = offline(handler, custody, tmp_path, capsys)
    assert code == 1
    assert lines[0].startswith("entry 6: changed: entry 6 has another hash than checkpoint 6 ")
    assert lines[0].endswith("checkpoint 3 still agrees, so it began at seq 4-6")


def test_a_checkpoint_with_a_bad_signature_is_reported(
    handler: Handler, audit_table: str, custody: Custody, checkpoint: Callable[[], Any]
) -> None:
    """Someone with s3:PutObject but not the key adds a checkpoint: its signature gives it away."""
    anchored_chain(audit_table, checkpoint, 2)
    append_events(audit_table, 2)
    forged = {
        "format": "helpline.audit-checkpoint/1",
        "chain": "audit",
        "seq": 4,
        "hash": "0" * 64,
        "at": "2026-03-15T12:00:00Z",
        "key_id": custody.key_arn,
        "signing_algorithm": "ECDSA_SHA_256",
        "signature": base64.b64encode(b"not a signature").decode(),
    }
    boto3.client("s3").put_object(
        Bucket=custody.bucket, Key=checkpoint_key(4), Body=json.dumps(forged).encode()
    )

    status, body = get(handler, "/audit/verify")

    assert status == 200
    assert body["ok"] is False
    assert [(p["kind"], p["checkpoint_seq"]) for p in body["checkpoint_problems"]] == [("bad_signature", 4)]
    assert body["first_problem"] is None, "the chain itself is intact"
    assert body["last_checkpoint"]["seq"] == 2, "a badly signed checkpoint is not used"


def test_a_delete_marker_does_not_hide_a_checkpoint(
    handler: Handler, audit_table: str, custody: Custody, checkpoint: Callable[[], Any]
) -> None:
    """Deleting without a version id only puts a marker in front: every version is still read."""
    anchored_chain(audit_table, checkpoint, 4)
    s3 = boto3.client("s3")
    s3.delete_object(Bucket=custody.bucket, Key=checkpoint_key(4))
    assert "Contents" not in s3.list_objects_v2(Bucket=custody.bucket)
    delete_newest(audit_table, 1)

    body = get(handler, "/audit/verify")[1]

    assert [(p["kind"], p["seq_from"]) for p in body["checkpoint_problems"]] == [("removed_at_tail", 4)]


def test_a_chain_longer_than_one_page_verifies(
    audit_table: str, custody: Custody, checkpoint: Callable[[], Any]
) -> None:
    """Read three entries per Query: 10 entries take four pages, and the tail check still holds."""
    anchored_chain(audit_table, checkpoint, 5, 10)
    queries: list[int] = []
    dynamodb_client().meta.events.register("before-call.dynamodb.Query", lambda **_: queries.append(1))
    app = create_audit_app(page_size=3)
    event = rest_event("GET", "/audit/verify", username="compliance-1", groups="[compliance]")

    response = app.resolve(event, FakeLambdaContext())  # type: ignore[arg-type]

    body = response_json(response)
    assert (response["statusCode"], body["ok"], body["entries"], body["checkpoints"]) == (200, True, 10, 2)
    assert len(queries) == 4, "pages after 0, 3, 6 and 9"
    delete_newest(audit_table, 2)
    body = response_json(app.resolve(event, FakeLambdaContext()))  # type: ignore[arg-type]
    assert [(p["kind"], p["seq_from"], p["seq_to"]) for p in body["checkpoint_problems"]] == [
        ("removed_at_tail", 9, 10)
    ]


def test_without_its_custodian_settings_verification_fails_closed(
    audit_table: str, load_handler: Callable[[str], Handler], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No bucket or key configured is a 500, never an `ok` that checked no checkpoint."""
    monkeypatch.delenv("AUDIT_CHECKPOINT_BUCKET", raising=False)
    monkeypatch.delenv("AUDIT_SIGNING_KEY_ARN", raising=False)
    status, body = get(load_handler("functions/audit/app.py"), "/audit/verify")
    assert status == 500
    assert "ok" not in body
