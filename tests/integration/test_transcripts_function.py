"""GET /contacts/{id}/transcript over moto (P4, P8): decrypted, scrubbed, in order, and audited with one
of P4's purposes and an optional note, scrubbed and never too long for the audit log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from api_events import FakeLambdaContext, response_json, rest_event
from conftest import create_table_from_template

from helpline import clock, periods
from helpline.dal.audit import audit_log
from helpline.dal.dynamodb import to_item
from helpline.dal.kms import KmsTranscriptSealer, kms_session
from helpline.dal.transcript_reader import transcript_reader
from helpline.dal.transcripts import DynamoTranscriptStore
from helpline.logic import retention
from helpline.logic.conversation import PART_COUNTER_SPAN
from helpline.models.contacts import ContactRecord
from helpline.routes.transcripts import create_transcripts_app
from helpline.settings import get_settings

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
CHAT = "a" * 32
OTHER = "b" * 32
CALL = "c" * 32
T0 = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, 0, 0, 5, tzinfo=UTC)


def fake_scrub(text: str) -> str:
    return text.replace("Marieke", "[PERSOON-1]")


REGION = "eu-west-1"
ALIAS_NAME_PREFIX = "alias/test-org/transcripts"


def alias_prefix() -> str:
    account = boto3.client("sts").get_caller_identity()["Account"]
    return f"arn:aws:kms:{REGION}:{account}:{ALIAS_NAME_PREFIX}"


def create_period_key(moment: datetime) -> None:
    """The transcript key of `moment`'s month, aliased `<prefix>/<YYYY-MM>` as the key steward names it."""
    kms = boto3.client("kms")
    key = kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")
    kms.create_alias(
        AliasName=f"{ALIAS_NAME_PREFIX}/{periods.period_of(moment)}", TargetKeyId=key["KeyMetadata"]["KeyId"]
    )


@pytest.fixture
def world(contacts_table: str, aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    tables = {name: create_table_from_template(name) for name in ("TranscriptsTable", "AuditTable")}
    monkeypatch.setenv("TRANSCRIPTS_TABLE", tables["TranscriptsTable"])
    monkeypatch.setenv("AUDIT_TABLE", tables["AuditTable"])
    for moment in (T0, APRIL):
        create_period_key(moment)
    monkeypatch.setenv("TRANSCRIPT_KEY_ALIAS_PREFIX", alias_prefix())
    get_settings.cache_clear()
    kms_session.cache_clear()
    transcript_reader.cache_clear()
    for contact_id, channel in ((CHAT, "chat"), (OTHER, "chat"), (CALL, "voice")):
        record = ContactRecord(
            id=contact_id,
            channel=channel,
            line="national",
            started_at=T0,
            region="Utrecht",
            limit_outcome="allowed",
        )
        boto3.client("dynamodb").put_item(
            TableName=contacts_table, Item=to_item(record.model_dump(mode="json", exclude_none=True))
        )
    yield tables
    transcript_reader.cache_clear()
    clock.reset()


def seal(
    contact_id: str,
    seq: int,
    sender: str,
    text: str,
    sealed_for: str | None = None,
    received_at: datetime = T0,
    expires_at: int | None = None,
) -> None:
    """As ingest stores a part: sealed under the key of its receipt month, with its TTL."""
    sealer = KmsTranscriptSealer(get_settings().transcript_key_alias_prefix)
    store = DynamoTranscriptStore(get_settings().transcripts_table)
    ciphertext = sealer.seal(sealed_for or contact_id, "chat", sender, text, received_at)
    if expires_at is None:
        expires_at = retention.expiry_epoch(clock.now(), 180)
    store.append(contact_id, seq, sender, ciphertext, T0 + timedelta(minutes=seq % 10_000), expires_at)


@pytest.fixture
def handler(world: dict[str, str]) -> Handler:
    app = create_transcripts_app(scrubber=fake_scrub, clock=lambda: T0 + timedelta(days=1))
    return lambda event, context: app.resolve(event, context)


def read_event(
    contact_id: str, purpose: str | None = "training", groups: str = "[mentor]", note: str | None = None
) -> dict[str, Any]:
    event = rest_event(
        "GET",
        "/contacts/{id}/transcript",
        f"/contacts/{contact_id}/transcript",
        username="mentor-1",
        groups=groups,
        path_parameters={"id": contact_id},
    )
    query = {name: value for name, value in (("purpose", purpose), ("note", note)) if value is not None}
    if query:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {name: [value] for name, value in query.items()}
    return event


def call(handler: Handler, event: dict[str, Any]) -> tuple[int, Any]:
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def test_the_transcript_is_scrubbed_in_order_and_the_read_is_audited(handler: Handler) -> None:
    seal(CHAT, 3, "contact", "Dank je, Marieke.")
    seal(CHAT, 1, "contact", "Hoi, ik ben Marieke.")
    seal(CHAT, 2, "volunteer", "Fijn dat je er bent.")

    status, body = call(handler, read_event(CHAT, purpose="training", note="session on Marieke's chat"))

    assert status == 200
    assert [(p["position"], p["sender"], p["text"]) for p in body["parts"]] == [
        (1, "contact", "Hoi, ik ben [PERSOON-1]."),
        (2, "volunteer", "Fijn dat je er bent."),
        (3, "contact", "Dank je, [PERSOON-1]."),
    ]
    assert "Marieke" not in str(body)
    (entry,) = audit_log().entries()
    assert (entry.actor, entry.action, entry.subject) == ("mentor-1", "transcript.read", CHAT)
    assert entry.details["purpose"] == "training"
    assert entry.details["note"] == "session on [PERSOON-1]'s chat"
    assert entry.at == T0 + timedelta(days=1)


@pytest.mark.parametrize("purpose", ["training", "emotional_processing", "quality_improvement"])
def test_each_of_p4s_purposes_is_read_and_recorded(handler: Handler, purpose: str) -> None:
    seal(CHAT, 1, "contact", "Hoi")
    assert call(handler, read_event(CHAT, purpose=purpose))[0] == 200
    (entry,) = audit_log().entries()
    assert entry.details == {"purpose": purpose, "channel": "chat", "parts": "1"}


@pytest.mark.parametrize(
    ("purpose", "note"),
    [
        (None, None),
        ("x", None),
        ("abc", None),
        ("curiosity", None),
        ("training", ""),
        ("training", "n" * 201),
    ],
    ids=["missing", "one letter", "three letters", "not P4's", "empty note", "note too long"],
)
def test_a_purpose_that_is_not_one_of_p4s_or_a_note_out_of_bounds_is_400(
    handler: Handler, purpose: str | None, note: str | None
) -> None:
    seal(CHAT, 1, "contact", "Hoi")
    status, body = call(handler, read_event(CHAT, purpose=purpose, note=note))
    assert status == 400, body
    assert "curiosity" not in str(body)
    assert audit_log().entries() == []


def test_a_note_that_scrubbing_lengthens_past_the_audit_limit_is_recorded_cut_never_a_500(
    handler: Handler,
) -> None:
    """The tester's defect: a 198-character text grew past the audit entry's 200 characters -> 500."""
    seal(CHAT, 1, "contact", "Hoi")
    note = ("Marieke " * 30)[:198]
    status, body = call(handler, read_event(CHAT, note=note))
    assert status == 200, body
    (entry,) = audit_log().entries()
    assert len(entry.details["note"]) == 200
    assert entry.details["note"].endswith("…")
    assert "Marieke" not in entry.details["note"]


def test_a_volunteer_is_403(handler: Handler) -> None:
    status, body = call(handler, read_event(CHAT, groups="[volunteer]"))
    assert (status, body) == (403, {"message": "Forbidden: this route is for the groups mentor, staff"})
    assert audit_log().entries() == []


def test_unknown_contacts_and_calls_have_no_transcript(handler: Handler) -> None:
    assert call(handler, read_event("f" * 32)) == (404, {"message": "No such contact"})
    assert call(handler, read_event(CALL))[0] == 404
    assert audit_log().entries() == []


def test_a_part_sealed_for_another_contact_is_refused(handler: Handler) -> None:
    seal(CHAT, 1, "contact", "Hoi, ik ben Marieke.", sealed_for=OTHER)
    status, body = call(handler, read_event(CHAT))
    assert (status, body) == (500, {"message": "Internal error"})
    assert audit_log().entries() == []


def test_the_handler_module_uses_the_scrubber_package(
    world: dict[str, str], load_handler: Callable[[str], Handler], monkeypatch: pytest.MonkeyPatch
) -> None:
    """app.py imports `helpline.scrub` lazily, on the first read: a stand-in module proves the wiring."""
    import sys
    import types

    module = types.ModuleType("helpline.scrub")
    module.scrub = fake_scrub  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "helpline.scrub", module)
    seal(CHAT, 1, "contact", "Ik ben Marieke.")
    status, body = call(load_handler("functions/transcripts/app.py"), read_event(CHAT))
    assert (status, body["parts"][0]["text"]) == (200, "Ik ben [PERSOON-1].")


# ---------------------------------------------------------------- retention (P8)


def texts(handler: Handler, contact_id: str = CHAT) -> list[str]:
    status, body = call(handler, read_event(contact_id))
    assert status == 200
    return [part["text"] for part in body["parts"]]


def test_parts_sealed_under_the_keys_of_different_months_are_all_read(handler: Handler) -> None:
    """A chat across the turn of the month: each part under its own receipt month's key (P7)."""
    seal(CHAT, 1, "contact", "Nog in maart.", received_at=T0)
    seal(CHAT, 2, "volunteer", "En nu april.", received_at=APRIL)
    assert texts(handler) == ["Nog in maart.", "En nu april."]


def test_a_part_past_its_expiry_is_gone_at_once_before_any_ttl(handler: Handler) -> None:
    """Logical erasure: the row is still in the table (TTL has not run), the read skips it, and the
    audit log counts only what was shown."""
    today = retention.receipt_day(clock.now())
    seal(CHAT, 1, "contact", "Al verlopen.", expires_at=retention.epoch_of_day(today))
    seal(CHAT, 2, "contact", "Nog bewaard.")
    assert texts(handler) == ["Nog bewaard."]
    rows = boto3.client("dynamodb").query(
        TableName=get_settings().transcripts_table,
        KeyConditionExpression="contact_id = :c",
        ExpressionAttributeValues={":c": {"S": CHAT}},
    )["Items"]
    assert len(rows) == 2, "physically still there: only the sweep and TTL delete"
    (entry,) = audit_log().entries()
    assert entry.details["parts"] == "1"


def test_moving_the_clock_past_the_retention_empties_the_transcript(handler: Handler) -> None:
    """The local stack's rehearsal clock (`helpline.clock.advance`) is the reader's clock too."""
    seal(CHAT, 1, "contact", "Hoi")
    assert texts(handler) == ["Hoi"]
    clock.advance(timedelta(days=181))
    assert texts(handler) == []


def test_parts_numbered_before_and_after_the_counter_read_in_order(handler: Handler) -> None:
    """P8: reads keep working for parts already stored: a chat that went on across the change has parts
    numbered by send time (ms * 1000 + CRC) and parts numbered by send time and counter
    (`logic.conversation.PART_COUNTER_SPAN`), and reads them all, the old ones first, each kind in its
    order."""
    old_scheme = int(T0.timestamp() * 1000) * 1000
    new_scheme = int((T0 + timedelta(minutes=2)).timestamp() * 1000) * PART_COUNTER_SPAN
    seal(CHAT, old_scheme + 834, "contact", "Eerst, nog oud genummerd.")
    seal(CHAT, new_scheme + 2, "contact", "Derde, zelfde milliseconde.")
    seal(CHAT, old_scheme + 60_000_000 + 17, "volunteer", "Tweede, oud.")
    seal(CHAT, new_scheme + 1, "volunteer", "Nieuw genummerd.")
    assert texts(handler) == [
        "Eerst, nog oud genummerd.",
        "Tweede, oud.",
        "Nieuw genummerd.",
        "Derde, zelfde milliseconde.",
    ]
