"""The archivist's whole job in Chromium (issue 16): a sealed recording's case-file medium,
written by the secretary, is handed over to the archivist, checked and accepted into the
archive, visually checked, found in the case inventory, and the dashboard then names its
custodian in words. Screenshots at 1366×768 and 390 px; at 390 px nothing scrolls sideways.

The medium is written by ``custody.actions.write_medium`` from the server's shell: the page's
write form needs a removable medium mounted under /media, which a test machine does not have
(tests/web/test_role_archive.py writes through the page itself)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


WRITE = """
from django.conf import settings
from taspa.courts.models import User
from taspa.custody.actions import write_medium
from taspa.custody.models import Medium
from taspa.recorder.models import Recording
settings.TASPA_MEDIUM_ROOTS = ['__ROOT__']
settings.TASPA_MEDIUM_REQUIRE_MOUNT_POINT = False
held = Medium.objects.filter(state__in=['with_secretary', 'handed_over', 'in_archive'])
recording = Recording.objects.filter(state='sealed').exclude(
    pk__in=held.values('recording_id')).order_by('pk').first()
medium = write_medium(actor=User.objects.get(username='secretary'), recording=recording,
                      mount='__STICK__')
print('MEDIUM', medium.pk)
"""


def test_archivist_receives_checks_and_keeps_the_medium(
    page, server, sign_in, screenshots, fits_phone, tmp_path, taspa_cli
):
    stick = tmp_path / "media" / "usb0"
    stick.mkdir(parents=True)
    script = WRITE.replace("__ROOT__", str(tmp_path / "media")).replace("__STICK__", str(stick))
    medium_id = int(taspa_cli(server.home, "shell", "-c", script).split("MEDIUM")[-1].split()[0])

    # The secretary holds the written medium (R21) and hands it over with the case.
    sign_in("secretary")
    page.goto("/media/")
    assert "хатшыда" in page.inner_text(f"#medium-{medium_id}")
    page.goto(f"/media/{medium_id}")
    page.select_option("#id_to", label="Гүлнар Өмірзаққызы Иманова")
    page.locator("#handover button[type=submit]").click()
    page.wait_for_selector(".messages .notice")
    assert "мұрағатқа тапсырылды" in page.inner_text("#medium-state")

    # The archivist accepts it only after the check against what was written (R22).
    page.context.clear_cookies()
    sign_in("archivist")
    page.goto(f"/media/{medium_id}")
    page.fill("#id_mount", str(tmp_path / "media"))  # not the medium: refused
    page.locator("#accept button[type=submit]").click()
    page.wait_for_selector(".messages .error")
    assert "мұрағатқа тапсырылды" in page.inner_text("#medium-state")
    page.fill("#id_mount", str(stick))
    page.locator("#accept button[type=submit]").click()
    page.wait_for_selector(".messages .notice")
    assert page.inner_text("#medium-state") == "мұрағатта"
    assert "Гүлнар Өмірзаққызы Иманова" in page.inner_text("#medium-holder")
    # R29: a visual check; a damaged medium needs its note, said next to the field.
    page.check("#id_intact_1")
    page.locator("#visual-check button[type=submit]").click()
    assert page.locator("#field-note .field-error").is_visible()
    page.check("#id_intact_0")
    page.locator("#visual-check button[type=submit]").click()
    page.wait_for_selector(".messages .notice")
    assert "бүтін" in page.inner_text("#history")
    page.screenshot(path=str(screenshots / "archivist-medium.png"), full_page=True)
    fits_phone(f"/media/{medium_id}", "archivist-medium")

    # R12: the case inventory lists it; the dashboard names who keeps it, in words.
    page.goto("/media/")
    page.locator(f"#medium-{medium_id} a", has_text="№").click()
    assert f"M-{medium_id}" in page.inner_text("#inventory")
    page.screenshot(path=str(screenshots / "archivist-inventory.png"), full_page=True)
    fits_phone(page.url.replace(server.url, ""), "archivist-inventory")
    page.goto("/dashboard/")
    row = page.locator("#panel-custody tr", has_text=f"M-{medium_id}")
    assert "мұрағатта" in row.inner_text() and "Гүлнар Өмірзаққызы Иманова" in row.inner_text()
    assert "in_archive" not in page.content()
    page.screenshot(path=str(screenshots / "archivist-dashboard.png"), full_page=True)
    fits_phone("/media/", "archivist-media")
    fits_phone("/dashboard/", "archivist-dashboard")
