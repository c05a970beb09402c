"""`make build`'s check of the artefact (infrastructure/build_report.py): each template's layers are
checked by what they must hold, and stale scrubber data is refused (issue 11)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from helpline.scrub import DATA_FORMAT

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infrastructure"))
from build_report import check_layers, locked_versions


def _scrubber_layer(build: Path, **manifest: str) -> None:
    data = build / "ScrubberDataLayer" / "python" / "helpline" / "scrubber_data"
    data.mkdir(parents=True)
    (data / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_scrubber_data_of_the_locked_deduce_and_format_passes(tmp_path: Path) -> None:
    _scrubber_layer(tmp_path, deduce_version=locked_versions()["deduce"], format=DATA_FORMAT)
    assert check_layers(tmp_path, ["ScrubberDataLayer"]) == []


def test_scrubber_data_of_an_older_format_is_refused(tmp_path: Path) -> None:
    """Data built before the compact tries would make deduce rebuild for minutes, then fail."""
    _scrubber_layer(tmp_path, deduce_version=locked_versions()["deduce"])
    assert check_layers(tmp_path, ["ScrubberDataLayer"]) == [
        f"ScrubberDataLayer: data of format None, not {DATA_FORMAT}"
    ]


def test_missing_scrubber_data_is_refused(tmp_path: Path) -> None:
    (problem,) = check_layers(tmp_path, ["ScrubberDataLayer"])
    assert problem.startswith("ScrubberDataLayer: no scrubber data")


def test_the_custodian_domain_layer_is_checked_like_the_organisations(tmp_path: Path) -> None:
    (tmp_path / "CustodianDomainLayer" / "python").mkdir(parents=True)
    problems = check_layers(tmp_path, ["CustodianDomainLayer"])
    assert problems[0].startswith("CustodianDomainLayer: no helpline package")
    assert "CustodianDomainLayer: pydantic is missing, the lock says " in "\n".join(problems)
    assert not any("ScrubberDataLayer" in problem for problem in problems)  # it has none
