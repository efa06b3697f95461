"""The strict Content-Security-Policy breaks nothing: in headless Chromium, the console, the
playback page, the dashboard and the admin site work and report no CSP violation."""

from __future__ import annotations

import pytest

from e2e.conftest import (  # the browser tests' real server (Chromium: tests/conftest.py)
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
    # The console: preflight and start (htmx), live meters (EventSource), the listening monitor
    # (MediaSource on a blob: URL), a mark by keyboard, stop.
    page.goto(f"/hearings/{server.hearing_id}/console")
    page.click("#btn-preflight")
    page.wait_for_selector("details.preflight[open] ul.checks li")
    page.click("#btn-start")
    page.wait_for_selector("#meters .meter[data-rms]")
    page.click("#btn-listen")
    page.wait_for_selector("#monitor[data-state='on']")
    page.wait_for_function("() => document.getElementById('monitor-audio').currentTime > 0.5")
    page.keyboard.press("1")
    page.wait_for_selector(".controls .notice", state="attached")
    collect()
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#btn-stop")
    page.wait_for_selector("#open-playback", timeout=60_000)
    page.click("#open-playback")
    # Playback: the waveform (peaks.js on canvas) and playing from a mark.
    page.wait_for_selector("#player[data-waveform='ready']", timeout=60_000)
    assert page.locator("#zoomview canvas").count() > 0
    page.locator("button.jump").first.click()
    page.wait_for_function("() => !document.getElementById('audio').paused")
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
