"""The three disclosure functions over moto (P6, P7): refusals, four eyes, the sealed token, decryption
by the decrypt function only, and the one-time delivery; no identifier in any answer, item or error.

The state machine itself is not run here (moto does not run Lambda tasks); each state's function is
called as the state would call it, and what the disclosures function tells Step Functions is captured
from the client's calls.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext, response_json, rest_event
from conftest import REPO_ROOT, create_table_from_template
from moto.core.config import default_user_config

from helpline import identifiers
from helpline.dal.audit import audit_log
from helpline.dal.dynamodb import to_item
from helpline.dal.kms import KmsIdentifierVault
from helpline.dal.workflow import stepfunctions_client
from helpline.models.contacts import ContactRecord
from helpline.models.office import OfficeContact

Handler = Callable[[dict[str, Any], Any], Any]
NUMBER = "+31612345678"
CALL_SID = "CA0123456789abcdef0123456789abcdef"
CONTACT = "c" * 32
OTHER = "b" * 32
ERASED = "e" * 32
OFFICE = "0" * 32
LEGAL_ORDER = {
    "reference": "VIG-2026-001",
    "officer_of_justice": "mr. A. de Vries",
    "prosecutor_office": "Parket Midden-Nederland",
    "issued_on": "2026-03-14",
    "document_sha256": "a" * 64,
}
TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token"


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
            "legal_order": LEGAL_ORDER,
            "third_party_danger": "the caller's neighbour, threatened tonight",
        }
        body.update(changes)
        body = {key: value for key, value in body.items() if value is not None}
        return self.api("POST", "/disclosures", "pro-1", "professional", body=body)

    def step(self, step: str, disclosure_id: str, **extra: str) -> Any:
        return self.handlers["steps"](
            {"step": step, "disclosure_id": disclosure_id, **extra}, FakeLambdaContext()
        )

    def waiting(self, contact: str = CONTACT) -> str:
        status, body = self.request(contact)
        assert status == 202, body
        self.step("record_requested", body["id"])
        self.step("await_decision", body["id"], task_token=TOKEN)
        return str(body["id"])

    def decide(
        self, disclosure_id: str, decision: str, username: str = "comp-1", groups: str = "compliance"
    ) -> tuple[int, Any]:
        return self.api(
            "POST",
            f"/disclosures/{{id}}/{decision}",
            username,
            groups,
            body={"reason": "demand checked against the register"},
            disclosure_id=disclosure_id,
        )

    def item(self, disclosure_id: str, sk: str = "request") -> dict[str, Any] | None:
        found = boto3.client("dynamodb").get_item(
            TableName=self.tables["DISCLOSURES_TABLE"],
            Key=to_item({"pk": f"disclosure#{disclosure_id}", "sk": sk}),
        )
        item: dict[str, Any] | None = found.get("Item")
        return item

    def everything_stored(self) -> str:
        dump = ""
        client = boto3.client("dynamodb")
        for variable in ("DISCLOSURES_TABLE", "AUDIT_TABLE"):
            dump += json.dumps(client.scan(TableName=self.tables[variable])["Items"])
        return dump

    def audit_actions(self) -> list[str]:
        return [entry.action for entry in audit_log().entries()]


@pytest.fixture
def stack(aws: None, monkeypatch: pytest.MonkeyPatch, load_handler: Callable[[str], Handler]) -> Stack:
    # Each state is called by hand here: moto must not run the machine (a local stack may have set it to).
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": False})
    tables = {}
    for logical_id, variable in (
        ("DisclosuresTable", "DISCLOSURES_TABLE"),
        ("ContactsTable", "CONTACTS_TABLE"),
        ("OfficeContactsTable", "OFFICE_CONTACTS_TABLE"),
        ("AuditTable", "AUDIT_TABLE"),
    ):
        tables[variable] = create_table_from_template(logical_id)
        monkeypatch.setenv(variable, tables[variable])
    kms = boto3.client("kms")
    keys = {
        name: kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["Arn"]
        for name in ("IDENTIFIER_KEY_ARN", "DISCLOSURE_KEY_ARN")
    }
    for name, arn in keys.items():
        monkeypatch.setenv(name, arn)
    definition = (REPO_ROOT / "infrastructure/statemachines/disclosure.asl.json").read_text()
    machine_arn = boto3.client("stepfunctions").create_state_machine(
        name="disclosure",
        definition=definition.replace(
            "${DisclosureStepsFunctionArn}", "arn:aws:lambda:eu-west-1:123456789012:function:s"
        ).replace("${DisclosureDecryptFunctionArn}", "arn:aws:lambda:eu-west-1:123456789012:function:d"),
        roleArn="arn:aws:iam::123456789012:role/disclosure",
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

    vault = KmsIdentifierVault(keys["IDENTIFIER_KEY_ARN"], "unused-pseudonym-key")
    dynamodb = boto3.client("dynamodb")
    for contact_id, sealed_for in ((CONTACT, CONTACT), (OTHER, CONTACT), (ERASED, None)):
        ciphertext = (
            vault.seal(sealed_for, "voice", identifiers.phone(NUMBER), identifiers.reference(CALL_SID))
            if sealed_for is not None
            else None
        )
        record = ContactRecord(
            id=contact_id,
            channel="voice",
            line="national",
            started_at=datetime(2026, 3, 1, tzinfo=UTC),
            region="Utrecht",
            limit_outcome="allowed",
            identifier_ciphertext=ciphertext,
            identifier_retain_until="2027-01-01" if ciphertext else None,
        )
        dynamodb.put_item(
            TableName=tables["CONTACTS_TABLE"],
            Item=to_item(record.model_dump(mode="json", exclude_none=True)),
        )
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
    }
    built = Stack(tables, keys, handlers, machine_arn, queue_url)

    def capture(event_name: str, params: dict[str, Any], **_: Any) -> None:
        built.sfn_calls.append((event_name.rsplit(".", 1)[-1], params))

    stepfunctions_client().meta.events.register("provide-client-params.sfn", capture)
    return built


def test_a_disclosure_from_request_to_one_time_delivery(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    status, created = stack.request()
    assert status == 202
    assert created["status"] == "requested"
    disclosure_id = created["id"]
    [(operation, params)] = stack.sfn_calls
    assert operation == "StartExecution"
    assert params["name"] == disclosure_id
    assert json.loads(params["input"]) == {"disclosure_id": disclosure_id, "approval_timeout_seconds": 600}

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

    answer = stack.handlers["decrypt"]({"disclosure_id": disclosure_id}, FakeLambdaContext())
    assert answer == {"disclosure_id": disclosure_id, "status": "decrypted"}
    result_item = stack.item(disclosure_id, "result")
    assert result_item is not None
    assert int(result_item["expires_at"]["N"]) > datetime.now(UTC).timestamp() + 23 * 3600
    stack.step("record_delivered", disclosure_id)
    assert NUMBER not in stack.everything_stored()
    assert CALL_SID not in stack.everything_stored()

    status, shown = stack.api("GET", "/disclosures/{id}", "comp-1", "compliance", disclosure_id=disclosure_id)
    assert status == 200
    assert shown["status"] == "delivered"
    assert {"token_ciphertext", "token_sha256", "identifier"}.isdisjoint(shown)
    assert NUMBER not in json.dumps(shown)

    status, _ = stack.api(
        "GET", "/disclosures/{id}/result", "pro-2", "professional", disclosure_id=disclosure_id
    )
    assert status == 403
    status, result = stack.api(
        "GET", "/disclosures/{id}/result", "pro-1", "professional", disclosure_id=disclosure_id
    )
    assert status == 200
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
    assert stack.audit_actions() == [
        "disclosure.requested",
        "disclosure.approved",
        "disclosure.decrypted",
        "disclosure.delivered",
        "disclosure.retrieved",
    ]
    assert NUMBER not in stack.everything_stored()
    logged = capsys.readouterr()
    for secret in (NUMBER, CALL_SID, TOKEN):
        assert secret not in logged.out + logged.err, "no identifier or token in any log line"


@pytest.mark.parametrize(
    ("contact", "changes", "expected", "fragment"),
    [
        (CONTACT, {"danger_to_self_only": True}, 422, "danger only to themselves"),
        (CONTACT, {"basis": None}, 422, "legal basis"),
        (CONTACT, {"third_party_danger": None}, 422, "third_party_danger"),
        (OFFICE, {}, 422, "office-line"),
        (ERASED, {}, 410, "erased"),
        ("f" * 32, {}, 404, "No helpline contact"),
    ],
)
def test_requests_without_basis_or_identifier_are_refused(
    stack: Stack, contact: str, changes: dict[str, Any], expected: int, fragment: str
) -> None:
    status, body = stack.request(contact, **changes)
    assert status == expected
    assert fragment in body["message"]
    assert stack.sfn_calls == []
    assert boto3.client("dynamodb").scan(TableName=stack.tables["DISCLOSURES_TABLE"])["Items"] == []


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


def test_decrypt_refuses_an_unapproved_request_without_a_word_of_the_identifier(stack: Stack) -> None:
    disclosure_id = stack.waiting()
    with pytest.raises(Exception, match="not approved") as raised:
        stack.handlers["decrypt"]({"disclosure_id": disclosure_id}, FakeLambdaContext())
    assert type(raised.value).__name__ == "DisclosureDecryptFailed"
    assert NUMBER not in str(raised.value)
    assert stack.item(disclosure_id, "result") is None


def test_decrypt_detects_a_ciphertext_copied_from_another_contact(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """OTHER's record holds CONTACT's ciphertext: the contact id inside does not match (P7)."""
    disclosure_id = stack.waiting(OTHER)
    assert stack.decide(disclosure_id, "approve")[0] == 200
    with pytest.raises(Exception, match="does not belong") as raised:
        stack.handlers["decrypt"]({"disclosure_id": disclosure_id}, FakeLambdaContext())
    error = raised.value
    assert type(error).__name__ == "DisclosureDecryptFailed"
    for text in (str(error), repr(error), repr(error.args), str(error.__cause__), str(error.__context__)):
        assert NUMBER not in text
        assert CALL_SID not in text
    assert error.__cause__ is None
    assert stack.item(disclosure_id, "result") is None
    stack.step("record_failed", disclosure_id)
    assert stack.audit_actions()[-1] == "disclosure.failed"
    logged = capsys.readouterr()
    assert NUMBER not in logged.out + logged.err
    assert CALL_SID not in logged.out + logged.err


def test_a_token_sealed_for_one_request_does_not_open_for_another(stack: Stack) -> None:
    disclosure_id = stack.waiting()
    item = stack.item(disclosure_id)
    assert item is not None
    with pytest.raises(Exception):  # noqa: B017, PT011 - moto's InvalidCiphertextException
        boto3.client("kms").decrypt(
            CiphertextBlob=base64.b64decode(item["token_ciphertext"]["S"]),
            EncryptionContext={"purpose": "workflow-token", "disclosure_id": "0" * 32},
        )


def test_template_gives_the_functions_what_the_code_reads() -> None:
    template = Path(REPO_ROOT / "template.yaml").read_text()
    for variable in (
        "DISCLOSURE_STATE_MACHINE_ARN",
        "COMPLIANCE_TOPIC_ARN",
        "DISCLOSURES_TABLE",
        "DISCLOSURE_KEY_ARN",
    ):
        assert variable in template
