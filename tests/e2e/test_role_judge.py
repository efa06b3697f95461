"""The judge's whole job in Chromium (issue 16), as far as the web offers it: the judge signs
in, sees their hearings on the start page (and the dashboard's panels), finds a sealed
recording by its case number in the search across recordings, plays it back (hh:mm:ss, marks,
skip keys), has its signature verified again, and schedules a hearing of their own case (a
judge may schedule; R3's answer is shown before saving). Screenshots at 1366×768 and 390 px;
at 390 px nothing scrolls sideways.

The judge's decisions — on the minutes (R3.4, R9) and on closing part of a sealed recording
(R32) — are walked in test_role_judge_decisions.py."""

from __future__ import annotations

import re

import pytest
from test_console_trust import until

pytestmark = pytest.mark.slow

CASE = "7599-26-00-2/101"  # the demo court's case
JUDGE = "Ерлан Бауыржанұлы Сәтбаев"
HMS = re.compile(r"^\d\d:\d\d:\d\d$")


def audio_at(page, seconds: float) -> None:
    until(page, f"() => Math.abs(document.getElementById('audio').currentTime - {seconds}) < 0.3")


def test_judge_sees_hearings_finds_plays_and_verifies(
    page, server, sign_in, screenshots, fits_phone
):
    sign_in("judge")  # the start page lists the judge's hearings
    hearings = page.inner_text("main")
    assert CASE in hearings and "қол қойылған" in hearings  # one of them recorded and sealed
    page.screenshot(path=str(screenshots / "judge-hearings.png"), full_page=True)
    fits_phone("/", "judge-hearings")
    page.goto("/dashboard/")  # incidents, acts to sign, petitions due: nothing to note here
    assert page.locator("section.panel.dash").count() >= 1
    page.screenshot(path=str(screenshots / "judge-dashboard.png"), full_page=True)
    fits_phone("/dashboard/", "judge-dashboard")

    # Search across recordings by the case number, then open the sealed recording.
    page.goto("/recordings/search")
    page.fill("#id_case_number", "2/101")
    page.click("#search-submit")
    page.wait_for_selector("#results")
    assert CASE in page.inner_text("#results")
    page.screenshot(path=str(screenshots / "judge-search.png"), full_page=True)
    fits_phone(page.url.replace(server.url, ""), "judge-search")
    page.locator("#results a[href^='/recordings/']").first.click()
    page.wait_for_url(re.compile(r"/recordings/\d+"))
    recording_path = page.url.replace(server.url, "").split("?")[0]
    page.wait_for_selector("#player[data-waveform='ready']", timeout=90_000)

    # Playback: hh:mm:ss, the speaker marks, the skip keys.
    assert HMS.match(page.inner_text("#duration"))
    offsets = page.eval_on_selector_all(".marks-list .offset", "els => els.map(e => e.textContent)")
    assert offsets and all(HMS.match(o) for o in offsets), offsets
    marks = [
        float(t)
        for t in page.eval_on_selector_all(
            ".marks-list .jump", "els => els.map(e => e.dataset.time)"
        )
    ]
    page.click("h1")  # the keys act when no field has the focus
    page.keyboard.press("ArrowRight")
    audio_at(page, 5 if marks else 0)
    page.keyboard.press("Shift+ArrowLeft")
    audio_at(page, 0)
    page.keyboard.press("n")
    audio_at(page, marks[0])
    until(page, "() => /^00:00:0\\d \\/ /.test(document.getElementById('now').textContent)")
    page.screenshot(path=str(screenshots / "judge-playback.png"), full_page=True)

    # The signature verified again on the judge's request.
    page.locator("#verdict button[type=submit]").click()
    page.wait_for_selector("#verdict-summary")
    assert "✔" in page.inner_text("#verdict-summary")
    fits_phone(recording_path, "judge-playback")

    # The judge schedules a hearing of the case: R3's answer is shown before saving.
    page.goto("/hearings/new")
    page.select_option("#id_case", label=CASE)
    page.select_option("#id_courtroom", index=1)
    page.fill("#id_scheduled_at", "2026-12-16T11:00")
    page.select_option("#id_judge", label=JUDGE)
    page.select_option("#id_secretary", label="Айгүл Қанатқызы Жұмабаева")
    page.fill("#id_participants", "Дәулет Ғалымұлы Үсенов, талапкер")
    page.wait_for_selector("#decision.req-required")
    assert "Жазу міндетті" in page.inner_text("#decision")
    page.click("#save-hearing")
    page.wait_for_url(re.compile(r"/hearings/\d+/edit$"))
    assert "Отырыс тағайындалды." in page.inner_text("main")
    page.screenshot(path=str(screenshots / "judge-schedule.png"), full_page=True)
