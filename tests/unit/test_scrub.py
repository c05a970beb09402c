"""The report scrubber (P5, P8): deduce plus our own pass, on the prebuilt structures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpline.scrub import ScrubberUnavailable, get_scrubber, load_scrubber, pre_scrub, scrub

SIX = ("Jan de Vries", "Oudegracht 12", "Utrecht", "06-12345678", "jan@example.nl", "123456782")
IBAN = "NL91ABNA0417164300"

REPORTS = [
    "Beller noemde zich Jan de Vries en woont aan de Oudegracht 12 in Utrecht. Hij gaf zijn nummer "
    "06-12345678 en zijn mail jan@example.nl, en las zijn BSN 123456782 en rekening "
    "NL91ABNA0417164300 voor.",
    "Jan de Vries (Oudegracht 12 in Utrecht) wil teruggebeld worden op 06-12345678.",
    "Mail: jan@example.nl. BSN 123456782. IBAN NL91ABNA0417164300. Groeten, Jan de Vries.",
    "Ze vertelde over haar buurman Jan de Vries van de Oudegracht 12 in Utrecht; hij is 54 jaar oud.",
]


@pytest.fixture(scope="module", autouse=True)
def _scrubber_built() -> None:
    try:
        get_scrubber()
    except ScrubberUnavailable as missing:
        pytest.fail(f"{missing} (make install builds it)")


@pytest.mark.parametrize("report", REPORTS)
def test_none_of_the_identifying_details_survive(report: str) -> None:
    scrubbed = scrub(report)
    for detail in (*SIX, IBAN, "Vries", "Oudegracht", "ABNA", "0417164300"):
        assert detail not in scrubbed


def test_the_first_report_is_tagged_where_the_details_were() -> None:
    scrubbed = scrub(REPORTS[0])
    for tag in ("[PERSOON-1]", "[LOCATIE-1]", "[TELEFOONNUMMER]", "[EMAILADRES]", "[BSN]", "[IBAN]"):
        assert tag in scrubbed, scrubbed
    assert scrubbed.startswith("Beller noemde zich [PERSOON-1] en woont aan de [LOCATIE-1]")


def test_an_age_and_a_date_of_birth_are_tagged() -> None:
    scrubbed = scrub("Zij is 54 jaar oud en geboren op 12-03-1970.")
    assert "54" not in scrubbed
    assert "1970" not in scrubbed
    assert "[LEEFTIJD-1]" in scrubbed
    assert "[DATUM-1]" in scrubbed


def test_a_text_without_identifying_details_stays_readable() -> None:
    text = "Een lang gesprek over eenzaamheid. De beller voelde zich gehoord en wil morgen weer bellen."
    assert scrub(text) == text


@pytest.mark.parametrize(
    "phone",
    [
        "06-12345678",
        "0612345678",
        "06 1234 5678",
        "+31 6 12345678",
        "+31(0)6-12345678",
        "0031 6 12 34 56 78",
        "030-1234567",
        "(030) 123 45 67",
        "0800-1234",
        "+32 470 12 34 56",
    ],
)
def test_phone_numbers_in_every_format_are_removed(phone: str) -> None:
    scrubbed = scrub(f"Hij belde vanaf {phone} gisteravond.")
    assert not re.search(r"\d{3}", scrubbed), scrubbed


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("rekening NL91 ABNA 0417 1643 00 graag", "ABNA"),
        ("BSN 1234.56.782 genoemd", "782"),
        ("zie https://voorbeeld.nl/profiel/jan", "voorbeeld"),
        ("zie www.voorbeeld.nl", "voorbeeld"),
        ("mail j.de.vries+hulp@mail.example.com", "vries"),
        ("klantnummer 48151623 genoemd", "48151623"),
    ],
)
def test_our_pass_catches_what_deduce_misses(text: str, gone: str) -> None:
    assert gone not in scrub(text)


def test_a_nine_digit_number_that_fails_the_elfproef_is_not_a_bsn() -> None:
    assert "[BSN]" not in pre_scrub("nummer 123456789")


def test_missing_data_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(ScrubberUnavailable, match="no prebuilt scrubber data"):
        load_scrubber(tmp_path)


def test_data_of_another_deduce_version_fails_closed(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"deduce_version": "0.0.1"}')
    with pytest.raises(ScrubberUnavailable, match="not built for deduce"):
        load_scrubber(tmp_path)
