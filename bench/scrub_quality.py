"""Scrubber quality benchmark (P5, P8): recall and precision of the report scrubber on a labelled corpus.

Prints its figures (and the targets beside them); asserts nothing. Run with `make bench` or
`PYTHONPATH=tests python bench/scrub_quality.py [--misses [dev|all]]`. Needs the prebuilt scrubber data
(`python -m helpline.scrub --build`, which `make install` runs).

The corpus, `bench/scrub_corpus.txt`, is written for the project (every name and number invented): one
sentence or short message per line, in the style of volunteers' reports, chat messages and HTML mail
bodies; `#` lines and blank lines are skipped. An identifying span is marked inline as
`[[category:text]]`, around its identifying characters only (`geboren in [[geboortedatum:1987]]`,
`mevrouw [[naam:Hendriks]]`); the markup is removed before scrubbing. Many lines carry no identifier or
only look-alikes that must stay (`om 14:30`, `€ 25`, `3 weken`, `vorige week`, `de school`), so that
precision is measured on ordinary text too. Every third sentence (index 2, 5, 8, ... counting from 0)
is the holdout: the rules of the scrubber were written against the others, and `--misses` shows the
misses of the others only unless asked for all.

Categories, and how they are grouped:
- direct (on their own they lead to one person or household): `naam` (names in any case, first names
  alone, nicknames), `telefoon`, `email` (plain and obfuscated), `ip` (IPv4, IPv6), `url`, `nummer`
  (BSN, IBAN, client, case and policy numbers), `kenteken` (licence plates), `account` (social media
  handles), `adres` (a street with its house number, a house number or PO box on its own).
- quasi (identifying in combination): `leeftijd`, `geboortedatum`, `school`, `organisatie` (workplaces,
  clubs, institutions), `straat` (a street without a house number), `postcode`, `plaats` (places go
  here: a town names thousands of people, but narrows down with an age or a school).

The measures, on words. Input and output are split into words (runs of letters, digits and `_`), after
HTML is read as text on both sides (tags are word breaks, entities are their characters), so both
scrubbers are judged on the same words whether or not they decode HTML; a replacement tag such as
`[PERSOON-1]` is one output token. The two word sequences are aligned (difflib, no junk heuristic): an
input word that is aligned with an identical output word survived; every other input word was
replaced (or removed).
- Recall of a category: the share of its labelled spans of which no word survived. A span half
  replaced (`Pieter [PERSOON-1]`) is a miss: what is left can identify.
- Precision: of all replaced words, the share that lie inside a labelled span. A word replaced outside
  every span is text the reader lost for nothing. It does not check that the tag fits (a street
  tagged `[PERSOON-1]` is still hidden). Precision belongs to a tag, not a category: a wrong
  `[LOCATIE-1]` cannot say whether it meant a street or a place, so it is printed per tag, and overall.
Identifiers inside HTML attributes are not measured (the corpus has none); an HTML tag is skipped.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from helpline.scrub import data_dir, import_deduce, load_scrubber

CORPUS = Path(__file__).resolve().parent / "scrub_corpus.txt"
DIRECT = ("naam", "telefoon", "email", "ip", "url", "nummer", "kenteken", "account", "adres")
QUASI = ("leeftijd", "geboortedatum", "school", "organisatie", "straat", "postcode", "plaats")
TARGETS = {"direct": 0.98, "quasi": 0.90, "precision": 0.90}

_MARK = re.compile(r"\[\[(\w+):(.*?)\]\]")
_HTML_PIECE = re.compile(r"<[^<>]*>|&(?:#\d+|#[xX][0-9a-fA-F]+|\w+);")
_WORD = re.compile(r"\w+")
_TAG = re.compile(r"\[([A-Z][A-Z_]*)(?:-\d+)?\]")


@dataclass(frozen=True)
class Span:
    category: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Sentence:
    text: str
    spans: tuple[Span, ...]
    holdout: bool


def load_corpus(path: Path = CORPUS) -> list[Sentence]:
    """The sentences with their spans as character offsets in the unmarked text."""
    sentences: list[Sentence] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, spans, last = "", [], 0
        for mark in _MARK.finditer(line):
            category, inner = mark.group(1), mark.group(2)
            if category not in DIRECT + QUASI:
                raise ValueError(f"unknown category {category!r} in: {line}")
            text += line[last : mark.start()]
            spans.append(Span(category, len(text), len(text) + len(inner), inner))
            text += inner
            last = mark.end()
        text += line[last:]
        sentences.append(Sentence(text, tuple(spans), holdout=len(sentences) % 3 == 2))
    return sentences


def as_text(raw: str) -> tuple[str, list[int]]:
    """`raw` with HTML read as text, and for each character the offset in `raw` it came from."""
    chars: list[str] = []
    origin: list[int] = []
    last = 0
    for piece in _HTML_PIECE.finditer(raw):
        chars.extend(raw[last : piece.start()])
        origin.extend(range(last, piece.start()))
        token = piece.group(0)
        decoded = " " if token.startswith("<") else html.unescape(token)
        chars.extend(decoded)
        origin.extend([piece.start()] * len(decoded))
        last = piece.end()
    chars.extend(raw[last:])
    origin.extend(range(last, len(raw)))
    return "".join(chars), origin


def input_words(raw: str) -> list[tuple[str, int, int]]:
    """The words of an input with their offsets in the raw input."""
    text, origin = as_text(raw)
    return [(m.group(0), origin[m.start()], origin[m.end() - 1] + 1) for m in _WORD.finditer(text)]


def output_tokens(raw: str) -> list[str]:
    """The words of an output, each replacement tag one token (`\\x00PERSOON`)."""
    text, _ = as_text(raw)
    tokens: list[str] = []
    last = 0
    for tag in _TAG.finditer(text):
        tokens += _WORD.findall(text[last : tag.start()])
        tokens.append("\x00" + tag.group(1))
        last = tag.end()
    return tokens + _WORD.findall(text[last:])


@dataclass
class Judged:
    """What one scrubber did to one sentence."""

    survived: list[bool]
    replaced_by: dict[int, str]  # input word index -> the tag that took its place ("-" for none)


def judge(raw: str, scrubbed: str) -> Judged:
    words = input_words(raw)
    tokens = output_tokens(scrubbed)
    matcher = SequenceMatcher(None, [w for w, _, _ in words], tokens, autojunk=False)
    survived = [False] * len(words)
    replaced_by: dict[int, str] = {}
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for i in range(i1, i2):
                survived[i] = True
            continue
        tags = sorted({t[1:] for t in tokens[j1:j2] if t.startswith("\x00")})
        label = "+".join(tags) if tags else "-"
        for i in range(i1, i2):
            replaced_by[i] = label
    return Judged(survived, replaced_by)


@dataclass
class Tally:
    spans: Counter[str] = field(default_factory=Counter)
    recalled: Counter[str] = field(default_factory=Counter)
    replaced: Counter[str] = field(default_factory=Counter)  # per tag: words replaced
    correct: Counter[str] = field(default_factory=Counter)  # per tag: of which inside a span
    misses: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    def recall(self, categories: tuple[str, ...]) -> tuple[int, float]:
        total = sum(self.spans[c] for c in categories)
        hit = sum(self.recalled[c] for c in categories)
        return total, hit / total if total else 1.0

    def precision(self, tags: list[str] | None = None) -> tuple[int, float]:
        keys = tags if tags is not None else list(self.replaced)
        total = sum(self.replaced[t] for t in keys)
        right = sum(self.correct[t] for t in keys)
        return total, right / total if total else 1.0


def measure(sentences: list[Sentence], scrub: Callable[[str], str], holdout: bool | None) -> Tally:
    tally = Tally()
    for sentence in sentences:
        if holdout is not None and sentence.holdout != holdout:
            continue
        scrubbed = scrub(sentence.text)
        judged = judge(sentence.text, scrubbed)
        words = input_words(sentence.text)
        inside: set[int] = set()
        for span in sentence.spans:
            indices = [i for i, (_, s, e) in enumerate(words) if s < span.end and e > span.start]
            inside.update(indices)
            tally.spans[span.category] += 1
            if indices and not any(judged.survived[i] for i in indices):
                tally.recalled[span.category] += 1
            else:
                tally.misses.append(f"{span.category:>13}: {span.text!r} in: {scrubbed}")
        for i, tag in judged.replaced_by.items():
            tally.replaced[tag] += 1
            if i in inside:
                tally.correct[tag] += 1
            else:
                tally.false.append(f"{tag:>13}: {words[i][0]!r} in: {scrubbed}")
    return tally


def pct(value: float) -> str:
    return f"{value:6.3f}"


def report(name: str, ours: Tally, plain: Tally) -> None:
    print(f"\n== {name}")
    print(f"{'category':<14}{'spans':>6}  {'recall ours':>11}  {'deduce':>7}")
    for group, categories in (("direct", DIRECT), ("quasi", QUASI)):
        for category in categories:
            n, r = ours.recall((category,))
            _, d = plain.recall((category,))
            print(f"  {category:<12}{n:>6}  {pct(r):>11}  {pct(d):>7}")
        n, r = ours.recall(categories)
        _, d = plain.recall(categories)
        print(f"{group + ' total':<14}{n:>6}  {pct(r):>11}  {pct(d):>7}   target >= {TARGETS[group]:.2f}")
    print(f"\n{'tag (words replaced)':<22}{'ours':>6} {'prec.':>6}  {'deduce':>6} {'prec.':>6}")
    for tag in sorted(set(ours.replaced) | set(plain.replaced)):
        n, p = ours.precision([tag])
        m, q = plain.precision([tag])
        print(f"  {tag:<20}{n:>6} {pct(p):>6}  {m:>6} {pct(q):>6}")
    n, p = ours.precision()
    m, q = plain.precision()
    target = TARGETS["precision"]
    print(f"{'precision overall':<22}{n:>6} {pct(p):>6}  {m:>6} {pct(q):>6}   target >= {target:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", nargs="?", const="dev", choices=("dev", "all"), help="list misses")
    args = parser.parse_args()

    sentences = load_corpus()
    holdout = sum(s.holdout for s in sentences)
    spans = Counter(span.category for s in sentences for span in s.spans)
    empty = sum(not s.spans for s in sentences)
    print(
        f"corpus: {len(sentences)} sentences ({empty} without an identifier), {sum(spans.values())} spans; "
        f"holdout {holdout} sentences ({holdout / len(sentences):.0%})"
    )

    started = time.perf_counter()
    scrubber = load_scrubber()
    loaded = time.perf_counter() - started
    deduce = import_deduce()
    plain_deduce = deduce.Deduce(cache_path=data_dir())

    def plain(text: str) -> str:
        redacted: str = plain_deduce.deidentify(text).deidentified_text
        return redacted

    started = time.perf_counter()
    all_ours = measure(sentences, scrubber.scrub, None)
    per_sentence = (time.perf_counter() - started) / len(sentences)
    all_plain = measure(sentences, plain, None)
    report("all sentences", all_ours, all_plain)
    report(
        "holdout (every third sentence)",
        measure(sentences, scrubber.scrub, True),
        measure(sentences, plain, True),
    )
    print(f"\nours: loaded in {loaded:.2f} s, {per_sentence * 1000:.2f} ms per sentence")

    if args.misses:
        shown = measure(sentences, scrubber.scrub, None if args.misses == "all" else False)
        print(f"\n== misses of ours ({args.misses})")
        print("\n".join(shown.misses) or "(none)")
        print(f"\n== words replaced outside every span ({args.misses})")
        print("\n".join(shown.false) or "(none)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
