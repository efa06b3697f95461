"""The strict Content-Security-Policy breaks nothing: in headless Chromium, the console, the
playback page, the dashboard and the admin site work and report no CSP violation."""

from __future__ import annotations

import pytest

from e2e.conftest import (  # the browser tests' real server and Chromium
    browser,  # noqa: F401
    page,  # noqa: F401
    server,  # noqa: F401
    sign_in,  # noqa: F401
)

pytestmark = pytest.mark.slow

# Listens before any page script runs (init scripts are not subject to the page's policy).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def test_pages_work_under_the_csp_without_violations(page, server, sign_in):  # noqa: F811
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    page.add_init_script(RECORD_VIOLATIONS)
    violations: list[str] = []

    def collect() -> None:
        violations.extend(page.evaluate("window.__csp || []"))

    sign_in("secretary")
    collect()
    page.goto(f"/hearings/{server.hearing_id}/console")
    page.wait_for_selector("#btn-preflight")
    page.click("#btn-preflight")  # htmx: a POST and a swap
    page.wait_for_selector("details.preflight[open] ul.checks li")
    page.wait_for_selector("ol.timeline, .timeline", state="attached")  # polled partials
    collect()
    page.goto("/")
    page.click("table.list a[href^='/recordings/']")
    page.wait_for_selector("#player[data-waveform='ready']", timeout=60_000)
    assert page.locator("#zoomview canvas").count() > 0
    collect()
    page.goto("/dashboard/")
    collect()
    page.context.clear_cookies()
    sign_in("admin")
    page.goto("/admin/")
    page.wait_for_selector("#content")
    collect()
    csp_messages = [m for m in messages if "Content Security Policy" in m or "pageerror" in m]
    assert violations == [] and csp_messages == [], violations + csp_messages
