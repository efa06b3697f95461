"""The administrators' pages (issue 16): courts, courtrooms with their capture sources (R20:
administrators only), people and their roles, deactivation, signing keys (R14) — through the
same actions as the API, with the API's limits answered next to the field in the user's
language and nothing stored on a refusal; a court administrator sees only their own court."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from taspa.api.actions import issue_token
from taspa.courts import actions
from taspa.courts.models import Court, Courtroom, RoleAssignment, User
from taspa.sealing import democa
from taspa.sealing.models import SigningKey

PASSWORD = "pw-people-1"


def signed_in(user: User, language: str = "ru") -> Client:
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def sources(*rows: dict[str, str], total: int | None = None) -> dict[str, str]:
    """The capture-source rows of the room form (a Django formset, prefix ``src``)."""
    data = {
        "src-TOTAL_FORMS": str(total if total is not None else len(rows)),
        "src-INITIAL_FORMS": "0",
        "src-MIN_NUM_FORMS": "0",
        "src-MAX_NUM_FORMS": "16",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"src-{i}-{key}"] = value
    return data


def field_block(html: str, field: str) -> str:
    """The field's box on the page: its label, input and the message next to it."""
    return html.split(f'id="field-{field}"')[1].split("</div>")[0]


MIC = {"kind": "audio", "format": "alsa", "input": "hw:1,0", "label": "Судья"}


def test_r20_system_admin_creates_a_court_a_room_with_sources_and_a_person(world):
    client = signed_in(world.admin)
    answer = client.post(
        reverse("web:courts"),
        {"code": "court-n", "name": "Жаңа аудандық сот", "level": "district", "region": "Алматы"},
        follow=True,
    )
    assert answer.status_code == 200
    court = Court.objects.get(code="court-n")
    assert "Жаңа аудандық сот" in answer.content.decode()
    answer = client.post(
        reverse("web:courtrooms"),
        {"court": court.pk, "name": "Зал №2"}
        | sources(MIC, {"kind": "video", "format": "rtsp", "input": "rtsp://10.0.0.5/cam"}),
        follow=True,
    )
    room = Courtroom.objects.get(court=court, name="Зал №2")
    assert room.sources == [
        MIC,
        {"kind": "video", "format": "rtsp", "input": "rtsp://10.0.0.5/cam"},
    ]
    assert "Судья" in answer.content.decode()
    answer = client.post(
        reverse("web:people"),
        {
            "username": "aigerim",
            "full_name": "Әйгерім Серікова",
            "email": "",
            "password": PASSWORD,
            "role": "secretary",
            "court": court.pk,
        },
    )
    person = User.objects.get(username="aigerim")
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "web:person", args=[person.pk]
    )
    assert list(person.role_assignments.values_list("role", "court__code")) == [
        ("secretary", "court-n")
    ]
    assert Client().login(username="aigerim", password=PASSWORD)
    # The court's own page changes its name, never its code.
    client.post(
        reverse("web:court_edit", args=[court.pk]), {"name": "Өзгерген", "region": "Алматы"}
    )
    court.refresh_from_db()
    assert (court.code, court.name) == ("court-n", "Өзгерген")


def test_r20_a_room_edited_keeps_its_sources_as_entered_and_drops_empty_rows(world):
    client = signed_in(world.person("court_admin"))
    room = world.rooms["a"]
    data = {"name": "Зал №1"} | sources(MIC, {"kind": "audio", "input": ""})
    answer = client.post(reverse("web:courtroom_edit", args=[room.pk]), data)
    assert answer.status_code == 302
    room.refresh_from_db()
    assert room.sources == [MIC]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("name", "я" * 256, "Не более 255 символов"),
        ("region", "Алма\x00ты", "невидимый нулевой символ"),
        ("code", "Court A", "строчные латинские буквы"),
        ("code", "court-a", "Суд с таким кодом уже есть."),
    ],
)
def test_court_form_refusals_are_next_to_the_field_in_russian_and_store_nothing(
    world, field, value, expected
):
    client = signed_in(world.admin, "ru")
    data = {"code": "court-q", "name": "Суд", "level": "district", "region": "Алматы"}
    before = Court.objects.count()
    answer = client.post(reverse("web:courts"), data | {field: value})
    html = answer.content.decode()
    assert answer.status_code == 200
    assert Court.objects.count() == before
    error = field_block(html, field)
    assert "field-error" in error and expected in error, error


def test_courtroom_source_limits_match_the_api(world):
    client = signed_in(world.admin, "kk")
    room = world.rooms["a"]
    before = list(room.sources)
    for bad in ("x" * 1001, "hw:1\x00"):
        data = {"name": "Room 1"} | sources({"kind": "audio", "input": bad})
        answer = client.post(reverse("web:courtroom_edit", args=[room.pk]), data)
        assert answer.status_code == 200
        assert 'class="field-error"' in answer.content.decode()
    too_many = {"name": "Room 1"} | sources(*[MIC] * 17)
    answer = client.post(reverse("web:courtroom_edit", args=[room.pk]), too_many)
    assert answer.status_code == 200
    room.refresh_from_db()
    assert room.sources == before
    # A label with no input is a mistake, said next to the input.
    data = {"name": "Room 1"} | sources({"kind": "audio", "input": "", "label": "Судья"})
    html = client.post(reverse("web:courtroom_edit", args=[room.pk]), data).content.decode()
    assert "Осы көздің кірісін көрсетіңіз" in html
    room.refresh_from_db()
    assert room.sources == before


def test_person_form_refusals_in_the_users_language(world):
    client = signed_in(world.person("court_admin"), "kk")
    base = {
        "username": "new-one",
        "full_name": "Жаңа қызметкер",
        "email": "",
        "password": PASSWORD,
        "role": "judge",
        "court": world.courts["a"].pk,
    }
    cases = {
        "full_name": "Жаңа\x00",
        "username": "secretary-a",  # taken
        "email": "not an address",
        "password": "short",
    }
    before = User.objects.count()
    for field, value in cases.items():
        answer = client.post(reverse("web:people"), base | {field: value})
        assert answer.status_code == 200
        html = answer.content.decode()
        assert "field-error" in field_block(html, field), field
    assert User.objects.count() == before


def test_court_admin_sees_and_manages_only_their_own_court(world):
    admin_a = world.person("court_admin", "a")
    client = signed_in(admin_a)
    listed = client.get(reverse("web:people")).content.decode()
    assert "secretary-a" in listed and "secretary-b" not in listed
    assert (
        client.get(reverse("web:person", args=[world.person("secretary", "b").pk])).status_code
        == 404
    )
    assert client.get(reverse("web:courtroom_edit", args=[world.rooms["b"].pk])).status_code == 404
    assert client.get(reverse("web:courts")).status_code == 404
    rooms = client.get(reverse("web:courtrooms")).content.decode()
    assert f'id="room-{world.rooms["a"].pk}"' in rooms
    assert f'id="room-{world.rooms["b"].pk}"' not in rooms
    # A person for court B, or a court administrator's role: refused at the field, nothing made.
    before = User.objects.count()
    for role, court in (("judge", world.courts["b"]), ("court_admin", world.courts["a"])):
        answer = client.post(
            reverse("web:people"),
            {
                "username": f"x-{role}",
                "full_name": "Біреу",
                "password": PASSWORD,
                "role": role,
                "court": court.pk,
            },
        )
        assert answer.status_code == 200 and "field-error" in answer.content.decode()
    assert User.objects.count() == before
    # The court administrator adds a judge to their own court.
    answer = client.post(
        reverse("web:people"),
        {
            "username": "judge-new",
            "full_name": "Жаңа судья",
            "password": PASSWORD,
            "role": "judge",
            "court": world.courts["a"].pk,
        },
    )
    assert answer.status_code == 302
    assert User.objects.get(username="judge-new").role_assignments.get().court == world.courts["a"]


def test_roles_granted_and_taken_away_per_court(world):
    client = signed_in(world.person("court_admin"))
    person = world.person("archivist")
    client.post(
        reverse("web:person_grant", args=[person.pk]),
        {"role": "secretary", "court": world.courts["a"].pk},
    )
    assert set(person.role_assignments.values_list("role", flat=True)) == {"archivist", "secretary"}
    # The same role twice: said next to the role, nothing added.
    answer = client.post(
        reverse("web:person_grant", args=[person.pk]),
        {"role": "secretary", "court": world.courts["a"].pk},
    )
    assert "У сотрудника уже есть эта роль" in answer.content.decode()
    assert person.role_assignments.count() == 2
    secretary = person.role_assignments.get(role="secretary")
    answer = client.post(reverse("web:role_revoke", args=[secretary.pk]), follow=True)
    assert "Роль отозвана" in answer.content.decode()
    assert list(person.role_assignments.values_list("role", flat=True)) == ["archivist"]
    # Another court's role is not theirs to take away.
    other = world.person("archivist", "b").role_assignments.get()
    assert client.post(reverse("web:role_revoke", args=[other.pk])).status_code == 404
    assert RoleAssignment.objects.filter(pk=other.pk).exists()


def test_the_last_system_administrator_keeps_the_role(world):
    client = signed_in(world.admin)
    own = world.admin.role_assignments.get(role="system_admin")
    answer = client.post(reverse("web:role_revoke", args=[own.pk]), follow=True)
    assert "Последний системный администратор" in answer.content.decode()
    assert RoleAssignment.objects.filter(pk=own.pk).exists()


def test_a_deactivated_person_cannot_sign_in_and_is_let_back(world):
    client = signed_in(world.person("court_admin"))
    judge = world.person("judge")
    token = {"Authorization": f"Bearer {issue_token(actor=None, user=judge)}"}
    assert Client().get("/api/v1/hearings", headers=token).status_code == 200
    answer = client.post(
        reverse("web:person_active", args=[judge.pk]), {"active": "no"}, follow=True
    )
    judge.refresh_from_db()
    assert not judge.is_active
    assert "больше не может войти" in answer.content.decode()
    assert not Client().login(username="judge-a", password="pw")
    assert Client().get("/api/v1/hearings", headers=token).status_code == 401
    client.post(reverse("web:person_active", args=[judge.pk]), {"active": "yes"})
    judge.refresh_from_db()
    assert judge.is_active and Client().login(username="judge-a", password="pw")
    assert Client().get("/api/v1/hearings", headers=token).status_code == 200
    # Oneself: refused, with the reason.
    me = world.person("court_admin")
    client.post(reverse("web:person_active", args=[me.pk]), {"active": "no"})
    me.refresh_from_db()
    assert me.is_active


def test_r14_a_secretarys_signing_key_registered_and_revoked_on_the_page(world, settings, tmp_path):
    ca = democa.create_ca("People Pages CA")
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(ca.pem)
    settings.TASPA_TRUST_ANCHORS = str(anchors)
    secretary = world.person("secretary")
    client = signed_in(world.person("court_admin"))
    p12 = democa.issue_p12(ca, common_name="Айгүл Жұмабаева", password="pin-1")
    url = reverse("web:signing_key", args=[secretary.pk])
    wrong = client.post(url, {"p12": SimpleUploadedFile("k.p12", p12), "password": "nope"})
    assert wrong.status_code == 200
    assert "Файл ключа не открывается" in wrong.content.decode()
    assert not SigningKey.objects.filter(user=secretary).exists()
    answer = client.post(url, {"p12": SimpleUploadedFile("k.p12", p12), "password": "pin-1"})
    assert answer.status_code == 302
    key = SigningKey.objects.get(user=secretary)
    page = client.get(reverse("web:person", args=[secretary.pk])).content.decode()
    assert "Айгүл Жұмабаева" in page and 'id="revoke-key"' in page
    client.post(reverse("web:signing_key_revoke", args=[secretary.pk]))
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_people_search_finds_by_name(world):
    client = signed_in(world.admin)
    page = client.get(reverse("web:people"), {"q": "judge of"}).content.decode()
    assert "judge-a" in page and "judge-z" in page and "secretary-a" not in page


def test_links_from_the_administrators_dashboard_and_navigation(world):
    admin_page = signed_in(world.admin).get(reverse("web:dashboard")).content.decode()
    assert reverse("web:courts") in admin_page and reverse("web:people") in admin_page
    court_admin = signed_in(world.person("court_admin")).get(reverse("web:dashboard"))
    html = court_admin.content.decode()
    assert reverse("web:people") in html and reverse("web:courtrooms") in html
    assert reverse("web:courts") not in html
    secretary = signed_in(world.person("secretary")).get(reverse("web:dashboard")).content.decode()
    assert reverse("web:people") not in secretary


def test_a_person_of_two_courts_is_deactivated_by_the_system_administrator_only(world):
    person = world.person("archivist")
    actions.grant_role(actor=world.admin, user=person, role="archivist", court=world.courts["b"])
    client = signed_in(world.person("court_admin"))
    page = client.get(reverse("web:person", args=[person.pk])).content.decode()
    assert "работает и в другом суде" in page and 'id="deactivate"' not in page
    answer = client.post(
        reverse("web:person_active", args=[person.pk]), {"active": "no"}, follow=True
    )
    assert "Ваши роли не позволяют" in answer.content.decode()
    person.refresh_from_db()
    assert person.is_active
    # Court A's administrator still takes away the role in court A (only that one is shown).
    roles = [r.role for r in person.role_assignments.all()]
    assert sorted(roles) == ["archivist", "archivist"]
    own = person.role_assignments.get(court=world.courts["a"])
    assert f'id="role-{own.pk}"' in page
    assert f'id="role-{person.role_assignments.get(court=world.courts["b"]).pk}"' not in page
    signed_in(world.admin).post(reverse("web:person_active", args=[person.pk]), {"active": "no"})
    person.refresh_from_db()
    assert not person.is_active


def test_every_change_is_in_the_audit_log(world):
    from taspa.audit.models import AuditEvent

    client = signed_in(world.admin)
    court = world.courts["a"]
    client.post(reverse("web:court_edit", args=[court.pk]), {"name": "Court A", "region": "Алматы"})
    client.post(reverse("web:person_active", args=[world.person("judge").pk]), {"active": "no"})
    actions_seen = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"court.edit", "user.deactivate"} <= actions_seen
