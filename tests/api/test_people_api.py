"""Courts, courtrooms, people and their roles through the API (R20: the system administrator;
a court administrator within their court), with the same actions, rules and refusals as the
administrators' web pages."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from taspa.audit.models import AuditEvent
from taspa.courts.models import Court, Courtroom, RoleAssignment, User

SOURCE = {"kind": "audio", "format": "lavfi", "input": "sine=frequency=440", "label": "Судья"}


def _put(client, path, body):
    return client._call("put", path, body)


def _delete(client, path):
    return client._call("delete", path)


def _last(action: str) -> AuditEvent | None:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


def test_r20_system_admin_edits_a_court_court_admin_may_not(world, api_as):
    court = world.courts["a"]
    body = {"name": "Бостандық аудандық соты", "region": "Алматы"}
    refused = _put(api_as(world.person("court_admin", "a")), f"/courts/{court.pk}", body)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    done = _put(api_as(world.admin), f"/courts/{court.pk}", body)
    assert done.status_code == 200 and done.json() == {"id": court.pk}
    court.refresh_from_db()
    assert (court.name, court.region) == ("Бостандық аудандық соты", "Алматы")
    assert _last("court.edit").payload["after"]["name"] == "Бостандық аудандық соты"
    missing = _put(api_as(world.admin), "/courts/999999", body)
    assert missing.status_code == 404


def test_r20_court_admin_edits_their_own_courtroom_only(world, api_as):
    own, other = world.rooms["a"], world.rooms["b"]
    admin_a = api_as(world.person("court_admin", "a"))
    body = {"name": "Зал №2", "sources": [SOURCE]}
    done = _put(admin_a, f"/courtrooms/{own.pk}", body)
    assert done.status_code == 200
    own.refresh_from_db()
    assert own.name == "Зал №2" and own.sources == [SOURCE]
    assert _last("courtroom.edit").payload["after"]["name"] == "Зал №2"
    assert _put(admin_a, f"/courtrooms/{other.pk}", body).status_code == 403
    assert Courtroom.objects.get(pk=other.pk).name == "Room 1"
    judge = _put(api_as(world.person("judge", "a")), f"/courtrooms/{own.pk}", body)
    assert judge.status_code == 403


def test_r20_courtroom_edit_limits_and_name_taken(world, api_as):
    room = world.rooms["a"]
    Courtroom.objects.create(court=world.courts["a"], name="Зал №3", sources=[])
    admin = api_as(world.admin)
    taken = _put(admin, f"/courtrooms/{room.pk}", {"name": "Зал №3", "sources": []})
    assert taken.status_code == 409 and taken.json()["error"] == "courtroom_exists"
    too_many = {"name": "Room 1", "sources": [SOURCE] * 17}
    assert _put(admin, f"/courtrooms/{room.pk}", too_many).status_code == 422
    long_input = {"name": "Room 1", "sources": [SOURCE | {"input": "x" * 1001}]}
    assert _put(admin, f"/courtrooms/{room.pk}", long_input).status_code == 422
    long_label = {"name": "Room 1", "sources": [SOURCE | {"label": "x" * 101}]}
    assert _put(admin, f"/courtrooms/{room.pk}", long_label).status_code == 422
    room.refresh_from_db()
    assert room.name == "Room 1" and room.sources[0]["input"] == "sine=frequency=440"


def test_r20_court_admin_grants_and_takes_away_a_role_in_their_court(world, api_as):
    person = world.person("secretary", "a")
    admin_a = api_as(world.person("court_admin", "a"))
    granted = admin_a.post(f"/users/{person.pk}/roles", {"role": "judge", "court": "court-a"})
    assert granted.status_code == 201
    assignment = RoleAssignment.objects.get(pk=granted.json()["id"])
    assert (assignment.user, assignment.role) == (person, "judge")
    assert _last("user.role_grant").payload == {"role": "judge", "court": "court-a"}
    again = admin_a.post(f"/users/{person.pk}/roles", {"role": "judge", "court": "court-a"})
    assert again.status_code == 409 and again.json()["error"] == "role_exists"
    other = admin_a.post(f"/users/{person.pk}/roles", {"role": "judge", "court": "court-b"})
    assert other.status_code == 403
    admin_role = admin_a.post(
        f"/users/{person.pk}/roles", {"role": "court_admin", "court": "court-a"}
    )
    assert admin_role.status_code == 403
    removed = _delete(admin_a, f"/users/{person.pk}/roles/{assignment.pk}")
    assert removed.status_code == 204
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert _last("user.role_revoke").payload == {"role": "judge", "court": "court-a"}
    assert _delete(admin_a, f"/users/{person.pk}/roles/{assignment.pk}").status_code == 404


def test_r20_the_last_system_admin_keeps_the_role_and_stays_active(world, api_as):
    admin = api_as(world.admin)
    role = RoleAssignment.objects.get(user=world.admin, role="system_admin")
    kept = _delete(admin, f"/users/{world.admin.pk}/roles/{role.pk}")
    assert kept.status_code == 409 and kept.json()["error"] == "last_system_admin"
    myself = _put(admin, f"/users/{world.admin.pk}/active", {"active": False})
    assert myself.status_code == 422 and myself.json()["error"] == "deactivate_self"
    assert User.objects.get(pk=world.admin.pk).is_active


def test_r20_a_deactivated_person_can_no_longer_use_the_api(world, api_as):
    person = world.person("archivist", "a")
    their_client = api_as(person)
    assert their_client.get("/hearings").status_code == 200
    admin_a = api_as(world.person("court_admin", "a"))
    off = _put(admin_a, f"/users/{person.pk}/active", {"active": False})
    assert off.status_code == 200 and off.json() == {"id": person.pk, "active": False}
    assert their_client.get("/hearings").status_code == 401
    assert _last("user.deactivate").object_id == str(person.pk)
    back = _put(admin_a, f"/users/{person.pk}/active", {"active": True})
    assert back.status_code == 200 and back.json()["active"] is True
    assert their_client.get("/hearings").status_code == 200
    other = _put(
        api_as(world.person("court_admin", "b")), f"/users/{person.pk}/active", {"active": False}
    )
    assert other.status_code == 403 and User.objects.get(pk=person.pk).is_active


def test_r20_password_set_through_the_api_follows_the_rule(world, api_as):
    person = world.person("judge", "a")
    admin_a = api_as(world.person("court_admin", "a"))
    admin_a.headers["Accept-Language"] = "ru"
    short = _put(admin_a, f"/users/{person.pk}/password", {"password": "short"})
    assert short.status_code == 422 and short.json()["error"] == "password_too_short"
    assert "8" in short.json()["detail"] and "characters" not in short.json()["detail"]
    assert Client().login(username="judge-a", password="pw")  # nothing changed
    done = _put(admin_a, f"/users/{person.pk}/password", {"password": "Жаңа-құпия-сөз"})
    assert done.status_code == 204
    assert Client().login(username="judge-a", password="Жаңа-құпия-сөз")
    assert _last("user.password_set").object_id == str(person.pk)
    other = _put(
        api_as(world.person("court_admin", "b")),
        f"/users/{person.pk}/password",
        {"password": "another-password"},
    )
    assert other.status_code == 403


def test_r20_new_person_through_the_api_follows_the_web_forms_rules(world, api_as):
    admin = api_as(world.admin)
    admin.headers["Accept-Language"] = "kk"
    role = [{"role": "secretary", "court": "court-a"}]
    cases = [
        ({"username": "айгүл жұмабаева"}, "invalid_username"),
        ({"username": "aigul", "email": "not-an-address"}, "invalid_email"),
        ({"username": "aigul", "password": "1234567"}, "password_too_short"),
    ]
    for change, code in cases:
        body = {"username": "aigul", "full_name": "Айгүл", "roles": role} | change
        refused = admin.post("/users", body)
        assert refused.status_code == 422 and refused.json()["error"] == code, refused.json()
        assert not any(word in refused.json()["detail"] for word in ("Letters", "e-mail", "At "))
    assert not User.objects.filter(username__in=["aigul", "айгүл жұмабаева"]).exists()
    body = {
        "username": "айгүл.ж",
        "full_name": "Айгүл",
        "email": "aigul@sot.kz",
        "roles": role,
        "password": "12345678",
    }
    made = admin.post("/users", body)
    assert made.status_code == 201
    assert Client().login(username="айгүл.ж", password="12345678")


def test_r20_unknown_people_and_rooms_are_not_found(world, api_as):
    admin = api_as(world.admin)
    assert _put(admin, "/users/999999/active", {"active": False}).status_code == 404
    assert _put(admin, "/users/999999/password", {"password": "12345678"}).status_code == 404
    assert (
        admin.post("/users/999999/roles", {"role": "judge", "court": "court-a"}).status_code == 404
    )
    assert _put(admin, "/courtrooms/999999", {"name": "x", "sources": []}).status_code == 404
    assert Court.objects.count() == len(world.courts)


def test_r20_the_first_administrator_from_the_console_follows_the_same_rules(db, monkeypatch):
    command = ("createsuperuser", "--noinput", "--username", "it", "--email", "it@c.kz")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "short")
    with pytest.raises(CommandError, match="8"):
        call_command(*command, verbosity=0)
    assert not User.objects.filter(username="it").exists()
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "first-admin-Passw0rd")
    call_command(*command, verbosity=0)
    made = User.objects.get(username="it")
    assert made.is_superuser and RoleAssignment.objects.filter(user=made, role="system_admin")


def test_r20_the_first_administrator_asked_at_the_console_gets_the_same_rule(db, monkeypatch):
    """Interactive ``taspa createsuperuser``: a short password is refused with the rule's own
    message and may not be bypassed; the next, long enough, makes the administrator."""
    import getpass
    import io

    from django.contrib.auth.management.commands import createsuperuser as django_command

    answers = iter(["short", "short", "first-admin-Passw0rd", "first-admin-Passw0rd"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    monkeypatch.setattr(django_command.getpass, "getpass", lambda prompt="": next(answers))

    class Console(io.StringIO):
        def isatty(self) -> bool:  # Django asks only at a terminal
            return True

    errors = io.StringIO()
    call_command(
        "createsuperuser", "--username", "it", "--email", "it@c.kz",
        interactive=True, stdin=Console(), stderr=errors, stdout=io.StringIO(),
    )  # fmt: skip
    assert "8" in errors.getvalue()  # "At least 8 characters." (in the console's language)
    made = User.objects.get(username="it")
    assert made.check_password("first-admin-Passw0rd") and not made.check_password("short")
    assert RoleAssignment.objects.filter(user=made, role="system_admin").exists()
