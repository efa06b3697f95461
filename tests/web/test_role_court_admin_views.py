"""The court administrator's incidents page (R9, R17, R18): notices, forwarding to the
regional staff, an act drawn up and signed with registered keys, who still has to sign — and
an over-long reason refused with its message, in the form and in the console alike."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from taspa.courts.models import Hearing
from taspa.incidents.actions import notify_court_admins, open_incident
from taspa.incidents.models import Act, Incident


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def incident(world) -> Incident:
    hearing = world.hearing()
    Hearing.objects.filter(pk=hearing.pk).update(state="stopped")
    found = open_incident(
        actor=None, hearing=hearing, kind="source_lost", detail="Камера сөндi 10:42"
    )
    notify_court_admins(hearing=hearing)
    return found


def test_r9_r17_r18_court_admin_forwards_draws_up_and_both_sign(world, incident, register_signer):
    admin, secretary = world.person("court_admin"), world.person("secretary")
    client = signed_in(admin)
    page = client.get(reverse("web:incidents"), HTTP_ACCEPT_LANGUAGE="ru")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Потерян источник звука (видео)" in html and "source_lost" not in html
    assert page.context["notices"], "the notice of R9 is in the inbox"
    forward = client.post(reverse("web:incident_forward", args=[incident.pk]), {"note": "срочно"})
    assert forward.status_code == 302
    incident.refresh_from_db()
    assert incident.forwarded_at is not None and incident.forward_note == "срочно"
    drawn = client.post(
        reverse("web:act_draw_up", args=[incident.hearing_id]), {"incident": [incident.pk]}
    )
    assert drawn.status_code == 302
    act = Act.objects.get()
    row = signed_in(admin).get(reverse("web:incidents")).context["acts"][0]
    assert len(row["missing"]) == 2 and row["may_sign"]
    register_signer(admin)
    register_signer(secretary)
    client.post(reverse("web:act_sign", args=[act.pk]))
    row = signed_in(secretary).get(reverse("web:incidents")).context["acts"][0]
    assert len(row["missing"]) == 1, "the secretary still has to sign"
    signed_in(secretary).post(reverse("web:act_sign", args=[act.pk]))
    act.refresh_from_db()
    assert act.status == "complete" and act.signatures.count() == 2
    row = signed_in(admin).get(reverse("web:incidents")).context["acts"][0]
    assert row["complete"] and not row["missing"]


def test_r18_signing_without_a_registered_key_says_so_and_changes_nothing(world, incident):
    client = signed_in(world.person("court_admin"))
    client.post(reverse("web:act_draw_up", args=[incident.hearing_id]), {"incident": incident.pk})
    act = Act.objects.get()
    answer = client.post(reverse("web:act_sign", args=[act.pk]), follow=True)
    assert answer.status_code == 200
    assert act.signatures.count() == 0
    assert [m for m in answer.context["messages"] if m.level_tag == "error"]


def test_forward_note_over_the_limit_is_refused_with_its_message(world, incident):
    client = signed_in(world.person("court_admin"))
    answer = client.post(
        reverse("web:incident_forward", args=[incident.pk]),
        {"note": "ә" * 200_000},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    incident.refresh_from_db()
    assert incident.forwarded_at is None
    assert "200000" in answer.content.decode()


def test_200000_character_incident_reason_is_refused_by_the_action_for_every_adapter(world, api_as):
    hearing = world.hearing()
    secretary = world.person("secretary")
    from taspa.recorder import actions as recorder

    recorder.start_recording(actor=secretary, hearing=hearing)
    try:
        api = api_as(secretary).post(
            f"/hearings/{hearing.pk}/incidents",
            {"kind": "recording_impossible", "detail": "ә" * 200_000},
        )
        assert api.status_code == 422 and api.json()["error"] == "text_too_long"
        console = signed_in(secretary).post(
            reverse("web:console_operate", args=[hearing.pk, "incident"]),
            {"kind": "recording_impossible", "detail": "ә" * 200_000},
        )
        assert console.status_code < 500
        assert not Incident.objects.filter(hearing=hearing, kind="recording_impossible").exists()
    finally:
        recorder.stop_recording(actor=secretary, hearing=hearing)


def test_parties_see_nothing_of_incidents(world, incident):
    client = signed_in(world.person("participant"))
    assert client.get(reverse("web:incidents")).status_code == 404
    assert client.post(reverse("web:incident_forward", args=[incident.pk])).status_code == 404
