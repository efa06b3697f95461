"""A secretary records a hearing from the demo courtroom's real-time synthetic source and a
listener plays it back, in Chromium (R6–R14, R16)."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.slow


def meter_readings(page) -> tuple[int, list[str]]:
    return page.evaluate(
        """() => [Number(document.getElementById('meters').dataset.updates),
                  [...document.querySelectorAll('#meters .meter')].map(m => m.dataset.rms)]"""
    )


def expect_state(page, state: str) -> None:
    page.wait_for_selector(f"#controls .controls[data-state='{state}']")


def test_secretary_records_marks_pauses_stops_and_plays_back(page, server, screenshots, sign_in):
    sign_in("secretary")
    today = page.locator("table.today")
    assert today.is_visible(), "today's hearings come first"
    page.goto(f"/hearings/{server.hearing_id}/console")

    page.click("#btn-preflight")
    page.wait_for_selector("details.preflight[open] ul.checks li")
    assert page.locator("details.preflight ul.checks li.bad").count() == 0
    page.click("#btn-start")
    expect_state(page, "recording")

    # R11: the meters move, at least 5 times a second, with values that change.
    page.wait_for_selector("#meters .meter[data-rms]")
    first_count, first_values = meter_readings(page)
    seen = {tuple(first_values)}
    for _ in range(5):
        time.sleep(0.2)
        seen.add(tuple(meter_readings(page)[1]))
    count, values = meter_readings(page)
    assert len(values) == 2, "one meter per microphone"
    assert count - first_count >= 5, f"{count - first_count} updates in one second"
    assert len(seen) > 1, "levels change over time"

    # R11: the listening monitor plays the live capture from the server, a second or so behind.
    assert page.locator("#btn-listen").is_enabled()
    page.click("#btn-listen")
    page.wait_for_selector("#monitor[data-state='on']")
    played = page.evaluate("document.getElementById('monitor-audio').currentTime")
    time.sleep(1.5)
    audio = page.evaluate(
        """() => { const a = document.getElementById('monitor-audio');
                   const lag = Number(a.closest('#monitor').dataset.lag);
                   return {time: a.currentTime, paused: a.paused, lag: lag}; }"""
    )
    assert not audio["paused"] and audio["time"] - played > 1.0, audio
    assert audio["lag"] < 1.2, f"the browser plays {audio['lag']} s behind what arrived"
    print(f"monitor: the browser plays {audio['lag']:.2f} s behind the sound it has received")

    # R12: three marks by keyboard, from the participants' buttons.
    for key in ("1", "2", "3"):
        page.keyboard.press(key)
        page.wait_for_selector(".controls .notice", state="attached")
        time.sleep(1.3)  # people speak for a while: marks a second or more apart
    page.wait_for_function("document.querySelectorAll('ol.timeline li.tl-mark').length >= 3")
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots / "console-recording.png"))

    # R6: a recess is a lawful pause; then resume and stop.
    page.click("#btn-pause-recess")
    expect_state(page, "paused")
    page.wait_for_selector("ol.timeline li.tl-pause")
    time.sleep(1)
    page.click("#btn-resume")
    expect_state(page, "recording")
    time.sleep(1)
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#btn-stop")
    page.wait_for_selector("#open-playback", timeout=60_000)
    page.wait_for_selector("#monitor[data-state='ended']")  # the monitor stops with the recording
    page.click("#open-playback")

    # Playback: the waveform from precomputed peaks, the verdict, play from the second mark.
    page.wait_for_selector("#player[data-waveform='ready']", timeout=60_000)
    assert page.locator("#zoomview canvas").count() > 0
    assert "ok" in page.get_attribute("#verdict-summary", "class")
    second = page.locator("button.jump").nth(1)
    mark_time = float(second.get_attribute("data-time"))
    second.click()
    page.wait_for_function("!document.getElementById('audio').paused")
    time.sleep(0.5)
    now = page.evaluate("document.getElementById('audio').currentTime")
    assert mark_time <= now < mark_time + 3
    page.screenshot(path=str(screenshots / "playback.png"))


def test_playback_media_supports_range_requests(page, sign_in):
    sign_in("judge")
    page.goto("/")
    page.click("table.list a[href^='/recordings/']")
    page.wait_for_selector("#player[data-waveform='ready']", timeout=60_000)
    mix = page.get_attribute("#player", "data-mix")
    answer = page.request.get(mix, headers={"Range": "bytes=0-99"})
    assert answer.status == 206
    assert len(answer.body()) == 100
    assert answer.headers["content-range"].startswith("bytes 0-99/")


def test_language_switch_changes_the_page(page, sign_in):
    sign_in("judge")
    page.click("form.lang button[value='ru']")
    page.wait_for_selector("html[lang='ru']")
    assert "Судебные заседания" in page.inner_text("nav")
    page.click("form.lang button[value='kk']")
    page.wait_for_selector("html[lang='kk']")
    assert "Сот отырыстары" in page.inner_text("nav")
    page.click("form.lang button[value='en']")
    page.wait_for_selector("html[lang='en']")
    assert "Hearings" in page.inner_text("nav")


def test_participant_portal(page, sign_in, screenshots):
    sign_in("participant")
    page.goto("/dashboard/")
    page.wait_for_selector("#panel-my_hearings")
    assert "7599-26-00-2/101" in page.inner_text("#panel-my_hearings")
    assert page.locator("#panel-incidents").count() == 0
    page.screenshot(path=str(screenshots / "participant-portal.png"), full_page=True)


def test_court_admin_dashboard(page, sign_in, screenshots):
    sign_in("court_admin")
    page.goto("/dashboard/")
    page.wait_for_selector("#panel-incidents")
    page.screenshot(path=str(screenshots / "court-admin-dashboard.png"), full_page=True)
