"""R9, R13, R17: a hearing that could not be recorded gets the minutes' text for the reason — in
Kazakh and in Russian, two separate documents — and, once it is over, the act R17 requires,
drawn up by Taspa itself and waiting in the inbox of each signer R18 names."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from taspa.courts.models import Hearing
from taspa.incidents.detection import check_overdue
from taspa.incidents.models import Act, Incident, Notification

pytestmark = pytest.mark.django_db
REASON = "Залдағы микрофондар күшейткіші істен шықты"


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


@pytest.fixture
def reported(world, api_as):
    hearing = world.hearing(court="a", kind="criminal")
    api = api_as(world.person("secretary"))
    answer = api.post(
        f"/hearings/{hearing.pk}/incidents", {"kind": "recording_impossible", "detail": REASON}
    )
    assert answer.status_code == 201, answer.content
    incident = answer.json()["id"]
    assert api.post(f"/incidents/{incident}/judge-told").status_code == 200
    assert api.post(f"/incidents/{incident}/announced").status_code == 200
    return hearing, api, incident


def test_r9_r13_minutes_state_the_reason_in_kazakh_and_in_russian(reported, api_as, world):
    hearing, api, incident = reported
    texts = api.get(f"/incidents/{incident}").json()["minutes_text"]
    assert texts["kk"][0] == "Сот отырысының аудио-, бейнежазбасы жүргізілмеді."
    assert texts["ru"][0] == "Аудио-, видеозапись судебного заседания не велась."

    kk = api.get(f"/hearings/{hearing.pk}/minutes-reason?language=kk")
    ru = api.get(f"/hearings/{hearing.pk}/minutes-reason?language=ru")
    assert kk.status_code == ru.status_code == 200 and kk["Content-Type"] == "application/pdf"
    kk_text, ru_text = pdf_text(kk.content), pdf_text(ru.content)
    for text in (kk_text, ru_text):
        assert REASON in text and hearing.case.number in text
        assert "recording_impossible" not in text  # never a raw code
    assert "Себебі:" in kk_text and "судьяға" in kk_text and "жарияланды" in kk_text
    assert "Причина:" in ru_text and "доложил об этом судье" in ru_text
    assert "Причина" not in kk_text and "Себебі" not in ru_text  # two documents, not one mixed
    # Before the hearing is over the act is still to come; the minutes say so.
    assert "Акт об этом составляется после окончания" in ru_text
    # A party never gets court papers; a hearing with nothing to state answers 409.
    party = api_as(world.person("participant"))
    assert party.get(f"/hearings/{hearing.pk}/minutes-reason").status_code == 404
    clean = world.hearing(court="a", kind="criminal")
    answer = api.get(f"/hearings/{clean.pk}/minutes-reason?language=ru")
    assert answer.status_code == 409 and answer.json()["error"] == "no_reason_to_state"
    assert api.get(f"/hearings/{hearing.pk}/minutes-reason?language=en").status_code == 422


def test_r17_act_is_drawn_up_when_the_secretary_informs_the_administrator(reported, world):
    hearing, api, incident = reported
    assert not Act.objects.filter(hearing=hearing).exists()  # hearing still on
    assert api.post(f"/incidents/{incident}/notify").status_code == 200

    act = Act.objects.get(hearing=hearing)
    assert act.status == "pending" and act.created_by is None  # Taspa drew it up
    assert [i.pk for i in act.incidents.all()] == [incident]
    assert act.required_roles == ["secretary", "court_admin"]
    ru = pdf_text(act.pdf("ru"))
    assert REASON in ru and "о невозможности ведения аудио-, видеозаписи" in ru
    # R18: each required signer finds the act in their inbox.
    for person in (world.person("secretary"), world.person("court_admin")):
        notice = Notification.objects.get(recipient=person, kind="act_to_sign")
        assert f"{act.number}/{act.year}" in notice.subject
    # The minutes now name the act; a second notice or the periodic job adds no second act.
    texts = api.get(f"/incidents/{incident}").json()["minutes_text"]
    assert f"№ {act.number}/{act.year}" in texts["ru"][-1]
    api.post(f"/incidents/{incident}/notify")
    check_overdue()
    assert Act.objects.filter(hearing=hearing).count() == 1


def test_r17_periodic_job_draws_up_the_act_for_a_hearing_over_with_recording_impossible(
    world, settings
):
    settings.TASPA_UNRECORDED_AFTER_H = 12
    judge_decides = world.hearing(court="a", kind="civil", all_participants_absent=True)
    over = timezone.now() - timedelta(hours=13)
    Hearing.objects.filter(pk=judge_decides.pk).update(scheduled_at=over)
    incident = Incident.objects.create(
        hearing=judge_decides, kind="recording_impossible", detail="Power cut.", at=over
    )
    assert judge_decides.recording_required != "required"  # R17's never-started query skips it

    assert check_overdue().endswith("1 acts drawn up")
    act = Act.objects.get(hearing=judge_decides)
    assert list(act.incidents.all()) == [incident]
    assert check_overdue().endswith("0 acts drawn up")
