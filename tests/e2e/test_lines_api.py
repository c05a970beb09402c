"""The line registry over HTTP against the running local stack (issue: foundation, must show)."""

from __future__ import annotations

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
