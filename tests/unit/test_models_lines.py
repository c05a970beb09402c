"""The line registry models: normalised addresses, closed vocabularies, nothing extra."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from helpline.models.lines import Line, LineChange, LineIn, RejectionIn


def line_in(**overrides: Any) -> dict[str, Any]:
    return {
        "address": "020 123 4567",
        "kind": "helpline",
        "channel": "voice",
        "display_name": "Landelijke hulplijn",
        **overrides,
    }


def error_fields(error: ValidationError) -> set[str]:
    return {".".join(str(part) for part in detail["loc"]) for detail in error.errors()}


@pytest.mark.parametrize(
    "raw", ["020 123 4567", "020-1234567", "+31 20 123 4567", "0031201234567", " 0201234567 "]
)
def test_voice_address_is_normalised_to_e164_with_region_nl(raw: str) -> None:
    assert LineIn.model_validate(line_in(address=raw)).address == "+31201234567"


def test_a_foreign_number_keeps_its_country() -> None:
    assert LineIn.model_validate(line_in(address="+32 2 555 12 12")).address == "+3225551212"


@pytest.mark.parametrize("raw", ["12", "not a number", "020 123"])
def test_invalid_voice_address_is_rejected_without_echoing_it(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        LineIn.model_validate(line_in(address=raw))
    assert error_fields(caught.value) == {"address"}
    assert raw not in caught.value.errors()[0]["msg"]


def test_email_address_is_lower_cased() -> None:
    line = LineIn.model_validate(line_in(channel="email", address="Hulp@Helpline.Example"))
    assert line.address == "hulp@helpline.example"


def test_email_address_must_look_like_one() -> None:
    with pytest.raises(ValidationError) as caught:
        LineIn.model_validate(line_in(channel="email", address="hulp-at-helpline"))
    assert error_fields(caught.value) == {"address"}


def test_chat_address_is_a_slug() -> None:
    assert LineIn.model_validate(line_in(channel="chat", address="web-chat")).address == "web-chat"
    with pytest.raises(ValidationError):
        LineIn.model_validate(line_in(channel="chat", address="Web Chat!"))


def test_a_phone_number_is_not_accepted_as_chat_channel_by_accident() -> None:
    """The channel decides the rule: a number is not a valid chat slug (it has spaces)."""
    with pytest.raises(ValidationError):
        LineIn.model_validate(line_in(channel="chat", address="020 123 4567"))


def test_kind_is_helpline_or_office() -> None:
    """P11: office lines are a kind of their own; nothing else is a kind."""
    assert LineIn.model_validate(line_in(kind="office")).kind == "office"
    with pytest.raises(ValidationError) as caught:
        LineIn.model_validate(line_in(kind="hotline"))
    assert error_fields(caught.value) == {"kind"}


def test_channel_is_voice_chat_or_email() -> None:
    with pytest.raises(ValidationError) as caught:
        LineIn.model_validate(line_in(channel="fax"))
    assert error_fields(caught.value) == {"channel"}


def test_extra_field_is_rejected() -> None:
    with pytest.raises(ValidationError) as caught:
        LineIn.model_validate(line_in(caller_number="+31612345678"))
    assert error_fields(caught.value) == {"caller_number"}


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_display_name_is_1_to_80_characters(name: str) -> None:
    with pytest.raises(ValidationError):
        LineIn.model_validate(line_in(display_name=name))


def test_display_name_of_80_characters_is_fine() -> None:
    assert len(LineIn.model_validate(line_in(display_name="x" * 80)).display_name) == 80


def stored(**overrides: Any) -> dict[str, Any]:
    return {
        **line_in(),
        "line_id": "national-helpline",
        "updated_at": "2026-11-29T10:00:00Z",
        "updated_by": "admin-1",
        **overrides,
    }


@pytest.mark.parametrize("line_id", ["national-helpline", "a", "113", "x" * 63])
def test_line_id_slugs_are_accepted(line_id: str) -> None:
    assert Line.model_validate(stored(line_id=line_id)).line_id == line_id


@pytest.mark.parametrize("line_id", ["", "-leading-dash", "Upper", "under_score", "x" * 64])
def test_line_id_must_be_a_slug(line_id: str) -> None:
    with pytest.raises(ValidationError):
        Line.model_validate(stored(line_id=line_id))


def test_updated_at_is_kept_in_utc_to_the_second() -> None:
    amsterdam = timezone(timedelta(hours=1))
    line = Line.model_validate(stored(updated_at=datetime(2026, 11, 29, 11, 0, 0, 999_999, tzinfo=amsterdam)))
    assert line.updated_at == datetime(2026, 11, 29, 10, 0, 0, tzinfo=UTC)
    assert line.model_dump(mode="json")["updated_at"] == "2026-11-29T10:00:00Z"


def test_updated_at_without_a_time_zone_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Line.model_validate(stored(updated_at="2026-11-29T10:00:00"))


def test_a_stored_line_survives_its_own_json() -> None:
    line = Line.model_validate(stored())
    assert Line.model_validate_json(line.model_dump_json()) == line


def change(**overrides: Any) -> dict[str, Any]:
    return {
        "change_id": "0" * 31 + "1",
        "line_id": "office",
        "action": "put",
        "reasons": ["office_line_created"],
        "after": line_in(kind="office"),
        "status": "pending",
        "proposed_by": "admin-1",
        "proposed_at": "2026-11-29T10:00:00Z",
        **overrides,
    }


def test_a_line_change_survives_its_own_json_with_the_address_normalised() -> None:
    proposed = LineChange.model_validate(change(before=stored()))
    assert proposed.after is not None
    assert proposed.after.address == "+31201234567"
    assert proposed.version == 0
    assert LineChange.model_validate_json(proposed.model_dump_json()) == proposed


def test_a_line_change_needs_a_reason_for_four_eyes_and_a_known_status() -> None:
    with pytest.raises(ValidationError) as caught:
        LineChange.model_validate(change(reasons=[], status="done", extra="x"))
    assert error_fields(caught.value) == {"reasons", "status", "extra"}


@pytest.mark.parametrize("change_id", ["", "abc", "G" * 32, "0" * 33])
def test_a_change_id_is_32_hex_digits(change_id: str) -> None:
    with pytest.raises(ValidationError):
        LineChange.model_validate(change(change_id=change_id))


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_rejection_needs_a_reason_of_at_most_500_characters(reason: str) -> None:
    with pytest.raises(ValidationError):
        RejectionIn.model_validate({"reason": reason})
