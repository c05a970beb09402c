"""The custodian's three functions over moto (P3, P7): release intake, the officers' confirmation API,
and the decrypt function that opens an identifier only for a release its own officer confirmed.

The organisation's ContactsTable and DisclosureResultsTable are reached by ARN, as across accounts; the
identifier is sealed by the real vault under its period key. No identifier, in any format, in an answer,
an error, a log line or a table of the custodian.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext, response_json, rest_event
from custodian_support import (
    CALL_SID,
    LEGAL_ORDER,
    NUMBER,
    create_period_keys,
    custodian_environment,
    leaks,
    organisation_table,
    put_contact,
)

from helpline import clock
from helpline.dal.disclosure_crypto import KmsIdentifierOpener
from helpline.dal.dynamodb import from_item, to_item

Handler = Callable[[dict[str, Any], Any], Any]
DISCLOSURE = "d" * 32
CONTACT = "c" * 32
COPIED = "b" * 32  # holds CONTACT's ciphertext
OLD = "0" * 32  # past its retention
ERASED = "e" * 32  # the sweep removed its ciphertext


class Custodian:
    def __init__(self, handlers: dict[str, Handler], tables: dict[str, str]) -> None:
        self.handlers = handlers
        self.tables = tables
        self.opened = 0
        self.answers: list[Any] = []

    def intake(self, contact_id: str = CONTACT, disclosure_id: str = DISCLOSURE, **changes: Any) -> Any:
        event: dict[str, Any] = {
            "disclosure_id": disclosure_id,
            "contact_id": contact_id,
            "basis": "legal_order_126nc",
            "grounds": {"legal_order": LEGAL_ORDER},
            "approved_by": ["comp-1", "comp-2"],
            "approved_at": "2026-03-15T11:00:00Z",
        }
        event.update(changes)
        answer = self.handlers["intake"](event, FakeLambdaContext())
        self.answers.append(answer)
        return answer

    def ask(self, contact_id: str = CONTACT, disclosure_id: str = DISCLOSURE) -> Any:
        answer = self.handlers["decrypt"](
            {"disclosure_id": disclosure_id, "contact_id": contact_id}, FakeLambdaContext()
        )
        self.answers.append(answer)
        return answer

    def api(
        self,
        method: str,
        resource: str,
        *,
        username: str | None = "officer-1",
        groups: str = "custodian",
        body: Any = None,
        disclosure_id: str = DISCLOSURE,
    ) -> tuple[int, Any, dict[str, Any]]:
        path = resource.replace("{disclosure_id}", disclosure_id)
        event = rest_event(
            method,
            resource,
            path,
            username=username,
            groups=groups,
            body=body,
            path_parameters={"disclosure_id": disclosure_id} if "{disclosure_id}" in resource else None,
        )
        response = self.handlers["api"](event, FakeLambdaContext())
        self.answers.append(response)
        return response["statusCode"], response_json(response), response

    def decide(self, decision: str, reason: str = "Demand verified with the parket.", **kwargs: Any) -> Any:
        return self.api("POST", f"/releases/{{disclosure_id}}/{decision}", body={"reason": reason}, **kwargs)

    def result_item(self, disclosure_id: str = DISCLOSURE) -> dict[str, Any] | None:
        item = (
            boto3.client("dynamodb")
            .get_item(
                TableName=self.tables["results"],
                Key=to_item({"pk": f"disclosure#{disclosure_id}", "sk": "result"}),
            )
            .get("Item")
        )
        return from_item(item) if item else None

    def release(self, disclosure_id: str = DISCLOSURE) -> dict[str, Any]:
        item = boto3.client("dynamodb").get_item(
            TableName=self.tables["releases"], Key=to_item({"disclosure_id": disclosure_id})
        )["Item"]
        return from_item(item)

    def custodian_tables(self) -> str:
        return json.dumps(boto3.client("dynamodb").scan(TableName=self.tables["releases"])["Items"])


@pytest.fixture
def custodian(
    aws: None, monkeypatch: pytest.MonkeyPatch, load_handler: Callable[[str], Handler]
) -> Custodian:
    contacts = organisation_table("ContactsTable")
    results = organisation_table("DisclosureResultsTable")
    releases = custodian_environment(monkeypatch, contacts, results)
    disclosure_key = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    monkeypatch.setenv("DISCLOSURE_KEY_ARN", disclosure_key)

    now = clock.now()
    old = now - timedelta(days=400)
    create_period_keys([now, old])
    today = now.date()
    put_contact(contacts, CONTACT, now, today + timedelta(days=365))
    put_contact(contacts, COPIED, now, today + timedelta(days=365), sealed_for=CONTACT)
    put_contact(contacts, OLD, old, today - timedelta(days=1))
    put_contact(contacts, ERASED, old, None)

    built = Custodian(
        {
            "intake": load_handler("functions/release_intake/app.py"),
            "decrypt": load_handler("functions/disclosure_decrypt/app.py"),
            "api": load_handler("functions/custodian_releases/app.py"),
        },
        {"contacts": contacts, "results": results, "releases": releases},
    )
    opener_open = KmsIdentifierOpener.open

    def counted(opener: KmsIdentifierOpener, ciphertext: str) -> Any:
        built.opened += 1
        return opener_open(opener, ciphertext)

    monkeypatch.setattr(KmsIdentifierOpener, "open", counted)
    return built


def test_nothing_is_decrypted_until_a_custodian_officer_confirms_then_once(
    custodian: Custodian, capsys: pytest.CaptureFixture[str]
) -> None:
    """P7: the organisation's approval alone opens nothing; the custodian's own officer decides."""
    assert custodian.intake() == {"disclosure_id": DISCLOSURE, "status": "pending"}
    assert custodian.release()["status"] == "pending"
    for _ in range(2):
        assert custodian.ask() == {"disclosure_id": DISCLOSURE, "status": "pending"}
    assert custodian.opened == 0
    assert custodian.result_item() is None

    status, shown, response = custodian.decide("confirm")
    assert (status, shown["status"], shown["decided_by"]) == (200, "confirmed", "officer-1")
    assert response["multiValueHeaders"]["Cache-Control"] == ["no-store"]

    answer = custodian.ask()
    assert answer == {
        "disclosure_id": DISCLOSURE,
        "status": "decrypted",
        "decided_by": "officer-1",
        "decided_at": shown["decided_at"],
    }
    assert custodian.opened == 1
    result = custodian.result_item()
    assert result is not None
    assert int(result["expires_at"]) > clock.now().timestamp() + 23 * 3600
    assert int(result["expires_at"]) <= clock.now().timestamp() + 24 * 3600
    opened = boto3.client("kms").decrypt(
        CiphertextBlob=base64.b64decode(result["ciphertext"]),
        EncryptionContext={"purpose": "disclosure-result", "disclosure_id": DISCLOSURE},
    )
    assert json.loads(opened["Plaintext"]) == {
        "identifier": NUMBER,
        "identifier_type": "phone",
        "provider_reference": CALL_SID,
        "basis": "legal_order_126nc",
        "contact_id": CONTACT,
    }
    assert custodian.release()["status"] == "released"

    # The requester took the result (the item is gone); a repeated ask must not decrypt or put it again.
    boto3.client("dynamodb").delete_item(
        TableName=custodian.tables["results"],
        Key=to_item({"pk": f"disclosure#{DISCLOSURE}", "sk": "result"}),
    )
    assert custodian.ask() == answer
    assert custodian.opened == 1
    assert custodian.result_item() is None
    assert custodian.decide("refuse")[0] == 409

    logged = capsys.readouterr()
    assert leaks(logged.out, logged.err, custodian.answers, custodian.custodian_tables()) == []


def test_a_refused_release_is_never_decrypted(custodian: Custodian) -> None:
    custodian.intake()
    status, shown, _ = custodian.decide("refuse", "No such demand on file.")
    assert (status, shown["status"], shown["reason"]) == (200, "refused", "No such demand on file.")
    answer = custodian.ask()
    assert answer == {
        "disclosure_id": DISCLOSURE,
        "status": "refused",
        "decided_by": "officer-1",
        "decided_at": shown["decided_at"],
        "reason": "No such demand on file.",
    }
    status, body, _ = custodian.decide("confirm", username="officer-2")
    assert status == 409
    assert "refused" in body["message"]
    assert custodian.ask()["status"] == "refused"
    assert custodian.opened == 0
    assert custodian.result_item() is None


def test_after_the_deadline_no_officer_can_decide_and_the_release_expired(
    custodian: Custodian, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As for approvals: past RELEASE_CONFIRMATION_SECONDS (600 here) a decision is 409; it expired."""
    custodian.intake()
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(seconds=601))
    status, body, _ = custodian.decide("confirm")
    assert status == 409
    assert "deadline" in body["message"]
    assert custodian.release()["status"] == "expired"
    assert custodian.api("GET", "/releases/{disclosure_id}")[1]["status"] == "expired"
    answer = custodian.ask()
    assert (answer["status"], answer["disclosure_id"]) == ("expired", DISCLOSURE)
    assert custodian.opened == 0


def test_the_deadline_is_counted_from_intake(custodian: Custodian, monkeypatch: pytest.MonkeyPatch) -> None:
    custodian.intake()
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(seconds=590))
    assert custodian.decide("confirm")[0] == 200


@pytest.mark.parametrize("contact", [OLD, ERASED])
def test_past_retention_the_custodian_decrypts_nothing(
    custodian: Custodian, contact: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """P7: an identifier past `identifier_retain_until` (our clock) is erased by retention, even while
    its ciphertext (or a restored copy of it) is still in the table and its key still exists."""
    custodian.intake(contact)
    custodian.decide("confirm")
    answer = custodian.ask(contact)
    assert (answer["status"], answer["reason"]) == ("erased", "erased by retention")
    assert custodian.opened == 0
    assert custodian.result_item() is None
    assert custodian.release()["status"] == "erased"
    logged = capsys.readouterr()
    assert leaks(logged.out, logged.err, custodian.answers) == []


def test_the_contact_id_must_be_the_one_the_officer_confirmed(custodian: Custodian) -> None:
    custodian.intake()
    custodian.decide("confirm")
    with pytest.raises(Exception, match="does not match") as raised:
        custodian.ask(COPIED)
    assert type(raised.value).__name__ == "DisclosureDecryptFailed"
    assert custodian.opened == 0
    assert custodian.release()["status"] == "confirmed"


def test_a_ciphertext_copied_from_another_contact_is_detected_without_a_word_of_it(
    custodian: Custodian, capsys: pytest.CaptureFixture[str]
) -> None:
    custodian.intake(COPIED)
    custodian.decide("confirm")
    with pytest.raises(Exception, match="does not belong") as raised:
        custodian.ask(COPIED)
    error = raised.value
    assert type(error).__name__ == "DisclosureDecryptFailed"
    assert error.__cause__ is None
    assert custodian.result_item(DISCLOSURE) is None
    logged = capsys.readouterr()
    assert leaks(str(error), repr(error), error.__context__, logged.out, logged.err) == []


def test_an_unknown_release_is_404_and_not_decrypted(custodian: Custodian) -> None:
    assert custodian.api("GET", "/releases/{disclosure_id}")[0] == 404
    assert custodian.decide("confirm")[0] == 404
    with pytest.raises(Exception, match="No release") as raised:
        custodian.ask()
    assert type(raised.value).__name__ == "DisclosureDecryptFailed"


@pytest.mark.parametrize(
    "groups", ["compliance", "professional", "professional,compliance", "admin", "staff", ""]
)
def test_only_the_custodian_group_may_use_the_custodian_api(custodian: Custodian, groups: str) -> None:
    custodian.intake()
    for method, resource, body in (
        ("GET", "/releases", None),
        ("GET", "/releases/{disclosure_id}", None),
        ("POST", "/releases/{disclosure_id}/confirm", {"reason": "Looks fine."}),
        ("POST", "/releases/{disclosure_id}/refuse", {"reason": "Looks wrong."}),
    ):
        status, answer, response = custodian.api(method, resource, groups=groups, body=body)
        assert status == 403
        assert answer == {"message": "Forbidden: this route is for the groups custodian"}
        assert response["multiValueHeaders"]["Cache-Control"] == ["no-store"]
    assert custodian.release()["status"] == "pending"


def test_without_a_signed_in_officer_it_is_401(custodian: Custodian) -> None:
    status, answer, _ = custodian.api("GET", "/releases", username=None)
    assert (status, answer) == (401, {"message": "Unauthorized"})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.reason"),
        ({"reason": ""}, "body.reason"),
        ({"reason": "   "}, "body.reason"),
        ({"reason": "x" * 501}, "body.reason"),
        ({"reason": 42}, "body.reason"),
        ("not json", "body"),
    ],
)
def test_a_malformed_decision_is_400_naming_the_field(custodian: Custodian, body: Any, field: str) -> None:
    custodian.intake()
    status, answer, _ = custodian.api("POST", "/releases/{disclosure_id}/confirm", body=body)
    assert status == 400
    assert field in [problem["field"] for problem in answer["errors"]]
    assert custodian.release()["status"] == "pending"


def test_an_unexpected_field_is_400_without_echoing_it(custodian: Custodian) -> None:
    custodian.intake()
    status, answer, _ = custodian.api(
        "POST", "/releases/{disclosure_id}/confirm", body={"reason": "fine", "number": NUMBER}
    )
    assert status == 400
    assert leaks(answer) == []


def test_a_reason_of_500_characters_is_accepted(custodian: Custodian) -> None:
    custodian.intake()
    assert custodian.decide("confirm", "x" * 500)[0] == 200


def test_the_list_lays_out_the_grounds_pending_first(custodian: Custodian) -> None:
    custodian.intake(disclosure_id="a" * 32)
    custodian.decide("refuse", disclosure_id="a" * 32)
    custodian.intake()
    status, listed, response = custodian.api("GET", "/releases")
    assert status == 200
    assert response["multiValueHeaders"]["Cache-Control"] == ["no-store"]
    assert [(item["disclosure_id"], item["status"]) for item in listed["items"]] == [
        (DISCLOSURE, "pending"),
        ("a" * 32, "refused"),
    ]
    first = listed["items"][0]
    assert first["grounds"]["legal_order"] == LEGAL_ORDER
    assert first["basis"] == "legal_order_126nc"
    assert (first["approved_by"], first["approved_at"]) == (["comp-1", "comp-2"], "2026-03-15T11:00:00Z")
    assert first["deadline"] > first["received_at"]
    assert {"version", "expires_at"}.isdisjoint(first)


def test_the_release_record_has_a_housekeeping_ttl(custodian: Custodian) -> None:
    custodian.intake()
    custodian.decide("confirm")
    record = custodian.release()
    assert int(record["expires_at"]) >= clock.now().timestamp() + 29 * 86_400


def test_a_repeated_intake_never_resets_a_decision(custodian: Custodian) -> None:
    custodian.intake()
    custodian.decide("refuse")
    assert custodian.intake() == {"disclosure_id": DISCLOSURE, "status": "pending"}
    assert custodian.release()["status"] == "refused"


def test_an_intake_for_another_contact_under_the_same_id_is_refused(custodian: Custodian) -> None:
    custodian.intake()
    with pytest.raises(Exception, match="another contact") as raised:
        custodian.intake(COPIED)
    assert type(raised.value).__name__ == "ReleaseIntakeFailed"
    assert custodian.release()["contact_id"] == CONTACT


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"grounds": {}}, "(grounds for the basis)"),
        ({"contact_id": NUMBER}, "contact_id"),
        ({NUMBER: "x"}, "(unexpected field)"),
        ({"approved_by": []}, "approved_by"),
    ],
)
def test_an_invalid_intake_names_the_field_never_the_value(
    custodian: Custodian, changes: dict[str, Any], named: str
) -> None:
    with pytest.raises(Exception, match="invalid release request") as raised:
        custodian.intake(**changes)
    assert named in str(raised.value)
    assert leaks(str(raised.value)) == []
    assert json.loads(custodian.custodian_tables()) == []
