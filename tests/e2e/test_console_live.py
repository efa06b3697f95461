"""The console while recording, in Chromium (R11): silence and clipping raise the visible and
the audible alarm, and the listening monitor plays the live sound about half a second late."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.slow

SILENT = {"kind": "audio", "format": "lavfi", "input": "anullsrc=r=48000:cl=mono", "label": "Mic 1"}
CLIPPING = {  # a sine ten times louder than full scale: every peak clips
    "kind": "audio",
    "format": "lavfi",
    "input": "sine=frequency=440:sample_rate=48000,volume=10",
    "label": "Mic 2",
}
PERIOD_S = 3  # longer than the monitor could ever lag (its player skips ahead past 1 s)
BEEPS = {  # 0.3 s of 1 kHz at the start of every third second of capture
    "kind": "audio",
    "format": "lavfi",
    "input": "sine=frequency=1000:sample_rate=48000,"
    f"volume='if(lt(mod(t\\,{PERIOD_S})\\,0.3)\\,4\\,0)':eval=frame",
    "label": "Beeper",
}


def start(page, hearing_id: int) -> None:
    page.goto(f"/hearings/{hearing_id}/console")
    page.click("#btn-start")  # a click: the page may now make sound (the beep)
    page.wait_for_selector("#controls .controls[data-state='recording']")


def stop(page) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#btn-stop")
    page.wait_for_selector("#controls .controls[data-state='sealed']", timeout=60_000)


def test_r11_silence_and_clipping_raise_the_visible_and_audible_alarm(
    page, server, sign_in, screenshots, hearing_in_new_room
):
    hearing = hearing_in_new_room("Зал №2 (alarm test)", [SILENT, CLIPPING])
    sign_in("secretary")
    start(page, hearing)
    clipping = page.get_attribute("#meters", "data-clipping")
    silent = page.get_attribute("#meters", "data-silent")

    page.wait_for_selector("#alarm:not([hidden])")
    page.wait_for_selector("#meters .meter[data-channel='1'].alarm")
    assert clipping in page.inner_text("#meters .meter[data-channel='1'] .flags")
    assert clipping in page.inner_text("#alarm")
    # The audible alarm: a WebAudio beep, played on a running (unmuted) audio context.
    page.wait_for_function("Number(document.getElementById('meters').dataset.beeps) >= 1")
    assert page.get_attribute("#meters", "data-audio") == "running"

    # Silence counts after ten seconds without signal (recorder.levels).
    page.wait_for_selector("#meters .meter[data-channel='0'].alarm", timeout=25_000)
    assert silent in page.inner_text("#meters .meter[data-channel='0'] .flags")
    assert silent in page.inner_text("#alarm") and clipping in page.inner_text("#alarm")
    beeps = int(page.get_attribute("#meters", "data-beeps"))
    time.sleep(2.5)
    assert int(page.get_attribute("#meters", "data-beeps")) > beeps, "it keeps sounding"
    page.screenshot(path=str(screenshots / "console-alarm.png"))
    stop(page)


LISTEN_FOR_ONSETS = """() => new Promise((resolve) => {
  // Test instrument: route the monitor's <audio> through an analyser and note when each beep
  // comes out of the player (the wall clock of this machine, which is the server's).
  const audio = document.getElementById('monitor-audio');
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 256;
  context.createMediaElementSource(audio).connect(analyser).connect(context.destination);
  const block = new Float32Array(analyser.fftSize);
  const onsets = [];
  let loud = false;
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(block);
    const rms = Math.sqrt(block.reduce((sum, v) => sum + v * v, 0) / block.length);
    if (!loud && rms > 0.05) {
      onsets.push(Date.now() / 1000 - context.outputLatency);
      loud = true;
    }
    if (loud && rms < 0.01) loud = false;
  }, 4);
  setTimeout(() => { clearInterval(timer); resolve(onsets); }, 12500);
})"""


def test_r11_monitor_plays_the_courtroom_about_half_a_second_late(
    page, server, sign_in, hearing_in_new_room
):
    """End to end: a beep captured at a known wall-clock time comes out of the browser's
    monitor player this much later (capture, spool, transcoding, HTTP, the player's buffer)."""
    hearing = hearing_in_new_room("Зал №3 (latency test)", [BEEPS])
    sign_in("secretary")
    start(page, hearing)
    page.click("#btn-listen")
    page.wait_for_selector("#monitor[data-state='on']")
    time.sleep(1)
    onsets = page.evaluate(LISTEN_FOR_ONSETS)
    journal = server.home / "spool" / f"hearing-{hearing}" / "journal.jsonl"
    pieces = [json.loads(line) for line in journal.read_text().splitlines()]
    # The wall time of the first sample, as the engine measured it (the earliest bound wins).
    first_sample = min(p["anchor"] for p in pieces if p.get("anchor") and p.get("run") == 0)
    stop(page)
    # A beep starts every PERIOD_S of capture; each one comes out of the player this much later.
    latencies = [(heard - first_sample) % PERIOD_S for heard in onsets]
    print("monitor latency, capture → browser output (s):", [round(x, 2) for x in latencies])
    assert len(latencies) >= 3
    assert max(latencies) < 1.5, latencies
