"""De-identification of volunteer reports before they are stored (P5, P8).

P5: a person may say their name, but a volunteer never puts it into a report. P8: nobody can trace a
report back to a person. So every report passes through `scrub` before anything is stored: `deduce`
(a de-identifier made for Dutch text) replaces person names, places and addresses, phone numbers,
e-mail addresses, dates, ages, BSN numbers and URLs with tags such as `[PERSOON-1]` or `[LOCATIE-2]`,
and a regex pass of our own catches what deduce does not know or splits (IBAN numbers, BSN numbers
written with separators, phone numbers in every Dutch format, e-mail addresses, URLs), plus any long
run of digits that is left over.

Loading. `deduce` builds its lookup structures (name, street and place lists as tries) on first use,
which takes over a minute, and writes them next to its own files: impossible on Lambda's read-only
file system, and far too slow for a cold start. They are built ahead of time, when the layer is built
(`python -m helpline.scrub --build [DIR]`), into `scrubber_data/` beside this module (or the directory
named by `SCRUBBER_DATA_DIR`). At run time the scrubber only reads them, never writes, and never builds:
without built data of the installed deduce version it raises `ScrubberUnavailable`. That fails closed
(DESIGN: fail closed for data): a report that cannot be scrubbed is not stored, in any form.

Cold start. Unpickling the structures creates millions of small objects; with the cyclic garbage
collector running that takes about four times as long, so it is paused while loading, and the loaded
objects are then frozen out of its reach (`gc.freeze`), so later collections do not walk them (p99).
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

DEFAULT_DATA_DIR: Final = Path(__file__).resolve().parent / "scrubber_data"
"""Where the layer build puts the structures; `SCRUBBER_DATA_DIR` overrides it."""
DATA_DIR_VARIABLE: Final = "SCRUBBER_DATA_DIR"
MANIFEST_FILE: Final = "manifest.json"
# deduce's own cache layout under its `cache_path` (deduce.lookup_structs: _CACHE_SUBDIR/_CACHE_FILE).
_CACHE_FILE: Final = Path("cache") / "lookup_structs.pickle"
_DEDUCE_DISTRIBUTION: Final = "deduce"


class ScrubberUnavailable(RuntimeError):
    """The de-identifier could not be loaded: nothing may be stored (fail closed, P5, P8).

    The message names files and versions, never text.
    """


class _Deidentifier(Protocol):
    def deidentify(self, text: str) -> Any:  # a docdeid Document
        """Annotate and redact `text`."""
        ...


# ---------------------------------------------------------------- our own pass (before deduce)

_SEP: Final = r"[ \t.\-]?"


def _digits(count: int) -> str:
    return _SEP.join([r"\d"] * count)


_IBAN: Final = re.compile(
    # Two letters, two check digits, then 11-30 letters or digits, in groups of four or not.
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_EMAIL: Final = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_URL: Final = re.compile(
    r"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>\"']+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:nl|com|org|net|eu|be|de|info|io)(?:/[^\s<>\"']*)?\b"
)
_PHONE: Final = re.compile(
    r"(?<![\w+])(?:"
    # International: +31 / 0031, an optional (0), then nine digits, separators allowed.
    r"(?:\+|00)\s?31[\s.\-]*(?:\(0\)[\s.\-]*)?\(?\d(?:[\s.\-()]*\d){8}"
    # National: 0 and nine digits: 0612345678, 06-12345678, 030 123 45 67, (030) 1234567.
    r"|\(?0\d(?:[\s.\-()]*\d){8}"
    # Service numbers: 0800 / 0900 / 0900-xxxx.
    r"|0[89]0\d[\s.\-]?\d{3,7}"
    # Any other country: + and 8 to 14 digits.
    r"|\+\d{1,3}[\s.\-]*\(?\d(?:[\s.\-()]*\d){6,13}"
    r")(?!\d)"
)
_NINE_DIGITS: Final = re.compile(rf"(?<![\d\w])({_digits(9)})(?![\d\w])")
_LEFTOVER_NUMBER: Final = re.compile(r"(?<![\w-])\d(?:[ .\-/]?\d){6,}(?!\w)")
"""Seven or more digits that survived both passes: an account, a client or a case number, say."""


def _is_bsn(candidate: str) -> bool:
    """The elfproef (11-test) of a Burgerservicenummer."""
    digits = re.sub(r"\D", "", candidate)
    if len(digits) != 9:
        return False
    total = sum(int(d) * f for d, f in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return total % 11 == 0


def _bsn(match: re.Match[str]) -> str:
    return "[BSN]" if _is_bsn(match.group(1)) else match.group(0)


def pre_scrub(text: str) -> str:
    """Our regex pass: identifiers deduce misses or would split (an IBAN comes out half-tagged)."""
    text = _EMAIL.sub("[EMAILADRES]", text)
    text = _URL.sub("[URL]", text)
    text = _IBAN.sub("[IBAN]", text)
    text = _NINE_DIGITS.sub(_bsn, text)
    return _PHONE.sub("[TELEFOONNUMMER]", text)


def post_scrub(text: str) -> str:
    """A last net after deduce: long digit runs it left are replaced too (fail closed, P8)."""
    return _LEFTOVER_NUMBER.sub("[NUMMER]", text)


# ---------------------------------------------------------------- the scrubber


class Scrubber:
    """Our regex pass, deduce, and the leftover-number net, in that order; safe across threads."""

    def __init__(self, deidentifier: _Deidentifier) -> None:
        self._deidentifier = deidentifier
        # docdeid keeps no per-call state that we know of; the lock makes that no one's assumption.
        self._lock = threading.Lock()

    def scrub(self, text: str) -> str:
        """`text` with names, places, numbers and addresses replaced by tags (P5, P8)."""
        prepared = pre_scrub(text)
        with self._lock:
            document = self._deidentifier.deidentify(prepared)
        redacted = document.deidentified_text
        if not isinstance(redacted, str):
            raise ScrubberUnavailable("deduce returned no text")
        return post_scrub(redacted)


def data_dir() -> Path:
    """The directory with the prebuilt structures: `SCRUBBER_DATA_DIR`, else beside this module."""
    configured = os.environ.get(DATA_DIR_VARIABLE)
    return Path(configured) if configured else DEFAULT_DATA_DIR


def deduce_version() -> str:
    """The installed deduce version; the prebuilt structures must come from the same one."""
    try:
        return importlib.metadata.version(_DEDUCE_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ScrubberUnavailable("deduce is not installed") from None


@contextmanager
def _root_logging_untouched() -> Iterator[None]:
    """Undo what importing deduce does to logging: `basicConfig(stream=stdout, level=DEBUG)`.

    Left in place, every library's DEBUG records (botocore's, with request bodies) would go to stdout.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)


def import_deduce() -> Any:
    """The `deduce` module, imported without its logging side effect."""
    with _root_logging_untouched():
        # Deferred: importing the handler costs nothing; the cost is paid at first use.
        import deduce

    return deduce


def load_scrubber(directory: Path | None = None) -> Scrubber:
    """A scrubber over the structures prebuilt in `directory`; never builds, never writes.

    Raises ScrubberUnavailable when they are missing or were built by another deduce version (deduce
    would then rebuild for a minute and fail writing to the read-only file system).
    """
    directory = directory or data_dir()
    manifest_path = directory / MANIFEST_FILE
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ScrubberUnavailable(
            f"no prebuilt scrubber data in {directory}: run python -m helpline.scrub --build"
        ) from None
    installed = deduce_version()
    if manifest.get("deduce_version") != installed or not (directory / _CACHE_FILE).is_file():
        raise ScrubberUnavailable(
            f"scrubber data in {directory} is not built for deduce {installed}: rebuild it"
        )
    deduce = import_deduce()
    collecting = gc.isenabled()
    gc.disable()
    try:
        with _root_logging_untouched():
            deidentifier = deduce.Deduce(cache_path=directory)
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    return Scrubber(deidentifier)


_scrubber: Scrubber | None = None
_scrubber_lock = threading.Lock()


def get_scrubber() -> Scrubber:
    """The process's scrubber, loaded on first use (once, even when threads race)."""
    global _scrubber  # one per process, like the boto3 clients
    if _scrubber is None:
        with _scrubber_lock:
            if _scrubber is None:
                _scrubber = load_scrubber()
    return _scrubber


def scrub(text: str) -> str:
    """`text` de-identified (P5, P8); raises ScrubberUnavailable rather than return it unscrubbed."""
    return get_scrubber().scrub(text)


# ---------------------------------------------------------------- build (layer build, make install)


def build(directory: Path) -> float:
    """Build deduce's lookup structures into `directory` (replaced whole); returns the seconds taken.

    Built in a sibling temporary directory and moved into place, so a failed build leaves no
    half-written data that a function could load.
    """
    directory = directory.resolve()
    directory.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    deduce = import_deduce()
    staging = Path(tempfile.mkdtemp(prefix=".scrubber-build-", dir=directory.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it 0700; Lambda reads the layer as another user
        with _root_logging_untouched():
            deduce.Deduce(cache_path=staging, build_lookup_structs=True)
        manifest = {
            "deduce_version": deduce_version(),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)
        staging.rename(directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return time.perf_counter() - started


def is_built(directory: Path) -> bool:
    """True if `directory` holds structures of the installed deduce version."""
    try:
        manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("deduce_version") == deduce_version() and (directory / _CACHE_FILE).is_file()


def main(argv: list[str] | None = None) -> int:
    """`python -m helpline.scrub --build [DIR] [--if-missing]`: prebuild the scrubber data."""
    parser = argparse.ArgumentParser(prog="python -m helpline.scrub", description=main.__doc__)
    parser.add_argument("--build", nargs="?", const=str(DEFAULT_DATA_DIR), metavar="DIR", required=True)
    parser.add_argument(
        "--if-missing", action="store_true", help="do nothing if DIR holds data of this deduce version"
    )
    args = parser.parse_args(argv)
    target = Path(args.build)
    if args.if_missing and is_built(target):
        print(f"scrubber data in {target} is up to date", file=sys.stderr)
        return 0
    seconds = build(target)
    print(f"scrubber data built in {target} in {seconds:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
