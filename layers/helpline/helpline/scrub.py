"""De-identification of volunteer reports before they are stored (P5, P8).

P5: a person may say their name, but a volunteer never puts it into a report. P8: nobody can trace a
report back to a person. So every report passes through `scrub` before anything is stored, in three
steps:

1. `pre_scrub` (`helpline.scrub_patterns`): HTML read as text, then every contact detail and number
   replaced by an unnumbered tag: `[TELEFOONNUMMER]` (Dutch, Belgian, German, international),
   `[EMAILADRES]` (also `jan [at] example [dot] com`), `[URL]`, `[IPADRES]` (v4 and v6), `[IBAN]`,
   `[BSN]`, `[KENTEKEN]` (every Dutch sidecode) and `[ACCOUNT]` (social media handles).
2. `deduce` (a de-identifier made for Dutch text) annotates names, places, addresses, dates and
   institutions; our spans are added to its own: quasi-identifiers by pattern (`helpline.scrub_quasi`:
   ages, birth dates, schools, workplaces and clubs, house numbers) and names, places and streets that
   deduce's lists know but its patterns miss (`helpline.scrub_lookups`: `noor`, `ANOUK JANSEN`,
   `Leiden`, a street without a house number). deduce then redacts them all in one sequence:
   `[PERSOON-1]`, `[LOCATIE-2]`, `[LEEFTIJD-1]`, `[DATUM-1]`, `[SCHOOL-1]`, `[ORGANISATIE-1]`.
3. `post_scrub`: any run of seven or more digits left over becomes `[NUMMER]`.

How well: `bench/scrub_quality.py` measures recall and precision per category on a labelled corpus
(`bench/scrub_corpus.txt`), beside plain deduce.

Loading. `deduce` builds its lookup structures (name, street and place lists as tries) on first use,
which takes over a minute, and writes them next to its own files: impossible on Lambda's read-only
file system, and far too slow for a cold start. They are built ahead of time, when the layer is built
(`python -m helpline.scrub --build [DIR]`), into `scrubber_data/` beside this module (or the directory
named by `SCRUBBER_DATA_DIR`). At run time the scrubber only reads them, never writes, and never builds:
without built data of the installed deduce version it raises `ScrubberUnavailable`. That fails closed
(DESIGN: fail closed for data): a report that cannot be scrubbed is not stored, in any form.

Cold start. deduce's own cache holds its tries as millions of small objects (three seconds to
unpickle); the build rewrites them as marisa tries (`helpline.scrub_tries`: 77 MB become 9 MB, loaded
in tens of milliseconds). The cyclic garbage collector is still paused while loading, and the loaded
objects are frozen out of its reach (`gc.freeze`), so later collections do not walk them (p99).
Our passes add little to that: `Scrubber()` reads deduce's raw place list (about 10 ms), and the
pattern and lookup modules are imported only then, so `pre_scrub` alone (`logic.disclosures`)
compiles only the contact-detail patterns.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import logging
import os
import pickle
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
from typing import TYPE_CHECKING, Any, Final, Protocol

from helpline.metrics import count_scrubber_failure
from helpline.scrub_patterns import replace_contact_details

if TYPE_CHECKING:
    from helpline.scrub_quasi import Found

DEFAULT_DATA_DIR: Final = Path(__file__).resolve().parent / "scrubber_data"
"""Where the layer build puts the structures; `SCRUBBER_DATA_DIR` overrides it."""
DATA_DIR_VARIABLE: Final = "SCRUBBER_DATA_DIR"
MANIFEST_FILE: Final = "manifest.json"
DATA_FORMAT: Final = "compact-tries-1"
"""The layout of the prebuilt data: deduce's cache with its tries compacted (`helpline.scrub_tries`).
Data of another format (or none, from before) is rebuilt, never loaded."""
# deduce's own cache layout under its `cache_path` (deduce.lookup_structs: _CACHE_SUBDIR/_CACHE_FILE).
_CACHE_FILE: Final = Path("cache") / "lookup_structs.pickle"
_DEDUCE_DISTRIBUTION: Final = "deduce"


class ScrubberUnavailable(RuntimeError):
    """The de-identifier could not be loaded: nothing may be stored (fail closed, P5, P8).

    The message names files and versions, never text.
    """


class _Deidentifier(Protocol):
    """What the scrubber uses of a `deduce.Deduce`."""

    lookup_structs: Any  # a docdeid DsCollection: first_name, surname, placename, street, whitelist ...
    lookup_data_path: Path
    processors: Any  # a docdeid DocProcessorGroup

    def deidentify(self, text: str, disabled: set[str] | None = None) -> Any:  # a docdeid Document
        """Annotate (and, unless disabled, redact) `text`."""
        ...


# ---------------------------------------------------------------- our own passes around deduce

_LEFTOVER_NUMBER: Final = re.compile(r"(?<![\w-])(?:[A-Za-z]{1,4}-)?\d(?:[ .\-/]?\d){6,}(?!\w)")
"""Seven or more digits that survived both passes: an account, a client, a case or a policy number
(`PL-4471-2209-88`), say."""
_HOUSE_NUMBER_SUFFIX: Final = re.compile(r"(?<=\d)-(?:[IVX]{1,4}|hs|bis|zw|[A-Za-z]{1,2})(?!\w)")
"""What deduce leaves of a house number: the floor or the letter after a hyphen (`Prinsengracht 7-II`)."""
_DEFERRED: Final = frozenset({"age", "remove_street_tags", "post_processing"})
"""deduce's processors the scrubber runs itself, or not: its age pattern (ours has its pseudo words
and more), the removal of streets without a house number (we keep the real ones) and redaction (done
once our spans are added, so every tag is numbered in one sequence)."""


def pre_scrub(text: str) -> str:
    """Our regex pass: HTML read as text, then every contact detail and number replaced by its tag.

    Phone numbers (Dutch, Belgian, German, international), e-mail addresses (also obfuscated),
    web addresses, IP addresses, IBAN and BSN numbers, licence plates and social media handles
    (`helpline.scrub_patterns`). Loads no deduce: `logic.disclosures` uses it on its own.
    """
    return replace_contact_details(text)


def post_scrub(text: str) -> str:
    """A last net after deduce: long digit runs it left are replaced too (fail closed, P8)."""
    return _LEFTOVER_NUMBER.sub("[NUMMER]", text)


# ---------------------------------------------------------------- the scrubber


class Scrubber:
    """Our regex pass, deduce with our spans added, and the leftover-number net; safe across threads.

    deduce annotates (without its own redaction); our quasi-identifier patterns
    (`helpline.scrub_quasi`) and lookups (`helpline.scrub_lookups`, on deduce's own lists) add spans;
    deduce's post-processing then resolves overlaps, merges neighbours and redacts them all, so the
    tags of one report are numbered in one sequence (`[PERSOON-1]`, `[SCHOOL-1]`).
    """

    def __init__(self, deidentifier: _Deidentifier) -> None:
        """Raises ScrubberUnavailable if deduce lacks a list or processor the scrubber needs."""
        # Deferred like deduce: `pre_scrub` alone (logic.disclosures) need not compile their patterns.
        from helpline.scrub_lookups import Lookups, raw_place_names
        from helpline.scrub_quasi import Found, quasi_spans

        self._found, self._quasi_spans = Found, quasi_spans
        self._deidentifier = deidentifier
        try:
            places = raw_place_names(deidentifier.lookup_data_path)
            self._lookups = Lookups(deidentifier.lookup_structs, places)
            self._redaction = deidentifier.processors["post_processing"]
        except (OSError, KeyError) as missing:
            raise ScrubberUnavailable(f"deduce lacks what the scrubber needs: {missing}") from None
        from docdeid.annotation import Annotation  # deduce's base, loaded with it; deferred like deduce

        self._annotation = Annotation
        # docdeid keeps no per-call state that we know of; the lock makes that no one's assumption.
        self._lock = threading.Lock()

    def scrub(self, text: str) -> str:
        """`text` with names, places, numbers and addresses replaced by tags (P5, P8)."""
        prepared = pre_scrub(text)
        with self._lock:
            document = self._deidentifier.deidentify(prepared, disabled=set(_DEFERRED))
            document.annotations = self._annotations(prepared, document.annotations)
            self._redaction.process(document)
            redacted = document.deidentified_text
        if not isinstance(redacted, str):
            raise ScrubberUnavailable("deduce returned no text")
        return post_scrub(redacted)

    def _annotations(self, text: str, found_by_deduce: Any) -> Any:
        """deduce's annotations (a bare street kept only if it is one) with ours added."""
        annotations = type(found_by_deduce)()
        for annotation in found_by_deduce:
            start, end = annotation.start_char, annotation.end_char
            if annotation.tag == "straat":
                if self._lookups.is_street(text, start, end):
                    annotations.add(self._span(text, self._found(start, end, "locatie")))
            elif annotation.tag == "locatie" and (suffix := _HOUSE_NUMBER_SUFFIX.match(text, end)):
                annotations.add(self._span(text, self._found(start, suffix.end(), "locatie")))
            elif annotation.tag != "persoon":
                annotations.add(annotation)
            elif self._lookups.is_person(text, start, end):
                title = self._lookups.without_title(annotation.text)
                annotations.add(
                    self._span(text, self._found(start + title, end, "persoon")) if title else annotation
                )
        for span in (*self._quasi_spans(text, self._lookups.is_common), *self._lookups.spans(text)):
            annotations.add(self._span(text, span))
        return annotations

    def _span(self, text: str, span: Found) -> Any:
        return self._annotation(
            text=text[span.start : span.end], start_char=span.start, end_char=span.end, tag=span.tag
        )


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
    if not _is_current(manifest, directory):
        raise ScrubberUnavailable(
            f"scrubber data in {directory} is not built for deduce {deduce_version()} "
            f"in format {DATA_FORMAT}: rebuild it"
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
    """`text` de-identified (P5, P8); raises ScrubberUnavailable rather than return it unscrubbed
    (and counts the failure: `ScrubberFailures`, `helpline.metrics`)."""
    try:
        return get_scrubber().scrub(text)
    except ScrubberUnavailable:
        count_scrubber_failure()
        raise


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
        _compact_cache(staging / _CACHE_FILE)
        manifest = {
            "deduce_version": deduce_version(),
            "format": DATA_FORMAT,
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


def _compact_cache(cache_file: Path) -> None:
    """Rewrite deduce's cache with its tries as `CompactTrie`s (`helpline.scrub_tries`), in deduce's
    own cache format, so that `Deduce(cache_path=...)` loads it as its own."""
    from helpline.scrub_tries import compact_lookup_structs  # build time only: imports marisa_trie

    cache = pickle.loads(cache_file.read_bytes())  # noqa: S301 - the file deduce has just written
    compact_lookup_structs(cache["lookup_structs"])
    cache_file.write_bytes(pickle.dumps(cache, protocol=pickle.HIGHEST_PROTOCOL))


def _is_current(manifest: dict[str, Any], directory: Path) -> bool:
    return (
        manifest.get("deduce_version") == deduce_version()
        and manifest.get("format") == DATA_FORMAT
        and (directory / _CACHE_FILE).is_file()
    )


def is_built(directory: Path) -> bool:
    """True if `directory` holds structures of the installed deduce version."""
    try:
        manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return _is_current(manifest, directory)


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
