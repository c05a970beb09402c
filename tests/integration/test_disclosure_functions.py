"""The disclosure functions of both parties over moto (P3, P6, P7): refusals (grounds that mean
something: who else is in danger, plausible dates, a consent recorded by a user of the pool, no
identifier in a legal order's particulars), free text stored with contact details replaced by tags,
four eyes, the sealed token, the custodian's officer confirming before its decrypt function opens
anything, and the one-time delivery; no identifier in any answer, item or error. A failure of KMS or
Step Functions between two steps (injected into the boto3 clients) loses nothing and leaves nothing
stuck: the same call again finishes it.

The state machine itself is not run here (test_disclosure_workflow.py runs it); each state's function is
called as the state would call it, and what the disclosures function tells Step Functions is captured
from the client's calls. Both parties live in one moto account, as in the local stack; the custodian
reaches the organisation's tables by ARN.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext, response_json, rest_event
from botocore.exceptions import ClientError
from conftest import REPO_ROOT, create_table_from_template
from custodian_support import (
    CALL_SID,
    CUSTODIAN_TEMPLATE,
    LEGAL_ORDER,
    NUMBER,
    create_period_keys,
    custodian_environment,
    leaks,
    put_contact,
)
from moto.core.config import default_user_config

from helpline import clock
from helpline.dal.audit import audit_log
from helpline.dal.disclosure_crypto import disclosure_kms_client
from helpline.dal.dynamodb import to_item
from helpline.dal.workflow import stepfunctions_client
from helpline.models.office import OfficeContact

Handler = Callable[[dict[str, Any], Any], Any]
CONTACT = "c" * 32
OTHER = "b" * 32
ERASED = "e" * 32
PAST_RETENTION = "f" * 31 + "0"
OFFICE = "0" * 32
TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token"
DANGER = {"category": "other_named_person", "description": "the caller's neighbour, threatened tonight"}
STAFF = ("pro-1", "vol-1")
"""Users of the organisation's pool (moto's Cognito): who may have recorded a consent."""


def order_of_today() -> dict[str, Any]:
    """LEGAL_ORDER issued today (our clock): the contacts here are made now, so a demand of an earlier
    month would predate them and be refused."""
    return {**LEGAL_ORDER, "issued_on": clock.now().date().isoformat()}


def consent(**changes: Any) -> dict[str, Any]:
    return {
        "recorded_by": "vol-1",
        "recorded_at": clock.now().isoformat(),
        "method": "chat",
        "statement": "The chatter asked us to pass their details to their GP.",
        **changes,
    }


class Stack:
    def __init__(
        self,
        tables: dict[str, str],
        keys: dict[str, str],
        handlers: dict[str, Handler],
        machine_arn: str,
        queue_url: str,
    ) -> None:
        self.tables = tables
        self.keys = keys
        self.handlers = handlers
        self.machine_arn = machine_arn
        self.queue_url = queue_url
        self.sfn_calls: list[tuple[str, dict[str, Any]]] = []

    def api(
        self,
        method: str,
        resource: str,
        username: str,
        groups: str,
        *,
        body: Any = None,
        disclosure_id: str | None = None,
    ) -> tuple[int, Any]:
        path = resource.replace("{id}", disclosure_id) if disclosure_id else resource
        event = rest_event(
            method,
            resource,
            path,
            username=username,
            groups=groups,
            body=body,
            path_parameters={"id": disclosure_id} if disclosure_id else None,
        )
        response = self.handlers["api"](event, FakeLambdaContext())
        return response["statusCode"], response_json(response)

    def request(self, contact: str = CONTACT, **changes: Any) -> tuple[int, Any]:
        body: dict[str, Any] = {
            "contact_id": contact,
            "basis": "legal_order_126nc",
            "legal_order": order_of_today(),
            "third_party_danger": DANGER,
        }
        body.update(changes)
        body = {key: value for key, value in body.items() if value is not None}
        return self.api("POST", "/disclosures", "pro-1", "professional", body=body)

    def step(self, step: str, disclosure_id: str, **extra: str) -> Any:
        return self.handlers["steps"](
            {"step": step, "disclosure_id": disclosure_id, **extra}, FakeLambdaContext()
        )

    def custodian(self, method: str, resource: str, disclosure_id: str, body: Any = None) -> tuple[int, Any]:
        """The custodian's API, as its officer `officer-1` (group `custodian` of its own user pool)."""
        event = rest_event(
            method,
            resource,
            resource.replace("{disclosure_id}", disclosure_id),
            username="officer-1",
            groups="custodian",
            body=body,
            path_parameters={"disclosure_id": disclosure_id},
        )
        response = self.handlers["custodian_api"](event, FakeLambdaContext())
        return response["statusCode"], response_json(response)

    def ask_custodian(self, disclosure_id: str, contact_id: str = CONTACT) -> Any:
        return self.handlers["decrypt"](
            {"disclosure_id": disclosure_id, "contact_id": contact_id}, FakeLambdaContext()
        )

    def approved_and_asked(self, contact: str = CONTACT) -> tuple[str, dict[str, Any]]:
        """Requested, approved, the release prepared and taken in by the custodian (as the workflow does)."""
        disclosure_id = self.waiting(contact)
        status, body = self.decide(disclosure_id, "approve")
        assert status == 200, body
        release = self.step("prepare_release", disclosure_id)
        assert self.handlers["intake"](release, FakeLambdaContext())["status"] == "pending"
        return disclosure_id, release

    def waiting(self, contact: str = CONTACT) -> str:
        status, body = self.request(contact)
        assert status == 202, body
        self.step("record_requested", body["id"])
        self.step("await_decision", body["id"], task_token=TOKEN)
        return str(body["id"])

    def decide(
        self,
        disclosure_id: str,
        decision: str,
        username: str = "comp-1",
        groups: str = "compliance",
        reason: str = "demand checked against the register",
    ) -> tuple[int, Any]:
        return self.api(
            "POST",
            f"/disclosures/{{id}}/{decision}",
            username,
            groups,
            body={"reason": reason},
            disclosure_id=disclosure_id,
        )

    def item(self, disclosure_id: str, sk: str = "request") -> dict[str, Any] | None:
        table = self.tables["DISCLOSURE_RESULTS_TABLE" if sk == "result" else "DISCLOSURES_TABLE"]
        found = boto3.client("dynamodb").get_item(
            TableName=table,
            Key=to_item({"pk": f"disclosure#{disclosure_id}", "sk": sk}),
        )
        item: dict[str, Any] | None = found.get("Item")
        return item

    def everything_stored(self) -> str:
        dump = ""
        client = boto3.client("dynamodb")
        for variable in ("DISCLOSURES_TABLE", "DISCLOSURE_RESULTS_TABLE", "AUDIT_TABLE"):
            dump += json.dumps(client.scan(TableName=self.tables[variable])["Items"])
        return dump

    def audit_actions(self) -> list[str]:
        return [entry.action for entry in audit_log().entries()]


@pytest.fixture
def stack(aws: None, monkeypatch: pytest.MonkeyPatch, load_handler: Callable[[str], Handler]) -> Stack:
    # Each state is called by hand here: moto must not run the machine (a local stack may have set it to).
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": False})
    monkeypatch.setenv("CUSTODIAN_POLL_SECONDS", "5")
    tables = {}
    for logical_id, variable in (
        ("DisclosuresTable", "DISCLOSURES_TABLE"),
        ("DisclosureResultsTable", "DISCLOSURE_RESULTS_TABLE"),
        ("ContactsTable", "CONTACTS_TABLE"),
        ("OfficeContactsTable", "OFFICE_CONTACTS_TABLE"),
        ("AuditTable", "AUDIT_TABLE"),
    ):
        tables[variable] = create_table_from_template(logical_id)
        monkeypatch.setenv(variable, tables[variable])
    tables["RELEASES_TABLE"] = custodian_environment(
        monkeypatch, tables["CONTACTS_TABLE"], tables["DISCLOSURE_RESULTS_TABLE"]
    )
    kms = boto3.client("kms")
    keys = {"DISCLOSURE_KEY_ARN": kms.create_key()["KeyMetadata"]["Arn"]}
    monkeypatch.setenv("DISCLOSURE_KEY_ARN", keys["DISCLOSURE_KEY_ARN"])
    definition = (REPO_ROOT / "infrastructure/statemachines/disclosure.asl.json").read_text()
    for name, function in (
        ("DisclosureStepsFunctionArn", "s"),
        ("CustodianReleaseIntakeFunctionArn", "i"),
        ("CustodianDecryptFunctionArn", "d"),
    ):
        definition = definition.replace(
            "${" + name + "}", f"arn:aws:lambda:eu-west-1:123456789012:function:{function}"
        )
    machine_arn = boto3.client("stepfunctions").create_state_machine(
        name="disclosure", definition=definition, roleArn="arn:aws:iam::123456789012:role/disclosure"
    )["stateMachineArn"]
    monkeypatch.setenv("DISCLOSURE_STATE_MACHINE_ARN", machine_arn)
    topic = boto3.client("sns").create_topic(Name="compliance")["TopicArn"]
    queue_url = boto3.client("sqs").create_queue(QueueName="compliance-inbox")["QueueUrl"]
    queue_arn = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    boto3.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setenv("COMPLIANCE_TOPIC_ARN", topic)
    monkeypatch.setenv("DISCLOSURE_APPROVAL_SECONDS", "600")
    monkeypatch.delenv("DISCLOSURE_APPROVALS_NEEDED", raising=False)
    cognito = boto3.client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="staff")["UserPool"]["Id"]
    for username in STAFF:
        cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
    monkeypatch.setenv("USER_POOL_ID", pool_id)

    now = clock.now()
    old = now - timedelta(days=400)
    create_period_keys([now, old])
    kept_until = now.date() + timedelta(days=365)
    put_contact(tables["CONTACTS_TABLE"], CONTACT, now, kept_until)
    put_contact(tables["CONTACTS_TABLE"], OTHER, now, kept_until, sealed_for=CONTACT)
    put_contact(tables["CONTACTS_TABLE"], ERASED, old, None)
    # Past its last day, but its ciphertext not swept yet (or restored from a backup): gone all the same.
    put_contact(tables["CONTACTS_TABLE"], PAST_RETENTION, old, now.date() - timedelta(days=1))
    dynamodb = boto3.client("dynamodb")
    office = OfficeContact(
        id=OFFICE,
        channel="voice",
        line="office",
        caller="+31201234567",
        started_at=datetime(2026, 3, 1, tzinfo=UTC),
        expires_at=1_900_000_000,
    )
    dynamodb.put_item(TableName=tables["OFFICE_CONTACTS_TABLE"], Item=to_item(office.model_dump(mode="json")))

    handlers = {
        "api": load_handler("functions/disclosures/app.py"),
        "steps": load_handler("functions/disclosure_steps/app.py"),
        "decrypt": load_handler("functions/disclosure_decrypt/app.py"),
        "intake": load_handler("functions/release_intake/app.py"),
        "custodian_api": load_handler("functions/custodian_releases/app.py"),
    }
    built = Stack(tables, keys, handlers, machine_arn, queue_url)

    def capture(event_name: str, params: dict[str, Any], **_: Any) -> None:
        built.sfn_calls.append((event_name.rsplit(".", 1)[-1], params))

    stepfunctions_client().meta.events.register("provide-client-params.sfn", capture)
    return built


def test_a_disclosure_from_request_through_the_custodian_to_one_time_delivery(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    status, created = stack.request()
    assert status == 202
    assert created["status"] == "requested"
    disclosure_id = created["id"]
    [(operation, params)] = stack.sfn_calls
    assert operation == "StartExecution"
    assert params["name"] == disclosure_id
    assert json.loads(params["input"]) == {
        "disclosure_id": disclosure_id,
        "approval_timeout_seconds": 600,
        "custodian_poll_seconds": 5,
    }

    stack.step("record_requested", disclosure_id)
    stack.step("await_decision", disclosure_id, task_token=TOKEN)
    item = stack.item(disclosure_id)
    assert item is not None
    assert item["status"]["S"] == "awaiting_decision"
    assert TOKEN not in json.dumps(item)
    token_blob = base64.b64decode(item["token_ciphertext"]["S"])
    opened = boto3.client("kms").decrypt(
        CiphertextBlob=token_blob,
        EncryptionContext={"purpose": "workflow-token", "disclosure_id": disclosure_id},
    )
    assert opened["Plaintext"].decode() == TOKEN
    [message] = boto3.client("sqs").receive_message(QueueUrl=stack.queue_url)["Messages"]
    assert disclosure_id in message["Body"]
    assert TOKEN not in message["Body"]
    assert CONTACT not in message["Body"]

    # Four eyes: the requester may not approve, not even with the compliance group too.
    status, body = stack.decide(disclosure_id, "approve", "pro-1", "professional,compliance")
    assert status == 403
    assert "requester" in body["message"]
    status, body = stack.decide(disclosure_id, "approve")
    assert status == 200
    assert body["status"] == "approved"
    assert stack.sfn_calls[-1] == (
        "SendTaskSuccess",
        {"taskToken": TOKEN, "output": '{"decision": "approved"}'},
    )

    # The organisation asks the custodian (PrepareRelease, RequestCustodianRelease): ids and grounds only.
    release = stack.step("prepare_release", disclosure_id)
    assert release == {
        "disclosure_id": disclosure_id,
        "contact_id": CONTACT,
        "basis": "legal_order_126nc",
        "grounds": {"legal_order": order_of_today(), "consent": None},
        "approved_by": ["comp-1"],
        "approved_at": body["approved_at"],
    }
    intake = stack.handlers["intake"](release, FakeLambdaContext())
    assert intake == {"disclosure_id": disclosure_id, "status": "pending"}
    shown = stack.api("GET", "/disclosures/{id}", "pro-1", "professional", disclosure_id=disclosure_id)[1]
    assert shown["status"] == "awaiting_custodian"

    # Approved by the organisation, not yet confirmed by the custodian: nothing to deliver (P7).
    assert stack.ask_custodian(disclosure_id) == {"disclosure_id": disclosure_id, "status": "pending"}
    assert stack.item(disclosure_id, "result") is None
    status, _ = stack.api(
        "GET", "/disclosures/{id}/result", "pro-1", "professional", disclosure_id=disclosure_id
    )
    assert status == 409

    status, confirmed = stack.custodian(
        "POST", "/releases/{disclosure_id}/confirm", disclosure_id, {"reason": "Demand verified."}
    )
    assert (status, confirmed["status"]) == (200, "confirmed")
    answer = stack.ask_custodian(disclosure_id)
    assert answer == {
        "disclosure_id": disclosure_id,
        "status": "decrypted",
        "decided_by": "officer-1",
        "decided_at": confirmed["decided_at"],
    }
    result_item = stack.item(disclosure_id, "result")
    assert result_item is not None
    assert int(result_item["expires_at"]["N"]) > datetime.now(UTC).timestamp() + 23 * 3600
    stack.step(
        "record_decrypted", disclosure_id, decided_by=answer["decided_by"], decided_at=answer["decided_at"]
    )
    stack.step("record_delivered", disclosure_id)
    assert NUMBER not in stack.everything_stored()
    assert CALL_SID not in stack.everything_stored()

    status, shown = stack.api("GET", "/disclosures/{id}", "comp-1", "compliance", disclosure_id=disclosure_id)
    assert status == 200
    assert shown["status"] == "delivered"
    assert {"token_ciphertext", "token_sha256", "identifier"}.isdisjoint(shown)
    assert ("release_confirmed", "officer-1") in [
        (entry["event"], entry["actor"]) for entry in shown["timeline"]
    ]
    assert NUMBER not in json.dumps(shown)

    status, _ = stack.api(
        "GET", "/disclosures/{id}/result", "pro-2", "professional", disclosure_id=disclosure_id
    )
    assert status == 403
    status, result = stack.api(
        "GET", "/disclosures/{id}/result", "pro-1", "professional", disclosure_id=disclosure_id
    )
    assert status == 200
    assert result.pop("sender_authenticated", None) is None, "a phone contact has no e-mail sender"
    assert result == {
        "identifier": NUMBER,
        "identifier_type": "phone",
        "provider_reference": CALL_SID,
        "basis": "legal_order_126nc",
        "contact_id": CONTACT,
        "disclosure_id": disclosure_id,
    }
    assert stack.item(disclosure_id, "result") is None
    status, body = stack.api(
        "GET", "/disclosures/{id}/result", "pro-1", "professional", disclosure_id=disclosure_id
    )
    assert status == 410
    # The workflow asking again after delivery gets `decrypted`, and no second result.
    assert stack.ask_custodian(disclosure_id)["status"] == "decrypted"
    assert stack.item(disclosure_id, "result") is None
    assert stack.audit_actions() == [
        "disclosure.requested",
        "disclosure.approved",
        "disclosure.release_requested",
        "disclosure.release_confirmed",
        "disclosure.decrypted",
        "disclosure.delivered",
        "disclosure.retrieved",
    ]
    assert NUMBER not in stack.everything_stored()
    logged = capsys.readouterr()
    assert leaks(logged.out, logged.err) == [], "no identifier in any log line"
    assert TOKEN not in logged.out + logged.err
    # The `Disclosures` metric counts each status once, when the request enters it (helpline.metrics).
    entered = [
        document["status"]
        for line in logged.out.splitlines()
        if line.startswith("{") and "Disclosures" in (document := json.loads(line))
    ]
    assert entered == [
        "requested",
        "awaiting_decision",
        "approved",
        "awaiting_custodian",
        "decrypted",
        "delivered",
        "retrieved",
    ]


def _today() -> date:
    return clock.now().date()


def _order_on(on: date) -> dict[str, Any]:
    return {"legal_order": {**LEGAL_ORDER, "issued_on": on.isoformat()}}


def _danger(category: str, description: str = DANGER["description"]) -> dict[str, Any]:
    return {"third_party_danger": {"category": category, "description": description}}


def _particular(name: str, value: str) -> dict[str, Any]:
    return {"legal_order": {**order_of_today(), name: value}}


def _consent(**changes: Any) -> dict[str, Any]:
    return {
        "basis": "consent",
        "legal_order": None,
        "third_party_danger": None,
        "consent": consent(**changes),
    }


Changes = Callable[[], dict[str, Any]]


@pytest.mark.parametrize(
    ("contact", "changes", "expected", "fragment"),
    [
        (CONTACT, lambda: {"danger_to_self_only": True}, 422, "danger only to themselves"),
        (CONTACT, lambda: {"basis": None}, 422, "legal basis"),
        (CONTACT, lambda: {"third_party_danger": None}, 422, "third_party_danger"),
        (CONTACT, lambda: _danger("self"), 422, "names the person themselves"),
        (CONTACT, lambda: _danger("nobody"), 422, "says nobody else is in danger"),
        (CONTACT, lambda: _danger("neighbourhood-watch"), 422, "must say who else is in danger (P6)"),
        (CONTACT, lambda: _danger("public", "Nobody else is at risk."), 422, "description says nobody"),
        (
            CONTACT,
            lambda: _particular("reference", "06-12345678"),
            422,
            "legal_order.reference contains a phone number",
        ),
        (
            CONTACT,
            lambda: _particular("officer_of_justice", "x.y@example.nl"),
            422,
            "legal_order.officer_of_justice contains an e-mail address",
        ),
        (CONTACT, lambda: _order_on(_today() + timedelta(days=2)), 422, "issued_on is in the future"),
        (CONTACT, lambda: _order_on(date(2099, 1, 1)), 422, "issued_on is in the future"),
        (
            CONTACT,
            lambda: _order_on(_today().replace(day=1) - timedelta(days=1)),
            422,
            "issued_on is before the month in which the contact was made",
        ),
        (CONTACT, lambda: _consent(recorded_by="nobody-we-know"), 422, "not a user of the organisation"),
        (CONTACT, lambda: _consent(recorded_at="2099-01-01T00:00:00Z"), 422, "recorded_at is in the future"),
        (
            CONTACT,
            lambda: _consent(recorded_at=(clock.now() - timedelta(hours=1)).isoformat()),
            422,
            "recorded_at is before the contact started",
        ),
        (CONTACT, lambda: _consent(recorded_by="+31612345678"), 422, "recorded_by contains a phone number"),
        (OFFICE, dict, 422, "office-line"),
        (ERASED, dict, 410, "erased by retention"),
        (PAST_RETENTION, dict, 410, "erased by retention"),
        ("f" * 32, dict, 404, "No helpline contact"),
    ],
)
def test_requests_without_grounds_or_identifier_are_refused_naming_the_rule(
    stack: Stack, contact: str, changes: Changes, expected: int, fragment: str
) -> None:
    sent = changes()
    status, body = stack.request(contact, **sent)
    assert status == expected, body
    assert fragment in body["message"]
    for value in ("nobody-we-know", "06-12345678", "x.y@example.nl", "+31612345678", "neighbourhood"):
        assert value not in body["message"], "a refusal never quotes what was sent"
    assert stack.sfn_calls == []
    assert boto3.client("dynamodb").scan(TableName=stack.tables["DISCLOSURES_TABLE"])["Items"] == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"third_party_danger": "A named child in the household is in acute danger."}, "third_party_danger"),
        ({"third_party_danger": {"category": "child"}}, "third_party_danger.description"),
        (_consent(method="carrier-pigeon"), "consent.method"),
        (_consent(method=None), "consent.method"),
    ],
)
def test_a_malformed_request_is_400_naming_the_field_never_the_value(
    stack: Stack, changes: dict[str, Any], field: str
) -> None:
    if "consent" in changes:
        changes["consent"] = {key: value for key, value in changes["consent"].items() if value is not None}
    status, body = stack.request(**changes)
    assert status == 400, body
    assert any(field in problem["field"] for problem in body["errors"]), body
    assert "carrier-pigeon" not in json.dumps(body)
    assert "acute danger" not in json.dumps(body)


def test_a_consent_recorded_by_a_user_of_the_pool_is_stored_with_how_it_was_given(stack: Stack) -> None:
    status, created = stack.request(**_consent())
    assert status == 202, created
    shown = stack.api("GET", "/disclosures/{id}", "pro-1", "professional", disclosure_id=created["id"])[1]
    assert shown["basis"] == "consent"
    assert (shown["consent"]["recorded_by"], shown["consent"]["method"]) == ("vol-1", "chat")
    assert shown["third_party_danger"] is None


def test_a_demand_stores_who_else_is_in_danger_as_category_and_description(stack: Stack) -> None:
    status, created = stack.request(**_danger("people_at_a_place", "A threat to a named school tomorrow."))
    assert status == 202, created
    shown = stack.api("GET", "/disclosures/{id}", "pro-1", "professional", disclosure_id=created["id"])[1]
    assert shown["third_party_danger"] == {
        "category": "people_at_a_place",
        "description": "A threat to a named school tomorrow.",
    }


def test_contact_details_in_free_text_are_stored_as_tags_never_as_given(stack: Stack) -> None:
    """P2, P3: the danger's description, the consent statement and a decision's reason are kept, their
    contact details are not: not in a table, an audit entry, an answer or a log line."""
    given = ("06-12345678", "x.y@example.nl", "203.0.113.7", "+31612345678", "0201234567")
    status, created = stack.request(
        **_danger("child", "Call 06-12345678 or mail x.y@example.nl; he chats from 203.0.113.7.")
    )
    assert status == 202, created
    disclosure_id = created["id"]
    stack.step("record_requested", disclosure_id)
    stack.step("await_decision", disclosure_id, task_token=TOKEN)
    status, decided = stack.decide(disclosure_id, "approve", reason="Officer confirmed on 0201234567.")
    assert status == 200, decided
    assert decided["third_party_danger"]["description"] == (
        "Call [TELEFOONNUMMER] or mail [EMAILADRES]; he chats from [IPADRES]."
    )
    assert decided["approvals"][0]["reason"] == "Officer confirmed on [TELEFOONNUMMER]."
    status, consented = stack.request(**_consent(statement="Pass +31612345678 to my GP."))
    assert status == 202, consented
    shown = stack.api("GET", "/disclosures/{id}", "pro-1", "professional", disclosure_id=consented["id"])[1]
    assert shown["consent"]["statement"] == "Pass [TELEFOONNUMMER] to my GP."
    everything = stack.everything_stored() + json.dumps([created, decided, consented, shown])
    assert [value for value in given if value in everything] == []


def test_the_result_is_read_and_opened_before_it_is_taken_on_condition(stack: Stack) -> None:
    """Opened first, taken after: GetItem, KMS Decrypt, then a conditional DeleteItem of the result."""
    from helpline.dal.dynamodb import dynamodb_client

    disclosure_id = delivered(stack)
    calls: list[str] = []
    results_table = stack.tables["DISCLOSURE_RESULTS_TABLE"]

    def dynamodb_call(params: dict[str, Any], model: Any, **_: Any) -> None:
        if params.get("TableName") == results_table:
            calls.append(model.name + (" on condition" if "ConditionExpression" in params else ""))

    def kms_call(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append(f"{model.name} {params['EncryptionContext']['purpose']}")

    dynamodb_client().meta.events.register("provide-client-params.dynamodb", dynamodb_call)
    disclosure_kms_client().meta.events.register("provide-client-params.kms.Decrypt", kms_call)
    status, result = stack.api(
        "GET", "/disclosures/{id}/result", "pro-1", "professional", disclosure_id=disclosure_id
    )
    assert (status, result["identifier"]) == (200, NUMBER)
    assert calls == ["GetItem", "Decrypt disclosure-result", "DeleteItem on condition"]


def test_a_result_kms_fails_to_open_is_kept_and_the_same_call_again_retrieves_it(stack: Stack) -> None:
    disclosure_id = delivered(stack)
    kms = disclosure_kms_client().meta.events
    failing = service_fails("KMSInternalException", "Decrypt")
    kms.register("before-call.kms.Decrypt", failing)
    status, body = stack.api(
        "GET", "/disclosures/{id}/result", "pro-1", "professional", disclosure_id=disclosure_id
    )
    assert status == 503, body
    assert "it is kept" in body["message"]
    assert stack.item(disclosure_id, "result") is not None, "a failed open destroys nothing"
    assert "disclosure.retrieved" not in stack.audit_actions()
    kms.unregister("before-call.kms.Decrypt", failing)

    status, result = stack.api(
        "GET", "/disclosures/{id}/result", "pro-1", "professional", disclosure_id=disclosure_id
    )
    assert (status, result["identifier"]) == (200, NUMBER)
    assert stack.item(disclosure_id, "result") is None
    assert stack.audit_actions().count("disclosure.retrieved") == 1


@pytest.mark.parametrize(
    ("decision", "operation", "status_after"),
    [("approve", "SendTaskSuccess", "approved"), ("reject", "SendTaskFailure", "rejected")],
)
def test_a_decision_whose_callback_failed_is_recorded_once_and_the_same_decision_resends_it(
    stack: Stack, decision: str, operation: str, status_after: str
) -> None:
    disclosure_id = stack.waiting()
    events = stepfunctions_client().meta.events
    failing = service_fails("ServiceUnavailable", operation)
    events.register(f"before-call.sfn.{operation}", failing)
    status, body = stack.decide(disclosure_id, decision)
    assert status == 503, body
    assert "send the same decision again" in body["message"]
    item = stack.item(disclosure_id)
    assert item is not None
    assert (item["status"]["S"], item["callback_pending"]["BOOL"]) == (status_after, True)
    assert "token_ciphertext" in item, "kept, to tell the workflow on the retry"
    shown = stack.api("GET", "/disclosures/{id}", "comp-1", "compliance", disclosure_id=disclosure_id)[1]
    assert (shown["status"], shown["callback_pending"]) == (status_after, True)
    other = "reject" if decision == "approve" else "approve"
    assert stack.decide(disclosure_id, other, "comp-2")[0] == 409
    events.unregister(f"before-call.sfn.{operation}", failing)

    status, body = stack.decide(disclosure_id, decision, "comp-2")
    assert (status, body["status"], body["callback_pending"]) == (200, status_after, False)
    assert stack.sfn_calls[-1][0] == operation
    assert stack.sfn_calls[-1][1]["taskToken"] == TOKEN
    item = stack.item(disclosure_id)
    assert item is not None
    assert "token_ciphertext" not in item
    assert stack.audit_actions() == ["disclosure.requested", f"disclosure.{status_after}"]
    assert stack.decide(disclosure_id, decision, "comp-2")[0] == 409, "done: nothing left to carry out"


def service_fails(code: str, operation: str) -> Callable[..., None]:
    """A botocore handler that fails the call as the service would (no message worth quoting)."""

    def fail(**_: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)

    return fail


def delivered(stack: Stack) -> str:
    """A request through the custodian to `delivered`: the sealed result waits for its one retrieval."""
    disclosure_id, _ = stack.approved_and_asked()
    status, confirmed = stack.custodian(
        "POST", "/releases/{disclosure_id}/confirm", disclosure_id, {"reason": "Demand verified."}
    )
    assert status == 200, confirmed
    answer = stack.ask_custodian(disclosure_id)
    assert answer["status"] == "decrypted"
    stack.step(
        "record_decrypted", disclosure_id, decided_by=answer["decided_by"], decided_at=answer["decided_at"]
    )
    stack.step("record_delivered", disclosure_id)
    return disclosure_id


def test_the_contacts_start_is_read_by_itself(stack: Stack) -> None:
    """Least privilege: the directory reads `started_at` alone, never the rest of the registration."""
    from helpline.dal.disclosures import contact_directory
    from helpline.dal.dynamodb import dynamodb_client

    asked: list[dict[str, Any]] = []
    dynamodb_client().meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **_: asked.append(dict(params))
    )
    started = contact_directory().started_at(CONTACT)
    assert started is not None
    assert abs(started - clock.now()) < timedelta(minutes=5)
    assert [(call["ProjectionExpression"], call["ExpressionAttributeNames"]) for call in asked] == [
        ("#s", {"#s": "started_at"})
    ]
    assert contact_directory().started_at("9" * 32) is None


def test_the_user_pool_is_asked_whether_a_recorder_exists_and_fails_closed(stack: Stack) -> None:
    from helpline.dal.users import CognitoUserDirectory, user_directory
    from helpline.logic.ports import DependencyError

    assert user_directory().exists("vol-1")
    assert not user_directory().exists("made-up")
    with pytest.raises(DependencyError) as raised:
        CognitoUserDirectory("eu-west-1_doesnotexist").exists("vol-1")
    assert str(raised.value) == "cognito-idp: AdminGetUser failed"


@pytest.mark.parametrize("groups", ["staff", "volunteer", "mentor", "compliance", "admin"])
def test_only_professionals_may_request(stack: Stack, groups: str) -> None:
    status, _ = stack.api("POST", "/disclosures", "someone", groups, body={"contact_id": CONTACT})
    assert status == 403


@pytest.mark.parametrize("groups", ["staff", "volunteer", "professional"])
def test_only_compliance_may_decide(stack: Stack, groups: str) -> None:
    disclosure_id = stack.waiting()
    assert stack.decide(disclosure_id, "approve", "other", groups)[0] == 403


def test_rejection_then_every_decision_is_a_conflict(stack: Stack) -> None:
    disclosure_id = stack.waiting()
    status, body = stack.decide(disclosure_id, "reject")
    assert (status, body["status"]) == (200, "rejected")
    assert stack.sfn_calls[-1] == (
        "SendTaskFailure",
        {"taskToken": TOKEN, "error": "Rejected", "cause": "rejected by compliance"},
    )
    calls = len(stack.sfn_calls)
    assert stack.decide(disclosure_id, "approve", "comp-2")[0] == 409
    assert stack.decide(disclosure_id, "reject", "comp-2")[0] == 409
    assert len(stack.sfn_calls) == calls
    stack.step("record_rejected", disclosure_id)
    status, _ = stack.api(
        "GET", "/disclosures/{id}/result", "pro-1", "professional", disclosure_id=disclosure_id
    )
    assert status == 410
    assert stack.audit_actions() == ["disclosure.requested", "disclosure.rejected"]
    status, listed = stack.api("GET", "/disclosures", "pro-1", "professional")
    assert [item["status"] for item in listed["items"]] == ["rejected"]
    assert [event["event"] for event in listed["items"][0]["timeline"]][-1] == "rejected"
    assert stack.api("GET", "/disclosures", "pro-2", "professional")[1]["items"] == []
    assert len(stack.api("GET", "/disclosures", "comp-9", "compliance")[1]["items"]) == 1


def test_a_second_approval_by_the_same_officer_does_not_count(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCLOSURE_APPROVALS_NEEDED", "2")
    from helpline.settings import get_settings

    get_settings.cache_clear()
    disclosure_id = stack.waiting()
    for _ in range(2):
        status, body = stack.decide(disclosure_id, "approve")
        assert (status, body["status"], len(body["approvals"])) == (200, "awaiting_decision", 1)
    assert not any(operation == "SendTaskSuccess" for operation, _ in stack.sfn_calls)
    status, body = stack.decide(disclosure_id, "approve", "comp-2")
    assert (status, body["status"]) == (200, "approved")
    assert stack.audit_actions().count("disclosure.approved") == 2


def test_an_organisation_calling_the_custodian_itself_gets_nothing_without_its_officer(
    stack: Stack,
) -> None:
    """P7: skipping compliance and sending the custodian a release of its own making decrypts nothing;
    only the custodian's officer's confirmation, in the custodian's own record, opens the identifier."""
    disclosure_id = stack.waiting()
    forged = {
        "disclosure_id": disclosure_id,
        "contact_id": CONTACT,
        "basis": "legal_order_126nc",
        "grounds": {"legal_order": LEGAL_ORDER},
        "approved_by": ["nobody"],
        "approved_at": "2026-03-15T11:00:00Z",
    }
    assert stack.handlers["intake"](forged, FakeLambdaContext())["status"] == "pending"
    for _ in range(3):
        assert stack.ask_custodian(disclosure_id)["status"] == "pending"
    assert stack.item(disclosure_id, "result") is None


def test_a_release_refused_by_the_custodian_ends_the_request_without_a_result(stack: Stack) -> None:
    disclosure_id, _ = stack.approved_and_asked()
    status, _ = stack.custodian(
        "POST", "/releases/{disclosure_id}/refuse", disclosure_id, {"reason": "No demand on file."}
    )
    assert status == 200
    answer = stack.ask_custodian(disclosure_id)
    assert (answer["status"], answer["reason"]) == ("refused", "No demand on file.")
    stack.step(
        "record_refused",
        disclosure_id,
        decided_by=answer["decided_by"],
        decided_at=answer["decided_at"],
        reason=answer["reason"],
    )
    shown = stack.api("GET", "/disclosures/{id}", "pro-1", "professional", disclosure_id=disclosure_id)[1]
    assert shown["status"] == "refused"
    assert shown["timeline"][-1]["reason"] == "No demand on file."
    status, body = stack.api(
        "GET", "/disclosures/{id}/result", "pro-1", "professional", disclosure_id=disclosure_id
    )
    assert (status, body["message"]) == (410, "There is no result: the request was refused")
    assert stack.item(disclosure_id, "result") is None
    assert stack.audit_actions()[-1] == "disclosure.release_refused"


def test_a_contact_that_passed_retention_while_awaiting_the_custodian_is_erased(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """P7: the request was made in time, but by the time the custodian came to open it the identifier's
    last day had passed: erased by retention, nothing decrypted, 410."""
    disclosure_id, _ = stack.approved_and_asked()
    stack.custodian("POST", "/releases/{disclosure_id}/confirm", disclosure_id, {"reason": "Verified."})
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(days=367))
    answer = stack.ask_custodian(disclosure_id)
    assert (answer["status"], answer["reason"]) == ("erased", "erased by retention")
    stack.step("record_erased", disclosure_id)
    status, body = stack.api(
        "GET", "/disclosures/{id}/result", "pro-1", "professional", disclosure_id=disclosure_id
    )
    assert status == 410
    assert "erased by retention" in body["message"]
    assert stack.item(disclosure_id, "result") is None


def test_a_token_sealed_for_one_request_does_not_open_for_another(stack: Stack) -> None:
    disclosure_id = stack.waiting()
    item = stack.item(disclosure_id)
    assert item is not None
    with pytest.raises(Exception):  # noqa: B017, PT011 - moto's InvalidCiphertextException
        boto3.client("kms").decrypt(
            CiphertextBlob=base64.b64decode(item["token_ciphertext"]["S"]),
            EncryptionContext={"purpose": "workflow-token", "disclosure_id": "0" * 32},
        )


def test_templates_give_the_functions_what_the_code_reads() -> None:
    template = Path(REPO_ROOT / "template.yaml").read_text()
    for variable in (
        "DISCLOSURE_STATE_MACHINE_ARN",
        "COMPLIANCE_TOPIC_ARN",
        "DISCLOSURES_TABLE",
        "DISCLOSURE_RESULTS_TABLE",
        "DISCLOSURE_KEY_ARN",
        "CUSTODIAN_POLL_SECONDS",
        "CustodianReleaseIntakeFunctionArn",
        "CustodianDecryptFunctionArn",
    ):
        assert variable in template
    custodian = CUSTODIAN_TEMPLATE.read_text()
    for variable in (
        "RELEASES_TABLE",
        "ORGANISATION_CONTACTS_TABLE_ARN",
        "ORGANISATION_DISCLOSURE_RESULTS_TABLE_ARN",
        "DISCLOSURE_KEY_ARN",
        "IDENTIFIER_KEY_ALIAS_PREFIX",
        "RELEASE_CONFIRMATION_HOURS",
    ):
        assert variable in custodian


def test_the_disclosures_function_may_ask_the_user_pool_one_thing() -> None:
    """Least privilege: to know whether a consent's recorder is a user of the pool, the disclosures
    function gets the pool's id and `cognito-idp:AdminGetUser` on that pool, and no other Cognito action."""
    from local_stack.template import load_template

    resources = load_template()["Resources"]
    variables = resources["DisclosuresFunction"]["Properties"]["Environment"]["Variables"]
    assert variables.get("USER_POOL_ID") == {"Ref": "UserPool"}
    statements = [
        statement
        for policy in resources["DisclosuresRole"]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]

    def actions(statement: dict[str, Any]) -> list[str]:
        action = statement["Action"]
        return [action] if isinstance(action, str) else list(action)

    cognito = [
        statement for statement in statements if any(a.startswith("cognito-idp:") for a in actions(statement))
    ]
    assert [(statement["Effect"], actions(statement), statement["Resource"]) for statement in cognito] == [
        ("Allow", ["cognito-idp:AdminGetUser"], {"Fn::GetAtt": ["UserPool", "Arn"]})
    ]
