"""openapi.json is generated from the routes, deterministically, and committed up to date."""

from __future__ import annotations

import json
from pathlib import Path

from helpline.openapi import TITLE, build_spec, render

OPENAPI_JSON = Path(__file__).resolve().parents[2] / "openapi.json"


def test_openapi_json_is_the_generated_spec() -> None:
    assert OPENAPI_JSON.read_text(encoding="utf-8") == render(build_spec()), "run `make openapi`"


def test_generation_is_deterministic() -> None:
    assert render(build_spec()) == render(build_spec())


def test_spec_declares_cognito_bearer_security_and_the_routes() -> None:
    spec = json.loads(render(build_spec()))
    assert spec["info"]["title"] == TITLE
    assert spec["components"]["securitySchemes"]["cognito"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": spec["components"]["securitySchemes"]["cognito"]["description"],
    }
    assert spec["security"] == [{"cognito": []}]
    assert set(spec["paths"]) == {"/lines", "/lines/{line_id}"}


def test_validation_errors_are_documented_as_400_not_422() -> None:
    spec = build_spec()
    put = spec["paths"]["/lines/{line_id}"]["put"]
    assert "400" in put["responses"]
    assert "422" not in put["responses"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
