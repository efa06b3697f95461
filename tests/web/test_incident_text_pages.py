"""R9, R16, R17: the reason the system itself wrote when capture could not start is read in the
reader's language (Kazakh, Russian) on the dashboard's incidents panel, the console's timeline
and the regional administration's page — never the English stored for the audit trail."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from taspa.incidents import acts
from taspa.incidents.actions import open_incident

pytestmark = pytest.mark.django_db

SYSTEM_DETAIL = "Capture could not start: [rtsp @ 0x55d] Protocol not found"
LINES = {
    "kk": "Жазу басталмады: көздің мекенжайы немесе пішімі қолдау көрсетілмейді.",
    "ru": "Запись не началась: адрес или формат источника не поддерживается.",
}


def signed_in(user, language: str) -> Client:
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def assert_in_language(html: str, language: str) -> None:
    assert LINES[language] in html
    assert "Capture could not start" not in html and "Protocol not found" not in html


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_r9_dashboard_incident_panel_reads_the_system_reason_in_the_readers_language(
    world, language
):
    hearing = world.hearing(court="a")
    open_incident(actor=None, hearing=hearing, kind="recording_impossible", detail=SYSTEM_DETAIL)
    page = signed_in(world.person("judge", "a"), language).get("/dashboard/")
    html = page.content.decode()
    assert 'id="panel-incidents"' in html
    assert_in_language(html, language)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_r9_console_timeline_reads_the_system_reason_in_the_readers_language(world, language):
    hearing = world.hearing(court="a")
    open_incident(actor=None, hearing=hearing, kind="recording_impossible", detail=SYSTEM_DETAIL)
    client = signed_in(world.person("secretary", "a"), language)
    page = client.get(reverse("web:console_timeline", args=[hearing.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "recording_impossible" not in html
    assert_in_language(html, language)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_r17_regional_page_reads_an_acts_system_reason_in_the_readers_language(world, language):
    hearing = world.hearing("r", kind="criminal", instance="appeal", new_evidence_examined=True)
    incident = open_incident(
        actor=None, hearing=hearing, kind="recording_impossible", detail=SYSTEM_DETAIL
    )
    acts.draw_up_act(actor=None, hearing=hearing, incidents=[incident])
    page = signed_in(world.person("regional_staff", "a"), language).get(reverse("web:regional"))
    assert page.status_code == 200
    assert_in_language(page.content.decode(), language)


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("kk", "Жазба көздерін пайдалану мүмкін емес: 1-көз: оның түрі дыбыс немесе бейне"),
        ("ru", "Источники записи нельзя использовать: Источник 1: его вид должен быть"),
    ],
)
def test_r20_an_unusable_capture_source_is_refused_in_the_readers_language(world, language, line):
    from django.utils.translation import override

    from taspa.courts import actions
    from taspa.courts.models import Courtroom
    from taspa.errors import InvalidInput

    court = world.hearing(court="a").case.court
    bad = [{"kind": "smell", "input": "hw:0"}, {"kind": "audio", "input": " "}]
    with pytest.raises(InvalidInput) as refused:
        actions.create_courtroom(actor=world.admin, court=court, name="Зал 9", sources=bad)
    with override(language):
        detail = refused.value.detail
    assert line in detail and "2" in detail
    assert "sources[" not in detail and "smell" not in detail and "ffmpeg" not in detail
    assert refused.value.english.startswith("The capture sources cannot be used: Source 1:")
    assert not Courtroom.objects.filter(name="Зал 9").exists()  # nothing stored changes
