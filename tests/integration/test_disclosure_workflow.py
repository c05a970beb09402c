"""The disclosure workflow on the in-process local stack with a four-second approval deadline (P7)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from support import wait_until
from twilio.request_validator import RequestValidator

from local_stack.stack import LocalStack, LocalStackConfig

HELPLINE_NUMBER = "+31881234000"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DISCLOSURE_APPROVAL_SECONDS", "4")
        config = LocalStackConfig(api_port=0, outputs_path=None, stack_name="workflow")
        with LocalStack(config) as running:
            yield running


def token_of(stack: LocalStack, group: str) -> str:
    user = stack.outputs["DemoUsers"][group]
    return stack.id_token(user["username"], user["password"])


def as_user(
    stack: LocalStack, token: str, method: str, path: str, body: dict[str, Any] | None = None
) -> requests.Response:
    return requests.request(
        method, stack.api_url + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def called_contact(stack: LocalStack, caller: str) -> str:
    """Ingest a Twilio call and return its contact id."""
    table = stack.provisioned.physical["ContactsTable"]
    before = {i["id"]["S"] for i in stack.client("dynamodb").scan(TableName=table)["Items"]}
    url = stack.api_url + "/webhooks/twilio/voice"
    params = {"CallSid": "CA" + uuid.uuid4().hex, "From": caller, "To": HELPLINE_NUMBER, "AccountSid": "AC1"}
    signature = RequestValidator(stack.outputs["TwilioAuthToken"]).compute_signature(url, params)
    requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=60)
    [contact_id] = [
        i["id"]["S"]
        for i in stack.client("dynamodb").scan(TableName=table)["Items"]
        if i["id"]["S"] not in before
    ]
    return contact_id


def consent(contact_id: str) -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "basis": "consent",
        "consent": {
            "recorded_by": "demo-professional",
            "recorded_at": "2026-11-29T10:00:00Z",
            "statement": "The caller asked us to pass their number to their GP.",
        },
    }


def test_a_request_expires_when_nobody_decides_in_time(stack: LocalStack) -> None:
    professional = token_of(stack, "professional")
    contact_id = called_contact(stack, "+31687650002")
    disclosure_id = as_user(stack, professional, "POST", "/disclosures", consent(contact_id)).json()["id"]

    def status() -> str:
        return str(as_user(stack, professional, "GET", f"/disclosures/{disclosure_id}").json()["status"])

    wait_until(lambda: status() == "expired", timeout_s=30)
    compliance = token_of(stack, "compliance")
    late = as_user(
        stack, compliance, "POST", f"/disclosures/{disclosure_id}/approve", {"reason": "Too late."}
    )
    assert late.status_code == 409
    result = as_user(stack, professional, "GET", f"/disclosures/{disclosure_id}/result")
    assert result.status_code == 410, "an expired request never yields a result"


def test_nobody_approves_their_own_request_even_holding_both_groups(stack: LocalStack) -> None:
    cognito = stack.client("cognito-idp")
    pool = stack.provisioned.user_pool_id
    cognito.admin_create_user(UserPoolId=pool, Username="both-hats", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="both-hats", Password="Both-hats-pass-1", Permanent=True
    )
    for group in ("professional", "compliance"):
        cognito.admin_add_user_to_group(UserPoolId=pool, Username="both-hats", GroupName=group)
    both = stack.id_token("both-hats", "Both-hats-pass-1")
    contact_id = called_contact(stack, "+31687650003")

    disclosure_id = as_user(stack, both, "POST", "/disclosures", consent(contact_id)).json()["id"]
    wait_until(
        lambda: (
            as_user(stack, both, "GET", f"/disclosures/{disclosure_id}").json()["status"]
            == "awaiting_decision"
        ),
        timeout_s=30,
    )
    own = as_user(
        stack, both, "POST", f"/disclosures/{disclosure_id}/approve", {"reason": "I approve my own."}
    )
    assert own.status_code == 403
    assert (
        as_user(stack, both, "GET", f"/disclosures/{disclosure_id}").json()["status"] == "awaiting_decision"
    )
