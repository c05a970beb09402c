"""The API fuzzed against its own OpenAPI document, on a local stack of its own (schemathesis).

Every staff group is fuzzed with its own token, and the webhooks with valid signatures. A run fails on
any 5xx, any answer the document does not describe (status, content type, body schema), any request
invalid by the document that is accepted, and any request valid by it that is refused
(`tests/e2e/schemathesis.toml` says which answers count as not refusing, and why). The same runs are
`make fuzz`, with more examples.

The fuzzing stack is not the session's: generated requests create lines, disclosures and reports that
would otherwise stand in the way of the other end-to-end tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from running_stack import RunningStack, running_stack
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from twilio.request_validator import RequestValidator

from helpline.providers import chat

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC = REPO_ROOT / "openapi.json"
CONFIG = Path(__file__).with_name("schemathesis.toml")
STAFF_GROUPS = ("volunteer", "mentor", "staff", "professional", "compliance", "admin")
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "25"))
"""Bounded so the whole suite stays within CI's time; `make fuzz` raises it."""
SEED = int(os.environ.get("FUZZ_SEED", "20261202"))
WEBHOOKS = ("/webhooks/twilio/voice", "/webhooks/twilio/status", "/webhooks/chat")


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with running_stack(tmp_path_factory.mktemp("fuzz-stack")) as running:
        yield running


@pytest.mark.parametrize("group", STAFF_GROUPS)
def test_every_staff_route_answers_as_its_document_says_for(
    fuzz_stack: RunningStack, group: str, tmp_path: Path
) -> None:
    """Examples, boundary coverage, random fuzzing and stateful sequences, every check schemathesis has."""
    token = fuzz_stack.token(group)
    completed = subprocess.run(  # noqa: S603 - our own interpreter and schemathesis' entry point
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(CONFIG),
            "run",
            str(SPEC),
            "--url",
            fuzz_stack.api,
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--exclude-path-regex",
            "^/webhooks/",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            str(SEED),
            "--workers",
            "1",  # hypothesis describes lambdas with ast.parse, which Python 3.11 cannot run on two threads
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        check=False,
    )
    summary = completed.stdout[-12_000:]
    assert completed.returncode == 0, f"schemathesis found problems as {group}:\n{summary}{completed.stderr}"
    assert "generated" in completed.stdout  # it ran cases, not just loaded the document


# ------------------------------------------------------------------------------------- webhooks

WEBHOOK_SCHEMA = schemathesis.openapi.from_path(str(SPEC), config=SchemathesisConfig.from_path(str(CONFIG)))


def _signed(case: Any, stack: RunningStack) -> requests.Response:
    """Send `case` as the provider would: the body serialised once, and signed over what is sent."""
    request = case.as_transport_kwargs(base_url=stack.api)
    headers = dict(request["headers"])
    if case.path == "/webhooks/chat":
        body = json.dumps(request.get("json")).encode("utf-8")
        headers[chat.SIGNATURE_HEADER] = chat.sign(
            body, stack.outputs["ChatWebhookSecret"], datetime.now(UTC)
        )
        return requests.post(request["url"], data=body, headers=headers, timeout=30)
    body = _form_body(request.get("data"))
    signed = dict(parse_qsl(body, keep_blank_values=True))  # what Twilio signs is what it sends
    validator = RequestValidator(stack.outputs["TwilioAuthToken"])
    headers["X-Twilio-Signature"] = validator.compute_signature(request["url"], signed)
    return requests.post(request["url"], data=body.encode("utf-8"), headers=headers, timeout=30)


def _form_body(data: Any) -> str:
    """A generated form as `application/x-www-form-urlencoded`; a negative case's odd values as text."""
    if not isinstance(data, dict):
        return "" if data is None else str(data)
    text = {str(name): value if isinstance(value, str) else json.dumps(value) for name, value in data.items()}
    return urlencode(text)


def _webhook_cases(mode: GenerationMode) -> st.SearchStrategy[Any]:
    return st.one_of([WEBHOOK_SCHEMA[path]["POST"].as_strategy(generation_mode=mode) for path in WEBHOOKS])


_WEBHOOK_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION * len(WEBHOOKS) * 2,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@_WEBHOOK_SETTINGS
@given(case=_webhook_cases(GenerationMode.POSITIVE))
def test_signed_webhook_events_valid_by_the_document_are_answered_as_documented(
    fuzz_stack: RunningStack, case: Any
) -> None:
    """A provider's signed event is never a 5xx and never refused as malformed: a caller waits on it."""
    response = _signed(case, fuzz_stack)
    case.validate_response(response)
    assert response.status_code not in (400, 403), response.text


@_WEBHOOK_SETTINGS
@given(case=_webhook_cases(GenerationMode.NEGATIVE))
def test_signed_webhook_events_invalid_by_the_document_are_refused_as_documented(
    fuzz_stack: RunningStack, case: Any
) -> None:
    """Never a 5xx, always a documented answer; a malformed chat event is refused, not stored."""
    response = _signed(case, fuzz_stack)
    case.validate_response(response, excluded_checks=[schemathesis.checks.negative_data_rejection])
    assert response.status_code < 500
