"""Only the functions that scrub with deduce carry its data (issue 11): the domain layer stays small.

A function needs `ScrubberDataLayer` when its handler reaches `helpline.scrub.scrub` (deduce): the reports
and transcripts routes. `pre_scrub` (disclosures) needs no data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from local_stack.template import TEMPLATE_PATH, load_template

ROOT = Path(__file__).resolve().parents[2]
SCRUBBING_ROUTES = ("helpline.routes.reports", "helpline.routes.transcripts")


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource.get("Properties", {})
        for name, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


def _layers(properties: dict[str, Any]) -> set[str]:
    return {
        layer["Ref"] for layer in properties.get("Layers", []) if isinstance(layer, dict) and "Ref" in layer
    }


def test_only_the_scrubbing_functions_get_the_data_layer() -> None:
    functions = _functions(load_template(TEMPLATE_PATH))
    with_data = {name for name, properties in functions.items() if "ScrubberDataLayer" in _layers(properties)}
    scrubbing = {
        name
        for name, properties in functions.items()
        if any(
            route in (ROOT / properties["CodeUri"] / "app.py").read_text(encoding="utf-8")
            for route in SCRUBBING_ROUTES
        )
    }
    assert scrubbing == {"ReportsFunction", "TranscriptsFunction"}
    assert with_data == scrubbing


def test_every_function_gets_the_domain_layer_from_the_globals() -> None:
    template = load_template(TEMPLATE_PATH)
    assert {layer["Ref"] for layer in template["Globals"]["Function"]["Layers"]} == {"DomainLayer"}
    assert all("DomainLayer" not in _layers(p) for p in _functions(template).values())


def test_the_layers_build_with_the_makefile_not_a_python_313() -> None:
    resources = load_template(TEMPLATE_PATH)["Resources"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for name in ("DomainLayer", "ScrubberDataLayer"):
        assert resources[name]["Metadata"]["BuildMethod"] == "makefile"
        assert f"build-{name}:" in makefile
