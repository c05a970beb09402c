"""The anonymised registration (P8): what it holds, and that it holds nothing else."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pydantic import ValidationError

from helpline.models.contacts import ContactRecord


def record(**overrides: Any) -> dict[str, Any]:
    return {
        "channel": "voice",
        "line": "national-helpline",
        "started_at": "2026-11-29T23:30:00+00:00",
        "region": "Utrecht",
        "limit_outcome": "allowed",
        **overrides,
    }


def test_month_is_derived_from_started_at_in_utc() -> None:
    # 00:30 in Amsterdam on 1 December is still November in UTC.
    contact = ContactRecord.model_validate(record(started_at="2026-12-01T00:30:00+01:00"))
    assert contact.month == "2026-11"
    assert contact.model_dump(mode="json")["started_at"] == "2026-11-30T23:30:00Z"


def test_a_month_that_contradicts_started_at_is_rejected() -> None:
    with pytest.raises(ValidationError):
        ContactRecord.model_validate(record(month="2026-10"))


def test_a_record_survives_its_own_json_including_the_derived_month() -> None:
    """The ingest path queues `model_dump_json()`; the buffer handler must accept exactly that."""
    ciphertext = base64.b64encode(b"kms-ciphertext").decode()
    contact = ContactRecord.model_validate(
        record(
            ended_at="2026-11-29T23:40:00Z",
            duration_s=600,
            identifier_ciphertext=ciphertext,
            identifier_retain_until="2027-11-29",
        )
    )
    assert ContactRecord.model_validate_json(contact.model_dump_json()) == contact


def test_ids_are_random_hex() -> None:
    first, second = ContactRecord.model_validate(record()), ContactRecord.model_validate(record())
    assert first.id != second.id
    assert len(first.id) == 32
    assert set(first.id) <= set("0123456789abcdef")


@pytest.mark.parametrize("field", ["caller_number", "name", "ip_address", "email"])
def test_nothing_beyond_p8_can_be_stored(field: str) -> None:
    """P8 (and P2, P3, P5): no name and no clear identifier find a place in the registration."""
    with pytest.raises(ValidationError) as caught:
        ContactRecord.model_validate(record(**{field: "+31612345678"}))
    assert [detail["type"] for detail in caught.value.errors()] == ["extra_forbidden"]


@pytest.mark.parametrize("region", ["Utrecht", "Fryslân", "mobile", "abroad:BE", "abroad:other", "unknown"])
def test_regions(region: str) -> None:
    assert ContactRecord.model_validate(record(region=region)).region == region


@pytest.mark.parametrize(
    "region",
    ["0612345678", "Utrecht 3511", "abroad:belgium", "abroad:001", "", "Amersfoort", "'s-Hertogenbosch"],
)
def test_a_region_is_never_finer_than_a_province(region: str) -> None:
    """P8, P2: a province at most, never a city, and no number or postcode can hide in it."""
    with pytest.raises(ValidationError):
        ContactRecord.model_validate(record(region=region))


def test_identifier_ciphertext_must_be_base64() -> None:
    with pytest.raises(ValidationError):
        ContactRecord.model_validate(
            record(identifier_ciphertext="+31 6 1234 5678", identifier_retain_until="2027-01-01")
        )


def test_identifier_ciphertext_needs_a_retention_date() -> None:
    """P7: the encrypted identifier is kept only as long as a demand could need it."""
    with pytest.raises(ValidationError):
        ContactRecord.model_validate(record(identifier_ciphertext="a2V5"))


def test_ciphertext_is_not_in_the_repr() -> None:
    ciphertext = base64.b64encode(b"secret-ciphertext").decode()
    contact = ContactRecord.model_validate(
        record(identifier_ciphertext=ciphertext, identifier_retain_until="2027-01-01")
    )
    assert ciphertext not in repr(contact)


def test_duration_is_not_negative() -> None:
    with pytest.raises(ValidationError):
        ContactRecord.model_validate(record(duration_s=-1))


def test_a_contact_does_not_end_before_it_starts() -> None:
    with pytest.raises(ValidationError):
        ContactRecord.model_validate(record(ended_at="2026-11-29T23:00:00Z"))


@pytest.mark.parametrize(
    ("field", "value"), [("limit_outcome", "blocked"), ("channel", "sms"), ("line", "Not A Slug")]
)
def test_closed_vocabularies(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        ContactRecord.model_validate(record(**{field: value}))


def test_line_may_be_unknown() -> None:
    assert ContactRecord.model_validate(record(line="unknown")).line == "unknown"


# ---------------------------------------------------------------- erase_month: the sweep's sparse index


def sealed(**overrides: Any) -> dict[str, Any]:
    """A record with an encrypted identifier kept through 2027-11-29."""
    return record(
        identifier_ciphertext=base64.b64encode(b"kms-ciphertext").decode(),
        identifier_retain_until="2027-11-29",
        **overrides,
    )


def test_erase_month_is_derived_from_the_last_day_the_identifier_is_kept() -> None:
    """P7: the sweep finds a ciphertext by the month it falls due in, not by when the contact was."""
    contact = ContactRecord.model_validate(sealed())
    assert (contact.month, contact.erase_month) == ("2026-11", "2027-11")
    item = contact.model_dump(mode="json", exclude_none=True)
    assert item["erase_month"] == "2027-11"
    assert item["identifier_retain_until"] == "2027-11-29", "the index's range key sorts as dates"


def test_an_erase_month_that_contradicts_the_retention_date_is_rejected() -> None:
    with pytest.raises(ValidationError, match="erase_month must be the month"):
        ContactRecord.model_validate(sealed(erase_month="2027-10"))
    assert ContactRecord.model_validate(sealed(erase_month="2027-11")).erase_month == "2027-11"


@pytest.mark.parametrize("retain_until", [None, "2027-11-29"])
def test_a_record_without_a_ciphertext_has_no_erase_month(retain_until: str | None) -> None:
    """The index stays sparse: a record with nothing left to erase is not in it (and a stored item
    has no `erase_month` attribute at all, not even a null)."""
    contact = ContactRecord.model_validate(record(identifier_retain_until=retain_until))
    assert contact.erase_month is None
    assert "erase_month" not in contact.model_dump(mode="json", exclude_none=True)
    with pytest.raises(ValidationError, match="only kept beside identifier_ciphertext"):
        ContactRecord.model_validate(record(identifier_retain_until=retain_until, erase_month="2027-11"))


def test_dropping_the_identifier_drops_its_erase_month() -> None:
    contact = ContactRecord.model_validate(sealed())
    erased = contact.without_identifier()
    assert (erased.identifier_ciphertext, erased.erase_month) == (None, None)
    assert erased.identifier_retain_until == contact.identifier_retain_until
    assert ContactRecord.model_validate(erased.model_dump()) == erased, "still a valid record"
    assert contact.erase_month == "2027-11", "the original is not changed"
