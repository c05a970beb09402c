"""The line registry over HTTP against the running local stack (issue: foundation, must show).

Four eyes on lines (issue 9, must show; DESIGN.md "No single insider", P11): an office-line proposal
has no effect until a second admin approves it, the proposer's own approval is 403, a duplicate
address is 409, and the audit chain holds both steps.
"""

from __future__ import annotations

from typing import Any

import boto3
import requests
from running_stack import RunningStack

SEEDED = {"national-helpline", "web-chat", "email", "office"}


def get_lines(stack: RunningStack, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{stack.api}/lines", headers=headers, timeout=10)


def test_outputs_follow_the_design_contract(local_stack: RunningStack) -> None:
    outputs = local_stack.outputs
    for key in (
        "ApiUrl",
        "AwsEndpoint",
        "Region",
        "UserPoolId",
        "UserPoolClientId",
        "DemoUsers",
        "CustodianApiUrl",
        "CustodianUserPoolId",
        "CustodianUserPoolClientId",
    ):
        assert outputs[key], key
    assert outputs["TwilioAuthToken"]
    assert outputs["ChatWebhookSecret"]
    assert outputs["ApiUrl"].startswith("http://127.0.0.1:")
    assert outputs["CustodianApiUrl"].startswith("http://127.0.0.1:")
    assert outputs["CustodianApiUrl"] != outputs["ApiUrl"]
    assert outputs["CustodianUserPoolId"] != outputs["UserPoolId"]
    assert set(outputs["DemoUsers"]) == {
        "volunteer",
        "mentor",
        "staff",
        "professional",
        "compliance",
        "admin",
        "custodian",
    }


def test_lines_without_a_token_is_401(local_stack: RunningStack) -> None:
    assert get_lines(local_stack, None).status_code == 401


def test_lines_with_a_forged_token_is_401(local_stack: RunningStack) -> None:
    token = local_stack.token("staff")
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    assert get_lines(local_stack, forged).status_code == 401


def test_lines_for_a_volunteer_is_403(local_stack: RunningStack) -> None:
    response = get_lines(local_stack, local_stack.token("volunteer"))
    assert response.status_code == 403
    assert "message" in response.json()


def test_lines_for_staff_lists_the_seeded_registry(local_stack: RunningStack) -> None:
    response = get_lines(local_stack, local_stack.token("staff"))
    assert response.status_code == 200
    items = {item["line_id"]: item for item in response.json()["items"]}
    assert set(items) >= SEEDED
    assert items["national-helpline"]["address"] == "+31881234000"
    assert items["office"]["kind"] == "office"


def test_put_line_with_bad_input_is_400_naming_the_field(local_stack: RunningStack) -> None:
    response = requests.put(
        f"{local_stack.api}/lines/new-line",
        json={
            "address": "+31 30 123 4567",
            "kind": "hotline",
            "channel": "voice",
            "display_name": "X",
        },
        headers={"Authorization": f"Bearer {local_stack.token('admin')}"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "kind" in response.text
    assert "+31 30 123 4567" not in response.text
    assert "+31301234567" not in response.text


def test_put_line_as_staff_is_403(local_stack: RunningStack) -> None:
    response = requests.put(
        f"{local_stack.api}/lines/new-line",
        json={
            "address": "+31 30 123 4567",
            "kind": "helpline",
            "channel": "voice",
            "display_name": "Utrecht",
        },
        headers={"Authorization": f"Bearer {local_stack.token('staff')}"},
        timeout=10,
    )
    assert response.status_code == 403


def test_put_line_as_admin_is_stored_and_listed(local_stack: RunningStack) -> None:
    line = {
        "address": "030 123 4567",
        "kind": "helpline",
        "channel": "voice",
        "display_name": "Regio Utrecht",
    }
    stored = requests.put(
        f"{local_stack.api}/lines/regio-utrecht",
        json=line,
        headers={"Authorization": local_stack.token("admin")},  # the bare token works too
        timeout=10,
    )
    assert stored.status_code == 200
    assert stored.json()["address"] == "+31301234567"

    listed = get_lines(local_stack, local_stack.token("staff")).json()["items"]
    assert {"line_id": "regio-utrecht", "kind": "helpline", "channel": "voice"}.items() <= next(
        item for item in listed if item["line_id"] == "regio-utrecht"
    ).items()


def test_request_log_has_one_line_per_request_and_no_values(local_stack: RunningStack) -> None:
    token = local_stack.token("staff")
    get_lines(local_stack, token)
    log = local_stack.log()
    assert "GET /lines 200" in log
    assert "PUT /lines/{line_id} 400" in log
    assert token not in log
    assert "030 123 4567" not in log
    assert "+31301234567" not in log


SECOND_ADMIN = ("second-admin", "Second-admin-pass-1")


def second_admin_token(stack: RunningStack) -> str:
    """A second admin in the stand-in's user pool (the local stack has one demo admin)."""
    outputs = stack.outputs
    cognito = boto3.client(
        "cognito-idp",
        region_name=outputs["Region"],
        endpoint_url=outputs["AwsEndpoint"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    pool = outputs["UserPoolId"]
    username, password = SECOND_ADMIN
    existing = {user["Username"] for user in cognito.list_users(UserPoolId=pool)["Users"]}
    if username not in existing:
        cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
        cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName="admin")
    result = cognito.initiate_auth(
        ClientId=outputs["UserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return str(result["AuthenticationResult"]["IdToken"])


def as_token(stack: RunningStack, token: str, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(
        method, f"{stack.api}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_an_office_line_proposal_has_no_effect_until_a_second_admin_approves_it(
    local_stack: RunningStack,
) -> None:
    first, second = local_stack.token("admin"), second_admin_token(local_stack)
    staff = local_stack.token("staff")
    office = {
        "address": "+31 20 765 4321",
        "kind": "office",
        "channel": "voice",
        "display_name": "Secretariaat",
    }

    proposed = as_token(local_stack, first, "PUT", "/lines/secretariaat", office)
    assert proposed.status_code == 202
    change_id = proposed.json()["change_id"]
    assert proposed.json() == {"change_id": change_id, "status": "pending"}
    listed = {item["line_id"] for item in get_lines(local_stack, staff).json()["items"]}
    assert "secretariaat" not in listed  # no effect yet

    changes = as_token(local_stack, second, "GET", "/lines/changes").json()["items"]
    statuses = [change["status"] for change in changes]
    assert statuses == sorted(statuses, key=lambda status: status != "pending")  # pending first
    assert next(change for change in changes if change["change_id"] == change_id)["status"] == "pending"

    own = as_token(local_stack, first, "POST", f"/lines/changes/{change_id}/approve", {})
    assert own.status_code == 403
    assert "secretariaat" not in {item["line_id"] for item in get_lines(local_stack, staff).json()["items"]}

    approved = as_token(local_stack, second, "POST", f"/lines/changes/{change_id}/approve", {})
    assert approved.status_code == 200
    assert approved.json()["status"] == "applied"
    lines = {item["line_id"]: item for item in get_lines(local_stack, staff).json()["items"]}
    assert lines["secretariaat"]["kind"] == "office"
    assert lines["secretariaat"]["address"] == "+31207654321"

    again = as_token(local_stack, first, "POST", f"/lines/changes/{change_id}/reject", {"reason": "te laat"})
    assert again.status_code == 409

    audit = as_token(local_stack, local_stack.token("compliance"), "GET", "/audit").json()["items"]
    steps = [
        (entry["actor"], entry["action"])
        for entry in audit
        if entry["subject"] == "secretariaat" and entry["details"].get("change_id") == change_id
    ]
    admin = local_stack.outputs["DemoUsers"]["admin"]["username"]
    assert steps == [
        (admin, "line.change_proposed"),
        (SECOND_ADMIN[0], "line.change_approved"),
        (SECOND_ADMIN[0], "line.change_applied"),
    ]


def test_a_duplicate_address_is_409_naming_the_line_that_holds_it(local_stack: RunningStack) -> None:
    admin = local_stack.token("admin")
    # The seeded national helpline's number, as an office line under another id (issue 9).
    duplicate = {"address": "088 123 4000", "kind": "office", "channel": "voice", "display_name": "Kantoor 2"}
    refused = as_token(local_stack, admin, "PUT", "/lines/shadow-office", duplicate)
    assert refused.status_code == 409
    assert "national-helpline" in refused.json()["message"]
    same_kind = as_token(
        local_stack, admin, "PUT", "/lines/shadow-helpline", {**duplicate, "kind": "helpline"}
    )
    assert same_kind.status_code == 409
    pending = as_token(local_stack, admin, "GET", "/lines/changes").json()["items"]
    assert all(change["line_id"] not in {"shadow-office", "shadow-helpline"} for change in pending)


def test_the_seeded_office_line_is_on_the_audit_chain(local_stack: RunningStack) -> None:
    audit = as_token(local_stack, local_stack.token("compliance"), "GET", "/audit").json()["items"]
    seeded = {entry["subject"]: entry for entry in audit if entry["action"] == "line.seeded"}
    assert seeded["office"]["details"]["kind"] == "office"
    assert seeded["office"]["actor"] == "local-stack-seed"
