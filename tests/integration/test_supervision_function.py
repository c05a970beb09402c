"""SupervisionFunction over moto (P9): role rules, the record, the audit log, and the provider adapters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext, response_json, rest_event
from botocore.stub import Stubber
from conftest import create_table_from_template

from helpline.dal.audit import audit_log
from helpline.dal.dynamodb import to_item
from helpline.logic.ports import DependencyError
from helpline.models.contacts import ContactRecord
from helpline.providers.supervision import ConnectSupervision, NoLiveMonitoring, TwilioSupervision

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
CALL = "c" * 32
CHAT = "d" * 32


@pytest.fixture
def handler(
    contacts_table: str, monkeypatch: pytest.MonkeyPatch, load_handler: Callable[[str], Handler]
) -> Handler:
    for name, variable in (("SupervisionTable", "SUPERVISION_TABLE"), ("AuditTable", "AUDIT_TABLE")):
        monkeypatch.setenv(variable, create_table_from_template(name))
    for contact_id, channel in ((CALL, "voice"), (CHAT, "chat")):
        record = ContactRecord(
            id=contact_id,
            channel=channel,
            line="national",
            started_at=datetime(2026, 3, 1, tzinfo=UTC),
            region="Utrecht",
            limit_outcome="allowed",
            identifier_ciphertext="Q0lQSEVS",
            identifier_retain_until="2027-01-01",
        )
        boto3.client("dynamodb").put_item(
            TableName=contacts_table, Item=to_item(record.model_dump(mode="json", exclude_none=True))
        )
    return load_handler("functions/supervision/app.py")


def post(groups: str, role: str, contact: str = CALL, mode: str = "listen") -> dict[str, Any]:
    body = {"contact_id": contact, "mode": mode, "role": role}
    return rest_event("POST", "/supervision", username="sup-1", groups=groups, body=body)


def call(handler: Handler, event: dict[str, Any]) -> tuple[int, Any]:
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


@pytest.mark.parametrize(
    ("group", "role"),
    [("[professional]", "professional"), ("[mentor]", "mentor"), ("[volunteer]", "trainee")],
)
def test_each_group_listens_in_its_role_and_it_is_recorded(handler: Handler, group: str, role: str) -> None:
    status, body = call(handler, post(group, role))
    assert status == 200
    assert body["monitoring"] == "recorded-only"
    assert (body["record"]["supervisor"], body["record"]["role"]) == ("sup-1", role)
    (entry,) = audit_log().entries()
    assert (entry.actor, entry.action, entry.subject, entry.details["role"]) == (
        "sup-1",
        "supervision.recorded",
        CALL,
        role,
    )


@pytest.mark.parametrize(("group", "role"), [("[volunteer]", "mentor"), ("[mentor]", "professional")])
def test_a_role_the_group_does_not_fit_is_403_with_a_plain_message(
    handler: Handler, group: str, role: str
) -> None:
    status, body = call(handler, post(group, role))
    assert status == 403
    assert "volunteers only as trainee" in body["message"]
    assert audit_log().entries() == []


def test_a_group_outside_the_route_is_403(handler: Handler) -> None:
    assert call(handler, post("[staff]", "mentor"))[0] == 403


def test_an_unknown_contact_is_404_and_a_wrong_mode_422(handler: Handler) -> None:
    assert call(handler, post("[mentor]", "mentor", contact="e" * 32)) == (
        404,
        {"message": "No such contact"},
    )
    assert call(handler, post("[mentor]", "mentor", contact=CHAT, mode="listen"))[0] == 422
    assert call(handler, post("[mentor]", "mentor", contact=CHAT, mode="read"))[0] == 200


def test_staff_read_the_record_newest_first_and_nobody_else(handler: Handler) -> None:
    call(handler, post("[mentor]", "mentor"))
    call(handler, post("[volunteer]", "trainee"))
    status, body = call(handler, rest_event("GET", "/supervision", groups="[staff]"))
    assert status == 200
    # Both in the same second: the order within a second follows the random record id.
    assert sorted(item["role"] for item in body["items"]) == ["mentor", "trainee"]
    assert "identifier" not in str(body)
    assert call(handler, rest_event("GET", "/supervision", groups="[mentor]"))[0] == 403


def test_the_record_pages(handler: Handler) -> None:
    for _ in range(3):
        call(handler, post("[mentor]", "mentor"))
    event = rest_event("GET", "/supervision", groups="[staff]")
    event["queryStringParameters"] = {"limit": "2"}
    event["multiValueQueryStringParameters"] = {"limit": ["2"]}
    status, first = call(handler, event)
    assert (status, len(first["items"])) == (200, 2)
    event["queryStringParameters"] = {"limit": "2", "next_token": first["next_token"]}
    event["multiValueQueryStringParameters"] = {"limit": ["2"], "next_token": [first["next_token"]]}
    status, second = call(handler, event)
    assert (status, len(second["items"])) == (200, 1)
    assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])


def test_no_live_monitoring_records_only() -> None:
    assert NoLiveMonitoring().start_monitoring(CALL, "listen", "sup-1") == "recorded-only"


def test_connect_silent_monitor_with_stubber() -> None:
    client = boto3.client("connect", region_name="eu-west-1")
    provider = ConnectSupervision(
        client,
        "instance-1",
        resolve_contact=lambda cid: f"connect-{cid[:4]}",
        user_id_for=lambda u: f"user-{u}",
    )
    with Stubber(client) as stub:
        stub.add_response(
            "monitor_contact",
            {"ContactId": "monitor-leg", "ContactArn": "arn:aws:connect:eu-west-1:1:instance/i/contact/m"},
            {
                "InstanceId": "instance-1",
                "ContactId": "connect-cccc",
                "UserId": "user-sup-1",
                "AllowedMonitorCapabilities": ["SILENT_MONITOR"],
            },
        )
        assert provider.start_monitoring(CALL, "listen", "sup-1") == "connect-silent-monitor"
        stub.add_client_error("monitor_contact", "AccessDeniedException")
        with pytest.raises(DependencyError, match="MonitorContact"):
            provider.start_monitoring(CALL, "listen", "sup-1")


class FakeTwilio:
    def __init__(self) -> None:
        self.created: list[tuple[str, dict[str, Any]]] = []

    def conferences(self, sid: str) -> Any:
        outer = self

        class Participants:
            def create(self, **kwargs: Any) -> None:
                outer.created.append((sid, kwargs))

        class Conference:
            participants = Participants()

        return Conference()


def test_twilio_adds_a_muted_participant_without_a_beep() -> None:
    twilio = FakeTwilio()
    provider = TwilioSupervision(
        twilio,
        resolve_conference=lambda cid: "CF123",
        endpoint_for=lambda u: f"client:{u}",
        caller_id="+3188",
    )
    assert provider.start_monitoring(CALL, "listen", "sup-1") == "twilio-muted-participant"
    assert twilio.created == [
        ("CF123", {"from_": "+3188", "to": "client:sup-1", "muted": True, "beep": "false"})
    ]
    assert provider.start_monitoring(CHAT, "read", "sup-1") == "recorded-only"
    assert len(twilio.created) == 1
