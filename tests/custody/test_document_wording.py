"""The wording of documents (#19 point 9): the brief protocol's extract names the lawful stops as
п.6 does (they are not a break), shows kinds in words (never a code), signs «ЭЦҚ-сымен»; the
medium is «материалдық (электрондық) жеткізгіш»; the demo's Kazakh case speaks Kazakh."""

import io

import pytest

from taspa.incidents.actions import open_incident

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def test_r13_r6_extract_names_lawful_stops_as_no_break_and_never_a_raw_code(world, sealed, api_as):
    open_incident(actor=None, hearing=sealed.hearing, kind="capture_gap", detail="2 s lost")
    api = api_as(world.person("secretary"))
    texts = {}
    for language in ("kk", "ru"):
        answer = api.get(f"/recordings/{sealed.pk}/protocol-extract?language={language}")
        assert answer.status_code == 200, answer.content
        texts[language] = pdf_text(answer.content)
    ru, kk = texts["ru"], texts["kk"]
    assert "Перерывы" not in ru and "не являющиеся перерывом (пункт 6 Правил)" in ru
    assert "Үзілістер" not in kk and "Үзіліс болып табылмайтын" in kk
    for text in (ru, kk):
        assert "capture_gap" not in text
    assert "Разрыв записи" in ru and "Жазбаның үзілуі" in kk
    assert "ЭЦҚ-сымен" in kk and "ЭЦҚ-мен" not in kk


def test_one_kazakh_term_for_the_medium_and_serial_numbers_not_case_numbers():
    from django.utils import translation

    from taspa.custody import texts

    words = " ".join(str(v) for table in (texts.LABEL, texts.DESTRUCTION_ACT) for v in
                     table["kk"].values())  # fmt: skip
    assert "тасығыш" not in words and "материалдық (электрондық) жеткізгіш" in words
    with translation.override("ru"):
        assert translation.gettext("serial number (hex)") == "серийный номер (шестнадцатеричный)"
    with translation.override("kk"):
        assert translation.gettext("Levels") == "Дыбыс жазу эквалайзері"  # п.11's name


def test_the_demos_kazakh_case_speaks_kazakh_in_the_court_of_its_name(settings, tmp_path):
    from taspa.demo import DEMO_SPEECH, seed_demo

    settings.TASPA_HOME = tmp_path
    world = seed_demo()
    assert world.court.name == "Алматы қаласы Бостандық аудандық соты"
    assert world.hearing.case.language == "kk"
    roles = set(world.hearing.participants.values_list("role", flat=True))
    assert roles == {"талапкер", "жауапкер"}
    assert "Сот отырысы ашық деп жарияланады" in DEMO_SPEECH and "Судебное" not in DEMO_SPEECH
    assert (tmp_path / "demo" / "speech-kk.wav").stat().st_size > 10_000


def test_r9_the_copy_players_page_names_incidents_in_both_languages_never_a_code(sealed):
    """The offline page in a copy package or on a medium (R12, R15) is read by a participant:
    an incident shows as the act names it, in Kazakh and Russian, never as a stored code."""
    from django.template.loader import render_to_string

    from taspa.custody.selectors import player_context

    open_incident(actor=None, hearing=sealed.hearing, kind="capture_gap", detail="2 s lost")
    open_incident(
        actor=None,
        hearing=sealed.hearing,
        kind="signing_failed",
        detail="The recording could not be signed (R14): no valid key",
    )
    page = render_to_string("custody/player.html", player_context(sealed, "x.player.webm"))
    assert "Жазбаның үзілуі / Разрыв записи" in page and "2 s lost" in page
    assert "Не удалось автоматически подписать запись ЭЦП" in page
    for code in ("capture_gap", "signing_failed", "(R14)"):
        assert code not in page
