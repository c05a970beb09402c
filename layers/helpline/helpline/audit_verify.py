"""Check an exported copy of the audit log offline: `python -m helpline.audit_verify EXPORT.json` (P7).

EXPORT.json is what `GET /audit` returned: one page (`{"items": [...], "next_token": ...}`), a plain
list of entries, or a list of pages in order. The chain is walked as `GET /audit/verify` walks it, with
no AWS access at all, so a copy kept outside the organisation's account can be checked by anyone.

Output: `clean: N entries` (exit 0), or `entry <seq>: <kind>: <detail>` for the first entry changed,
removed or inserted (exit 1). A file that cannot be read as such an export: a message on stderr, exit 2.
Nothing from an entry is printed but seq numbers (entries hold no identifier either, P2, P3).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from helpline.logic.audit import AuditEntry, ChainProblem, verify_chain

EXIT_CLEAN: Final = 0
EXIT_BROKEN: Final = 1
EXIT_UNREADABLE: Final = 2


class UnreadableExportError(ValueError):
    """The file is not an export of the audit log (nothing to verify)."""


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


def parse_entries(items: Sequence[Any]) -> tuple[list[AuditEntry], ChainProblem | None]:
    """The entries, or those before the first item that is not a valid entry and that item's problem."""
    entries: list[AuditEntry] = []
    for index, item in enumerate(items):
        try:
            entries.append(AuditEntry.model_validate(item))
        except ValidationError as error:
            fields = sorted({str(detail["loc"][0]) for detail in error.errors() if detail.get("loc")})
            seq = item.get("seq") if isinstance(item, dict) else None
            return entries, ChainProblem(
                seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else index + 1,
                position=index + 1,
                kind="changed",
                detail=f"not a valid audit entry ({', '.join(fields) or 'shape'})",
            )
    return entries, None


def verify_export(path: Path) -> tuple[int, str]:
    """Exit code and the line to print for the export at `path`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        items = raw_items(document)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, UnreadableExportError) as error:
        raise UnreadableExportError(f"{path}: cannot read the export ({type(error).__name__})") from error
    entries, malformed = parse_entries(items)
    # An earlier break in the chain counts first; a malformed item is the problem only if all before it hold.
    verdict = verify_chain(entries)
    problem = verdict.first_problem or malformed
    if problem is None:
        return EXIT_CLEAN, f"clean: {verdict.entries} entries"
    return EXIT_BROKEN, f"entry {problem.seq}: {problem.kind}: {problem.detail}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m helpline.audit_verify",
        description="Verify an exported copy of the audit log (GET /audit) offline (P7).",
    )
    parser.add_argument(
        "export", type=Path, help="JSON from GET /audit: a page, a list of entries or of pages"
    )
    arguments = parser.parse_args(argv)
    try:
        code, line = verify_export(arguments.export)
    except UnreadableExportError as error:
        print(error, file=sys.stderr)
        return EXIT_UNREADABLE
    print(line)
    return code


if __name__ == "__main__":
    sys.exit(main())
