"""R32 for part of a hearing in the secretary's console, in Chromium: "Closed session begins"
marks the court's announcement live, the closed session shows running with its own counter,
"Open session resumes" ends it; the API lists the portion with its start and end."""

from __future__ import annotations

import json
import time

import pytest
from test_console_live import start, stop

pytestmark = pytest.mark.slow

MIC = {"kind": "audio", "format": "lavfi", "input": "sine=frequency=440:sample_rate=48000",
       "label": "Mic 1"}  # fmt: skip


def test_r32_console_marks_a_closed_session_live(
    page, server, sign_in, screenshots, hearing_in_new_room
):
    hearing = hearing_in_new_room("Зал №6 (closed session)", [MIC])
    page.set_viewport_size({"width": 1280, "height": 720})
    sign_in("secretary")
    start(page, hearing)
    page.on("dialog", lambda dialog: dialog.accept())
    time.sleep(1.0)
    page.click("#btn-closed-begin")
    page.wait_for_selector("#closed-portion")
    page.wait_for_selector("#btn-closed-end")
    time.sleep(2.3)
    running = page.inner_text("#closed-running")
    assert running not in ("", "00:00:00"), running  # the closed session's own counter runs
    box = page.evaluate("() => document.documentElement.scrollHeight")
    assert box <= 720, box  # still one courtroom screen without scrolling
    page.screenshot(path=str(screenshots / "console-closed-portion.png"))

    page.click("#btn-closed-end")
    page.wait_for_selector("#btn-closed-begin")
    assert page.query_selector("#closed-portion") is None
    listed = page.evaluate(
        """(url) => fetch(url, {headers: {'Accept': 'application/json'}}).then(r => r.json())""",
        f"/api/v1/hearings/{hearing}/closed-portions",
    )
    items = listed["items"]
    assert len(items) == 1 and items[0]["end"] is not None, json.dumps(listed)
    assert 0.5 <= items[0]["start_s"] < items[0]["end_s"]
    stop(page)


COPY_OF_PARTLY_CLOSED = (
    "from datetime import timedelta; from taspa.recorder.models import Recording; "
    "from taspa.recorder import portions; from taspa.access import actions as acc; "
    "from taspa.access.copies import issue_copy; from taspa.courts.models import User; "
    "r = Recording.objects.filter(state='sealed').order_by('pk').first(); h = r.hearing; "
    "portions.add_portion(actor=h.judge, hearing=h, start=r.started_at + timedelta(seconds=1), "
    "end=r.started_at + timedelta(seconds=2), reason='Ruling of the court No. 7'); "
    "p = acc.register_petition(actor=User.objects.get(username='participant'), hearing=h, "
    "kind='copy', applicant=acc.Applicant(name='Дәулет Ғалымұлы Үсенов', role='participant'), "
    "delivery='online', personal_data_warning_acknowledged=True); "
    "c = issue_copy(actor=h.secretary, petition=p); print('COPY', c.pk)"
)


def test_r32_participant_plays_the_copy_online_with_the_closed_part_out(
    page, server, sign_in, screenshots, taspa_cli
):
    out = taspa_cli(server.home, "shell", "-c", COPY_OF_PARTLY_CLOSED)
    copy_id = int(out.split("COPY")[-1].split()[0])
    sign_in("participant")
    page.goto("/access/portal/")
    page.click(f"a[href='/access/portal/copies/{copy_id}/play']")
    page.wait_for_selector("#player[data-waveform='ready']")
    assert page.query_selector("#closed-note") is not None
    assert page.evaluate("() => window.taspaPeaks.segments.getSegments().length") == 1
    page.evaluate("() => { const a = document.getElementById('audio'); a.muted = true; }")
    page.click("button[data-skip='5']")  # the player seeks in the rendition (HTTP Range)
    page.screenshot(path=str(screenshots / "portal-copy-closed-portion.png"))
