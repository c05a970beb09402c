"""The `Contacts` metric the unchecked-contacts alarm and the dashboard read (P10, fail open), and
that no dimension ever holds an identifier or a contact id (P2, P3, P8)."""

from __future__ import annotations

import json

import pytest

from helpline.logic.ingest import Admission
from helpline.metrics import CONTACTS, NAMESPACE, count_admission

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
