"""The `Contacts` metric the unchecked-contacts alarm and the dashboard read (P10, fail open), and
that no dimension ever holds an identifier or a contact id (P2, P3, P8)."""

from __future__ import annotations

import json

import pytest

from helpline import scrub
from helpline.logic.ingest import Admission
from helpline.metrics import (
    BUFFERED_REGISTRATIONS,
    CONTACTS,
    DISCLOSURES,
    NAMESPACE,
    SCRUBBER_FAILURES,
    count_admission,
    count_disclosure,
)

CONTACT_ID = "c" * 32


def _emitted(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_a_contact_let_through_unchecked_is_counted_by_channel_and_outcome(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGE", "prod")
    count_admission("voice", Admission(CONTACT_ID, None, "unknown", True, None, limit_outcome="unchecked"))
    (document,) = _emitted(capsys)
    (directive,) = document["_aws"]["CloudWatchMetrics"]  # type: ignore[index]
    assert directive["Namespace"] == NAMESPACE
    assert directive["Metrics"] == [{"Name": CONTACTS, "Unit": "Count"}]
    assert sorted(directive["Dimensions"][0]) == ["channel", "outcome", "service", "stage"]
    assert (document["channel"], document["outcome"], document["stage"]) == ("voice", "unchecked", "prod")
    assert document[CONTACTS] == [1.0]
    assert CONTACT_ID not in json.dumps(document)


@pytest.mark.parametrize(
    "admission",
    [
        Admission(CONTACT_ID, None, "helpline", True, 1, duplicate=True, limit_outcome="allowed"),
        Admission(CONTACT_ID, None, "office", True, None),
    ],
    ids=["a provider's repeat", "an office-line contact"],
)
def test_what_was_not_registered_now_is_not_counted(
    capsys: pytest.CaptureFixture[str], admission: Admission
) -> None:
    count_admission("voice", admission)
    assert _emitted(capsys) == []


def _metric_names(documents: list[dict[str, object]]) -> list[str]:
    return [
        metric["Name"]
        for document in documents
        for directive in document["_aws"]["CloudWatchMetrics"]  # type: ignore[index]
        for metric in directive["Metrics"]
    ]


def test_a_buffered_registration_is_counted_too(capsys: pytest.CaptureFixture[str]) -> None:
    """DynamoDB failed and the record waits on the buffer queue: counted by channel, beside `Contacts`."""
    admission = Admission(CONTACT_ID, None, "helpline", True, 1, limit_outcome="allowed", buffered=True)
    count_admission("chat", admission)
    documents = _emitted(capsys)
    assert _metric_names(documents) == [CONTACTS, BUFFERED_REGISTRATIONS]
    assert documents[1]["channel"] == "chat"
    assert "outcome" not in documents[1]


def test_a_scrubber_failure_is_counted_and_nothing_is_returned(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """P5, P8, fail closed: the text is not returned, and the failure shows on the dashboard."""

    def unavailable() -> object:
        raise scrub.ScrubberUnavailable("no prebuilt scrubber data")

    monkeypatch.setattr(scrub, "get_scrubber", unavailable)
    with pytest.raises(scrub.ScrubberUnavailable):
        scrub.scrub("Jan de Vries belde vanaf 0612345678")
    (document,) = _emitted(capsys)
    assert _metric_names([document]) == [SCRUBBER_FAILURES]
    assert "0612345678" not in json.dumps(document)


def test_a_disclosure_entering_a_status_is_counted_by_status(capsys: pytest.CaptureFixture[str]) -> None:
    count_disclosure("awaiting_decision")
    (document,) = _emitted(capsys)
    assert _metric_names([document]) == [DISCLOSURES]
    assert document["status"] == "awaiting_decision"
