"""Playback of a long recording, in Chromium (#16 point 3): hh:mm:ss everywhere, skip keys
(←/→ 5 s, Shift+←/→ 30 s, N/P the next and previous mark), zoom in and out of the waveform,
and the marks filtered by speaker or text; the page fits a 390 px phone."""

from __future__ import annotations

import re
import time

import pytest
from test_console_live import start, stop
from test_console_trust import MIC, until

pytestmark = pytest.mark.slow
HMS = re.compile(r"^\d\d:\d\d:\d\d$")


WIDE = """() => Array.from(document.querySelectorAll('body *'))
  .filter((e) => e.getBoundingClientRect().right > 391)
  .map((e) => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)
  .slice(0, 12)"""


def now(page) -> float:
    return float(page.get_attribute("#now", "data-seconds") or 0)


def test_r12_skip_keys_marks_zoom_and_hh_mm_ss(
    page, server, sign_in, screenshots, hearing_in_new_room
):
    hearing = hearing_in_new_room("Зал №6 (playback test)", [MIC])
    sign_in("secretary")
    start(page, hearing)
    time.sleep(2)
    page.keyboard.press("1")  # the judge, at about 2 s
    page.wait_for_selector("#timeline li.tl-mark")
    time.sleep(5)
    page.fill("form.free-mark input[name=speaker]", "Бекзат Серікұлы")
    page.fill("form.free-mark input[name=role]", "куәгер")
    page.click("form.free-mark button[type=submit]")  # at about 7 s
    page.wait_for_selector("#timeline li.tl-mark:has-text('Бекзат')")
    time.sleep(6)
    stop(page)
    page.click("#open-playback")
    page.wait_for_selector("#player[data-waveform='ready']", timeout=90_000)

    assert HMS.match(page.inner_text("#duration"))
    offsets = page.eval_on_selector_all(".marks-list .offset", "els => els.map(e => e.textContent)")
    assert len(offsets) == 2 and all(HMS.match(o) for o in offsets), offsets
    times = page.eval_on_selector_all(".marks-list .jump", "els => els.map(e => e.dataset.time)")
    marks = [float(t) for t in times]
    page.click("h1")  # the keys act when no field has the focus
    page.keyboard.press("ArrowRight")
    until(page, "() => Math.abs(document.getElementById('audio').currentTime - 5) < 0.3")
    page.keyboard.press("ArrowRight")
    until(page, "() => Math.abs(document.getElementById('audio').currentTime - 10) < 0.3")
    page.keyboard.press("ArrowLeft")
    until(page, "() => Math.abs(document.getElementById('audio').currentTime - 5) < 0.3")
    until(page, "() => document.getElementById('now').textContent.startsWith('00:00:05 / ')")
    page.keyboard.press("Shift+ArrowLeft")
    until(page, "() => document.getElementById('audio').currentTime < 0.3")
    page.keyboard.press("Shift+ArrowRight")  # 30 s on: the end of a 15 s recording
    until(page, "() => { const a = document.getElementById('audio'); "
                "return a.currentTime > a.duration - 0.5; }")  # fmt: skip
    page.keyboard.press("Shift+ArrowLeft")
    until(page, "() => document.getElementById('audio').currentTime < 0.3")
    page.keyboard.press("n")
    until(page, f"() => Math.abs(document.getElementById('audio').currentTime - {marks[0]}) < 0.3")
    page.keyboard.press("n")
    until(page, f"() => Math.abs(document.getElementById('audio').currentTime - {marks[1]}) < 0.3")
    page.keyboard.press("p")
    until(page, f"() => Math.abs(document.getElementById('audio').currentTime - {marks[0]}) < 0.3")

    zoom = page.get_attribute("#player", "data-zoom")
    page.click("#zoom-out")
    until(page, f"() => document.getElementById('player').dataset.zoom !== '{zoom}'")
    page.click("#zoom-in")
    until(page, f"() => document.getElementById('player').dataset.zoom === '{zoom}'")

    page.fill("#marks-text", "серік")
    until(page, "() => document.querySelectorAll('.marks-list li:not([hidden])').length === 1")
    assert "Бекзат" in page.inner_text(".marks-list li:not([hidden])")
    page.fill("#marks-text", "")
    page.select_option("#marks-speaker", label="Бекзат Серікұлы")
    until(page, "() => document.querySelectorAll('.marks-list li:not([hidden])').length === 1")
    page.select_option("#marks-speaker", value="")
    page.screenshot(path=str(screenshots / "playback-1366.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#player[data-waveform='ready']", timeout=60_000)
    wide = page.evaluate(WIDE)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    page.screenshot(path=str(screenshots / "playback-390.png"), full_page=True)
