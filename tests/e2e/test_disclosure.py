"""Disclosure through the real state machine on the embedded Step Functions engine (P6, P7)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import requests
from ingest_support import Ingest
from running_stack import RunningStack
from support import wait_until

CALLER = "+31687650001"


@pytest.fixture(scope="module")
def ingest(local_stack: RunningStack) -> Ingest:
    return Ingest(local_stack)


def call_as(
    ingest: Ingest, group: str, method: str, path: str, body: dict[str, Any] | None = None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {ingest.stack.token(group)}"}
    return requests.request(method, ingest.stack.api + path, json=body, headers=headers, timeout=60)


def kept(ingest: Ingest, response: requests.Response) -> requests.Response:
    ingest.keep(response.text)
    return response


def legal_order(ingest: Ingest, contact_id: str) -> dict[str, Any]:
    """A demand dated the day the contact started (on the stack's clock): plausible whatever the clock
    says, since it lies in the contact's month and not after today (P7)."""
    contact = ingest.contact(contact_id)
    assert contact is not None
    return {
        "contact_id": contact_id,
        "basis": "legal_order_126nc",
        "legal_order": {
            "reference": "VIG-2026-0042",
            "officer_of_justice": "mr. A. de Officier",
            "prosecutor_office": "Arrondissementsparket Midden-Nederland",
            "issued_on": contact["started_at"]["S"][:10],
            "document_sha256": "a" * 64,
        },
        "third_party_danger": {
            "category": "child",
            "description": "A named child in the caller's household is in acute danger.",
        },
    }


def test_a_legal_order_is_approved_and_the_number_delivered_once(ingest: Ingest) -> None:
    sqs, sns = ingest.client("sqs"), ingest.client("sns")
    inbox = sqs.create_queue(QueueName="compliance-inbox-" + uuid.uuid4().hex[:6])["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if "ComplianceTopic" in t["TopicArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)

    before = {c["id"]["S"] for c in ingest.contacts()}
    assert "<Enqueue>" in ingest.call(CALLER, "CA" + uuid.uuid4().hex).text
    [record] = [c for c in ingest.contacts() if c["id"]["S"] not in before]
    contact_id = record["id"]["S"]

    requested = kept(
        ingest, call_as(ingest, "professional", "POST", "/disclosures", legal_order(ingest, contact_id))
    )
    assert requested.status_code == 202, requested.text
    disclosure_id = requested.json()["id"]

    def status(group: str = "compliance") -> str:
        return str(
            kept(ingest, call_as(ingest, group, "GET", f"/disclosures/{disclosure_id}")).json()["status"]
        )

    wait_until(lambda: status() == "awaiting_decision", timeout_s=30)
    notices = wait_until(lambda: sqs.receive_message(QueueUrl=inbox, WaitTimeSeconds=1).get("Messages"))
    assert disclosure_id in json.dumps(notices), "compliance is told which request waits"
    assert [value for value in Ingest.fed if value in json.dumps(notices)] == [], "and never who called"

    approved = kept(
        ingest,
        call_as(
            ingest,
            "compliance",
            "POST",
            f"/disclosures/{disclosure_id}/approve",
            {"reason": "Order checked against the registry."},
        ),
    )
    assert approved.status_code == 200, approved.text

    # Approved by the organisation, but the custodian has not confirmed: nothing is delivered (P7).
    wait_until(lambda: status("professional") == "awaiting_custodian", timeout_s=30)
    release = wait_until(lambda: custodian_release(ingest, disclosure_id), timeout_s=30)
    assert release["status"] == "pending"
    assert [value for value in Ingest.fed if value in json.dumps(release)] == []
    time.sleep(3)  # several polls of the workflow (one a second locally) find no confirmation
    assert status("professional") == "awaiting_custodian"
    early = kept(ingest, call_as(ingest, "professional", "GET", f"/disclosures/{disclosure_id}/result"))
    assert early.status_code == 409, "no result exists before the custodian confirms"
    assert not result_item_exists(ingest, disclosure_id)

    confirmed = kept(
        ingest,
        as_custodian(
            ingest, "POST", f"/releases/{disclosure_id}/confirm", {"reason": "Demand verified by phone."}
        ),
    )
    assert confirmed.status_code == 200, confirmed.text
    assert (
        as_custodian(ingest, "POST", f"/releases/{disclosure_id}/confirm", {"reason": "again"}).status_code
        == 409
    )
    wait_until(lambda: status("professional") == "delivered", timeout_s=30)

    result = call_as(
        ingest, "professional", "GET", f"/disclosures/{disclosure_id}/result"
    )  # the one delivery
    assert result.status_code == 200, result.text
    delivered = result.json()
    assert delivered["identifier"] == CALLER
    assert delivered["identifier_type"] == "phone"
    assert delivered["basis"] == "legal_order_126nc"
    assert (
        kept(
            ingest, call_as(ingest, "professional", "GET", f"/disclosures/{disclosure_id}/result")
        ).status_code
        == 410
    )

    timeline = kept(ingest, call_as(ingest, "compliance", "GET", f"/disclosures/{disclosure_id}")).json()
    assert CALLER not in json.dumps(timeline)
    audit = kept(ingest, call_as(ingest, "compliance", "GET", "/audit")).json()["items"]
    actions = [entry["action"] for entry in audit if entry.get("subject") == disclosure_id]
    for action in ("requested", "approved", "release_confirmed", "decrypted", "delivered", "retrieved"):
        assert any(action in a for a in actions), action
    verdict = kept(ingest, call_as(ingest, "compliance", "GET", "/audit/verify")).json()
    assert verdict["ok"] is True


def as_custodian(
    ingest: Ingest, method: str, path: str, body: dict[str, Any] | None = None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {ingest.stack.token('custodian')}"}
    return requests.request(method, ingest.stack.custodian_api + path, json=body, headers=headers, timeout=60)


def custodian_release(ingest: Ingest, disclosure_id: str) -> dict[str, Any] | None:
    response = kept(ingest, as_custodian(ingest, "GET", f"/releases/{disclosure_id}"))
    return response.json() if response.status_code == 200 else None


def result_item_exists(ingest: Ingest, disclosure_id: str) -> bool:
    found = ingest.client("dynamodb").get_item(
        TableName=ingest.resource("DisclosureResultsTable"),
        Key={"pk": {"S": f"disclosure#{disclosure_id}"}, "sk": {"S": "result"}},
        ConsistentRead=True,
    )
    return "Item" in found


def test_a_release_the_custodian_refuses_is_never_decrypted(ingest: Ingest) -> None:
    contact_id = next(c["id"]["S"] for c in ingest.contacts() if "identifier_ciphertext" in c)
    requested = kept(
        ingest, call_as(ingest, "professional", "POST", "/disclosures", legal_order(ingest, contact_id))
    )
    disclosure_id = requested.json()["id"]
    wait_until(lambda: status_of(ingest, "compliance", disclosure_id) == "awaiting_decision", timeout_s=30)
    assert decide(ingest, disclosure_id, "approve", "Order checked.").status_code == 200
    wait_until(lambda: custodian_release(ingest, disclosure_id), timeout_s=30)

    refused = as_custodian(ingest, "POST", f"/releases/{disclosure_id}/refuse", {"reason": "Not our demand."})
    assert refused.status_code == 200, refused.text
    wait_until(lambda: status_of(ingest, "professional", disclosure_id) == "refused", timeout_s=30)
    result = kept(ingest, call_as(ingest, "professional", "GET", f"/disclosures/{disclosure_id}/result"))
    assert result.status_code == 410
    assert not result_item_exists(ingest, disclosure_id)


@pytest.mark.parametrize("group", ["compliance", "admin", "professional"])
def test_no_organisation_user_may_confirm_a_release(ingest: Ingest, group: str) -> None:
    """The organisation's tokens are of another user pool: the custodian's API does not take them."""
    token = ingest.stack.token(group)
    response = requests.post(
        ingest.stack.custodian_api + "/releases/" + uuid.uuid4().hex + "/confirm",
        json={"reason": "let me"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 401


def test_danger_to_self_only_is_refused(ingest: Ingest) -> None:
    contact_id = ingest.contacts()[0]["id"]["S"]
    body = {**legal_order(ingest, contact_id), "danger_to_self_only": True}
    refused = kept(ingest, call_as(ingest, "professional", "POST", "/disclosures", body))
    assert refused.status_code == 422
    assert "anonymous" in refused.json()["message"].lower() or "self" in refused.json()["message"].lower()


def test_a_third_party_that_is_the_person_themselves_is_refused(ingest: Ingest) -> None:
    """Issue 9: who else is in danger is a category, and the person themselves is none (P6, P7)."""
    contact_id = ingest.contacts()[0]["id"]["S"]
    body = legal_order(ingest, contact_id)
    body["third_party_danger"] = {"category": "self", "description": "Nobody else is at risk."}
    refused = kept(ingest, call_as(ingest, "professional", "POST", "/disclosures", body))
    assert refused.status_code == 422
    assert "names the person themselves" in refused.json()["message"]


@pytest.mark.parametrize("group", ["staff", "volunteer", "compliance"])
def test_only_a_professional_may_request(ingest: Ingest, group: str) -> None:
    contact_id = ingest.contacts()[0]["id"]["S"]
    assert (
        kept(
            ingest, call_as(ingest, group, "POST", "/disclosures", legal_order(ingest, contact_id))
        ).status_code
        == 403
    )


def status_of(ingest: Ingest, group: str, disclosure_id: str) -> str:
    return str(kept(ingest, call_as(ingest, group, "GET", f"/disclosures/{disclosure_id}")).json()["status"])


def decide(ingest: Ingest, disclosure_id: str, decision: str, reason: str) -> requests.Response:
    path = f"/disclosures/{disclosure_id}/{decision}"
    return kept(ingest, call_as(ingest, "compliance", "POST", path, {"reason": reason}))


def test_a_rejected_request_can_never_be_retrieved(ingest: Ingest) -> None:
    contact_id = next(c["id"]["S"] for c in ingest.contacts() if "identifier_ciphertext" in c)
    requested = kept(
        ingest, call_as(ingest, "professional", "POST", "/disclosures", legal_order(ingest, contact_id))
    )
    disclosure_id = requested.json()["id"]
    wait_until(lambda: status_of(ingest, "compliance", disclosure_id) == "awaiting_decision", timeout_s=30)

    assert decide(ingest, disclosure_id, "reject", "The order is not signed.").status_code == 200
    wait_until(lambda: status_of(ingest, "professional", disclosure_id) == "rejected", timeout_s=30)

    assert decide(ingest, disclosure_id, "approve", "Second thoughts.").status_code == 409
    result = kept(ingest, call_as(ingest, "professional", "GET", f"/disclosures/{disclosure_id}/result"))
    assert result.status_code == 410


def test_contact_details_in_a_requests_text_are_stored_as_tags(ingest: Ingest) -> None:
    """P2, P3: the caller's number typed into the danger's description is never stored nor shown."""
    contact_id = next(c["id"]["S"] for c in ingest.contacts() if "identifier_ciphertext" in c)
    body = legal_order(ingest, contact_id)
    body["third_party_danger"]["description"] = f"He called from {CALLER} and threatened his son."
    requested = kept(ingest, call_as(ingest, "professional", "POST", "/disclosures", body))
    assert requested.status_code == 202, requested.text
    shown = kept(ingest, call_as(ingest, "compliance", "GET", f"/disclosures/{requested.json()['id']}"))
    assert shown.json()["third_party_danger"]["description"] == (
        "He called from [TELEFOONNUMMER] and threatened his son."
    )
    assert CALLER not in shown.text


def test_an_identifier_in_a_legal_orders_particulars_is_refused(ingest: Ingest) -> None:
    contact_id = ingest.contacts()[0]["id"]["S"]
    body = legal_order(ingest, contact_id)
    body["legal_order"]["reference"] = CALLER
    refused = kept(ingest, call_as(ingest, "professional", "POST", "/disclosures", body))
    assert refused.status_code == 422
    assert "legal_order.reference contains a phone number" in refused.json()["message"]
    assert CALLER not in refused.text
