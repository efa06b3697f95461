"""The court administrator's whole job in Chromium (issue 16): schedule a hearing with the
R3–R5 answer shown before saving, then handle an incident of it — forward it to the regional
staff, draw up the act, sign it with the registered key — and see who still has to sign until
the secretary signs too. Screenshots at 1366×768 and 390 px; at 390 px nothing scrolls sideways."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.slow

CASE = "7599-26-00-2/101"  # the demo court's case


# The court administrator's EDS key from the demo CA (as an administrator registers one), and
# an incident of the new hearing reported to the court's administrators (R9).
SETUP = """
from pathlib import Path
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings
from taspa.courts.actions import RoleGrant, create_user
from taspa.courts.models import Hearing, User
from taspa.incidents.actions import notify_court_admins, open_incident
from taspa.sealing import democa
from taspa.sealing.actions import current_key, register_signing_key
admin, court_admin = User.objects.get(username='admin'), User.objects.get(username='court_admin')
if current_key(court_admin) is None:
    raw = (Path(settings.TASPA_HOME) / 'demo' / 'ca.p12').read_bytes()
    key, cert, _ = pkcs12.load_key_and_certificates(raw, b'demo')
    p12 = democa.issue_p12(democa.DemoCA(key=key, certificate=cert),
                           common_name=court_admin.full_name, password='demo')
    register_signing_key(actor=admin, user=court_admin, p12=p12, password='demo')
hearing = Hearing.objects.get(pk=HEARING)
if not User.objects.filter(username='regional_staff').exists():  # R9: someone to forward to
    create_user(actor=admin, username='regional_staff', full_name='Марат Ерланұлы Жақсылықов',
                roles=[RoleGrant(role='regional_staff', court=hearing.case.court)], password='demo')
open_incident(actor=None, hearing=hearing, kind='source_lost',
              detail='Екінші микрофон 10:42-де сөнді, 10:47-де қалпына келтірілді.')
notify_court_admins(hearing=hearing)
"""


def test_court_admin_schedules_forwards_draws_up_and_signs(
    page, server, sign_in, screenshots, fits_phone, taspa_cli
):
    sign_in("court_admin")
    page.goto("/hearings/new")
    page.select_option("#id_case", label=CASE)
    page.select_option("#id_courtroom", index=1)
    page.fill("#id_scheduled_at", "2026-12-15T10:00")
    page.select_option("#id_judge", label="Ерлан Бауыржанұлы Сәтбаев")
    page.select_option("#id_secretary", label="Айгүл Қанатқызы Жұмабаева")
    page.fill("#id_participants", "Дәулет Ғалымұлы Үсенов, талапкер\nТОО «Қазақ Құрылыс», жауапкер")
    # R3: the answer is shown, and changes with the facts, before anything is saved.
    page.check("#field-circumstances input[value=writ_proceedings]")
    page.wait_for_selector("#decision.req-not_required")
    assert "Жазу міндетті емес" in page.inner_text("#decision")
    page.uncheck("#field-circumstances input[value=writ_proceedings]")
    page.wait_for_selector("#decision.req-required")
    assert "Жазу міндетті" in page.inner_text("#decision")
    page.screenshot(path=str(screenshots / "schedule-hearing.png"), full_page=True)
    # A date outside the court's calendar is answered next to its field.
    page.fill("#id_scheduled_at", "1900-01-01T10:00")
    page.click("#save-hearing")
    assert "2000" in page.inner_text("#field-scheduled_at .field-error")
    page.fill("#id_scheduled_at", "2026-12-15T10:00")
    page.click("#save-hearing")
    page.wait_for_url(re.compile(r"/hearings/\d+/edit$"))
    hearing_id = int(page.url.rstrip("/").split("/")[-2])
    assert "Отырыс тағайындалды." in page.inner_text("main")
    fits_phone(f"/hearings/{hearing_id}/edit", "schedule-hearing")

    taspa_cli(server.home, "shell", "-c", SETUP.replace("HEARING", str(hearing_id)))
    page.goto("/incidents/")
    assert "Дыбыс (бейне) көзі жоғалды" in page.inner_text("#incidents")
    assert page.locator("#inbox details").count() >= 1
    group = page.locator(f"#hearing-{hearing_id}")
    group.locator("input[name=note]").fill("Жабдықты тексеру сұралады")
    group.locator("form.inline-form button").click()
    page.wait_for_selector(".messages .notice")
    assert "Марат Ерланұлы Жақсылықов" in page.inner_text(".messages")
    page.wait_for_selector(f"#hearing-{hearing_id} .ok")
    page.locator(f"#hearing-{hearing_id}").get_by_role("button", name="Акт жасау").click()
    page.wait_for_selector(".messages .notice")
    act = page.locator("#acts tbody tr").first
    assert "Әлі қол қоюы тиіс" in act.inner_text()
    act.get_by_role("button", name="Өз кілтіммен қол қою").click()
    page.wait_for_selector(".messages .notice")
    act = page.locator("#acts tbody tr").first
    text = act.inner_text()
    assert "Әлия Серікқызы Нұрланова" in text
    assert "Әлі қол қоюы тиіс: Сот отырысының хатшысы" in text
    page.screenshot(path=str(screenshots / "court-admin-incidents.png"), full_page=True)
    fits_phone("/incidents/", "court-admin-incidents")
    fits_phone("/dashboard/", "court-admin-dashboard")

    # The secretary signs too: the act is complete and goes with the minutes (R18).
    page.context.clear_cookies()
    sign_in("secretary")
    page.goto("/incidents/")
    page.locator("#acts tbody tr").first.get_by_role("button", name="Өз кілтіммен қол қою").click()
    page.wait_for_selector(".messages .notice")
    assert "барлығы қол қойды" in page.locator("#acts tbody tr").first.inner_text()
