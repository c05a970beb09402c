"""The staff API over HTTP on the running local stack, after the ingestion tests fed it contacts."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
import requests
from ingest_support import Ingest
from running_stack import RunningStack
from support import wait_until

K = 5
REPORT_PII = [
    "Jan de Vries",
    "Oudegracht 12",
    "06-12345678",
    "jan@example.nl",
    "123456782",
    "NL91ABNA0417164300",
]


@pytest.fixture(scope="module")
def ingest(local_stack: RunningStack) -> Ingest:
    return Ingest(local_stack)


def get(ingest: Ingest, group: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {ingest.stack.token(group)}", **kwargs.pop("headers", {})}
    response = requests.get(ingest.stack.api + path, headers=headers, timeout=30, **kwargs)
    ingest.keep(response.text)
    return response


def post(ingest: Ingest, group: str, path: str, body: dict[str, Any]) -> requests.Response:
    headers = {"Authorization": f"Bearer {ingest.stack.token(group)}"}
    response = requests.post(ingest.stack.api + path, json=body, headers=headers, timeout=60)
    ingest.keep(response.text)
    return response


def test_stats_by_line_and_day_count_every_contact_and_suppress_small_cells(ingest: Ingest) -> None:
    stored = ingest.contacts()
    assert len(stored) >= K, "the ingestion tests ran first"
    expected = Counter((c["line"]["S"], c["started_at"]["S"][:10]) for c in stored)
    first = min(day for _, day in expected)
    last = max(day for _, day in expected)
    query = f"/stats?from={first}&to={date.fromisoformat(last) + timedelta(days=1)}&by=line,day"

    def counted() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = get(ingest, "staff", query).json()["rows"]
        seen = {(row["line"], row["day"]): row["contacts"] for row in rows}
        want = {cell: (n if n >= K else f"<{K}") for cell, n in expected.items()}
        return rows if seen == want else None

    rows = wait_until(counted, timeout_s=30)  # the stream consumer catches up

    assert any(row["contacts"] == f"<{K}" for row in rows), "a cell under k is suppressed"
    assert any(isinstance(row["contacts"], int) for row in rows), "a cell of k or more is counted"
    for row in rows:
        if row["contacts"] == f"<{K}":
            assert row["duration_median_s"] is None
            assert row["duration_p90_s"] is None

    as_csv = get(ingest, "staff", query, headers={"Accept": "text/csv"})
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(table) == len(rows)
    for from_csv, from_json in zip(table, rows, strict=True):
        for column, value in from_json.items():
            assert from_csv[column] == ("" if value is None else str(value)), column


def test_the_register_lists_anonymised_fields_only(ingest: Ingest) -> None:
    page = get(ingest, "staff", "/contacts").json()
    assert page["items"], "contacts were ingested"
    allowed = {"id", "channel", "line", "started_at", "ended_at", "duration_s", "region", "limit_outcome"}
    for item in page["items"]:
        assert set(item) <= allowed
    starts = [item["started_at"] for item in page["items"]]
    assert starts == sorted(starts, reverse=True), "newest first"
    one = get(ingest, "mentor", f"/contacts/{page['items'][0]['id']}")
    assert one.status_code == 200
    assert set(one.json()) <= allowed


def test_a_report_is_stored_without_names_or_numbers(ingest: Ingest) -> None:
    contact_id = get(ingest, "staff", "/contacts").json()["items"][0]["id"]
    text = (
        "Beller heet Jan de Vries, woont aan de Oudegracht 12 in Utrecht, belde vanaf 06-12345678 en "
        "mailde ook via jan@example.nl. BSN 123456782, rekening NL91ABNA0417164300. Voelde zich eenzaam."
    )
    Ingest.fed.update(REPORT_PII)  # the leak test looks for these everywhere too

    created = post(ingest, "volunteer", f"/contacts/{contact_id}/reports", {"text": text})

    assert created.status_code == 201, created.text
    report = created.json()
    assert report["contact_id"] == contact_id
    assert "eenzaam" in report["text"], "the rest of the report stays readable"
    for value in REPORT_PII:
        assert value not in report["text"]
    listed = get(ingest, "mentor", f"/contacts/{contact_id}/reports").json()
    assert report["id"] in {r["id"] for r in listed["items"]}


def test_listening_in_is_recorded(ingest: Ingest) -> None:
    calls = [
        c for c in get(ingest, "staff", "/contacts?channel=voice").json()["items"] if c["channel"] == "voice"
    ]
    contact_id = calls[0]["id"]
    recorded = post(
        ingest, "mentor", "/supervision", {"contact_id": contact_id, "mode": "listen", "role": "mentor"}
    )
    assert recorded.status_code in (200, 201), recorded.text
    record = get(ingest, "staff", "/supervision").json()["items"]
    assert any(r["contact_id"] == contact_id and r["role"] == "mentor" for r in record)
    trainee_as_mentor = post(
        ingest, "volunteer", "/supervision", {"contact_id": contact_id, "mode": "read", "role": "mentor"}
    )
    assert trainee_as_mentor.status_code == 403


def test_a_transcript_read_is_de_identified_and_audited(ingest: Ingest) -> None:
    with_messages = {row["contact_id"]["S"] for row in ingest.items("TranscriptsTable")}
    chats = [c for c in ingest.contacts() if c["channel"] == {"S": "chat"} and c["id"]["S"] in with_messages]
    contact_id = next(
        c["id"]["S"]
        for c in chats
        if [part["sender"] for part in ingest.transcript(c["id"]["S"])] == ["contact", "volunteer"]
    )
    note = "session with Jan de Vries, 06-12345678"
    transcript = get(
        ingest, "mentor", f"/contacts/{contact_id}/transcript", params={"purpose": "training", "note": note}
    )
    assert transcript.status_code == 200, transcript.text
    parts = transcript.json()["parts"]
    assert [part["sender"] for part in parts] == ["contact", "volunteer"], "in order"
    assert "slapen" in parts[0]["text"]
    audit_items = ingest.items("AuditTable")
    assert any(contact_id in str(item) and "training" in str(item) for item in audit_items)
    for value in ("06-12345678", "Jan de Vries"):
        assert value not in str(audit_items), "the note is scrubbed before it is audited"
    assert "session with" in str(audit_items)
    for purpose in ("curiosity", "abc"):
        refused = get(ingest, "mentor", f"/contacts/{contact_id}/transcript", params={"purpose": purpose})
        assert refused.status_code == 400, "only P4's purposes: training, emotional_processing, quality"
