"""R17: an act is an official document made separately in Kazakh and in Russian; the reason the
system itself wrote when capture could not start is stated in the document's own language, not
in English and not in the language of whoever drew the act up."""

import io

import pytest
from django.utils.translation import override

from taspa.incidents.actions import open_incident

pytestmark = pytest.mark.django_db

SYSTEM_DETAIL = "Capture could not start: [rtsp @ 0x55d] Protocol not found"


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())  # table cells wrap lines anywhere


@pytest.mark.parametrize("drafter_language", ["ru", "kk", "en"])
def test_r17_act_states_a_system_opened_capture_failure_in_each_documents_language(
    world, api_as, drafter_language
):
    hearing = world.hearing(court="a", kind="civil")
    incident = open_incident(
        actor=None, hearing=hearing, kind="recording_impossible", detail=SYSTEM_DETAIL
    )
    api = api_as(world.person("secretary"))
    with override(drafter_language):  # whatever language the drafter's interface speaks
        answer = api.post(f"/hearings/{hearing.pk}/acts", {"incidents": [incident.pk]})
    assert answer.status_code == 201, answer.content
    act_id = answer.json()["id"]
    kk = pdf_text(api.get(f"/acts/{act_id}/pdf?language=kk").content)
    ru = pdf_text(api.get(f"/acts/{act_id}/pdf?language=ru").content)

    assert "Жазу басталмады" in kk and "мекенжайы немесе пішімі қолдау көрсетілмейді" in kk
    assert "Запись не началась" in ru and "адрес или формат источника не поддерживается" in ru
    assert "Запись не началась" not in kk and "Жазу басталмады" not in ru  # never mixed
    for text in (kk, ru):
        assert "Capture could not start" not in text and "Protocol not found" not in text


def test_r9_minutes_state_a_system_opened_capture_failure_in_each_language(world):
    from taspa.incidents.selectors import minutes_context

    hearing = world.hearing(court="a", kind="civil")
    open_incident(actor=None, hearing=hearing, kind="recording_impossible", detail=SYSTEM_DETAIL)
    with override("en"):
        paragraphs = minutes_context(hearing)["paragraphs"]
    kk, ru = " ".join(paragraphs["kk"]), " ".join(paragraphs["ru"])
    assert "Жазу басталмады" in kk and "Запись не началась" in ru
    assert "Запись не началась" not in kk and "Жазу басталмады" not in ru
    for text in (kk, ru):
        assert "Capture could not start" not in text and "Protocol not found" not in text


@pytest.mark.parametrize(
    ("language", "line"), [("kk", "Жазу басталмады"), ("ru", "Запись не началась")]
)
def test_r9_a_documents_incident_reason_is_in_the_documents_language(language, line):
    from django.template import Context, Template

    layout = Template("{% load taspa_docs %}{{ detail|detail_in:language }}")
    with override("en"):  # the reader's interface language does not matter
        text = layout.render(Context({"detail": SYSTEM_DETAIL, "language": language}))
    assert text.startswith(line) and "Protocol not found" not in text
    assert layout.render(Context({"detail": "Микрофон молчит", "language": language})) == (
        "Микрофон молчит"
    )  # a person's own words as written
