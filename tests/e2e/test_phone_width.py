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
