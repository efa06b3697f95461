"""The console a secretary can trust (#16 point 2): the recorded-time counter without pauses,
notes and mark corrections in the log, the incident's "judge told" and "announced" steps, a
401 (never the login page) for the page's own requests once signed out, and no console for a
party to the hearing."""

import json
import time

import pytest
from django.test import Client

from taspa.courts.models import HearingParticipant
from taspa.recorder.models import Mark

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def operate(client, hearing, operation, **data):
    response = client.post(f"/hearings/{hearing.pk}/console/{operation}", data)
    assert response.status_code == 200
    return response.content.decode()


def state(client, hearing) -> dict:
    response = client.get(f"/hearings/{hearing.pk}/console/state")
    assert response.status_code == 200
    return json.loads(response.content)


def test_r7_a_party_to_the_hearing_gets_no_console_and_no_incident_text(world, hearing, client_for):
    party = world.person("participant")
    HearingParticipant.objects.filter(hearing=hearing).update(user=party)
    client = client_for(party.username)
    for path in ("", "/timeline", "/state", "/controls", "/agent"):
        assert client.get(f"/hearings/{hearing.pk}/console{path}").status_code == 404, path
    assert client.post(f"/hearings/{hearing.pk}/console/incident").status_code == 404


def test_r7_signed_out_the_consoles_own_requests_get_401_not_the_login_page(hearing):
    anonymous = Client()
    page = anonymous.get(f"/hearings/{hearing.pk}/console")
    assert page.status_code == 302 and "/login/" in page["Location"]
    for method, path in (("get", "/state"), ("get", "/timeline"), ("post", "/start")):
        answer = getattr(anonymous, method)(
            f"/hearings/{hearing.pk}/console{path}", headers={"HX-Request": "true"}
        )
        assert answer.status_code == 401, path
        assert json.loads(answer.content)["error"] == "not_signed_in"


def test_r6_r9_r12_r16_counter_notes_corrections_and_incident_steps(hearing, client_for):
    secretary = client_for("secretary-a")
    assert state(secretary, hearing) == {"state": "idle", "recorded_s": 0.0, "running": False}
    assert 'data-state="recording"' in operate(secretary, hearing, "start")
    time.sleep(1.2)
    note = operate(secretary, hearing, "note", text="  The  judge   left the room ")
    assert "00:00:0" in note  # "Note added at 00:00:01"
    assert operate(secretary, hearing, "note", text="   ").count('class="error"') == 1
    assert 'class="error"' in operate(secretary, hearing, "note", text="x" * 256)
    timeline = secretary.get(f"/hearings/{hearing.pk}/console/timeline").content.decode()
    assert "The judge left the room" in timeline and 'name="mark"' in timeline

    operate(secretary, hearing, "mark", speaker="Әсел Үмбетова", role="plaintiff")
    mark = Mark.objects.get(speaker="Әсел Үмбетова")
    fixed = operate(
        secretary, hearing, "correct", mark=mark.pk, speaker="Әсел Ү.", role="defendant"
    )
    assert "Әсел Ү." in fixed
    assert Mark.objects.get(supersedes=mark).role == "defendant"  # appended, nothing edited
    assert Mark.objects.get(pk=mark.pk).speaker == "Әсел Үмбетова"
    again = operate(secretary, hearing, "correct", mark=mark.pk, speaker="X", role="Y")
    assert 'class="error"' in again  # the newest version is the one to correct
    assert 'class="error"' in operate(
        secretary, hearing, "correct", mark="99999", speaker="X", role="Y"
    )
    timeline = secretary.get(f"/hearings/{hearing.pk}/console/timeline").content.decode()
    assert "Әсел Ү. (defendant)" in timeline and "Әсел Үмбетова" not in timeline

    assert 'data-state="paused"' in operate(secretary, hearing, "pause", reason="recess")
    paused = state(secretary, hearing)
    time.sleep(1.5)
    later = state(secretary, hearing)
    assert paused["running"] is False and later["state"] == "paused"
    assert abs(later["recorded_s"] - paused["recorded_s"]) < 0.2  # a pause does not count
    assert 'data-state="recording"' in operate(secretary, hearing, "resume")
    time.sleep(1.0)
    assert state(secretary, hearing)["recorded_s"] >= paused["recorded_s"] + 0.8

    panel = operate(secretary, hearing, "incident", kind="recording_impossible", detail="Mic dead")
    incident = hearing.incidents.get(kind="recording_impossible")
    assert f'id="btn-judge-told-{incident.pk}"' in panel
    assert "recording_impossible" not in panel.split('<select name="kind">')[0]
    told = operate(secretary, hearing, "judge_told", incident=incident.pk)
    assert (
        f'id="btn-judge-told-{incident.pk}"' not in told
        and f'id="btn-announced-{incident.pk}"' in told
    )
    announced = operate(secretary, hearing, "announced", incident=incident.pk)
    assert f'id="btn-announced-{incident.pk}"' not in announced
    incident.refresh_from_db()
    assert incident.judge_told_at and incident.announced_at  # the act prints both times
    assert 'class="error"' in operate(secretary, hearing, "announced", incident=incident.pk)
    assert 'class="error"' in operate(secretary, hearing, "judge_told", incident="abc")
