"""Never lose a contact, never leave a caller unanswered (issue: contact ingestion, item 6).

Runs the real template on the in-process local stack and makes the AWS stand-in fail underneath the
handlers, at the HTTP layer where botocore's own retries see it, like a KMS or DynamoDB outage would.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from botocore.endpoint import Endpoint
from botocore.exceptions import ConnectionClosedError
from support import wait_until
from twilio.request_validator import RequestValidator

from local_stack.stack import LocalStack, LocalStackConfig

HELPLINE_NUMBER = "+31881234000"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    config = LocalStackConfig(api_port=0, outputs_path=None, stack_name="resilience")
    with LocalStack(config) as running:
        yield running


class Outage:
    """Fails the next `count` requests that match, with a dropped connection (botocore retries those)."""

    def __init__(self) -> None:
        self.rules: list[list[Any]] = []
        self.failed = 0
        self._lock = threading.Lock()
        self._original = Endpoint._send

    def fail(self, count: int, target: str, body_contains: str = "") -> None:
        with self._lock:
            self.rules.append([count, target.encode(), body_contains.encode()])

    def _send(self, endpoint: Endpoint, request: Any) -> Any:
        target = request.headers.get("X-Amz-Target", b"")
        target = target if isinstance(target, bytes) else target.encode()
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        with self._lock:
            for rule in self.rules:
                if rule[0] > 0 and rule[1] in target and rule[2] in body:
                    rule[0] -= 1
                    self.failed += 1
                    raise ConnectionClosedError(endpoint_url=endpoint.host)
        return self._original(endpoint, request)


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch) -> Outage:
    faults = Outage()
    monkeypatch.setattr(Endpoint, "_send", lambda endpoint, request: faults._send(endpoint, request))
    return faults


def call(stack: LocalStack, caller: str, sid: str | None = None) -> requests.Response:
    url = stack.api_url + "/webhooks/twilio/voice"
    params = {
        "CallSid": sid or "CA" + uuid.uuid4().hex,
        "From": caller,
        "To": HELPLINE_NUMBER,
        "AccountSid": "AC1",
    }
    signature = RequestValidator(stack.outputs["TwilioAuthToken"]).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=60)


def records(stack: LocalStack) -> list[dict[str, Any]]:
    table = stack.provisioned.physical["ContactsTable"]
    return stack.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]


def added_by(stack: LocalStack, action: Callable[[], Any]) -> tuple[Any, Callable[[], list[dict[str, Any]]]]:
    before = {item["id"]["S"] for item in records(stack)}
    result = action()
    return result, lambda: [item for item in records(stack) if item["id"]["S"] not in before]


def test_kms_failing_at_first_still_routes_and_registers_once(stack: LocalStack, outage: Outage) -> None:
    outage.fail(2, "TrentService.GenerateMac")
    outage.fail(2, "TrentService.GenerateDataKey")

    response, added = added_by(stack, lambda: call(stack, "+31640000001"))

    assert response.status_code == 200
    assert "<Enqueue>volunteers</Enqueue>" in response.text
    assert outage.failed >= 2, "the outage was hit"
    [record] = wait_until(added)
    assert record["limit_outcome"] == {"S": "allowed"}, "the retried MAC counted the call"
    assert "identifier_ciphertext" in record


def test_dynamodb_failing_for_longer_buffers_the_record_and_stores_it_once(
    stack: LocalStack, outage: Outage
) -> None:
    contacts_table = stack.provisioned.physical["ContactsTable"]
    outage.fail(5, "DynamoDB_20120810.PutItem", body_contains=contacts_table)

    response, added = added_by(stack, lambda: call(stack, "+31640000002"))

    assert response.status_code == 200
    assert "<Enqueue>volunteers</Enqueue>" in response.text
    assert added() == [], "three attempts failed during the call: the record waits in the buffer"
    [record] = wait_until(added, timeout_s=30)
    assert record["limit_outcome"] == {"S": "allowed"}
    assert outage.failed == 5


def test_kms_down_altogether_still_routes_and_keeps_no_clear_identifier(
    stack: LocalStack, outage: Outage
) -> None:
    outage.fail(1000, "TrentService.")

    response, added = added_by(stack, lambda: call(stack, "+31640000003"))

    assert "<Enqueue>volunteers</Enqueue>" in response.text
    [record] = wait_until(added)
    assert record["limit_outcome"] == {"S": "unchecked"}
    assert "+31640000003" not in str(record)
    assert "0640000003" not in str(record)


def test_twenty_simultaneous_calls_from_one_number_allow_exactly_the_limit(stack: LocalStack) -> None:
    """P10, race-free: conditional writes, not a read-then-write count."""
    sids = ["CA" + uuid.uuid4().hex for _ in range(20)]

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses, added = added_by(
            stack, lambda: list(pool.map(lambda sid: call(stack, "+31650000000", sid), sids))
        )

    assert all(r.status_code == 200 for r in responses)
    routed = [r for r in responses if "<Enqueue>" in r.text]
    assert len(routed) == 3
    outcomes = sorted(
        item["limit_outcome"]["S"] for item in wait_until(lambda: len(added()) == 20 and added())
    )
    assert outcomes == ["allowed"] * 3 + ["limited"] * 17
