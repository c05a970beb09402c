"""Reports benchmark (P5, P8): the report function's cold start and time per report, beside deduce.

Prints its figures; asserts nothing. Run with `make bench` or `python bench/reports.py [--build]`.
Needs the prebuilt scrubber data (`python -m helpline.scrub --build`, which `make install` runs).

(a) deduce's default initialisation, `Deduce()` with no arguments, in a fresh process as a cold
    Lambda would: it loads the structures deduce cached next to its own files if an earlier run wrote
    them there, else builds them (over a minute) and writes them there, which on Lambda's read-only
    file system fails. With `--build`, also a build into an empty directory: what a cold process
    without any cache pays.
(b) the report function's cold start, in a fresh process: import functions/reports/app.py and make
    the scrubber ready (the first scrub), from the structures prebuilt into the layer.
(c) p50/p99 of scrubbing and building a report (in-memory adapters, no AWS) over ~200 varied reports.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")

REPO = Path(__file__).resolve().parents[1]

DEFAULT_INIT = """
import json, time
t0 = time.perf_counter()
import deduce.lookup_structs as ls, deduce
from pathlib import Path
cache = Path(deduce.__file__).parent / "data" / "lookup" / "cache" / "lookup_structs.pickle"
had_cache = cache.is_file()
import logging; logging.disable(logging.CRITICAL)
d = deduce.Deduce({args})
d.deidentify("Jan de Vries belde.")
print(json.dumps({{"seconds": time.perf_counter() - t0, "had_cache": had_cache}}))
"""

COLD_START = """
import importlib.util, json, os, time
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("reports_app", {app!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
t1 = time.perf_counter()
from helpline.scrub import scrub
scrub("Jan de Vries belde vanaf 06-12345678.")
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "ready": t2 - t0}}))
"""


def run(code: str) -> dict[str, float]:
    env = {**os.environ, "REPORTS_TABLE": "bench", "CONTACTS_TABLE": "bench"}
    out = subprocess.run(  # noqa: S603 - our own interpreter and our own code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=REPO
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


NAMES = ["Jan de Vries", "Fatima el Amrani", "Pieter Jansen", "Anouk Bakker", "Mohammed Yilmaz"]
PLACES = ["Oudegracht 12 in Utrecht", "Kalverstraat 3, Amsterdam", "Markt 1 in Gouda", "Dorpsstraat 8"]
SENTENCES = [
    "De beller sprak lang over eenzaamheid sinds het overlijden van haar man.",
    "Hij voelde zich niet gehoord door zijn huisarts en wilde vooral zijn verhaal kwijt.",
    "We hebben samen gekeken naar wat hem vanavond rust kan geven.",
    "Ze was boos op haar werkgever en bang haar baan te verliezen.",
    "Aan het eind bedankte de beller en zei dat het gesprek hielp.",
]


def varied_report(rng: random.Random) -> str:
    parts = rng.sample(SENTENCES, k=rng.randint(2, 5))
    extras = [
        f"Noemde zich {rng.choice(NAMES)}.",
        f"Woont aan de {rng.choice(PLACES)}.",
        f"Gaf nummer 06-{rng.randint(10_000_000, 99_999_999)}.",
        "Mail: iemand@example.nl, BSN 123456782, rekening NL91ABNA0417164300.",
        f"Is {rng.randint(16, 90)} jaar oud.",
    ]
    parts += rng.sample(extras, k=rng.randint(0, len(extras)))
    rng.shuffle(parts)
    return " ".join(parts)[:1500]


def per_report(count: int = 200) -> tuple[float, float]:
    from fakes_memory_reports import InMemoryContactLookup, InMemoryReportsRepository

    from helpline.logic.reports import add_report
    from helpline.scrub import scrub

    rng = random.Random(8)
    contact = "a" * 32
    contacts, repo = InMemoryContactLookup({contact}), InMemoryReportsRepository()
    texts = [varied_report(rng) for _ in range(count)]
    scrub(texts[0])  # warm
    times = []
    for text in texts:
        start = time.perf_counter()
        add_report(contact, text, "vol-1", datetime.now(UTC), contacts, repo, scrub)
        times.append(time.perf_counter() - start)
    cuts = statistics.quantiles(times, n=100)
    return cuts[49], cuts[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="also time a build into an empty directory")
    args = parser.parse_args()

    default = run(DEFAULT_INIT.format(args=""))
    how = "loaded from its package cache" if default["had_cache"] else "built (no cache), wrote it"
    print(f"(a) deduce Deduce() default init, cold process: {default['seconds']:.2f} s ({how})")
    build = None
    if args.build:
        with tempfile.TemporaryDirectory() as empty:
            build = run(DEFAULT_INIT.format(args=f"cache_path={empty!r}"))
        print(f"    deduce build into an empty directory (cold Lambda, no cache): {build['seconds']:.2f} s")

    cold = run(COLD_START.format(app=str(REPO / "functions" / "reports" / "app.py")))
    print(
        f"(b) report function cold start: import {cold['import'] * 1000:.0f} ms, "
        f"scrubber ready {cold['ready']:.2f} s"
    )
    p50, p99 = per_report()
    print(
        f"(c) per report (scrub + build + store in memory), 200 reports: "
        f"p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms"
    )
    print(f"ratio (b)/(a): {cold['ready'] / default['seconds']:.2f}")
    if build is not None:
        print(f"ratio (b)/build: {cold['ready'] / build['seconds']:.3f}")


if __name__ == "__main__":
    main()
