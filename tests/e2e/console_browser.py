"""The console in a real browser: Debian's Chromium driven by Playwright for Python (issue 12).

Playwright cannot download its own browsers here; `make browser` installs Debian's `chromium`, and it
is launched by path. axe-core comes from the console's own `node_modules` (a locked devDependency) and
runs inside the page, in a context that lets it in past the page's Content-Security-Policy; the tests
of the policy itself use contexts that do not.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = REPO_ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
SERIOUS = {"serious", "critical"}


def chromium_path() -> str:
    """Debian's Chromium (`make browser` installs it); the tests fail clearly without it."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no chromium on PATH: run `make browser` (Debian's chromium, for Playwright)")


def launch_options() -> dict[str, Any]:
    """Chromium's sandbox needs user namespaces a root process in a container does not get."""
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    return {"executable_path": chromium_path(), "args": args, "headless": True}


@dataclass
class Traffic:
    """Every request a page made: the console may talk to its own origin and nothing else."""

    requests: list[str] = field(default_factory=list)

    def record(self, request: Request) -> None:
        self.requests.append(request.url)

    def origins(self) -> set[str]:
        return {
            f"{parts.scheme}://{parts.netloc}"
            for parts in map(urlsplit, self.requests)
            if parts.scheme in ("http", "https", "ws", "wss")
        }


@contextmanager
def console_page(browser: Browser, url: str, *, for_axe: bool = True) -> Iterator[tuple[Page, Traffic]]:
    """A fresh browser context (no shared session) on the console at `url`, its traffic recorded."""
    context: BrowserContext = browser.new_context(bypass_csp=for_axe, locale="nl-NL", timezone_id="UTC")
    traffic = Traffic()
    context.on("request", traffic.record)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(url)
        yield page, traffic
    finally:
        context.close()


def sign_in(page: Page, username: str, password: str) -> None:
    """The sign-in form, by its Dutch labels (the console is Dutch first)."""
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA violations that are serious or critical, on the current view."""
    if page.evaluate("typeof window.axe") == "undefined":
        page.add_script_tag(path=str(AXE_SCRIPT))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"],
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


def assert_accessible(page: Page, view: str) -> None:
    violations = serious_violations(page)
    assert violations == [], f"{view}: serious or critical accessibility violations: {violations}"


def screenshot(page: Page, name: str) -> None:
    """A screenshot for the README (`docs/screenshots/<name>.png`), taken as the journey passes by."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
