"""What `sam build` produced, against Lambda's limits and the lock: run by `make build`.

Prints every layer's and function's unzipped size, and per function the total of its code and its
layers, against Lambda's 250 MB limit (unzipped, function and layers together). Fails (exit 1) if a
function is over it, or if the artefact is not what the lock and the template promise:

- the domain layer holds `helpline` and exactly the versions of `layers/helpline/requirements.lock`
  (for Lambda's Python 3.13 on arm64), and no scrubber data;
- the scrubber data layer holds the data at `python/helpline/scrubber_data`, built for the locked deduce.

Usage: python infrastructure/build_report.py [.aws-sam/build]
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.utils import canonicalize_name

from helpline.scrub import DATA_FORMAT
from local_stack.template import load_template

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "layers" / "helpline" / "requirements.lock"
LIMIT = 262_144_000
"""Lambda's unzipped deployment size: function code and all its layers together (250 MiB)."""
DOMAIN_LAYER = "DomainLayer"
SCRUBBER_DATA_LAYER = "ScrubberDataLayer"
LAMBDA_ENVIRONMENT = {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_machine": "aarch64",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def locked_versions(lock: Path = LOCK, environment: dict[str, str] | None = None) -> dict[str, str]:
    """The lock's pins (canonical name: version) whose markers hold in `environment` (default: Lambda's)."""
    pins: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        found = _PIN.match(line)
        if not found:
            continue
        name, version, marker = found.groups()
        if marker and not Marker(marker).evaluate(environment or LAMBDA_ENVIRONMENT):
            continue
        pins[canonicalize_name(name)] = version
    return pins


def installed_versions(site: Path) -> dict[str, str]:
    """What `pip install --target site` put there, from the `*.dist-info` directories."""
    versions: dict[str, str] = {}
    for info in site.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").partition("-")
        versions[canonicalize_name(name)] = version
    return versions


def tree_size(path: Path) -> int:
    """Bytes of the regular files under `path`: what Lambda unzips."""
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file() and not item.is_symlink())


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return str(value["Ref"])
    return value if isinstance(value, str) else None


def _mb(size: int) -> str:
    return f"{size / 1_048_576:7.1f} MiB"


def check_layers(build: Path, layers: Iterable[str] = (DOMAIN_LAYER, SCRUBBER_DATA_LAYER)) -> list[str]:
    """What is wrong with the contents of the template's `layers` (empty when nothing is): each domain
    layer (the organisation's `DomainLayer`, the custodian's `CustodianDomainLayer`) and the scrubber
    data layer, where the template has one."""
    problems: list[str] = []
    locked = locked_versions()
    for layer in layers:
        if layer.endswith(DOMAIN_LAYER):
            problems += _domain_problems(layer, build / layer / "python", locked)
        elif layer == SCRUBBER_DATA_LAYER:
            problems += _scrubber_data_problems(build / layer / "python", locked)
    return problems


def _domain_problems(layer: str, domain: Path, locked: dict[str, str]) -> list[str]:
    problems: list[str] = []
    if not (domain / "helpline" / "__init__.py").is_file():
        problems.append(f"{layer}: no helpline package in {domain}")
    if (domain / "helpline" / "scrubber_data").exists():
        problems.append(f"{layer}: holds the scrubber data (it belongs in {SCRUBBER_DATA_LAYER})")
    shipped = installed_versions(domain)
    for name in sorted(set(locked) | set(shipped)):
        if locked.get(name) != shipped.get(name):
            problems.append(
                f"{layer}: {name} is {shipped.get(name, 'missing')},"
                f" the lock says {locked.get(name, 'nothing')}"
            )
    return problems


def _scrubber_data_problems(site: Path, locked: dict[str, str]) -> list[str]:
    manifest_path = site / "helpline" / "scrubber_data" / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [f"{SCRUBBER_DATA_LAYER}: no scrubber data ({manifest_path} unreadable)"]
    problems: list[str] = []
    if manifest.get("deduce_version") != locked.get("deduce"):
        problems.append(
            f"{SCRUBBER_DATA_LAYER}: built for deduce {manifest.get('deduce_version')},"
            f" the lock has {locked.get('deduce')}"
        )
    if manifest.get("format") != DATA_FORMAT:
        problems.append(f"{SCRUBBER_DATA_LAYER}: data of format {manifest.get('format')}, not {DATA_FORMAT}")
    return problems


def report(build: Path) -> int:
    """Print the sizes and the checks; 0 if every function fits and the layers are as locked."""
    template = load_template(build / "template.yaml")
    resources: dict[str, Any] = template.get("Resources", {})
    global_layers = [
        _ref(layer) for layer in template.get("Globals", {}).get("Function", {}).get("Layers", [])
    ]
    layers = {
        name: tree_size(build / str(resource["Properties"]["ContentUri"]))
        for name, resource in resources.items()
        if resource.get("Type") == "AWS::Serverless::LayerVersion"
    }
    print(f"Unzipped sizes (Lambda's limit: {_mb(LIMIT).strip()} per function, code and layers together)")
    for name, size in sorted(layers.items()):
        print(f"  layer    {name:34} {_mb(size)}")
    over: list[str] = []
    for name, resource in sorted(resources.items()):
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties", {})
        code = tree_size(build / str(properties["CodeUri"]))
        own = [_ref(layer) for layer in properties.get("Layers", [])]
        attached = [layer for layer in global_layers + own if layer in layers]
        total = code + sum(layers[layer] for layer in attached)
        flag = "  OVER THE LIMIT" if total > LIMIT else ""
        print(
            f"  function {name:34} {_mb(code)}  with {'+'.join(attached) or 'no layers'}: {_mb(total)}{flag}"
        )
        if total > LIMIT:
            over.append(name)
    problems = check_layers(build, layers)
    problems += [f"{name}: over Lambda's 250 MB unzipped" for name in over]
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    if not problems:
        print(f"Layers as locked and as expected: {', '.join(sorted(layers))}.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(report(Path(sys.argv[1] if len(sys.argv) > 1 else ".aws-sam/build")))
