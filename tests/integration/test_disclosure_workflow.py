"""The disclosure workflow on the in-process local stack (both stacks, one stand-in), its state machine
run by moto's Step Functions engine with a four-second approval deadline and a one-second custodian poll.

P7: an approved request delivers nothing until the custodian's own officer confirms, then once; a
refusal or the custodian's deadline ends it without a result. P3: the workflow's history, the answers
and the organisation's tables hold no identifier in any format. An approval whose SendTaskSuccess fails
(injected into the stand-in's Step Functions) is recorded once, and the same approval sent again moves
the workflow on; never sent, the workflow's deadline ends it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from moto.core.exceptions import JsonRESTError
from moto.stepfunctions.responses import StepFunctionResponse
from support import wait_until
from twilio.request_validator import RequestValidator

from helpline import clock
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
    return stack.id_token(user["username"], user["password"], custodian=group == "custodian")


def as_user(
    stack: LocalStack, token: str, method: str, path: str, body: dict[str, Any] | None = None
) -> requests.Response:
    return requests.request(
        method, stack.api_url + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def as_custodian(
    stack: LocalStack, token: str, method: str, path: str, body: dict[str, Any] | None = None
) -> requests.Response:
    return requests.request(
        method,
        stack.custodian_api_url + path,
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
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
    """Consent recorded now (our clock, after the call began) by the demo professional, a user of the
    local pool: the grounds the disclosures function checks (P7)."""
    return {
        "contact_id": contact_id,
        "basis": "consent",
        "consent": {
            "recorded_by": "demo-professional",
            "recorded_at": clock.now().isoformat(),
            "method": "phone",
            "statement": "The caller asked us to pass their number to their GP.",
        },
    }


def formats(number: str) -> list[str]:
    """+31687650004, 0687650004, 06-87650004: every way the number could be written."""
    national = "0" + number.removeprefix("+31")
    return [number, national, f"{national[:2]}-{national[2:]}"]


def status_of(stack: LocalStack, token: str, disclosure_id: str) -> str:
    return str(as_user(stack, token, "GET", f"/disclosures/{disclosure_id}").json()["status"])


def approved(stack: LocalStack, caller: str) -> tuple[str, str, str]:
    """A consent request for a new call from `caller`, approved by compliance; (professional token,
    disclosure id, contact id) once the workflow waits for the custodian."""
    professional = token_of(stack, "professional")
    contact_id = called_contact(stack, caller)
    created = as_user(stack, professional, "POST", "/disclosures", consent(contact_id))
    assert created.status_code == 202, created.text
    disclosure_id = created.json()["id"]
    wait_until(lambda: status_of(stack, professional, disclosure_id) == "awaiting_decision", timeout_s=30)
    decision = as_user(
        stack,
        token_of(stack, "compliance"),
        "POST",
        f"/disclosures/{disclosure_id}/approve",
        {"reason": "Consent recorded and checked."},
    )
    assert decision.status_code == 200, decision.text
    wait_until(lambda: status_of(stack, professional, disclosure_id) == "awaiting_custodian", timeout_s=30)
    return professional, disclosure_id, contact_id


def result_item(stack: LocalStack, disclosure_id: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        stack.client("dynamodb")
        .get_item(
            TableName=stack.provisioned.physical["DisclosureResultsTable"],
            Key={"pk": {"S": f"disclosure#{disclosure_id}"}, "sk": {"S": "result"}},
        )
        .get("Item")
    )
    return item


def history_events(stack: LocalStack, disclosure_id: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    machine = stack.provisioned.physical["DisclosureStateMachine"]
    arn = machine.replace(":stateMachine:", ":execution:") + f":{disclosure_id}"
    events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return events


def times_asked(stack: LocalStack, disclosure_id: str) -> int:
    """How often the workflow has entered AskCustodian (the custodian's decrypt function) so far."""
    return sum(
        1
        for event in history_events(stack, disclosure_id)
        if event.get("stateEnteredEventDetails", {}).get("name") == "AskCustodian"
    )


def test_approved_but_unconfirmed_delivers_nothing_and_confirmed_delivers_once(stack: LocalStack) -> None:
    caller = "+31687650004"
    professional, disclosure_id, contact_id = approved(stack, caller)

    # Several polls of the custodian later, still nothing: the organisation's approval is not a release.
    custodian = token_of(stack, "custodian")
    wait_until(lambda: times_asked(stack, disclosure_id) >= 3, timeout_s=30)
    listed = as_custodian(stack, custodian, "GET", "/releases").json()["items"]
    assert [item["status"] for item in listed if item["disclosure_id"] == disclosure_id] == ["pending"]
    assert status_of(stack, professional, disclosure_id) == "awaiting_custodian"
    early = as_user(stack, professional, "GET", f"/disclosures/{disclosure_id}/result")
    assert early.status_code == 409
    assert result_item(stack, disclosure_id) is None

    release = as_custodian(stack, custodian, "GET", f"/releases/{disclosure_id}")
    assert release.status_code == 200
    assert release.headers["Cache-Control"] == "no-store"
    assert release.json()["grounds"]["consent"]["recorded_by"] == "demo-professional"
    assert release.json()["contact_id"] == contact_id

    # The organisation's own officers have no say at the custodian.
    compliance = token_of(stack, "compliance")
    foreign = as_custodian(
        stack, compliance, "POST", f"/releases/{disclosure_id}/confirm", {"reason": "We approve ourselves."}
    )
    assert foreign.status_code in (401, 403)

    confirmed = as_custodian(
        stack, custodian, "POST", f"/releases/{disclosure_id}/confirm", {"reason": "Consent verified."}
    )
    assert confirmed.status_code == 200, confirmed.text
    wait_until(lambda: status_of(stack, professional, disclosure_id) == "delivered", timeout_s=30)
    assert result_item(stack, disclosure_id) is not None, "the sealed result waits in its own table"

    result = as_user(stack, professional, "GET", f"/disclosures/{disclosure_id}/result")
    assert result.status_code == 200
    assert result.json()["identifier"] == caller
    again = as_user(stack, professional, "GET", f"/disclosures/{disclosure_id}/result")
    assert again.status_code == 410
    assert result_item(stack, disclosure_id) is None, "taken once, it is gone"

    shown = as_user(stack, compliance, "GET", f"/disclosures/{disclosure_id}").json()
    events = [(entry["event"], entry["actor"]) for entry in shown["timeline"]]
    assert ("release_confirmed", "demo-custodian") in events
    audit = as_user(stack, compliance, "GET", "/audit?limit=500").json()["items"]
    actions = [entry["action"] for entry in audit if entry["subject"] == disclosure_id]
    assert actions == [
        "disclosure.requested",
        "disclosure.approved",
        "disclosure.release_requested",
        "disclosure.release_confirmed",
        "disclosure.decrypted",
        "disclosure.delivered",
        "disclosure.retrieved",
    ]
    assert as_user(stack, compliance, "GET", "/audit/verify").json()["ok"] is True

    history = json.dumps(history_events(stack, disclosure_id), default=str)
    assert "RecordDecrypted" in history, "the history was read (the check below is not vacuous)"
    seen = history + json.dumps(shown) + json.dumps(audit) + release.text
    assert [form for form in formats(caller) if form in seen] == [], "no identifier in the workflow's history"


def test_a_release_refused_by_the_custodian_yields_nothing(stack: LocalStack) -> None:
    professional, disclosure_id, _ = approved(stack, "+31687650005")
    custodian = token_of(stack, "custodian")
    wait_until(
        lambda: as_custodian(stack, custodian, "GET", f"/releases/{disclosure_id}").status_code == 200,
        timeout_s=30,
    )
    refused = as_custodian(
        stack, custodian, "POST", f"/releases/{disclosure_id}/refuse", {"reason": "No consent on file."}
    )
    assert refused.status_code == 200, refused.text
    wait_until(lambda: status_of(stack, professional, disclosure_id) == "refused", timeout_s=30)
    assert as_user(stack, professional, "GET", f"/disclosures/{disclosure_id}/result").status_code == 410
    late = as_custodian(stack, custodian, "POST", f"/releases/{disclosure_id}/confirm", {"reason": "Oops."})
    assert late.status_code == 409
    assert result_item(stack, disclosure_id) is None


def test_a_release_nobody_at_the_custodian_decides_in_time_expires(stack: LocalStack) -> None:
    """As for approvals: past the custodian's deadline (600 s locally) the request is expired, 409 after."""
    professional, disclosure_id, _ = approved(stack, "+31687650006")
    custodian = token_of(stack, "custodian")
    wait_until(
        lambda: as_custodian(stack, custodian, "GET", f"/releases/{disclosure_id}").status_code == 200,
        timeout_s=30,
    )
    clock.advance(timedelta(seconds=601))
    try:
        wait_until(lambda: status_of(stack, professional, disclosure_id) == "expired", timeout_s=30)
        late = as_custodian(
            stack, custodian, "POST", f"/releases/{disclosure_id}/confirm", {"reason": "Too late."}
        )
        assert late.status_code == 409
        assert as_user(stack, professional, "GET", f"/disclosures/{disclosure_id}/result").status_code == 410
    finally:
        clock.reset()
    assert result_item(stack, disclosure_id) is None


def test_a_request_expires_when_nobody_decides_in_time(stack: LocalStack) -> None:
    professional = token_of(stack, "professional")
    contact_id = called_contact(stack, "+31687650002")
    disclosure_id = as_user(stack, professional, "POST", "/disclosures", consent(contact_id)).json()["id"]

    wait_until(lambda: status_of(stack, professional, disclosure_id) == "expired", timeout_s=30)
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
    wait_until(lambda: status_of(stack, both, disclosure_id) == "awaiting_decision", timeout_s=30)
    own = as_user(
        stack, both, "POST", f"/disclosures/{disclosure_id}/approve", {"reason": "I approve my own."}
    )
    assert own.status_code == 403
    assert status_of(stack, both, disclosure_id) == "awaiting_decision"


def awaiting_decision(stack: LocalStack, caller: str) -> tuple[str, str]:
    """A consent request for a new call from `caller`, waiting for compliance: (professional token, id)."""
    professional = token_of(stack, "professional")
    contact_id = called_contact(stack, caller)
    created = as_user(stack, professional, "POST", "/disclosures", consent(contact_id))
    assert created.status_code == 202, created.text
    disclosure_id = created.json()["id"]
    wait_until(lambda: status_of(stack, professional, disclosure_id) == "awaiting_decision", timeout_s=30)
    return professional, disclosure_id


def stored_request(stack: LocalStack, disclosure_id: str) -> dict[str, Any]:
    item: dict[str, Any] = stack.client("dynamodb").get_item(
        TableName=stack.provisioned.physical["DisclosuresTable"],
        Key={"pk": {"S": f"disclosure#{disclosure_id}"}, "sk": {"S": "request"}},
        ConsistentRead=True,
    )["Item"]
    return item


def unavailable(self: StepFunctionResponse) -> None:
    """SendTaskSuccess as Step Functions answers it when it fails (a code botocore does not retry)."""
    raise JsonRESTError("ServiceUnavailable", "injected")


def approve(stack: LocalStack, compliance: str, disclosure_id: str) -> requests.Response:
    return as_user(
        stack, compliance, "POST", f"/disclosures/{disclosure_id}/approve", {"reason": "Consent checked."}
    )


def test_an_approval_whose_callback_failed_moves_the_workflow_on_when_sent_again(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    compliance = token_of(stack, "compliance")
    professional, disclosure_id = awaiting_decision(stack, "+31687650007")
    real = StepFunctionResponse.send_task_success
    monkeypatch.setattr(StepFunctionResponse, "send_task_success", unavailable)
    first = approve(stack, compliance, disclosure_id)  # within the four-second deadline, both
    item = stored_request(stack, disclosure_id)
    monkeypatch.setattr(StepFunctionResponse, "send_task_success", real)
    again = approve(stack, compliance, disclosure_id)

    assert first.status_code == 503, first.text
    assert (item["status"]["S"], item["callback_pending"]["BOOL"]) == ("approved", True)
    assert again.status_code == 200, again.text
    assert again.json()["callback_pending"] is False
    wait_until(lambda: status_of(stack, professional, disclosure_id) == "awaiting_custodian", timeout_s=30)
    audit = as_user(stack, compliance, "GET", "/audit?limit=500").json()["items"]
    actions = [entry["action"] for entry in audit if entry["subject"] == disclosure_id]
    assert actions == ["disclosure.requested", "disclosure.approved", "disclosure.release_requested"]
    assert "token_ciphertext" not in stored_request(stack, disclosure_id)


def test_an_approval_that_never_reached_the_workflow_expires_at_its_deadline(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    compliance = token_of(stack, "compliance")
    professional, disclosure_id = awaiting_decision(stack, "+31687650008")
    monkeypatch.setattr(StepFunctionResponse, "send_task_success", unavailable)
    assert approve(stack, compliance, disclosure_id).status_code == 503
    wait_until(lambda: status_of(stack, professional, disclosure_id) == "expired", timeout_s=30)
    shown = as_user(stack, compliance, "GET", f"/disclosures/{disclosure_id}").json()
    assert shown["timeline"][-1]["reason"] == "the approval did not reach the workflow before the deadline"
    assert shown["callback_pending"] is False
    assert approve(stack, compliance, disclosure_id).status_code == 409
    assert as_user(stack, professional, "GET", f"/disclosures/{disclosure_id}/result").status_code == 410
