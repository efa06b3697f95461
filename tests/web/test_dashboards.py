"""Each role's dashboard and the participant's portal: scoped rows, areas not yet installed
said so, recordings reaching parties by petition only (R28–R32)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from taspa.courts.models import Hearing
from taspa.incidents.actions import open_incident


@pytest.fixture
def past_hearing(world):
    hearing = world.hearing(court="a")
    Hearing.objects.filter(pk=hearing.pk).update(scheduled_at=timezone.now() - timedelta(hours=2))
    open_incident(actor=None, hearing=hearing, kind="source_lost", detail="Микрофон судьи молчит")
    return hearing


def test_judge_sees_incidents_and_hearings_not_recorded_of_own_court(
    world, past_hearing, client_for
):
    world.hearing(court="b")
    page = client_for("judge-a").get("/dashboard/").content.decode()
    assert 'id="panel-incidents"' in page and "Микрофон судьи молчит" in page
    assert 'id="panel-not_recorded"' in page and past_hearing.case.number in page
    assert 'id="panel-acts"' in page
    other = client_for("judge-b").get("/dashboard/").content.decode()
    assert "Микрофон судьи молчит" not in other


def test_regional_staff_see_their_courts_replication_and_incidents(world, past_hearing, client_for):
    page = client_for("regional_staff-a").get("/dashboard/").content.decode()
    assert 'id="panel-replication"' in page and 'id="panel-incidents"' in page
    assert "Микрофон судьи молчит" in page  # court A is in their region


def test_participant_portal_lists_own_hearings_and_no_staff_panels(world, past_hearing, client_for):
    participant = world.person("participant")
    past_hearing.participants.update(user=participant)
    # Named twice in one hearing (e.g. party and representative): the hearing is listed once.
    past_hearing.participants.create(name="Әсел Үмбетова", role="representative", user=participant)
    page = client_for("participant-a").get("/dashboard/").content.decode()
    assert 'id="panel-my_hearings"' in page and page.count(past_hearing.case.number) == 1
    assert 'id="panel-my_petitions"' in page
    assert 'id="panel-incidents"' not in page and 'id="panel-not_recorded"' not in page
    home = client_for("participant-a").get("/").content.decode()
    assert "/console" not in home  # a party never operates or monitors the recorder


def test_archivist_sees_custody_panel(world, client_for):
    page = client_for("archivist-a").get("/dashboard/").content.decode()
    assert 'id="panel-custody"' in page


def test_home_lists_todays_hearings_first_with_the_console(world, client_for):
    hearing = world.hearing(court="a")
    page = client_for("secretary-a").get("/").content.decode()
    assert 'class="list today cards"' in page
    assert f"/hearings/{hearing.pk}/console" in page
    assert page.index('class="list today cards"') < page.index('id="h-all"')
