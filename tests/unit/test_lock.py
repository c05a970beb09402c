"""One set of versions for the tests and the layer (issue 11).

`layers/helpline/requirements.lock` is what the domain layer ships (by hash, Lambda's Python 3.13 on
arm64); `requirements-dev.lock` is what `make install` puts in the virtualenvs (3.11 and 3.13). The
layer's pins must be the dev lock's, every direct requirement must be pinned within its range, and the
running interpreter must have exactly the locked versions, or the tests test something else than Lambda runs.
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infrastructure"))
from build_report import LAMBDA_ENVIRONMENT, locked_versions

LAYER = Path(__file__).resolve().parents[2] / "layers" / "helpline"
LOCK = LAYER / "requirements.lock"
DEV_LOCK = LAYER / "requirements-dev.lock"


def _here() -> dict[str, str]:
    return dict(default_environment())


def test_every_pin_has_a_hash() -> None:
    for lock in (LOCK, DEV_LOCK):
        lines = lock.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if "==" in line and not line.lstrip().startswith("#"):
                assert lines[number + 1].strip().startswith("--hash=sha256:"), (
                    f"{lock.name}: no hash for {line}"
                )


def test_the_layer_lock_pins_the_dev_locks_versions() -> None:
    for environment in (LAMBDA_ENVIRONMENT, _here()):
        layer, dev = locked_versions(LOCK, environment), locked_versions(DEV_LOCK, environment)
        differing = {
            name: (version, dev.get(name)) for name, version in layer.items() if dev.get(name) != version
        }
        assert not differing, f"layer lock vs dev lock (layer, dev): {differing}; run make lock"


def test_every_direct_requirement_is_locked_within_its_range() -> None:
    locked = locked_versions(LOCK)
    for line in (LAYER / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in the lock: run make lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{name} {locked[name]} is outside {requirement.specifier}: run make lock"
        )


def test_this_interpreter_runs_the_locked_versions() -> None:
    locked = locked_versions(DEV_LOCK, _here())
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    layer = locked_versions(LOCK, _here())
    differing = {
        name: (layer[name], installed.get(name)) for name in layer if installed.get(name) != locked[name]
    }
    assert not differing, (
        f"Python {platform.python_version()}: (locked, installed) {differing}; run make install"
    )
