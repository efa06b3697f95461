"""The API skeleton of CONTRACT.md: courts, users, courtrooms, cases, hearings, tokens, errors."""

import json

import pytest

from taspa.audit.models import AuditEvent
from taspa.courts.models import Case, Court, Hearing, User


def hearing_body(world, **overrides):
    case = world.case("a", overrides.pop("kind", "civil"))
    body = {
        "case": case.pk,
        "courtroom": world.rooms["a"].pk,
        "instance": "first",
        "closed": False,
        "judge": world.person("judge").pk,
        "secretary": world.person("secretary").pk,
        "scheduled_at": "2026-12-01T10:00:00+05:00",
        "participants": [{"name": "Өмірзақ Ұлықбекұлы", "role": "plaintiff"}],
    }
    body.update(overrides)
    return body


def test_openapi_document_is_served(world, api_as):
    response = api_as(None).get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/courts",
        "/api/v1/users",
        "/api/v1/courtrooms",
        "/api/v1/cases",
        "/api/v1/hearings",
        "/api/v1/hearings/{hearing_id}",
        "/api/v1/users/{user_id}/token",
    ):
        assert path in paths


def test_r3_1_writ_proceedings_hearing_answers_not_required(world, api_as):
    body = hearing_body(world, circumstances={"writ_proceedings": True})
    response = api_as(world.person("secretary")).post("/hearings", body)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["recording_required"] == "not_required"
    assert answer["rule"] == "R3.1"
    assert answer["explanation"]
    hearing = Hearing.objects.get(pk=answer["id"])
    assert hearing.participants.get().name == "Өмірзақ Ұлықбекұлы"


def test_get_hearing_shows_state_and_rule(world, api_as):
    client = api_as(world.person("secretary"))
    created = client.post("/hearings", hearing_body(world)).json()
    detail = client.get(f"/hearings/{created['id']}").json()
    assert detail["state"] == "idle"
    assert (detail["recording_required"], detail["rule"]) == ("required", "R3")
    assert detail["incidents"] == [] and detail["acts"] == []


def test_other_courts_hearing_is_invisible(world, api_as):
    hearing = world.hearing(court="b")
    client = api_as(world.person("secretary", "a"))
    assert client.get(f"/hearings/{hearing.pk}").status_code == 404
    assert hearing.pk not in [h["id"] for h in client.get("/hearings").json()["items"]]


def test_no_token_is_401_with_contract_shape(world, api_as):
    response = api_as(None).post("/hearings", hearing_body(world))
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"instance": "fourth"}, 422, "invalid_input"),
        ({"circumstances": {"moon_phase": True}}, 422, "invalid_input"),
        ({"courtroom": "other-court"}, 422, "courtroom_of_another_court"),
        ({"secretary": "judge"}, 422, "not_a_secretary_of_court"),
        ({"secretary": "other-court-secretary"}, 422, "not_a_secretary_of_court"),
        ({"judge": "nobody-at-all"}, 422, "unknown_judge"),
        ({"case": 999999}, 422, "unknown_case"),
        ({"scheduled_at": "tomorrow-ish"}, 422, "invalid_input"),
        ({"scheduled_at": "1900-01-01T10:00:00+05:00"}, 422, "date_out_of_range"),
        ({"scheduled_at": "2101-01-01T10:00:00+05:00"}, 422, "date_out_of_range"),
        ({"participants": [{"name": "Ә\u0000", "role": "plaintiff"}]}, 422, "nul_character"),
    ],
)
def test_bad_hearing_input_is_refused_and_nothing_written(world, api_as, change, status, code):
    body = hearing_body(world)
    replacements = {
        "other-court": world.rooms["b"].pk,
        "judge": world.person("judge").pk,
        "other-court-secretary": world.person("secretary", "b").pk,
    }
    change = {k: replacements.get(v, v) if isinstance(v, str) else v for k, v in change.items()}
    body.update(change)
    client = api_as(world.person("court_admin"))
    hearings, events = Hearing.objects.count(), AuditEvent.objects.count()
    response = client.post("/hearings", body)
    assert response.status_code == status, response.content
    answer = response.json()
    assert answer["error"] == code and answer["detail"]
    assert (Hearing.objects.count(), AuditEvent.objects.count()) == (hearings, events)


def test_unknown_case_kind_is_refused(world, api_as):
    response = api_as(world.person("secretary")).post(
        "/cases", {"number": "1-1", "kind": "maritime", "court": "court-a"}
    )
    assert response.status_code == 422
    assert "kind" in response.json()["detail"]
    assert not Case.objects.filter(number="1-1").exists()


@pytest.mark.parametrize("raw", ['{"number": "1-1", "kind": ', "not json at all", "[1, 2"])
def test_malformed_json_is_4xx_never_500(world, api_as, raw):
    response = api_as(world.person("secretary")).post("/cases", raw=raw)
    assert response.status_code in (400, 422)
    assert response.json()["error"]


def test_unknown_role_is_refused(world, api_as):
    response = api_as(world.admin).post(
        "/users",
        {"username": "x", "full_name": "X", "roles": [{"role": "emperor", "court": "court-a"}]},
    )
    assert response.status_code == 422
    assert not User.objects.filter(username="x").exists()


def test_court_admin_creates_staff_of_own_court_only(world, api_as):
    client = api_as(world.person("court_admin", "a"))
    ok = client.post(
        "/users",
        {
            "username": "new-sec",
            "full_name": "Гүлнар Ілиясқызы",
            "roles": [{"role": "secretary", "court": "court-a"}],
        },
    )
    assert ok.status_code == 201
    other = client.post(
        "/users",
        {
            "username": "spy",
            "full_name": "Spy",
            "roles": [{"role": "secretary", "court": "court-b"}],
        },
    )
    assert other.status_code == 403 and other.json()["error"] == "forbidden"
    escalate = client.post(
        "/users",
        {
            "username": "boss",
            "full_name": "Boss",
            "roles": [{"role": "court_admin", "court": "court-a"}],
        },
    )
    assert escalate.status_code == 403
    assert not User.objects.filter(username__in=["spy", "boss"]).exists()


def test_only_system_admin_creates_courts(world, api_as):
    body = {"code": "new-court", "name": "Жаңа сот", "level": "district", "region": "Шымкент"}
    assert api_as(world.person("court_admin")).post("/courts", body).status_code == 403
    response = api_as(world.admin).post("/courts", body)
    assert response.status_code == 201
    assert Court.objects.get(code="new-court").name == "Жаңа сот"
    assert api_as(world.admin).post("/courts", body).status_code == 409


def test_courtroom_sources_are_set_by_administrators_only(world, api_as):
    body = {
        "court": "court-a",
        "name": "Зал №2",
        "sources": [{"kind": "audio", "format": "alsa", "input": "hw:1,0"}],
    }
    assert api_as(world.person("secretary")).post("/courtrooms", body).status_code == 403
    assert api_as(world.person("court_admin")).post("/courtrooms", body).status_code == 201
    bad = dict(body, name="Зал №3", sources=[{"kind": "smell", "input": "x"}])
    assert api_as(world.person("court_admin")).post("/courtrooms", bad).status_code == 422


def test_token_endpoint_issues_a_working_token(world, api_as):
    secretary = world.person("secretary")
    response = api_as(world.person("court_admin")).post(f"/users/{secretary.pk}/token")
    assert response.status_code == 201
    token = response.json()["token"]
    client = api_as(None)
    client.headers["Authorization"] = f"Bearer {token}"
    assert client.get("/hearings").status_code == 200
    stranger = api_as(world.person("court_admin", "b")).post(f"/users/{secretary.pk}/token")
    assert stranger.status_code == 403


def test_error_body_is_json_with_error_and_detail(world, api_as):
    response = api_as(world.person("secretary")).get("/hearings/424242")
    assert response.status_code == 404
    assert set(json.loads(response.content)) >= {"error", "detail"}
