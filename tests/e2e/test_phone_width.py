"""Phone width (390 px): a participant's portal, with a petition in it, fits the screen — no
horizontal scroll, the download or receipt cell readable (#16, R28–R35)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def participant_petition(server, taspa_cli) -> None:
    """A copy petition of the demo participant about the sealed demo hearing, made as the
    portal makes it (``register_petition``), so the portal's list has a row."""
    script = (
        "from taspa.access import actions; from taspa.courts.models import *; "
        "from taspa.recorder.models import Recording; "
        "user = User.objects.get(username='participant'); "
        "hearing = Recording.objects.filter(state='sealed').order_by('pk')[0].hearing; "
        "actions.register_petition(actor=user, hearing=hearing, kind='copy', "
        "applicant=actions.Applicant(name=user.full_name, role='participant', "
        "address='Алматы, Абай даңғылы 150, 42-пәтер'), delivery='online', "
        "personal_data_warning_acknowledged=True)"
    )
    taspa_cli(server.home, "shell", "-c", script)


def test_r28_portal_fits_a_phone_screen(page, sign_in, participant_petition, screenshots):
    page.set_viewport_size(PHONE)
    sign_in("participant")
    page.goto("/access/portal/")
    page.wait_for_selector("#my-petitions")
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(screenshots / "portal-390.png"), full_page=True)
    assert width <= PHONE["width"], f"the portal is {width} px wide on a 390 px screen"
    cell = page.locator("#my-petitions td[data-label]").last.bounding_box()
    assert cell is not None and cell["x"] >= 0 and cell["x"] + cell["width"] <= PHONE["width"]


# Petitions made as the portal and the staff make them, and answered as staff answer them: the
# participant's online copy (issued, so it can be played), a copy to be written onto the
# applicant's own medium (R33, issued, so its form opens), a review still open (R28).
PETITIONS = """
from taspa.access import actions
from taspa.access.models import Copy
from taspa.courts.models import User
from taspa.recorder.models import Recording
user = User.objects.get(username='participant')
clerk = User.objects.get(username='secretary')
hearing = Recording.objects.filter(state='sealed').order_by('pk')[0].hearing
online = actions.register_petition(actor=user, hearing=hearing, kind='copy',
    applicant=actions.Applicant(name=user.full_name, role='participant',
        address='Алматы, Абай даңғылы 150, 42-пәтер'), delivery='online',
    personal_data_warning_acknowledged=True)
actions.fulfil_petition(actor=clerk, petition=online)
medium = actions.register_petition(actor=clerk, hearing=hearing, kind='copy',
    applicant=actions.Applicant(name='Әсел Серікқызы Үмбетова-Жақсыбекова', role='participant',
        address='Алматы қаласы, Төле би көшесі 285, 117-пәтер'), delivery='medium',
    personal_data_warning_acknowledged=True, medium_formatting_consent=True)
actions.fulfil_petition(actor=clerk, petition=medium)
review = actions.register_petition(actor=clerk, hearing=hearing, kind='review',
    applicant=actions.Applicant(
        name='«Қазақ Құрылыс» жауапкершілігі шектеулі серіктестігінің өкілі',
        role='participant', address='Алматы'),
    delivery='online', personal_data_warning_acknowledged=True)
print('COPY', Copy.objects.get(petition=online).pk, 'MEDIUM', medium.pk, 'REVIEW', review.pk)
"""


def fits(page, path: str, name: str, screenshots, *, goto: bool = True) -> None:
    """``path`` at 390 px: no horizontal scroll (its screenshot in ``name``-390.png)."""
    if goto:
        page.goto(path)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(screenshots / f"{name}-390.png"), full_page=True)
    assert width <= PHONE["width"], f"{path} is {width} px wide on a 390 px screen"


def test_the_pages_not_yet_checked_fit_a_phone_screen(
    page, server, sign_in, screenshots, taspa_cli
):
    """#16 point 6: the petitions page (staff, with the refusal form open, and a participant's),
    the R33 medium form with a refusal next to its field, a participant's copy played online,
    scheduling a hearing, the sign-in page and the not-found page."""
    out = taspa_cli(server.home, "shell", "-c", PETITIONS).split()
    copy, medium, review = (int(out[out.index(k) + 1]) for k in ("COPY", "MEDIUM", "REVIEW"))
    page.set_viewport_size(PHONE)
    fits(page, "/login/", "login", screenshots)
    fits(page, "/no/such/page/", "not-found", screenshots)

    sign_in("secretary")
    page.goto("/access/petitions/")
    page.locator(f"#refuse-{review}").locator("xpath=ancestor::details").locator("summary").click()
    fits(page, "/access/petitions/", "petitions-staff", screenshots, goto=False)
    page.click(f"#medium-write-{medium}")
    page.wait_for_selector("form.medium-write")
    page.fill("#id_device", "/dev/no-such-stick")
    page.fill("#id_mount", "/media/no-such-stick")
    page.click("#medium-write")
    page.wait_for_selector("form.medium-write .error")  # the refusal, next to its field
    fits(page, f"/access/petitions/{medium}/medium", "medium-form", screenshots, goto=False)
    fits(page, "/hearings/new", "schedule-hearing-new", screenshots)

    page.context.clear_cookies()
    sign_in("participant")
    fits(page, "/access/petitions/", "petitions-participant", screenshots)
    page.goto(f"/access/portal/copies/{copy}/play")
    page.wait_for_selector("audio, video")
    fits(page, f"/access/portal/copies/{copy}/play", "copy-play", screenshots, goto=False)
    # The card tables stay tables on a wide screen (they were laid out as a grid, 1567 px wide).
    page.set_viewport_size({"width": 1366, "height": 768})
    for path in ("/access/portal/", "/access/petitions/", "/"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366, f"{path} is {width} px wide on a 1366 px screen"
