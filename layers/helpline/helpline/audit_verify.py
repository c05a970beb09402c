"""Check an exported copy of the audit log offline, against its signed checkpoints (P7).

    python -m helpline.audit_verify EXPORT [EXPORT ...] [--checkpoints PATH ...] [--public-key KEY]

EXPORT is what `GET /audit` returned: one page (`{"items": [...], "next_token": ...}`), a plain list of
entries, or a list of pages, as a `.json` file; or a `.jsonl` file with one entry or one page per line;
or a directory of such files, read in name order. Several EXPORTs are read in the order given. A
`.json` file is read whole, a `.jsonl` file a line at a time: export millions of entries as JSON lines
or as many page files, and memory stays that of one page.

`--checkpoints` takes the checkpoint objects copied from the custodian's bucket (`checkpoints/audit/`,
every version), as files or directories; `--public-key` the signing key's public key as
`kms:GetPublicKey` gives it (DER, the AWS CLI's base64 text of it, or PEM). With them, entries removed
at the tail and a chain rewritten and re-hashed are found as `GET /audit/verify` finds them, and a
checkpoint with a bad signature is named. Without them, only the links are checked: a note on stderr
says so. No AWS access at all, so anyone given the export, the checkpoints and the public key can check.

Output: `clean: N entries` (exit 0), else `entry <seq>: <kind>: <detail>` for the first problem and
`checkpoint <name>: <kind>: <detail>` for each problem a checkpoint showed (exit 1). Files that cannot be
read as such: a message on stderr, exit 2. Nothing from an entry is printed but seq numbers (entries
hold no identifier either, P2, P3).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from helpline.logic.audit import AuditEntry, ChainProblem
from helpline.logic.audit_checkpoints import (
    MAX_CHECKPOINT_BYTES,
    PublicKeyChecker,
    SignatureChecker,
    StoredCheckpoint,
)
from helpline.logic.checkpoint_verification import (
    AuditVerdict,
    verify_audit,
)

EXIT_CLEAN: Final = 0
EXIT_BROKEN: Final = 1
EXIT_UNREADABLE: Final = 2
EXPORT_SUFFIXES: Final = (".json", ".jsonl")
NO_CHECKPOINTS_NOTE: Final = (
    "note: no checkpoints given: entries removed at the tail, or a chain rewritten and re-hashed, "
    "cannot be seen (pass --checkpoints and --public-key)"
)


class UnreadableExportError(ValueError):
    """The file is not an export of the audit log, or not checkpoints (nothing to verify)."""


class _NoKey:
    """The checker when no public key was given and no checkpoint either: never asked."""

    def verify(self, message: bytes, signature: bytes, algorithm: str) -> bool:
        return False


def raw_items(document: Any) -> list[Any]:
    """The entries of an export, in order: a page, a list of entries, or a list of pages."""
    if isinstance(document, dict):
        items = document.get("items")
        if not isinstance(items, list):
            raise UnreadableExportError('an object export needs an "items" list')
        return items
    if isinstance(document, list):
        if document and all(isinstance(part, dict) and "items" in part for part in document):
            return [item for page in document for item in raw_items(page)]
        return document
    raise UnreadableExportError("an export is an object with items, or a list")


def _files(paths: Iterable[Path], suffixes: tuple[str, ...]) -> Iterator[Path]:
    """Each path, a directory as its files with `suffixes` in name order (recursively)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                (found for found in path.rglob("*") if found.is_file() and found.suffix in suffixes),
                key=lambda found: found.relative_to(path).as_posix(),
            )
        else:
            yield path


def _unreadable(path: Path, error: Exception) -> UnreadableExportError:
    return UnreadableExportError(f"{path}: cannot read the export ({type(error).__name__})")


def export_items(paths: Iterable[Path]) -> Iterator[Any]:
    """The raw items of the exports in order: a `.jsonl` file a line at a time, a `.json` file whole."""
    for path in _files(paths, EXPORT_SUFFIXES):
        try:
            if path.suffix == ".jsonl":
                with path.open(encoding="utf-8") as lines:
                    for line in lines:
                        if line.strip():
                            value = json.loads(line)
                            is_page = isinstance(value, dict) and "items" in value
                            yield from raw_items(value) if is_page else [value]
            else:
                yield from raw_items(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, UnreadableExportError) as error:
            raise _unreadable(path, error) from error


class ParsedEntries:
    """The entries of an export, up to the first item that is not a valid entry (kept as `malformed`)."""

    def __init__(self, items: Iterable[Any]) -> None:
        self._items = items
        self.malformed: ChainProblem | None = None

    def __iter__(self) -> Iterator[AuditEntry]:
        for index, item in enumerate(self._items):
            try:
                entry = AuditEntry.model_validate(item)
            except ValidationError as error:
                fields = sorted({str(detail["loc"][0]) for detail in error.errors() if detail.get("loc")})
                seq = item.get("seq") if isinstance(item, dict) else None
                self.malformed = ChainProblem(
                    seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else index + 1,
                    position=index + 1,
                    kind="changed",
                    detail=f"not a valid audit entry ({', '.join(fields) or 'shape'})",
                )
                return
            yield entry


def _seq_in(body: bytes) -> int:
    """The seq a checkpoint file names, for sorting; 0 (first, to be reported) when it names none."""
    try:
        seq = json.loads(body).get("seq")
    except (ValueError, AttributeError):
        return 0
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else 0


def checkpoint_files(paths: Iterable[Path]) -> Iterator[StoredCheckpoint]:
    """The checkpoint files in seq order (each read twice: to sort by seq, then to check it).

    Memory is a (seq, path) pair per checkpoint, one every few minutes: small beside the chain.
    """
    order: list[tuple[int, str, Path]] = []
    for path in _files(paths, (".json",)):
        order.append((_seq_in(_read_checkpoint(path)), str(path), path))
    for _, name, path in sorted(order):
        yield StoredCheckpoint(name=name, body=_read_checkpoint(path))


def _read_checkpoint(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(MAX_CHECKPOINT_BYTES + 1)
    except OSError as error:
        raise UnreadableExportError(f"{path}: cannot read the checkpoint ({type(error).__name__})") from error


def _first(verdict: AuditVerdict, malformed: ChainProblem | None) -> ChainProblem | None:
    """The problem to name first: an earlier break in the chain counts first; a malformed item is the
    problem only if all before it hold. It ends the walk, so it also outranks checkpoints beyond it,
    which are then listed as removed at the tail of what could be read."""
    found = verdict.first_problem
    if malformed is None:
        return found
    if found is None or found.position >= malformed.position:
        return malformed
    return found


def verify_files(
    exports: Sequence[Path], checkpoints: Sequence[Path] | None, public_key: Path | None
) -> tuple[int, list[str]]:
    """Exit code and the lines to print for the exports, checked against the checkpoints if given."""
    checker: SignatureChecker = _NoKey()
    if public_key is not None:
        try:
            checker = PublicKeyChecker(public_key.read_bytes())
        except (OSError, ValueError) as error:
            raise UnreadableExportError(f"{public_key}: cannot read the public key ({error})") from error
    elif checkpoints:
        raise UnreadableExportError("--checkpoints needs --public-key (kms:GetPublicKey of the signing key)")
    entries = ParsedEntries(export_items(exports))
    verdict = verify_audit(entries, checkpoint_files(checkpoints or ()), checker)
    first = _first(verdict, entries.malformed)
    lines: list[str] = []
    if first is not None:
        lines.append(f"entry {first.seq}: {first.kind}: {first.detail}")
    lines.extend(
        f"checkpoint {found.checkpoint}: {found.kind}: {found.detail}"
        for found in verdict.checkpoint_problems
    )
    unlisted = verdict.checkpoint_problem_count - len(verdict.checkpoint_problems)
    if unlisted:
        lines.append(f"and {unlisted} more checkpoint problems")
    if lines:
        return EXIT_BROKEN, lines
    clean = f"clean: {verdict.entries} entries"
    if checkpoints is not None:
        newest = verdict.last_checkpoint
        clean += f", {verdict.checkpoints} checkpoints"
        if newest is not None:
            clean += f", the newest at seq {newest.seq}; {verdict.unanchored_entries} entries newer than it"
    return EXIT_CLEAN, [clean]


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m helpline.audit_verify",
        description="Verify an export of the audit log (GET /audit) offline, against its checkpoints (P7).",
    )
    parser.add_argument(
        "export",
        type=Path,
        nargs="+",
        help="JSON from GET /audit (a page, a list of entries or of pages), JSON lines, or a directory",
    )
    parser.add_argument(
        "--checkpoints",
        type=Path,
        nargs="+",
        help="checkpoint objects from the custodian's bucket (files or directories)",
    )
    parser.add_argument(
        "--public-key", type=Path, help="the signing key's public key (kms:GetPublicKey: DER, base64 or PEM)"
    )
    arguments = parser.parse_args(argv)
    try:
        code, lines = verify_files(arguments.export, arguments.checkpoints, arguments.public_key)
    except UnreadableExportError as error:
        print(error, file=sys.stderr)
        return EXIT_UNREADABLE
    if arguments.checkpoints is None:
        print(NO_CHECKPOINTS_NOTE, file=sys.stderr)
    for line in lines:
        print(line)
    return code


if __name__ == "__main__":
    sys.exit(main())
