"""The judge's two decisions in Chromium (issue 16 point 1), as pages over the same actions as
the API:

* R3.4, R9: a civil hearing nobody came to waits on the judge's dashboard; the judge opens its
  minutes page, is told at the field that a choice is needed, decides that no minutes are kept,
  and sees the decision and what the minutes state about the recording that failed;
* R32 for part of a hearing: on a sealed recording the judge opens the closed parts from the
  playback page, takes the start and the end from the player's current position, is refused an
  end before the start (at the field, nothing stored), records the part with the decision's
  text and corrects it by a new one.

Screenshots at 1366×768 and 390 px (docs/screenshots/judge-minutes-decision*.png,
judge-closed-portion*.png); at 390 px nothing scrolls sideways. The closed part is made on a
recording of its own, so the other walks' copies of the demo recording stay whole."""

from __future__ import annotations

import re
import time

import pytest
from test_console_trust import until

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
SCREEN = {"width": 1366, "height": 768}

SETUP = (
    "from django.utils import timezone; "
    "from taspa.courts import actions; "
    "from taspa.demo import seed_demo, record_demo_hearing; "
    "from taspa.incidents.actions import open_incident; "
    "world = seed_demo(); "
    "recording = record_demo_hearing(world, seconds=4, log=lambda *a: None); "
    "absent = actions.schedule_hearing(actor=world.judge, case=world.case, "
    "courtroom=world.courtroom, instance='first', closed=False, judge=world.judge, "
    "secretary=world.secretary, scheduled_at=timezone.now(), "
    "participants=[{'name': 'Дәулет Ғалымұлы Үсенов', 'role': 'талапкер'}], "
    "circumstances={'all_participants_absent': True}); "
    "open_incident(actor=world.secretary, hearing=absent, kind='recording_impossible', "
    "detail='Залдағы микрофон істен шықты'); "
    "print('IDS', absent.pk, recording.pk)"
)


_MADE: dict[str, tuple[int, int]] = {}


@pytest.fixture
def made(server, taspa_cli) -> tuple[int, int]:
    """A hearing whose minutes the judge decides (R3.4), and a sealed recording of its own
    (made once per server)."""
    key = str(server.home)
    if key not in _MADE:
        out = taspa_cli(server.home, "shell", "-c", SETUP)
        hearing_id, recording_id = out.split("IDS")[-1].split()[:2]
        _MADE[key] = (int(hearing_id), int(recording_id))
    return _MADE[key]


def fits_phone(page, name: str, screenshots) -> None:
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(200)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(screenshots / f"{name}-390.png"), full_page=True)
    page.set_viewport_size(SCREEN)
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a 390 px screen"


def test_r3_4_r9_judge_decides_the_minutes(page, sign_in, made, screenshots):
    hearing_id, _ = made
    minutes = f"/hearings/{hearing_id}/minutes"
    sign_in("judge")
    page.goto("/dashboard/")  # the hearing waits for the judge's decision
    panel = page.locator("#panel-judge_decisions")
    assert "Хаттама жүргізу туралы шешім қабылдаңыз" in panel.inner_text()
    panel.locator(f"a[href='{minutes}']").first.click()
    page.wait_for_url(f"**{minutes}")
    assert page.locator("#rules .decision.req-judge_decides").count() == 1

    page.click("#decide")  # no choice made: told at the field, nothing stored
    error = page.locator("#field-keep_minutes .field-error")
    assert error.inner_text() == "Хаттама жүргізілетінін не жүргізілмейтінін таңдаңыз."
    assert page.locator("#no-decision").count() == 1

    page.check("#field-keep_minutes input[value='no']")
    page.fill("#id_note", "Тараптар тиісті түрде хабарланған, бірақ келмеді.")
    page.click("#decide")
    page.wait_for_selector(".messages")
    assert "Хаттама туралы шешім жазылды." in page.inner_text(".messages")
    latest = page.inner_text("#latest-decision")
    assert "Хаттама жүргізілмейді" in latest and "Тараптар тиісті" in latest
    stated = page.inner_text("#minutes-text")  # R9: the minutes' text on the failed recording
    assert "Залдағы микрофон істен шықты" in stated
    assert page.locator("#minutes-text a.document").count() == 2
    page.screenshot(path=str(screenshots / "judge-minutes-decision.png"), full_page=True)
    fits_phone(page, "judge-minutes-decision", screenshots)

    page.goto("/dashboard/")  # decided: no longer waiting
    assert page.locator(f"#panel-judge_decisions a[href='{minutes}']").count() == 1  # R9 row


def _player_at(page, seconds: float) -> None:
    page.evaluate(f"() => {{ document.getElementById('audio').currentTime = {seconds}; }}")
    until(page, f"() => Math.abs(document.getElementById('audio').currentTime - {seconds}) < 0.05")


def test_r32_judge_closes_and_corrects_part_of_a_sealed_recording(page, sign_in, made, screenshots):
    _, recording_id = made
    sign_in("judge")
    page.goto(f"/recordings/{recording_id}")
    page.wait_for_selector("#closed-parts")
    assert "Бұл жазбаның ешбір бөлігі жабылмаған." in page.inner_text("#closed-parts")
    page.click("#closed-parts-link")
    page.wait_for_url(f"**/recordings/{recording_id}/closed-portions")
    deadline = time.monotonic() + 90  # the player's rendition is made after sealing
    while page.locator("#audio").count() == 0:
        assert time.monotonic() < deadline, "no player on the closed parts page"
        page.wait_for_timeout(1000)
        page.reload()
    until(page, "() => document.getElementById('audio').readyState >= 1", timeout=30)

    # From and to the player's current position; an end before the start is refused.
    _player_at(page, 2.0)
    page.click("#field-start button[data-take-time]")
    assert page.input_value("#id_start") == "00:00:02"
    _player_at(page, 1.0)
    page.click("#field-end button[data-take-time]")
    page.fill("#id_reason", "Кәмелетке толмаған куәгерден жауап алу жабық отырыста өтеді.")
    page.click("#save-portion")
    page.wait_for_selector("#field-end .field-error")
    assert "басталғаннан кейін аяқталуы тиіс" in page.inner_text("#field-end .field-error")
    assert page.locator("#no-portions").count() == 1  # nothing stored

    page.fill("#id_start", "00:00:01")
    _player_at(page, 3.0)
    page.click("#field-end button[data-take-time]")
    assert page.input_value("#id_end") == "00:00:03"
    page.click("#save-portion")
    page.wait_for_selector(".messages")
    assert "Жабық бөлік жазылды." in page.inner_text(".messages")
    row = page.locator("table.portions tbody tr").first
    assert re.search(r"00:00:01.*00:00:03", row.inner_text(), re.S)
    assert "мөрлегеннен кейінгі судья шешімі" in row.inner_text()
    page.screenshot(path=str(screenshots / "judge-closed-portion.png"), full_page=True)
    fits_phone(page, "judge-closed-portion", screenshots)

    # A correction is a new part that takes the old one's place.
    row.locator("a.correct").click()
    page.wait_for_selector("#closed-portion-form[action$='/correct']")
    assert page.input_value("#id_start") == "00:00:01"
    page.fill("#id_end", "00:00:02.5")
    page.click("#save-portion")
    page.wait_for_selector(".messages")
    rows = page.locator("table.portions tbody tr")
    assert rows.count() == 1
    assert "00:00:01–00:00:03 бөлігін түзетеді" in rows.first.inner_text()
    assert "00:00:02" in rows.first.inner_text()

    page.goto(f"/recordings/{recording_id}")  # the playback page lists it too
    assert "00:00:01–00:00:02" in page.inner_text("#closed-parts")
