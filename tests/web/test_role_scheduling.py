"""Scheduling and editing hearings in the browser (R3–R5), through the same action as the API,
with the input limits of ``taspa.limits`` answered next to the field."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from taspa.audit.models import AuditEvent
from taspa.courts.models import Hearing


@pytest.fixture
def admin_client(world) -> Client:
    client = Client()
    client.force_login(world.person("court_admin"))
    return client


def form(world, **changes) -> dict:
    data = {
        "case": world.case("a").pk,
        "courtroom": world.rooms["a"].pk,
        "instance": "first",
        "scheduled_at": "2026-12-03T10:00",
        "judge": world.person("judge").pk,
        "secretary": world.person("secretary").pk,
        "participants": "Әсел Үмбетова, истец\nТОО «Құрылыс», ответчик",
    }
    data.update(changes)
    return data


def test_r3_schedule_page_shows_the_rule_before_saving_and_saves_through_the_action(
    world, admin_client
):
    data = form(world, circumstances=["writ_proceedings"], preview="1")
    preview = admin_client.post(reverse("web:hearing_schedule"), data, HTTP_ACCEPT_LANGUAGE="ru")
    assert preview.status_code == 200
    assert not Hearing.objects.exists(), "a preview saves nothing"
    assert preview.context["decision"].requirement == "not_required"
    html = preview.content.decode()
    assert str(preview.context["requirement"]) in html
    assert preview.context["decision"].explanation_ru in html  # why, before anything is saved
    data.pop("preview")
    saved = admin_client.post(reverse("web:hearing_schedule"), data)
    assert saved.status_code == 302
    hearing = Hearing.objects.get()
    assert (hearing.recording_required, hearing.recording_rule) == ("not_required", "R3.1")
    assert [p.name for p in hearing.participants.all()] == ["Әсел Үмбетова", "ТОО «Құрылыс»"]
    assert AuditEvent.objects.filter(action="hearing.schedule").count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scheduled_at": "1900-01-01T10:00"}, "scheduled_at"),
        ({"scheduled_at": "2101-01-01T10:00"}, "scheduled_at"),
        ({"participants": "Ә\x00, истец"}, "participants"),
        ({"participants": "Ә" * 300 + ", истец"}, "participants"),
        ({"judge": "participant"}, "judge"),
        ({"secretary": "judge"}, "secretary"),
    ],
)
def test_bad_schedule_input_is_answered_next_to_its_field_in_the_users_language(
    world, admin_client, change, field
):
    people = {"participant": world.person("participant").pk, "judge": world.person("judge").pk}
    change = {k: people.get(v, v) for k, v in change.items()}
    answer = admin_client.post(
        reverse("web:hearing_schedule"), form(world, **change), HTTP_ACCEPT_LANGUAGE="kk"
    )
    assert answer.status_code == 200
    assert not Hearing.objects.exists()
    errors = answer.context["form"].errors
    assert field in errors, errors
    html = answer.content.decode()
    assert f'id="field-{field}"' in html and "field-error" in html


def test_edit_page_changes_an_idle_hearing_and_decides_again(world, admin_client):
    hearing = world.hearing()
    page = admin_client.get(reverse("web:hearing_edit", args=[hearing.pk]))
    assert page.status_code == 200 and page.context["editable"]
    data = form(world, case=hearing.case_id, circumstances=["writ_proceedings"])
    data["participants"] = "Әсел Үмбетова, plaintiff\nЖаңа куә, свидетель"
    answer = admin_client.post(reverse("web:hearing_edit", args=[hearing.pk]), data)
    assert answer.status_code == 302
    hearing.refresh_from_db()
    assert hearing.recording_rule == "R3.1"
    assert {p.name for p in hearing.participants.all()} == {"Әсел Үмбетова", "Жаңа куә"}
    assert AuditEvent.objects.filter(action="hearing.edit").count() == 1


def test_parties_and_other_courts_cannot_schedule(world):
    for person in (world.person("participant"), world.person("archivist")):
        client = Client()
        client.force_login(person)
        assert client.get(reverse("web:hearing_schedule")).status_code == 404
    hearing = world.hearing(court="b")
    client = Client()
    client.force_login(world.person("court_admin", "a"))
    assert client.get(reverse("web:hearing_edit", args=[hearing.pk])).status_code == 404
