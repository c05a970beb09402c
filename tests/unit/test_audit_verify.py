"""The audit chain check and its offline verifier (P7): each kind of tampering is named where it is."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from fakes_audit import ListHead, LocalSigner, MemoryCheckpointStore, rewritten_from

import helpline
from helpline.audit_verify import NO_CHECKPOINTS_NOTE, main
from helpline.logic.audit import (
    TRANSCRIPT_READ,
    AuditEntry,
    AuditEvent,
    entry_hash,
    next_entry,
    recomputed_hash,
    verify_chain,
)
from helpline.logic.audit_checkpoints import take_checkpoint

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def event(n: int) -> AuditEvent:
    return AuditEvent(
        at=NOW, actor=f"mentor-{n}", action=TRANSCRIPT_READ, subject="c" * 32, details={"purpose": "training"}
    )


def chain_of(count: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for n in range(1, count + 1):
        entries.append(next_entry(entries[-1] if entries else None, event(n)))
    return entries


def forged_after(previous: AuditEntry, seq: int | None = None) -> AuditEntry:
    """An entry linked to `previous` with a correct hash of its own: a well-made forgery."""
    forged = next_entry(
        previous, AuditEvent(at=NOW, actor="forger", action=TRANSCRIPT_READ, subject="f" * 32)
    )
    if seq is None:
        return forged
    fields = forged.model_dump(exclude={"seq", "hash"})
    event_fields = {key: fields[key] for key in ("at", "actor", "action", "subject", "details")}
    return AuditEntry(seq=seq, hash=entry_hash(seq, AuditEvent(**event_fields), forged.prev_hash), **fields)


def problem(entries: list[AuditEntry]) -> tuple[int, int, str] | None:
    found = verify_chain(entries).first_problem
    return (found.seq, found.position, found.kind) if found is not None else None


def test_a_clean_chain_is_clean() -> None:
    entries = chain_of(6)
    verdict = verify_chain(entries)
    assert verdict.ok
    assert verdict.entries == 6
    assert verdict.first_problem is None
    assert (verdict.last_seq, verdict.last_hash) == (6, entries[-1].hash)


def test_an_empty_chain_is_clean() -> None:
    assert verify_chain([]).model_dump() == {
        "ok": True,
        "entries": 0,
        "last_seq": None,
        "last_hash": None,
        "first_problem": None,
    }


@pytest.mark.parametrize("field", ["actor", "action", "subject", "details", "at"])
def test_a_changed_field_of_entry_3_is_named_changed_at_3(field: str) -> None:
    entries = chain_of(6)
    changes: dict[str, Any] = {
        "actor": "someone-else",
        "action": "supervision.recorded",
        "subject": "d" * 32,
        "details": {"purpose": "other"},
        "at": datetime(2026, 3, 16, tzinfo=UTC),
    }
    entries[2] = entries[2].model_copy(update={field: changes[field]})
    verdict = verify_chain(entries)
    assert not verdict.ok
    assert verdict.first_problem is not None
    assert verdict.first_problem.model_dump() == {
        "seq": 3,
        "position": 3,
        "kind": "changed",
        "detail": "its hash does not match its content",
    }


def test_deleting_entry_4_is_named_removed_at_4() -> None:
    entries = chain_of(6)
    del entries[3]
    verdict = verify_chain(entries)
    assert verdict.first_problem is not None
    assert (verdict.first_problem.seq, verdict.first_problem.kind) == (4, "removed")
    assert verdict.first_problem.position == 4  # where entry 5 now stands
    assert "seq 4 missing" in verdict.first_problem.detail


def test_deleting_two_entries_names_the_first_missing_seq() -> None:
    entries = chain_of(6)
    del entries[1:3]
    assert problem(entries) == (2, 2, "removed")


def test_deleting_the_first_entry_is_removed_at_1() -> None:
    assert problem(chain_of(6)[1:]) == (1, 1, "removed")


def test_deleting_and_renumbering_with_fresh_hashes_is_still_removed() -> None:
    """Entry 4 dropped and 5 rewritten as seq 4 with a valid hash: its link still points at the old 4."""
    entries = chain_of(6)
    old_five = entries[4]
    fields = old_five.model_dump(exclude={"seq", "hash"})
    event_fields = {key: fields[key] for key in ("at", "actor", "action", "subject", "details")}
    renumbered = AuditEntry(
        seq=4, hash=entry_hash(4, AuditEvent(**event_fields), old_five.prev_hash), **fields
    )
    assert recomputed_hash(renumbered) == renumbered.hash
    assert problem([*entries[:3], renumbered]) == (4, 4, "removed")


def test_a_forged_entry_between_2_and_3_is_named_inserted_at_its_position() -> None:
    """Forged with seq 3, linked to entry 2 and a correct own hash; the real 3 (and 4..6) link past it."""
    entries = chain_of(6)
    forged = forged_after(entries[1])
    assert (forged.seq, forged.prev_hash) == (3, entries[1].hash)
    assert recomputed_hash(forged) == forged.hash
    tampered = [*entries[:2], forged, *entries[2:]]
    verdict = verify_chain(tampered)
    assert verdict.first_problem is not None
    assert (verdict.first_problem.seq, verdict.first_problem.position) == (3, 3)
    assert verdict.first_problem.kind == "inserted"
    assert verdict.entries == 7


@pytest.mark.parametrize("seq", [2, 7, 99])
def test_a_forged_entry_with_any_seq_between_2_and_3_is_inserted(seq: int) -> None:
    entries = chain_of(6)
    forged = forged_after(entries[1], seq=seq)
    assert problem([*entries[:2], forged, *entries[2:]]) == (seq, 3, "inserted")


def test_a_forged_entry_with_a_wrong_hash_is_changed() -> None:
    entries = chain_of(6)
    forged = forged_after(entries[1]).model_copy(update={"actor": "edited-after-hashing"})
    assert problem([*entries[:2], forged, *entries[2:]]) == (3, 3, "changed")


def test_a_swapped_pair_is_found_at_the_first_out_of_place() -> None:
    entries = chain_of(6)
    entries[2], entries[3] = entries[3], entries[2]
    assert problem(entries) == (4, 3, "inserted")


def test_an_earlier_problem_is_named_before_a_later_one() -> None:
    entries = chain_of(6)
    entries[4] = entries[4].model_copy(update={"actor": "x"})
    del entries[1]
    assert problem(entries) == (2, 2, "removed")


# --- the command-line verifier, on exported files -----------------------------------------------------


def export(entries: list[AuditEntry]) -> list[dict[str, Any]]:
    return [entry.model_dump(mode="json") for entry in entries]


def write(tmp_path: Path, document: Any, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def run(path: Path, capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str, str]:
    code = main([str(path), *options])
    captured = capsys.readouterr()
    return code, captured.out.strip(), captured.err.strip()


def test_cli_a_clean_page_is_clean_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Clean, with a note that without checkpoints a cut-off tail could not be seen."""
    path = write(tmp_path, {"items": export(chain_of(6)), "next_token": None})
    assert run(path, capsys) == (0, "clean: 6 entries", NO_CHECKPOINTS_NOTE)


def test_cli_a_plain_list_and_a_list_of_pages_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = export(chain_of(6))
    assert run(write(tmp_path, items), capsys)[:2] == (0, "clean: 6 entries")
    pages = [{"items": items[:4], "next_token": "4"}, {"items": items[4:], "next_token": None}]
    assert run(write(tmp_path, pages), capsys)[:2] == (0, "clean: 6 entries")


def test_cli_pages_in_the_wrong_order_are_not_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = export(chain_of(6))
    pages = [{"items": items[4:]}, {"items": items[:4]}]
    code, out, _ = run(write(tmp_path, pages), capsys)
    assert code == 1
    assert out.startswith("entry 1: removed: ")


def test_cli_names_a_changed_entry_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = export(chain_of(6))
    items[2]["details"] = {"purpose": "rewritten"}
    code, out, _ = run(write(tmp_path, {"items": items}), capsys)
    assert (code, out) == (1, "entry 3: changed: its hash does not match its content")


def test_cli_names_a_removed_entry_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = export(chain_of(6))
    del items[3]
    code, out, _ = run(write(tmp_path, {"items": items}), capsys)
    assert code == 1
    assert out.startswith("entry 4: removed: seq 4 missing")


def test_cli_names_an_inserted_entry_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = chain_of(6)
    tampered = [*entries[:2], forged_after(entries[1]), *entries[2:]]
    code, out, _ = run(write(tmp_path, export(tampered)), capsys)
    assert code == 1
    assert out.startswith("entry 3: inserted: ")


def test_cli_a_malformed_entry_is_changed_and_its_value_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = export(chain_of(6))
    items[4]["hash"] = "+31612345678"
    code, out, _ = run(write(tmp_path, items), capsys)
    assert (code, out) == (1, "entry 5: changed: not a valid audit entry (hash)")


@pytest.mark.parametrize(
    "content",
    ["not json", json.dumps({"entries": []}), json.dumps(42), json.dumps({"items": "x"})],
)
def test_cli_an_unreadable_file_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(path, capsys)
    assert (code, out) == (2, "")
    assert "cannot read the export" in err


def test_cli_a_missing_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(tmp_path / "absent.json", capsys)
    assert code == 2
    assert "cannot read the export" in err


def test_cli_runs_as_a_module(tmp_path: Path) -> None:
    """`python -m helpline.audit_verify` works in a fresh interpreter, with no AWS settings at all."""
    path = write(tmp_path, {"items": export(chain_of(3))})
    layer = Path(helpline.__file__).parents[1]
    # Fixed arguments: this interpreter, the module, a file of the test's own making.
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "helpline.audit_verify", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "", "PYTHONPATH": str(layer)},
    )
    assert (result.returncode, result.stdout.strip()) == (0, "clean: 3 entries")


# --- against signed checkpoints (P7) --------------------------------------------------------------------


class Custody:
    """A chain of 12 with checkpoints after 4, 8 and 12, copied out as files, and the public key."""

    def __init__(self, tmp_path: Path, key_format: str = "der") -> None:
        self.signer = LocalSigner()
        store = MemoryCheckpointStore()
        self.entries = chain_of(12)
        for mark in (4, 8, 12):
            take_checkpoint(ListHead(self.entries[:mark]), store, self.signer, NOW)
        self.checkpoints = tmp_path / "checkpoints"
        for key, versions in store.objects.items():
            target = self.checkpoints / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(versions[0])
        der = self.signer.public_key()
        self.key = tmp_path / "signing-key.pub"
        if key_format == "der":
            self.key.write_bytes(der)
        elif key_format == "base64":
            self.key.write_text(base64.b64encode(der).decode() + "\n")
        else:
            public = serialization.load_der_public_key(der)
            self.key.write_bytes(
                public.public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
        self.tmp_path = tmp_path

    def check(self, entries: list[AuditEntry], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
        path = write(self.tmp_path, export(entries))
        code = main([str(path), "--checkpoints", str(self.checkpoints), "--public-key", str(self.key)])
        captured = capsys.readouterr()
        assert captured.err == ""
        return code, captured.out.strip().splitlines()


@pytest.mark.parametrize("key_format", ["der", "base64", "pem"])
def test_cli_an_intact_chain_agrees_with_its_checkpoints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key_format: str
) -> None:
    custody = Custody(tmp_path, key_format)
    assert custody.check(custody.entries, capsys) == (
        0,
        ["clean: 12 entries, 3 checkpoints, the newest at seq 12; 0 entries newer than it"],
    )


def test_cli_the_newest_entry_deleted_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    custody = Custody(tmp_path)
    code, lines = custody.check(custody.entries[:-1], capsys)
    assert code == 1
    assert lines[0].startswith("entry 12: removed: seq 12 removed at the tail: checkpoint 12 ")
    assert lines[1].startswith("checkpoint ")
    assert "00000000000000000012.json: removed_at_tail: seq 12 removed at the tail" in lines[1]
    assert len(lines) == 2


def test_cli_several_newest_entries_deleted_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    custody = Custody(tmp_path)
    code, lines = custody.check(custody.entries[:6], capsys)
    assert code == 1
    assert lines[0].startswith("entry 7: removed: seq 7-12 removed at the tail: checkpoint 12 ")
    assert "the chain ends at seq 6" in lines[0]


def test_cli_a_rewritten_and_rehashed_chain_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    custody = Custody(tmp_path)
    code, lines = custody.check(rewritten_from(custody.entries, seq=6), capsys)
    assert code == 1
    assert lines[0].startswith("entry 8: changed: entry 8 has another hash than checkpoint 8 ")
    assert lines[0].endswith("checkpoint 4 still agrees, so it began at seq 5-8")
    assert [line.split(": ")[1] for line in lines[1:]] == ["rewritten", "rewritten"]


def test_cli_a_checkpoint_with_a_bad_signature_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    custody = Custody(tmp_path)
    path = next(custody.checkpoints.rglob("*08.json"))
    body = json.loads(path.read_text())
    body["hash"] = "f" * 64  # edited after signing; seq, time and signature as they were
    path.write_text(json.dumps(body))
    code, lines = custody.check(custody.entries, capsys)
    assert code == 1
    assert lines == [
        f"checkpoint {path}: bad_signature: checkpoint 8: its signature does not verify with the signing key"
    ]


def test_cli_reads_json_lines_and_directories_of_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    custody = Custody(tmp_path)
    items = export(custody.entries)
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(item) for item in items[:7]) + "\n")
    (tmp_path / "pages").mkdir()
    write(tmp_path / "pages", {"items": items[7:10]}, "page-1.json")
    write(tmp_path / "pages", {"items": items[10:]}, "page-2.json")
    options = ["--checkpoints", str(custody.checkpoints), "--public-key", str(custody.key)]
    code = main([str(tmp_path / "lines.jsonl"), str(tmp_path / "pages"), *options])
    assert (code, capsys.readouterr().out.split(",")[0]) == (0, "clean: 12 entries")
    code = main([str(tmp_path / "pages"), *options])
    assert code == 1, "the first seven entries are not in the pages"


def test_cli_checkpoints_need_the_public_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    custody = Custody(tmp_path)
    path = write(tmp_path, export(custody.entries))
    assert main([str(path), "--checkpoints", str(custody.checkpoints)]) == 2
    assert "--public-key" in capsys.readouterr().err
    (tmp_path / "bad.pub").write_bytes(b"no key")
    bad_key = ["--checkpoints", str(custody.checkpoints), "--public-key", str(tmp_path / "bad.pub")]
    assert main([str(path), *bad_key]) == 2
    assert "cannot read the public key" in capsys.readouterr().err
