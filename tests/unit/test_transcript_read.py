"""A transcript read names one of P4's purposes and may add a note (P4, P8), over in-memory fakes and the
route's resolver: the note is scrubbed before it reaches the audit log, and however much scrubbing
lengthens it the read is recorded, never a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from api_events import FakeLambdaContext, response_json, rest_event
from fakes_memory_staff import InMemoryAuditLog, InMemoryRegister, InMemoryTranscriptReader

from helpline.logic.audit import DETAIL_VALUE_MAX
from helpline.logic.transcripts import audit_note, read_transcript
from helpline.models.register import ContactView
from helpline.models.transcripts import NOTE_MAX, TRANSCRIPT_PURPOSES, DecryptedPart
from helpline.routes.transcripts import create_transcripts_app

CHAT = "a" * 32
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def fake_scrub(text: str) -> str:
    """Names as deduce tags them, and a number as the regex pass does: each tag longer than its text."""
    return text.replace("Jan", "[PERSOON-1]").replace("0612345678", "[TELEFOONNUMMER]")


class World:
    def __init__(self) -> None:
        contact = ContactView(
            id=CHAT,
            channel="chat",
            line="national",
            started_at=NOW,
            region="Utrecht",
            limit_outcome="allowed",
        )
        self.register = InMemoryRegister([contact])
        part = DecryptedPart(sender="contact", sent_at=NOW, text="Hoi, ik ben Jan.")
        self.reader = InMemoryTranscriptReader({CHAT: [part]})
        self.audit = InMemoryAuditLog()

    def read(self, purpose: Any = "training", note: str | None = None) -> Any:
        return read_transcript(
            self.register,
            self.reader,
            self.audit,
            fake_scrub,
            contact_id=CHAT,
            actor="mentor-1",
            purpose=purpose,
            now=NOW,
            note=note,
        )

    def http(self, query: dict[str, str]) -> tuple[int, Any]:
        app = create_transcripts_app(
            register=lambda: self.register,
            reader=lambda: self.reader,
            audit=lambda: self.audit,
            scrubber=fake_scrub,
            clock=lambda: NOW,
        )
        event = rest_event(
            "GET",
            "/contacts/{id}/transcript",
            f"/contacts/{CHAT}/transcript",
            username="mentor-1",
            groups="[mentor]",
            path_parameters={"id": CHAT},
        )
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {key: [value] for key, value in query.items()}
        response = app.resolve(event, FakeLambdaContext())
        return response["statusCode"], response_json(response)


@pytest.mark.parametrize("purpose", TRANSCRIPT_PURPOSES)
def test_each_of_p4s_purposes_is_recorded_as_it_is(purpose: str) -> None:
    world = World()
    world.read(purpose)
    (entry,) = world.audit.entries()
    assert entry.details == {"purpose": purpose, "channel": "chat", "parts": "1"}


def test_the_purposes_are_training_emotional_processing_and_quality_improvement() -> None:
    """P4: training, the volunteer's own emotional processing (verwerking), quality improvement."""
    assert TRANSCRIPT_PURPOSES == ("training", "emotional_processing", "quality_improvement")


def test_a_note_is_scrubbed_before_it_reaches_the_audit_log() -> None:
    world = World()
    world.read("emotional_processing", note="  talk with Jan about the call, he left 0612345678  ")
    (entry,) = world.audit.entries()
    assert entry.details["note"] == "talk with [PERSOON-1] about the call, he left [TELEFOONNUMMER]"
    assert "0612345678" not in json.dumps(entry.model_dump(mode="json"))


def test_a_blank_note_is_left_out() -> None:
    world = World()
    world.read(note="   ")
    (entry,) = world.audit.entries()
    assert "note" not in entry.details


def test_a_note_that_scrubbing_lengthens_past_the_audit_limit_is_recorded_cut_never_a_500() -> None:
    """The tester's defect: 198 characters became 206 after scrubbing, over the audit's 200 -> 500."""
    note = ("Jan " * 50)[:198]
    assert len(fake_scrub(note)) > DETAIL_VALUE_MAX
    world = World()
    world.read(note=note)
    (entry,) = world.audit.entries()
    recorded = entry.details["note"]
    assert len(recorded) == DETAIL_VALUE_MAX
    assert recorded.endswith("…")
    assert "Jan" not in recorded


def test_audit_note_keeps_what_fits_as_it_is() -> None:
    assert audit_note("x" * DETAIL_VALUE_MAX) == "x" * DETAIL_VALUE_MAX
    assert audit_note("x" * (DETAIL_VALUE_MAX + 1)) == "x" * (DETAIL_VALUE_MAX - 1) + "…"


# ---------------------------------------------------------------- the route: what the spec says is enforced


def test_the_longest_note_the_route_takes_is_read_and_recorded() -> None:
    world = World()
    status, body = world.http({"purpose": "training", "note": ("Jan " * 60)[:NOTE_MAX]})
    assert status == 200, body
    (entry,) = world.audit.entries()
    assert len(entry.details["note"]) <= DETAIL_VALUE_MAX


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"purpose": "abc"},
        {"purpose": "curiosity"},
        {"purpose": "Training"},
        {"purpose": "training", "note": ""},
        {"purpose": "training", "note": "x" * (NOTE_MAX + 1)},
    ],
    ids=["no purpose", "three letters", "not P4's", "case", "empty note", "note too long"],
)
def test_a_purpose_that_is_not_p4s_or_a_note_out_of_bounds_is_400_and_nothing_is_read(
    query: dict[str, str],
) -> None:
    world = World()
    status, body = world.http(query)
    assert status == 400, body
    assert world.audit.entries() == []
    for value in query.values():
        if len(value) >= 3:
            assert value not in json.dumps(body), "a problem names the parameter, never its value"


def test_the_route_declares_the_purposes_and_the_notes_bounds_in_its_spec() -> None:
    spec = (
        create_transcripts_app()
        .get_openapi_schema()
        .model_dump(mode="json", by_alias=True, exclude_none=True)
    )
    operation = spec["paths"]["/contacts/{id}/transcript"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert parameters["purpose"]["required"] is True
    assert parameters["purpose"]["schema"]["enum"] == list(TRANSCRIPT_PURPOSES)
    assert parameters["note"]["required"] is False
    note_schema = next(option for option in parameters["note"]["schema"]["anyOf"] if "maxLength" in option)
    assert (note_schema["minLength"], note_schema["maxLength"]) == (1, NOTE_MAX)
    assert {"200", "400", "401", "403", "404", "500"} <= set(operation["responses"])
