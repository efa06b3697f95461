"""R8 in the console: recording starts after a passing equipment check of the courtroom within
TASPA_PREFLIGHT_MAX_AGE_MIN. Without one the console says so in the secretary's language and
offers two ways on: the check, or the start without it with a reason, which the same start
action keeps in the audit trail (recorder.preflight_override). A reason that cannot be taken is
refused next to its field, and nothing starts."""

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from taspa.audit.models import AuditEvent
from taspa.courts.models import Hearing
from taspa.recorder.models import Preflight, Recording

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("guard_on"),
]


@pytest.fixture
def guard_on():
    with override_settings(TASPA_PREFLIGHT_MAX_AGE_MIN=120):
        yield


@pytest.fixture
def secretary():
    client = Client()
    assert client.login(username="secretary-a", password="pw")
    return client


def start(client, hearing, language, **data):
    response = client.post(
        f"/hearings/{hearing.pk}/console/start", data, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    return response.content.decode()


def test_r8_console_refuses_the_start_in_kazakh_and_russian_with_two_ways_on(
    world, hearing, secretary
):
    kk = start(secretary, hearing, "kk")
    assert "осы сот залының жабдығы тексерілмеген" in kk
    assert "Тексерусіз бастау" in kk and 'id="btn-preflight-first"' in kk
    assert 'name="override_reason"' in kk and 'maxlength="2000"' in kk
    assert "Check the equipment" not in kk and "equipment" not in kk

    # A passing check of the courtroom, but three hours ago, is not a check before this one.
    Preflight.objects.create(
        hearing=world.hearing(court="a"),  # same courtroom
        at=timezone.now() - timedelta(hours=3),
        ok=True,
        checks=[],
        run_by=world.person("secretary"),
    )
    ru = start(secretary, hearing, "ru")
    assert "последняя успешная проверка оборудования была 180 мин назад" in ru
    assert "не ранее чем за 120 мин" in ru and "Начать без проверки" in ru
    assert Hearing.objects.get(pk=hearing.pk).state == "idle"
    assert not Recording.objects.filter(hearing=hearing).exists()


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("   ", "Напишите, почему запись начинается без проверки оборудования."),
        ("ключ\x00ЭЦП", "невидимый"),
        ("ы" * 2001, "2001"),
    ],
    ids=["empty", "nul", "too-long"],
)
def test_r8_console_reason_that_cannot_be_taken_is_refused_by_its_field(
    hearing, secretary, reason, message
):
    page = start(secretary, hearing, "ru", without_check="1", override_reason=reason)
    field_error = page.split('id="override-error"', 1)[1].split("</p>", 1)[0]
    assert message in field_error
    assert 'aria-invalid="true"' in page and 'id="btn-start-override"' in page
    assert Hearing.objects.get(pk=hearing.pk).state == "idle"
    assert not Recording.objects.filter(hearing=hearing).exists()
    assert not AuditEvent.objects.filter(action="recorder.preflight_override").exists()


@pytest.mark.slow
def test_r8_console_starts_without_a_check_on_a_reason_kept_in_the_audit_trail(
    world, hearing, secretary
):
    page = start(
        secretary,
        hearing,
        "kk",
        without_check="1",
        override_reason="Тексеру өтпеді: ЭЦҚ кілтінің мерзімі өтті",
    )
    assert "Жазу жабдық тексерілмей басталды" in page
    assert Hearing.objects.get(pk=hearing.pk).state == "recording"
    event = AuditEvent.objects.get(action="recorder.preflight_override")
    assert event.payload["reason"] == "Тексеру өтпеді: ЭЦҚ кілтінің мерзімі өтті"
    assert event.actor_id == world.person("secretary").pk
    assert Recording.objects.filter(hearing=hearing).count() == 1
