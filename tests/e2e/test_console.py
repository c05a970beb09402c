"""The console in Chromium against the local stack: one journey per role, axe-core on every view, the
security headers, and no request to any host but the API's (issue 12).

Each journey signs in as that role's demo user in a context of its own (tokens live in memory only),
does what that person comes to do, checks it against the API, and leaves a screenshot of the role's
main view in `docs/screenshots/` for the README.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from console_browser import assert_accessible, console_page, launch_options, screenshot, sign_in
from ingest_support import Ingest
from playwright.sync_api import Browser, expect, sync_playwright
from running_stack import RunningStack

pytestmark = pytest.mark.e2e

WAIT_MS = 60_000
REPORT = "Gesprek met Jan de Vries uit Utrecht; hij belde vanaf 06-12345678 en was erg somber."


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for this module only: Playwright's sync API keeps an event loop that other
    modules' `asyncio.run` must not meet."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**launch_options())
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def console(local_stack: RunningStack) -> str:
    return f"{local_stack.api}/console/"


@pytest.fixture(scope="module")
def ingest(local_stack: RunningStack) -> Ingest:
    return Ingest(local_stack)


def user(stack: RunningStack, group: str) -> tuple[str, str]:
    found = stack.outputs["DemoUsers"][group]
    return str(found["username"]), str(found["password"])


def api(stack: RunningStack, group: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    token = stack.token(group)
    return requests.request(
        method, f"{stack.api}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs
    )


def new_call(ingest: Ingest, caller: str) -> str:
    """A signed incoming call on the seeded helpline; the id of the contact it registered."""
    before = {item["id"]["S"] for item in ingest.contacts()}
    assert ingest.call(caller, "CA" + uuid.uuid4().hex).status_code == 200
    [added] = [item["id"]["S"] for item in ingest.contacts() if item["id"]["S"] not in before]
    return str(added)


def wait_for_status(stack: RunningStack, disclosure_id: str, status: str) -> None:
    deadline = datetime.now(UTC) + timedelta(milliseconds=WAIT_MS)
    seen = None
    while datetime.now(UTC) < deadline:
        seen = api(stack, "professional", "GET", f"/disclosures/{disclosure_id}").json().get("status")
        if seen == status:
            return
        time.sleep(0.5)
    pytest.fail(f"disclosure {disclosure_id} never reached {status} (last seen: {seen})")


def audit_entries(stack: RunningStack) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    after: str | None = "0"
    while after is not None:
        page = api(stack, "compliance", "GET", f"/audit?after={after}&limit=500").json()
        entries += page["items"]
        after = page.get("next_token")
    return entries


# ------------------------------------------------------------------ what the browser is given


def test_the_console_and_its_config_carry_the_security_headers(console: str) -> None:
    for url in (console, f"{console}config.json"):
        response = requests.get(url, timeout=30)
        assert response.status_code == 200, url
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
    page = requests.get(console, timeout=30).text
    assert "<script>" not in page
    assert "<style" not in page
    assert " style=" not in page
    assets = re.findall(r'(?:src|href)="\./(assets/[^"]+)"', page)
    assert assets, "the page names its bundled assets"
    for asset in assets:
        answer = requests.get(f"{console}{asset}", timeout=30)
        assert answer.status_code == 200, asset
        assert (
            answer.headers["Content-Security-Policy"]
            == requests.get(console, timeout=30).headers["Content-Security-Policy"]
        )


def test_the_console_asks_nothing_of_any_host_but_its_own_and_breaks_no_policy(
    browser: Browser, console: str, local_stack: RunningStack
) -> None:
    """No CDN, font or analytics; the API and Cognito (through the API's proxy) on the same origin.
    This context keeps the page's Content-Security-Policy, so a violation would fail the page."""
    with console_page(browser, console, for_axe=False) as (page, traffic):
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        sign_in(page, *user(local_stack, "staff"))
        expect(page.get_by_role("heading", level=1, name="Register")).to_be_visible()
        page.get_by_role("link", name="Statistieken").click()
        expect(page.get_by_role("region", name="Contacten per dag")).to_be_visible(timeout=WAIT_MS)
        page.get_by_role("link", name="Lijnen").click()
        expect(page.get_by_role("heading", level=1, name="Lijnen")).to_be_visible()
        api_origin = "{0.scheme}://{0.netloc}".format(urlsplit(local_stack.api))
        assert traffic.origins() == {api_origin}
        assert refused == []


# ------------------------------------------------------------------ one journey per role


def test_volunteer_writes_a_report_and_sees_the_name_replaced_even_across_a_lost_session(
    browser: Browser, console: str, local_stack: RunningStack, ingest: Ingest
) -> None:
    contact_id = new_call(ingest, "+31612340101")
    with console_page(browser, console) as (page, _):
        sign_in(page, *user(local_stack, "volunteer"))
        expect(page.get_by_role("heading", level=1, name="Verslagen")).to_be_visible()
        assert_accessible(page, "Verslagen")
        page.get_by_label("Contact-id").fill(contact_id)
        page.get_by_label("Verslag", exact=True).fill(REPORT)

        # The session runs out as the report is saved: sign in again, and nothing typed is lost.
        page.route("**/contacts/*/reports", lambda route: route.fulfill(status=401, body='{"message":"x"}'))
        page.get_by_role("button", name="Verslag opslaan").click()
        expect(page.get_by_text("Je sessie is verlopen.", exact=False)).to_be_visible()
        page.unroute("**/contacts/*/reports")
        sign_in(page, *user(local_stack, "volunteer"))
        expect(page.get_by_label("Contact-id")).to_have_value(contact_id)
        expect(page.get_by_label("Verslag", exact=True)).to_have_value(REPORT)

        page.get_by_role("button", name="Verslag opslaan").click()
        stored = page.locator("#report-stored-text")
        expect(stored).to_contain_text("[PERSOON-1]")
        text = stored.inner_text()
        assert "Jan de Vries" not in text
        assert "12345678" not in text
        assert_accessible(page, "Verslagen, opgeslagen")
        screenshot(page, "volunteer")
    today = datetime.now(UTC).date()
    listed = api(local_stack, "volunteer", "GET", f"/reports?from={today}&to={today}")
    assert any(item["text"] == text for item in listed.json()["items"]), "the page shows what was stored"


def test_staff_see_the_register_and_charts_whose_numbers_are_the_apis(
    browser: Browser, console: str, local_stack: RunningStack, ingest: Ingest
) -> None:
    new_call(ingest, "+31612340102")
    today = datetime.now(UTC).date()
    counted = f"/stats?from={today}&to={today + timedelta(days=1)}&by=channel"
    deadline = time.monotonic() + WAIT_MS / 1000  # the statistics follow the contacts stream
    while not api(local_stack, "staff", "GET", counted).json()["rows"] and time.monotonic() < deadline:
        time.sleep(0.5)
    with console_page(browser, console) as (page, _):
        sign_in(page, *user(local_stack, "staff"))
        expect(page.get_by_role("heading", level=1, name="Register")).to_be_visible()
        page.get_by_role("button", name="Zoeken").click()
        expect(page.get_by_role("table").first).to_be_visible()
        assert_accessible(page, "Register")
        screenshot(page, "staff-register")

        page.get_by_role("link", name="Statistieken").click()
        expect(page.locator("svg#chart-channel g.bar").first).to_be_visible(timeout=WAIT_MS)
        assert_accessible(page, "Statistieken")
        screenshot(page, "staff-stats")
        start = page.get_by_label("Van").first.input_value()
        end = (
            datetime.fromisoformat(page.get_by_label("Tot en met").first.input_value()) + timedelta(days=1)
        ).date()
        for dimension in ("channel", "line", "region"):
            expected = api(local_stack, "staff", "GET", f"/stats?from={start}&to={end}&by={dimension}").json()
            bars = page.locator(f"svg#chart-{dimension} g.bar")
            drawn = {
                bars.nth(i).get_attribute("data-key"): bars.nth(i).get_attribute("data-value")
                for i in range(bars.count())
            }
            assert drawn == {str(row[dimension]): str(row["contacts"]) for row in expected["rows"]}, dimension
            for i in range(bars.count()):  # a suppressed cell is "<5", never a drawn bar (P8)
                if bars.nth(i).get_attribute("data-suppressed") == "true":
                    assert bars.nth(i).locator("rect").count() == 0
                    expect(bars.nth(i)).to_contain_text("<5")
        with page.expect_download() as download:
            page.get_by_role("button", name="CSV downloaden: Kanaal").click()
        assert download.value.suggested_filename.startswith("contacten-per-channel-")


def test_a_disclosure_is_requested_approved_confirmed_and_revealed_once(
    browser: Browser, console: str, local_stack: RunningStack, ingest: Ingest
) -> None:
    caller = "+31612340103"
    contact_id = new_call(ingest, caller)
    professional_name, professional_password = user(local_stack, "professional")

    with console_page(browser, console) as (page, _):
        sign_in(page, professional_name, professional_password)
        expect(page.get_by_role("heading", level=1, name="Verstrekkingen")).to_be_visible()
        assert_accessible(page, "Verstrekkingen")
        page.get_by_label("Contact-id").fill(contact_id)
        page.get_by_role("radio", name="Toestemming van de persoon").check()
        # Consent is given during or after the contact (P7); the field has whole minutes: the next one.
        recorded = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0)
        time.sleep(max(0.0, (recorded - datetime.now(UTC)).total_seconds()) + 1)
        page.get_by_label("Vastgelegd op").fill(recorded.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Hoe gegeven").select_option("phone")
        page.get_by_label("Verklaring").fill("De beller vroeg zelf om contact met de huisarts.")
        screenshot(page, "professional")
        page.get_by_role("button", name="Verzoek indienen").click()
        expect(page).to_have_url(re.compile(r"#/disclosures/[0-9a-f]{32}$"), timeout=WAIT_MS)
        disclosure_id = page.url.rsplit("/", 1)[1]
        assert_accessible(page, "Verzoek")
        wait_for_status(local_stack, disclosure_id, "awaiting_decision")

        with console_page(browser, f"{console}#/decisions/{disclosure_id}") as (officer, _):
            sign_in(officer, *user(local_stack, "compliance"))
            expect(officer.get_by_role("heading", name="Toestemming van de persoon")).to_be_visible()
            assert_accessible(officer, "Beoordelen")
            screenshot(officer, "compliance")
            officer.get_by_label("Reden").fill("Toestemming is vastgelegd en de beller vroeg er zelf om.")
            officer.get_by_role("button", name="Goedkeuren").click()
            wait_for_status(local_stack, disclosure_id, "awaiting_custodian")
            officer.get_by_role("link", name="Auditlog").click()
            officer.get_by_role("button", name="Keten controleren").click()
            expect(officer.locator("#audit-verdict")).to_contain_text("De keten is intact")
            assert_accessible(officer, "Auditlog")

        wait_for_status(local_stack, disclosure_id, "awaiting_custodian")
        custodian_console = f"{local_stack.custodian_api}/console/#/releases/{disclosure_id}"
        with console_page(browser, custodian_console) as (custodian, _):
            sign_in(custodian, *user(local_stack, "custodian"))
            assert_accessible(custodian, "Vrijgave")
            screenshot(custodian, "custodian")
            custodian.get_by_label("Reden").fill("Grondslag en goedkeuring gecontroleerd.")
            custodian.get_by_role("button", name="Bevestigen").click()
            expect(custodian.locator(".status-line")).to_contain_text("Bevestigd")
        wait_for_status(local_stack, disclosure_id, "delivered")

        page.goto(f"{console}#/disclosures")
        page.goto(f"{console}#/disclosures/{disclosure_id}")
        page.get_by_role("button", name="Resultaat eenmalig tonen").click(timeout=WAIT_MS)
        page.get_by_role("button", name="Ja, nu tonen").click()
        expect(page.locator("code.identifier")).to_have_text(caller)
        assert_accessible(page, "Resultaat")

        page.reload()  # tokens live in memory: sign in again; the result is gone for good
        sign_in(page, professional_name, professional_password)
        expect(page.locator(".status-line")).to_contain_text("Opgehaald")
        assert page.locator("code.identifier").count() == 0
        expect(page.get_by_role("button", name="Resultaat eenmalig tonen")).to_have_count(0)
    again = api(local_stack, "professional", "GET", f"/disclosures/{disclosure_id}/result")
    assert again.status_code == 410


def test_admin_changes_a_line(browser: Browser, console: str, local_stack: RunningStack) -> None:
    line_id = f"console-{uuid.uuid4().hex[:8]}"
    with console_page(browser, console) as (page, _):
        sign_in(page, *user(local_stack, "admin"))
        expect(page.get_by_role("heading", level=1, name="Lijnen")).to_be_visible()
        assert_accessible(page, "Lijnen")
        page.get_by_label("Lijn-id").fill(line_id)
        page.get_by_label("Naam", exact=True).fill("Chat proef")
        page.get_by_label("Soort").select_option(label="Hulplijn")
        page.get_by_label("Kanaal").select_option(label="Chat")
        page.get_by_label("Adres").fill(line_id)
        page.get_by_role("button", name="Lijn opslaan").click()
        expect(page.get_by_role("status")).to_contain_text(line_id)
        page.get_by_role("button", name=f"Wijzigen {line_id}").click()
        page.get_by_label("Naam", exact=True).fill("Chat voor jongeren")
        page.get_by_role("button", name="Lijn opslaan").click()
        expect(page.get_by_role("status")).to_contain_text(f"Lijn {line_id} opgeslagen.")
        assert_accessible(page, "Lijnen, gewijzigd")
        screenshot(page, "admin")
    lines = api(local_stack, "admin", "GET", "/lines").json()["items"]
    assert {"line_id": line_id, "display_name": "Chat voor jongeren"}.items() <= next(
        line for line in lines if line["line_id"] == line_id
    ).items()


def test_mentor_reads_a_transcript_for_a_stated_purpose(
    browser: Browser, console: str, local_stack: RunningStack, ingest: Ingest
) -> None:
    session = "chat-" + uuid.uuid4().hex
    before = {item["id"]["S"] for item in ingest.contacts()}
    now = datetime.now(UTC).isoformat()
    started = {"type": "chat.started", "session_id": session, "timestamp": now}
    assert ingest.chat({**started, "channel": "web-chat", "client_ip": "203.0.113.9"}).status_code == 200
    message = {"type": "chat.message", "session_id": session, "timestamp": now, "message_id": "m1"}
    text = "Ik heet Jan de Vries en ik kan niet slapen."
    assert ingest.chat({**message, "sender": "contact", "text": text}).status_code == 201
    [contact_id] = [item["id"]["S"] for item in ingest.contacts() if item["id"]["S"] not in before]

    with console_page(browser, f"{console}#/transcripts/{contact_id}") as (page, _):
        sign_in(page, *user(local_stack, "mentor"))
        expect(page.get_by_role("heading", level=1, name="Transcripten")).to_be_visible()
        page.get_by_role("button", name="Transcript lezen").click()  # without a purpose: refused
        expect(page.locator("ol.transcript")).to_have_count(0)
        page.get_by_role("radio", name="Training van vrijwilligers").check()
        page.get_by_role("button", name="Transcript lezen").click()
        transcript = page.locator("ol.transcript")
        expect(transcript).to_contain_text("[PERSOON-1]")
        assert "Jan de Vries" not in transcript.inner_text()
        assert_accessible(page, "Transcript")
        screenshot(page, "mentor")
    assert any(contact_id in str(entry) and "training" in str(entry) for entry in audit_entries(local_stack))


@pytest.mark.parametrize(
    ("group", "language"),
    [
        ("volunteer", "nl"),
        ("mentor", "nl"),
        ("staff", "nl"),
        ("professional", "nl"),
        ("compliance", "nl"),
        ("admin", "nl"),
        ("staff", "en"),
        ("custodian", "nl"),
    ],
)
def test_every_view_of_every_role_passes_axe(
    browser: Browser, console: str, local_stack: RunningStack, group: str, language: str
) -> None:
    """WCAG 2.1 A/AA: no serious or critical violation on the sign-in page or any view a role opens,
    in either language."""
    base = f"{local_stack.custodian_api}/console/" if group == "custodian" else console
    with console_page(browser, base) as (page, _):
        expect(page.get_by_role("heading", level=1, name="Inloggen")).to_be_visible()
        assert_accessible(page, "Inloggen")
        sign_in(page, *user(local_stack, group))
        if language == "en":
            page.get_by_role("button", name="English").click()
            expect(page.locator("html")).to_have_attribute("lang", "en")
        links = page.get_by_role("navigation", name="Hoofdmenu" if language == "nl" else "Main menu")
        names = [
            links.get_by_role("link").nth(i).inner_text() for i in range(links.get_by_role("link").count())
        ]
        assert names, f"{group} sees no view"
        for name in names:
            links.get_by_role("link", name=name, exact=True).click()
            expect(page.get_by_role("heading", level=1)).to_have_count(1)
            page.wait_for_load_state("networkidle")
            assert_accessible(page, f"{group}: {name} ({language})")
