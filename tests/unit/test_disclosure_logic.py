"""Disclosure rules (P6, P7) over the in-memory fakes: legal basis and grounds that mean something
(who else is in danger, plausible dates, a consent recorded by a user of the pool, no identifier in the
text), four eyes, the custodian's answer recorded (P3), once-only delivery."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fakes_disclosures import DatedContactDirectory, FailingAuditLog, InMemoryUserDirectory
from fakes_memory_disclosures import (
    FakeNotifier,
    FakeSealer,
    FakeWorkflow,
    InMemoryDisclosureStore,
)
from pydantic import ValidationError

from helpline.auth import Caller
from helpline.logic.audit import verify_chain
from helpline.logic.disclosure_decisions import decide
from helpline.logic.disclosure_grounds import refusal, timing_refusal
from helpline.logic.disclosure_requests import (
    get_disclosure,
    list_disclosures,
    request_disclosure,
    retrieve_result,
)
from helpline.logic.disclosure_workflow import (
    await_decision,
    prepare_release,
    record_decrypted,
    record_outcome,
    record_refused,
    record_requested,
)
from helpline.logic.disclosures import (
    Decision,
    DisclosureConfig,
    DisclosureConflict,
    DisclosureForbidden,
    DisclosureGone,
    DisclosureNotFound,
    DisclosureRefused,
)
from helpline.models.disclosures import THIRD_PARTY_CATEGORIES, DisclosureRequestIn, SealedIdentifier

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
STARTED = datetime(2026, 3, 15, 10, 30, 40, tzinfo=UTC)  # when the contact CONTACT started
LATER = NOW + timedelta(hours=30)  # the custodian's officer took a day and more to confirm
CONTACT = "c" * 32
ERASED = "e" * 32
OFFICE = "0" * 32
NUMBER = "+31612345678"
DISCLOSURE = "d" * 32
TOKEN = "task-token-abc"
PRO = Caller("pro-1", frozenset({"professional"}))
PRO2 = Caller("pro-2", frozenset({"professional"}))
COMP = Caller("comp-1", frozenset({"compliance"}))
COMP2 = Caller("comp-2", frozenset({"compliance"}))
PRO_AND_COMP = Caller("pro-1", frozenset({"professional", "compliance"}))

LEGAL_ORDER = {
    "reference": "VIG-2026-001",
    "officer_of_justice": "mr. A. de Vries",
    "prosecutor_office": "Parket Midden-Nederland",
    "issued_on": "2026-03-14",
    "document_sha256": "a" * 64,
}
DANGER = {"category": "other_named_person", "description": "the caller's neighbour, threatened tonight"}
CONSENT = {
    "recorded_by": "pro-1",
    "recorded_at": "2026-03-15T11:00:00Z",
    "method": "phone",
    "statement": "Pass it to my GP",
}
USERS = ("pro-1", "vol-1")


def legal_request(**changes: Any) -> DisclosureRequestIn:
    body: dict[str, Any] = {
        "contact_id": CONTACT,
        "basis": "legal_order_126nc",
        "legal_order": LEGAL_ORDER,
        "third_party_danger": DANGER,
    }
    body.update(changes)
    return DisclosureRequestIn.model_validate({k: v for k, v in body.items() if v is not None})


def consent_request(**changes: Any) -> DisclosureRequestIn:
    return legal_request(
        basis="consent", legal_order=None, third_party_danger=None, consent={**CONSENT, **changes}
    )


def danger(category: str = "child", description: str = "A child in the household is in acute danger.") -> Any:
    return legal_request(third_party_danger={"category": category, "description": description})


def order_issued(on: date) -> DisclosureRequestIn:
    return legal_request(legal_order={**LEGAL_ORDER, "issued_on": on.isoformat()})


class World:
    def __init__(self, approvals_needed: int = 1) -> None:
        self.store = InMemoryDisclosureStore()
        self.contacts = DatedContactDirectory(
            {
                CONTACT: SealedIdentifier(contact_id=CONTACT, kind="phone", value=NUMBER, reference="CA1"),
                ERASED: None,
            },
            office={OFFICE},
            started={CONTACT: STARTED},
        )
        self.users = InMemoryUserDirectory(USERS)
        self.workflow = FakeWorkflow()
        self.sealer = FakeSealer()
        self.notifier = FakeNotifier()
        self.audit = FailingAuditLog()
        self.config = DisclosureConfig(approvals_needed=approvals_needed, approval_timeout_seconds=600)

    def request(self, body: DisclosureRequestIn | None = None, caller: Caller = PRO) -> str:
        request_disclosure(
            body or legal_request(),
            caller,
            DISCLOSURE,
            self.config,
            self.store,
            self.contacts,
            self.users,
            self.workflow,
            self.audit,
            NOW,
        )
        return DISCLOSURE

    def waiting(self, caller: Caller = PRO) -> str:
        self.request(caller=caller)
        record_requested(DISCLOSURE, self.store, NOW)
        await_decision(DISCLOSURE, TOKEN, self.store, self.sealer, self.notifier, NOW)
        return DISCLOSURE

    def decide(self, decision: Decision, caller: Caller, at: datetime = NOW) -> Any:
        return decide(
            DISCLOSURE,
            decision,
            "checked the demand",
            caller,
            self.store,
            self.sealer,
            self.workflow,
            self.audit,
            at,
        )

    def awaiting_custodian(self) -> Any:
        self.waiting()
        self.decide("approve", COMP)
        return prepare_release(DISCLOSURE, self.store, self.audit, NOW)

    def custodian_released(self, at: datetime = LATER) -> None:
        """What the custodian's decrypt function does once its officer confirmed: the sealed result."""
        result = {
            "identifier": NUMBER,
            "identifier_type": "phone",
            "provider_reference": "CA1",
            "basis": "legal_order_126nc",
            "contact_id": CONTACT,
        }
        self.store.put_result(DISCLOSURE, self.sealer.seal(DISCLOSURE, result), at + timedelta(hours=24), at)

    def decrypted(self, at: datetime = LATER) -> None:
        self.awaiting_custodian()
        self.custodian_released(at)
        record_decrypted(DISCLOSURE, "officer-1", at - timedelta(minutes=1), self.store, self.audit, at)

    def delivered(self, at: datetime = LATER) -> None:
        self.decrypted(at)
        record_outcome("record_delivered", DISCLOSURE, self.store, self.audit, at)

    def actions(self) -> list[str]:
        return [entry.action for entry in self.audit.entries()]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"basis": None}, "needs a legal basis"),
        ({"basis": "danger_to_others"}, "only legal bases"),
        ({"danger_to_self_only": True}, "danger only to themselves"),
        ({"third_party_danger": None}, "third_party_danger"),
        ({"legal_order": None}, "needs the legal_order"),
        ({"basis": "consent", "legal_order": None}, "consent record"),
    ],
)
def test_no_legal_basis_is_refused(changes: dict[str, Any], fragment: str) -> None:
    body = legal_request(**changes)
    assert fragment in (refusal(body) or "")
    world = World()
    with pytest.raises(DisclosureRefused):
        world.request(body)
    assert world.store.requests == {}
    assert world.workflow.started == []


def test_danger_to_self_is_refused_even_with_a_legal_order() -> None:
    with pytest.raises(DisclosureRefused, match="P7"):
        World().request(legal_request(danger_to_self_only=True))


def test_consent_is_a_basis() -> None:
    body = consent_request()
    assert refusal(body) is None
    world = World()
    world.request(body)
    stored = world.store.requests[DISCLOSURE]
    assert stored.consent is not None
    assert (stored.basis, stored.consent.recorded_by, stored.consent.method) == ("consent", "pro-1", "phone")
    assert world.users.asked == ["pro-1"]


# ---------------------------------------------------------------- grounds that mean something (P6, P7)


def refused(body: DisclosureRequestIn, world: World | None = None) -> str:
    """The reason `body` is refused, after checking that nothing was stored, started or audited."""
    world = world or World()
    with pytest.raises(DisclosureRefused) as raised:
        world.request(body)
    assert world.store.requests == {}
    assert world.workflow.started == []
    assert world.audit.entries() == []
    return raised.value.reason


@pytest.mark.parametrize("category", THIRD_PARTY_CATEGORIES)
def test_every_category_of_third_party_is_a_ground(category: str) -> None:
    world = World()
    world.request(danger(category))
    stored = world.store.requests[DISCLOSURE].third_party_danger
    assert stored is not None
    assert stored.category == category


@pytest.mark.parametrize(
    "category", ["self", "Self", "the person", "the-person", "themselves", "caller", "zichzelf", "de beller"]
)
def test_a_category_that_is_the_person_themselves_is_refused_by_p7(category: str) -> None:
    reason = refused(danger(category))
    assert "names the person themselves" in reason
    assert "(P7)" in reason
    assert "(P6)" in reason


@pytest.mark.parametrize("category", ["none", "nobody", "No one", "n/a", "niemand", "geen derden"])
def test_a_category_that_says_nobody_else_is_at_risk_is_refused_by_p6(category: str) -> None:
    reason = refused(danger(category))
    assert "says nobody else is in danger" in reason
    assert "(P6)" in reason


def test_an_unknown_category_is_refused_with_the_closed_set_and_without_its_value() -> None:
    reason = refused(danger("the-mailman-Jansen"))
    assert "must say who else is in danger (P6)" in reason
    assert all(category in reason for category in THIRD_PARTY_CATEGORIES)
    assert "Jansen" not in reason
    assert "mailman" not in reason


@pytest.mark.parametrize(
    "description",
    [
        "Nobody else is at risk, he says.",
        "No one else is in danger.",
        "no third party in danger; the caller wants to end his life",
        "There is no danger to others.",
        "She is only a danger to herself.",
        "Niemand anders is in gevaar.",
        "Er is geen gevaar voor derden.",
        "De beller is alleen een gevaar voor zichzelf.",
    ],
)
def test_a_description_that_says_nobody_else_is_at_risk_is_refused(description: str) -> None:
    """Issue 9: free text saying nobody else is at risk was accepted under any flag."""
    reason = refused(danger("public", description))
    assert "third_party_danger.description says nobody else is in danger" in reason
    assert "(P6)" in reason
    assert "(P7)" in reason
    assert description not in reason


@pytest.mark.parametrize(
    "description",
    [
        "No one else knows yet: her son of six is locked in with him.",
        "He threatened his neighbour with a knife; nobody else was home.",
        "Dreigt zijn ex-partner vanavond iets aan te doen.",
    ],
)
def test_a_description_of_a_real_danger_to_others_is_accepted(description: str) -> None:
    assert refusal(danger("other_named_person", description)) is None


# ---- contact details in a request's text (P2, P3): scrubbed, or refused where the text must stay


CONTACT_DETAILS = [
    ("Her partner can be reached on 06-12345678.", "06-12345678", "[TELEFOONNUMMER]"),
    ("Bel hem op +31 6 1234 5678 vanavond.", "+31 6 1234 5678", "[TELEFOONNUMMER]"),
    ("His office: 020 123 4567.", "020 123 4567", "[TELEFOONNUMMER]"),
    ("Landline (030) 1234567.", "(030) 1234567", "[TELEFOONNUMMER]"),
    ("He wrote from threat.sender@example.nl last night.", "threat.sender@example.nl", "[EMAILADRES]"),
    ("The chat came from 203.0.113.7.", "203.0.113.7", "[IPADRES]"),
    ("The chat came from 2001:db8::7 again.", "2001:db8::7", "[IPADRES]"),
    ("See www.example.nl/threats for the post.", "www.example.nl/threats", "[URL]"),
    ("Paid from NL91ABNA0417164300 yesterday.", "NL91ABNA0417164300", "[IBAN]"),
]


def everything_kept(world: World) -> str:
    """Every request, result and audit entry the world holds, as text: where an identifier must not be."""
    stored = [item.model_dump_json() for item in world.store.requests.values()]
    audited = [entry.model_dump_json() for entry in world.audit.entries()]
    return json.dumps([stored, audited, world.workflow.started, world.workflow.succeeded])


@pytest.mark.parametrize(("text", "detail", "tag"), CONTACT_DETAILS)
def test_contact_details_in_the_danger_description_are_replaced_by_tags_before_storing(
    text: str, detail: str, tag: str
) -> None:
    """P2, P3: the description is the professional's account of the danger; it is kept, its contact
    details are not (never stored, audited, nor shown back)."""
    world = World()
    world.request(danger("partner", text))
    stored = world.store.requests[DISCLOSURE].third_party_danger
    assert stored is not None
    assert tag in stored.description
    assert detail not in everything_kept(world)
    shown = get_disclosure(DISCLOSURE, COMP, world.store).model_dump_json()
    assert detail not in shown


@pytest.mark.parametrize(
    ("statement", "detail"),
    [
        ("Pass my number 0612345678 to my GP.", "0612345678"),
        ("Write to me at someone@example.com", "someone@example.com"),
        ("Mijn nummer is +31612345678", "+31612345678"),
    ],
)
def test_contact_details_in_the_consent_statement_are_replaced_by_tags_before_storing(
    statement: str, detail: str
) -> None:
    world = World()
    world.request(consent_request(statement=statement))
    consent = world.store.requests[DISCLOSURE].consent
    assert consent is not None
    assert "[" in consent.statement
    assert detail not in everything_kept(world)


def test_a_scrubbed_text_still_fits_its_field_however_much_the_tags_lengthen_it() -> None:
    """A tag is longer than a short address: 2000 characters of addresses come out longer, and are cut
    after scrubbing, so the stored request always loads again (never a 500 on the next read)."""
    statement = ("a@b.nl " * 300)[:2000].strip()
    world = World()
    world.request(consent_request(statement=statement))
    stored = world.store.requests[DISCLOSURE]
    assert stored.consent is not None
    assert len(stored.consent.statement) <= 2000
    assert stored.consent.statement.endswith("…")
    assert "a@b.nl" not in stored.consent.statement
    type(stored).model_validate_json(stored.model_dump_json())


def test_what_pre_scrub_tags_is_what_is_kept_out_obfuscated_addresses_and_handles_included(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scrubbing relies on `helpline.scrub.pre_scrub`'s contract (contact details in, tags out), not
    on its current patterns: whatever it tags, an obfuscated address or a handle, is not stored."""
    import helpline.logic.disclosure_grounds as grounds

    real = grounds.pre_scrub

    def improved(text: str) -> str:
        text = text.replace("jan [at] example [dot] nl", "[EMAILADRES]")
        return real(text.replace("@jan_threatens", "[HANDLE]"))

    monkeypatch.setattr(grounds, "pre_scrub", improved)
    world = World()
    world.request(danger("partner", "He posts as @jan_threatens and mails from jan [at] example [dot] nl."))
    kept = everything_kept(world)
    assert "@jan_threatens" not in kept
    assert "jan [at] example" not in kept
    stored = world.store.requests[DISCLOSURE].third_party_danger
    assert stored is not None
    assert "[HANDLE]" in stored.description
    assert "[EMAILADRES]" in stored.description


@pytest.mark.parametrize(("text", "detail", "tag"), CONTACT_DETAILS[:7])
@pytest.mark.parametrize("field", ["reference", "officer_of_justice", "prosecutor_office"])
def test_a_contact_detail_in_the_legal_orders_particulars_is_refused_never_altered(
    field: str, text: str, detail: str, tag: str
) -> None:
    """A demand's particulars are stored as written (the custodian's officer checks them against the
    demand), so a contact detail there is refused (422) naming the field and the kind, never the value."""
    body = legal_request(legal_order={**LEGAL_ORDER, field: text[:200]})
    reason = refused(body)
    assert f"legal_order.{field} contains" in reason
    assert "kept as written" in reason
    assert "(P2, P3)" in reason
    assert detail not in reason


def test_a_contact_detail_in_the_consent_recorder_is_refused_before_the_pool_is_asked() -> None:
    world = World()
    reason = refused(consent_request(recorded_by="0612345678"), world)
    assert "consent.recorded_by contains a phone number" in reason
    assert "0612345678" not in reason
    assert world.users.asked == [], "the caller's number never travels on to the user pool"


def test_the_disclosures_path_does_not_load_deduce() -> None:
    """The identifier check uses `helpline.scrub`'s own patterns: the heavy de-identifier stays unloaded."""
    import subprocess
    import sys

    code = (
        "import sys, helpline.routes.disclosures, helpline.logic.disclosure_grounds as l\n"
        "assert l.identifiers_in('bel 0612345678') == ['a phone number']\n"
        "assert 'deduce' not in sys.modules and 'docdeid' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603


# ---- dates (P7, on our clock)


@pytest.mark.parametrize(
    ("issued_on", "fragment"),
    [
        (date(2026, 3, 16), "legal_order.issued_on is in the future"),
        (date(2099, 1, 1), "legal_order.issued_on is in the future"),
        (date(2026, 2, 28), "legal_order.issued_on is before the month in which the contact was made"),
        (date(2025, 3, 15), "legal_order.issued_on is before the month in which the contact was made"),
    ],
)
def test_an_implausible_date_of_a_demand_is_refused_naming_the_rule(issued_on: date, fragment: str) -> None:
    reason = refused(order_issued(issued_on))
    assert fragment in reason
    assert issued_on.isoformat() not in reason


@pytest.mark.parametrize("issued_on", [date(2026, 3, 1), date(2026, 3, 14), date(2026, 3, 15)])
def test_a_demand_dated_in_the_contacts_month_up_to_today_is_plausible(issued_on: date) -> None:
    world = World()
    world.request(order_issued(issued_on))
    assert world.store.requests[DISCLOSURE].status == "requested"


def test_a_demand_dated_today_in_the_netherlands_is_not_the_future_while_utc_is_still_yesterday() -> None:
    """23:30 UTC on 15 March is 00:30 on 16 March in Amsterdam: a demand of the 16th is plausible then."""
    late = datetime(2026, 3, 15, 23, 30, tzinfo=UTC)
    assert timing_refusal(order_issued(date(2026, 3, 16)), STARTED, late) is None
    assert timing_refusal(order_issued(date(2026, 3, 17)), STARTED, late) is not None


@pytest.mark.parametrize(
    ("recorded_at", "fragment"),
    [
        ("2099-01-01T00:00:00Z", "consent.recorded_at is in the future"),
        ("2026-03-15T12:01:00Z", "consent.recorded_at is in the future"),
        ("2026-03-15T10:29:59Z", "consent.recorded_at is before the contact started"),
        ("2026-02-01T10:00:00Z", "consent.recorded_at is before the contact started"),
    ],
)
def test_an_implausible_time_of_consent_is_refused_naming_the_rule(recorded_at: str, fragment: str) -> None:
    reason = refused(consent_request(recorded_at=recorded_at))
    assert fragment in reason
    assert recorded_at[:10] not in reason


@pytest.mark.parametrize(
    "recorded_at",
    [
        "2026-03-15T10:30:00Z",  # the minute the contact started, written down without its seconds
        "2026-03-15T12:00:00Z",  # now
        "2026-03-15T13:00:00+01:00",  # now, in Amsterdam's winter time
    ],
)
def test_consent_recorded_between_the_contacts_start_and_now_is_plausible(recorded_at: str) -> None:
    World().request(consent_request(recorded_at=recorded_at))


def test_a_contact_whose_start_is_not_on_record_cannot_have_its_dates_checked() -> None:
    world = World()
    world.contacts.started.clear()
    assert "start is not on record" in refused(legal_request(), world)


def test_an_erased_contact_is_gone_before_any_date_is_weighed() -> None:
    world = World()
    with pytest.raises(DisclosureGone):
        world.request(
            legal_request(contact_id=ERASED, legal_order={**LEGAL_ORDER, "issued_on": "2099-01-01"})
        )


# ---- who recorded the consent, and how


def test_consent_recorded_by_no_user_of_the_pool_is_refused() -> None:
    world = World()
    reason = refused(consent_request(recorded_by="made-up-name"), world)
    assert "consent.recorded_by is not a user of the organisation's user pool" in reason
    assert "made-up-name" not in reason
    assert world.users.asked == ["made-up-name"]


def test_the_pool_is_asked_only_about_a_consent_that_passed_every_other_rule() -> None:
    world = World()
    world.request(legal_request())
    assert world.users.asked == [], "a demand names no recorder"
    late = World()
    refused(consent_request(recorded_at="2099-01-01T00:00:00Z"), late)
    assert late.users.asked == []


@pytest.mark.parametrize("method", ["phone", "chat", "email", "in_person", "letter"])
def test_every_way_of_giving_consent_is_recorded(method: str) -> None:
    world = World()
    world.request(consent_request(method=method))
    consent = world.store.requests[DISCLOSURE].consent
    assert consent is not None
    assert consent.method == method


@pytest.mark.parametrize(
    "changes", [{"method": "telepathy"}, {"method": None}, {"recorded_by": ""}, {"recorded_by": "x" * 129}]
)
def test_a_consent_without_a_known_method_or_a_recorder_is_malformed(changes: dict[str, Any]) -> None:
    consent = {key: value for key, value in {**CONSENT, **changes}.items() if value is not None}
    with pytest.raises(ValidationError):
        DisclosureRequestIn.model_validate({"contact_id": CONTACT, "basis": "consent", "consent": consent})


def test_free_text_danger_is_no_longer_accepted() -> None:
    """The old shape (a sentence) is malformed: who else is in danger must be structured (P6)."""
    with pytest.raises(ValidationError):
        legal_request(third_party_danger="A named child in the household is in acute danger.")


@pytest.mark.parametrize(
    ("contact", "error"),
    [(OFFICE, DisclosureRefused), (ERASED, DisclosureGone), ("f" * 32, DisclosureNotFound)],
)
def test_contact_must_be_a_helpline_contact_with_its_identifier(contact: str, error: type[Exception]) -> None:
    world = World()
    with pytest.raises(error):
        world.request(legal_request(contact_id=contact))
    assert world.workflow.started == []


def test_a_contact_past_retention_is_gone_by_retention() -> None:
    """P7: an erased identifier (past `identifier_retain_until`, or swept) is 410, saying why."""
    with pytest.raises(DisclosureGone, match="erased by retention"):
        World().request(legal_request(contact_id=ERASED))


def test_request_is_stored_audited_and_started_with_ids_only() -> None:
    world = World()
    world.request()
    item = world.store.requests[DISCLOSURE]
    assert (item.status, item.requested_by, item.basis) == ("requested", "pro-1", "legal_order_126nc")
    assert world.workflow.started == [(DISCLOSURE, 600)]
    [entry] = world.audit.entries()
    assert (entry.action, entry.actor, entry.subject) == ("disclosure.requested", "pro-1", DISCLOSURE)
    assert entry.details == {"contact_id": CONTACT, "basis": "legal_order_126nc"}


def test_await_decision_stores_the_token_sealed_and_hashed_and_notifies_with_the_id() -> None:
    world = World()
    world.waiting()
    item = world.store.requests[DISCLOSURE]
    assert item.status == "awaiting_decision"
    assert item.token_ciphertext is not None
    assert TOKEN not in item.model_dump_json()
    assert item.token_sha256 is not None
    assert len(item.token_sha256) == 64
    assert world.notifier.notified == [(DISCLOSURE, 1)]


@pytest.mark.parametrize("decision", ["approve", "reject"])
@pytest.mark.parametrize("caller", [PRO, PRO_AND_COMP])
def test_the_requester_never_decides(decision: Decision, caller: Caller) -> None:
    world = World()
    world.waiting(caller=caller)
    with pytest.raises(DisclosureForbidden, match="requester"):
        world.decide(decision, PRO_AND_COMP)
    assert world.workflow.succeeded == []
    assert world.workflow.failed == []


def test_approval_resumes_the_workflow_and_is_audited() -> None:
    world = World()
    world.waiting()
    shown = world.decide("approve", COMP)
    assert shown.status == "approved"
    assert world.workflow.succeeded == [(TOKEN, {"decision": "approved"})]
    item = world.store.requests[DISCLOSURE]
    assert item.token_ciphertext is None
    assert item.result_expires_at is None, "the result's 24 hours start when the custodian decrypts"
    assert world.actions() == ["disclosure.requested", "disclosure.approved"]
    assert world.audit.entries()[-1].actor == "comp-1"


def test_two_approvals_needed_and_a_repeat_does_not_count() -> None:
    world = World(approvals_needed=2)
    world.waiting()
    assert world.decide("approve", COMP).status == "awaiting_decision"
    again = world.decide("approve", COMP)
    assert again.status == "awaiting_decision"
    assert [approval.by for approval in again.approvals] == ["comp-1"]
    assert world.workflow.succeeded == []
    assert world.decide("approve", COMP2).status == "approved"
    assert len(world.workflow.succeeded) == 1
    assert world.actions().count("disclosure.approved") == 2


def test_rejection_fails_the_task_and_a_later_decision_is_a_conflict() -> None:
    world = World()
    world.waiting()
    assert world.decide("reject", COMP).status == "rejected"
    assert world.workflow.failed == [(TOKEN, "Rejected", "rejected by compliance")]
    with pytest.raises(DisclosureConflict):
        world.decide("approve", COMP2)
    record_outcome("record_rejected", DISCLOSURE, world.store, world.audit, NOW)
    assert world.actions() == ["disclosure.requested", "disclosure.rejected"]


def test_decision_after_the_deadline_is_a_conflict() -> None:
    world = World()
    world.waiting()
    record_outcome("record_expired", DISCLOSURE, world.store, world.audit, NOW)
    with pytest.raises(DisclosureConflict):
        world.decide("approve", COMP)
    assert "disclosure.expired" in world.actions()


def test_result_once_to_the_requester_within_24_hours() -> None:
    world = World()
    world.delivered()
    sealed = world.store.results[DISCLOSURE][0]
    assert NUMBER not in sealed
    assert NUMBER not in world.store.requests[DISCLOSURE].model_dump_json()
    with pytest.raises(DisclosureForbidden):
        retrieve_result(DISCLOSURE, PRO2, world.store, world.sealer, world.audit, LATER)
    result = retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER)
    assert (result.identifier, result.identifier_type, result.provider_reference) == (NUMBER, "phone", "CA1")
    assert (result.contact_id, result.disclosure_id, result.basis) == (
        CONTACT,
        DISCLOSURE,
        "legal_order_126nc",
    )
    assert NUMBER not in repr(result)
    assert world.store.results == {}
    with pytest.raises(DisclosureGone):
        retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER)
    assert world.actions() == [
        "disclosure.requested",
        "disclosure.approved",
        "disclosure.release_requested",
        "disclosure.release_confirmed",
        "disclosure.decrypted",
        "disclosure.delivered",
        "disclosure.retrieved",
    ]
    assert verify_chain(world.audit.entries()).ok
    assert all(NUMBER not in json.dumps(entry.model_dump(mode="json")) for entry in world.audit.entries())


def test_result_after_24_hours_is_gone_and_erased() -> None:
    world = World()
    world.delivered()
    with pytest.raises(DisclosureGone, match="24 hours"):
        retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER + timedelta(hours=24))
    assert world.store.results == {}
    assert world.store.requests[DISCLOSURE].status == "expired"


def test_record_delivered_after_retrieval_changes_nothing() -> None:
    world = World()
    world.decrypted()
    retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER)
    assert (
        record_outcome("record_delivered", DISCLOSURE, world.store, world.audit, LATER).status == "retrieved"
    )


def test_professionals_see_their_own_compliance_sees_all() -> None:
    world = World()
    world.request()
    assert [item.id for item in list_disclosures(PRO, world.store).items] == [DISCLOSURE]
    assert list_disclosures(PRO2, world.store).items == []
    assert [item.id for item in list_disclosures(COMP, world.store).items] == [DISCLOSURE]
    with pytest.raises(DisclosureForbidden):
        get_disclosure(DISCLOSURE, PRO2, world.store)
    shown = get_disclosure(DISCLOSURE, COMP, world.store).model_dump()
    assert "token_ciphertext" not in shown
    assert "token_sha256" not in shown


# ---------------------------------------------------------------- the custodian's part (P3, P7)


def test_prepare_release_waits_for_the_custodian_and_asks_with_ids_basis_and_grounds_only() -> None:
    world = World()
    release = world.awaiting_custodian()
    item = world.store.requests[DISCLOSURE]
    assert item.status == "awaiting_custodian"
    asked = release.model_dump(mode="json")
    assert asked == {
        "disclosure_id": DISCLOSURE,
        "contact_id": CONTACT,
        "basis": "legal_order_126nc",
        "grounds": {"legal_order": LEGAL_ORDER, "consent": None},
        "approved_by": ["comp-1"],
        "approved_at": "2026-03-15T12:00:00Z",
    }
    assert "neighbour" not in json.dumps(asked), "free text stays with the organisation"
    assert world.actions()[-1] == "disclosure.release_requested"
    with pytest.raises(DisclosureConflict):
        retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, NOW)


def test_prepare_release_is_idempotent() -> None:
    world = World()
    first = world.awaiting_custodian()
    again = prepare_release(DISCLOSURE, world.store, world.audit, NOW + timedelta(seconds=5))
    assert again == first
    assert world.actions().count("disclosure.release_requested") == 1


def test_a_consent_release_names_who_recorded_it_and_when_not_the_statement() -> None:
    world = World()
    world.request(consent_request())
    record_requested(DISCLOSURE, world.store, NOW)
    await_decision(DISCLOSURE, TOKEN, world.store, world.sealer, world.notifier, NOW)
    world.decide("approve", COMP)
    release = prepare_release(DISCLOSURE, world.store, world.audit, NOW)
    assert release.grounds.model_dump(mode="json") == {
        "legal_order": None,
        "consent": {"recorded_by": "pro-1", "recorded_at": "2026-03-15T11:00:00Z"},
    }
    assert "GP" not in release.model_dump_json()


@pytest.mark.parametrize("stage", ["requested", "awaiting_decision", "rejected"])
def test_nothing_is_released_before_approval(stage: str) -> None:
    world = World()
    world.request()
    if stage != "requested":
        record_requested(DISCLOSURE, world.store, NOW)
        await_decision(DISCLOSURE, TOKEN, world.store, world.sealer, world.notifier, NOW)
    if stage == "rejected":
        world.decide("reject", COMP)
    with pytest.raises(DisclosureConflict):
        prepare_release(DISCLOSURE, world.store, world.audit, NOW)
    assert "disclosure.release_requested" not in world.actions()


def test_record_decrypted_audits_the_custodian_officer_and_starts_the_24_hours() -> None:
    world = World()
    world.decrypted()
    item = world.store.requests[DISCLOSURE]
    assert item.status == "decrypted"
    assert item.result_expires_at == LATER + timedelta(hours=24)
    confirmed, decrypted = world.audit.entries()[-2:]
    assert (confirmed.action, confirmed.actor) == ("disclosure.release_confirmed", "officer-1")
    assert confirmed.details["party"] == "custodian"
    assert (decrypted.action, decrypted.actor) == ("disclosure.decrypted", "custodian")
    assert [entry.event for entry in item.timeline][-2:] == ["release_confirmed", "decrypted"]
    assert verify_chain(world.audit.entries()).ok
    # Retried by the workflow: nothing twice.
    record_decrypted(DISCLOSURE, "officer-1", LATER, world.store, world.audit, LATER)
    assert world.actions().count("disclosure.decrypted") == 1


def test_record_decrypted_needs_the_custodian_to_have_been_asked() -> None:
    world = World()
    world.waiting()
    world.decide("approve", COMP)
    with pytest.raises(DisclosureConflict):
        record_decrypted(DISCLOSURE, "officer-1", NOW, world.store, world.audit, NOW)


def test_a_release_refused_by_the_custodian_never_yields_a_result() -> None:
    world = World()
    world.awaiting_custodian()
    record_refused(DISCLOSURE, "officer-1", LATER, "no such demand on file", world.store, world.audit, LATER)
    item = world.store.requests[DISCLOSURE]
    assert item.status == "refused"
    assert (item.timeline[-1].event, item.timeline[-1].actor, item.timeline[-1].reason) == (
        "release_refused",
        "officer-1",
        "no such demand on file",
    )
    entry = world.audit.entries()[-1]
    assert (entry.action, entry.actor, entry.details["party"]) == (
        "disclosure.release_refused",
        "officer-1",
        "custodian",
    )
    assert "no such demand" not in json.dumps(entry.model_dump(mode="json"))
    with pytest.raises(DisclosureGone, match="refused"):
        retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER)
    assert record_outcome("record_expired", DISCLOSURE, world.store, world.audit, LATER).status == "refused"


def test_an_approved_request_expires_when_the_custodian_does_not_decide_in_time() -> None:
    world = World()
    world.awaiting_custodian()
    assert record_outcome("record_expired", DISCLOSURE, world.store, world.audit, LATER).status == "expired"
    entry = world.audit.entries()[-1]
    assert (entry.action, entry.details.get("stage")) == ("disclosure.expired", "custodian")
    with pytest.raises(DisclosureGone):
        retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER)


def test_an_identifier_erased_by_retention_before_the_release_is_recorded_as_erased() -> None:
    world = World()
    world.awaiting_custodian()
    assert record_outcome("record_erased", DISCLOSURE, world.store, world.audit, LATER).status == "erased"
    item = world.store.requests[DISCLOSURE]
    assert item.timeline[-1].reason == "erased by retention"
    assert world.actions()[-1] == "disclosure.erased"
    with pytest.raises(DisclosureGone, match="erased by retention"):
        retrieve_result(DISCLOSURE, PRO, world.store, world.sealer, world.audit, LATER)
    record_outcome("record_erased", DISCLOSURE, world.store, world.audit, LATER)
    assert world.actions().count("disclosure.erased") == 1


def test_erased_is_only_an_answer_to_a_release() -> None:
    world = World()
    world.waiting()
    with pytest.raises(DisclosureConflict):
        record_outcome("record_erased", DISCLOSURE, world.store, world.audit, NOW)
