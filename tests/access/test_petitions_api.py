"""Petitions through the API (CONTRACT.md): registration from paper and online, refusals the
regulation demands (named after the rule), reviews, receipts, the dashboard and reminders."""

import io
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from taspa.access.actions import send_reminders
from taspa.access.calendar import calendar_for, local_today
from taspa.access.models import Petition
from taspa.audit.models import AuditEvent
from taspa.recorder.models import Recording

pytestmark = pytest.mark.django_db


def body(hearing, kind="copy", **extra):
    return {
        "hearing": hearing.pk,
        "kind": kind,
        "applicant": {
            "name": "Әсел Үмбетова",
            "role": "plaintiff",
            "address": "Алматы, Абай даңғылы 1",
            "phone": "+7 701 000 00 00",
        },
        "delivery": "online",
        "personal_data_warning_acknowledged": True,
    } | extra


@pytest.fixture
def staff(world, api_as):
    return api_as(world.person("secretary"))


def test_r31_civil_copy_is_audio_only(world, staff):
    hearing = world.hearing(kind="civil")
    answer = staff.post("/petitions", body(hearing, received_at="2025-03-19"))
    assert answer.status_code == 201, answer.json()
    data = answer.json()
    assert data["media"] == "audio" and data["form"] == "appendix2"
    assert data["due_date"] == "2025-03-31"  # R34: 5 working days across Nauryz
    assert data["channel"] == "paper"


def test_r31_criminal_copy_is_audio_and_video(world, staff):
    hearing = world.hearing(kind="criminal")
    data = staff.post("/petitions", body(hearing, received_at="2025-03-20")).json()
    assert data["media"] == "audio+video" and data["form"] == "appendix1"
    assert data["due_date"] == "2025-03-26"  # R34: 5 calendar days; 25th (Nauryz) → 26th


def test_r34_received_at_defaults_to_today_in_almaty(world, staff):
    data = staff.post("/petitions", body(world.hearing(kind="admin_offence"))).json()
    assert data["received_at"] == local_today().isoformat()
    # R34: 3 calendar days; a last day that is a day off moves to the next working day
    due, calendar = local_today() + timedelta(days=3), calendar_for(local_today(), local_today())
    while not calendar.is_working_day(due):
        due += timedelta(days=1)
    assert data["due_date"] == due.isoformat()


def test_r32_closed_hearing_refuses_copy(world, staff):
    hearing = world.hearing(kind="civil", closed=True)
    answer = staff.post("/petitions", body(hearing))
    assert answer.status_code == 422
    assert answer.json()["error"] == "closed_hearing_no_copy"
    assert answer.json()["offer"] == {"kind": "review"}
    assert AuditEvent.objects.filter(action="access.petition_refused").exists()
    review = staff.post("/petitions", body(hearing, kind="review"))
    assert review.status_code == 201 and review.json()["media"] is None


def test_r31_copy_without_personal_data_acknowledgement_is_refused(world, staff):
    hearing = world.hearing(kind="civil")
    answer = staff.post("/petitions", body(hearing, personal_data_warning_acknowledged=False))
    assert answer.status_code == 422
    assert answer.json()["error"] == "personal_data_warning_not_acknowledged"


def test_r28_applicant_outside_the_case_is_refused(world, staff):
    hearing = world.hearing(kind="criminal")
    petition = body(hearing)
    petition["applicant"]["role"] = "other"
    answer = staff.post("/petitions", petition)
    assert answer.status_code == 422 and answer.json()["error"] == "applicant_not_entitled"


def test_r28_disciplinary_case_petition_is_refused(world, staff):
    answer = staff.post("/petitions", body(world.hearing(kind="disciplinary"), kind="review"))
    assert answer.status_code == 422 and answer.json()["error"] == "disciplinary_case_no_access"


def test_r28_petition_for_a_missing_hearing_is_404(staff):
    answer = staff.post("/petitions", {**body(type("H", (), {"pk": 999999})())})
    assert answer.status_code == 404 and answer.json()["error"] == "hearing_not_found"


def test_r28_unknown_kind_or_role_is_invalid_input(world, staff):
    hearing = world.hearing()
    assert staff.post("/petitions", body(hearing, kind="stream")).json()["error"] == (
        "unknown_petition_kind"
    )
    petition = body(hearing)
    petition["applicant"]["role"] = "journalist"
    assert staff.post("/petitions", petition).json()["error"] == "unknown_applicant_role"


def test_r28_online_petition_needs_the_courts_link_to_the_case(world, api_as, staff):
    hearing = world.hearing(kind="civil")
    party = world.person("representative")
    online = api_as(party)
    refused = online.post("/petitions", body(hearing, received_at="2020-01-01"))
    assert refused.status_code == 403 and refused.json()["error"] == "not_a_party_of_case"
    link = staff.post(
        f"/cases/{hearing.case_id}/parties", {"user": party.username, "role": "representative"}
    )
    assert link.status_code == 201
    not_recorded = online.post("/petitions", body(hearing))
    assert not_recorded.status_code == 422
    assert not_recorded.json()["error"] == "hearing_not_recorded"
    assert not Petition.objects.filter(hearing=hearing).exists()
    Recording.objects.create(hearing=hearing, spool_dir="", started_at=timezone.now())
    data = online.post("/petitions", body(hearing, received_at="2020-01-01")).json()
    assert data["channel"] == "online" and data["applicant"]["role"] == "representative"
    assert data["received_at"] == local_today().isoformat()  # online: the day it was sent
    assert online.get(f"/petitions/{data['id']}").status_code == 200
    other = api_as(world.person("participant"))
    assert other.get(f"/petitions/{data['id']}").status_code == 404


def test_r30_custody_representative_reviews(world, api_as, staff):
    hearing = world.hearing(kind="criminal", closed=True)
    petition = body(hearing, kind="review", delivery="medium")
    petition["applicant"]["role"] = "custody_representative"
    assert staff.post("/petitions", petition).status_code == 201


def test_only_court_staff_of_the_court_link_parties(world, api_as):
    hearing = world.hearing(kind="civil")
    outsider = api_as(world.person("secretary", "z"))
    answer = outsider.post(
        f"/cases/{hearing.case_id}/parties", {"user": "participant-a", "role": "participant"}
    )
    assert answer.status_code == 403


def test_r28_r29_r35_review_booked_checked_and_signed(world, staff):
    hearing = world.hearing(kind="civil", closed=True)
    petition = staff.post("/petitions", body(hearing, kind="review")).json()
    url = f"/petitions/{petition['id']}"
    early = staff.post(f"{url}/receipt", {"signed_by": "Әсел Үмбетова"})
    assert early.status_code == 409 and early.json()["error"] == "petition_not_fulfilled"
    slot = staff.post(f"{url}/fulfil").json()["review_slot"]
    assert slot["starts_at"] and "review station" in slot["place"]
    assert staff.post(f"{url}/fulfil").json()["review_slot"] == slot  # the same booking
    held = staff.post(f"{url}/review-held", {}).json()["review_slot"]
    assert held["held_at"] and held["medium"] is None  # no case-file medium yet: the server copy
    checked = staff.post(f"{url}/medium-check", {"intact": True}).json()
    assert checked["review_slot"]["medium_intact"] is True  # R29
    receipt = staff.post(f"{url}/receipt", {"signed_by": "Әсел Үмбетова"})
    assert receipt.status_code == 201
    assert receipt.json()["state"] == "closed"
    assert receipt.json()["receipt"]["channel"] == "paper"
    assert staff.post(f"{url}/receipt", {}).status_code == 409


def test_other_court_staff_cannot_see_or_fulfil(world, api_as, staff):
    petition = staff.post("/petitions", body(world.hearing(kind="civil"), kind="review")).json()
    outsider = api_as(world.person("secretary", "b"))
    assert outsider.post(f"/petitions/{petition['id']}/fulfil").status_code == 404
    assert outsider.post("/petitions", body(world.hearing(kind="civil"))).status_code == 403


def test_r34_dashboard_lists_overdue_and_due(world, staff, client):
    hearing = world.hearing(kind="criminal")
    old = staff.post("/petitions", body(hearing, received_at="2024-01-10")).json()
    new = staff.post("/petitions", body(hearing)).json()
    overdue = staff.get("/petitions?due=overdue").json()["items"]
    assert [p["id"] for p in overdue] == [old["id"]] and overdue[0]["urgency"] == "overdue"
    assert new["id"] in [p["id"] for p in staff.get("/petitions?due=week").json()["items"]]
    client.force_login(world.person("secretary"))
    page = client.get("/access/petitions/?due=overdue")
    assert page.status_code == 200 and str(old["id"]) in page.content.decode()


def test_r34_reminder_the_day_before_is_sent_once(world, staff):
    world.person("secretary").email = "secretary@court.kz"
    world.person("secretary").save()
    hearing = world.hearing(kind="admin_offence")
    received = local_today() - timedelta(days=2)  # due in 3 days → tomorrow
    petition = staff.post("/petitions", body(hearing, received_at=received.isoformat())).json()
    assert send_reminders() == 1
    assert len(mail.outbox) == 1 and f"#{petition['id']}" in mail.outbox[0].subject
    assert send_reminders() == 0 and len(mail.outbox) == 1
    assert Petition.objects.get(pk=petition["id"]).reminded_on == local_today()


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def test_r31_appendix_forms_in_kazakh_and_russian(world, staff):
    civil = staff.post("/petitions", body(world.hearing(kind="civil"), delivery="medium")).json()
    ru = staff.get(f"/petitions/{civil['id']}/form?language=ru")
    kk = staff.get(f"/petitions/{civil['id']}/form?language=kk")
    assert ru.status_code == 200 and ru.content.startswith(b"%PDF")
    ru_text, kk_text = pdf_text(ru.content), pdf_text(kk.content)
    assert "Заявление о выдаче копии аудиозаписи судебного заседания" in ru_text
    assert "Әсел Үмбетова" in ru_text and "статья 147 УК РК" in ru_text
    assert "аудиожазбасының көшірмесін беру туралы өтініш" in kk_text
    assert "Заявление" not in kk_text  # two separate documents, never one mixed form
    criminal = staff.post("/petitions", body(world.hearing(kind="criminal"))).json()
    text = pdf_text(staff.get(f"/petitions/{criminal['id']}/form?language=ru").content)
    assert "Заявление о выдаче копии аудио-, видеозаписи судебного заседания" in text
    assert "отформатирован" not in text  # online delivery: no medium attached


def test_r35_receipt_mark_is_printed_on_the_form(world, staff):
    hearing = world.hearing(kind="civil")
    petition = staff.post("/petitions", body(hearing, kind="review")).json()
    review_form = staff.get(f"/petitions/{petition['id']}/form?language=ru")
    assert review_form.status_code == 409  # Appendix 1/2 are the forms for copies
    copy = Petition.objects.create(
        hearing=hearing, kind="copy", channel="paper", applicant_name="Бекзат Сейіт",
        applicant_role="participant", delivery="medium", received_at=date(2026, 3, 2),
        media="audio", form="appendix2", rule="R30", state="fulfilled",
        personal_data_warning_acknowledged=True, registered_by=world.person("secretary"),
    )  # fmt: skip
    staff.post(f"/petitions/{copy.pk}/receipt", {"signed_by": "Бекзат Сейіт"})
    text = pdf_text(staff.get(f"/petitions/{copy.pk}/form?language=ru").content)
    assert "Отметка об ознакомлении" in text and "Бекзат Сейіт —" in text


def test_r29_r35_review_steps_only_in_order(world, staff, api_as):
    """R29: the medium is checked «по окончании ознакомления»; R35: the mark is signed by the
    person who «ознакомившееся» — so neither comes before the review took place."""
    hearing = world.hearing(kind="civil", closed=True)
    petition = staff.post("/petitions", body(hearing, kind="review")).json()
    url = f"/petitions/{petition['id']}"

    def refused(path: str, payload: dict, code: str) -> None:
        answer = staff.post(f"{url}/{path}", payload)
        assert answer.status_code == 409, answer.content
        assert answer.json()["error"] == code

    refused("review-held", {}, "review_not_booked")
    refused("medium-check", {"intact": True}, "review_not_booked")
    staff.post(f"{url}/fulfil")
    refused("medium-check", {"intact": True}, "review_not_held")  # booked is not held
    refused("receipt", {"signed_by": "Әсел Үмбетова"}, "review_not_held")
    staff.post(f"{url}/review-held", {})
    refused("review-held", {}, "review_already_held")
    refused("receipt", {"signed_by": "Әсел Үмбетова"}, "medium_not_checked")
    assert staff.post(f"{url}/medium-check", {"intact": True}).status_code == 200
    refused("medium-check", {"intact": False}, "medium_already_checked")
    assert staff.post(f"{url}/receipt", {"signed_by": "Әсел Үмбетова"}).status_code == 201
    actions = list(
        AuditEvent.objects.filter(action__startswith="access.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions[-4:] == [
        "access.review_book",
        "access.review_held",
        "access.medium_check",
        "access.receipt",
    ]


def test_r29_review_medium_must_be_of_the_case(world, staff):
    petition = staff.post("/petitions", body(world.hearing(kind="civil"), kind="review")).json()
    url = f"/petitions/{petition['id']}"
    staff.post(f"{url}/fulfil")
    missing = staff.post(f"{url}/review-held", {"medium": 999999})
    assert missing.status_code == 404 and missing.json()["error"] == "medium_not_found"
    assert staff.post(f"{url}/medium-check", {"intact": True}).status_code == 409


def test_r34_staff_answer_a_petition_that_cannot_be_met_with_its_reason(world, staff, api_as):
    """A paper petition about a hearing that was never recorded (R17) is answered with a refusal
    and its reason within R34's term: it leaves the list of those due, and says why."""
    hearing = world.hearing(kind="criminal")
    petition = staff.post("/petitions", body(hearing, received_at="2024-01-10")).json()
    url = f"/petitions/{petition['id']}"
    assert staff.post(f"{url}/refuse", {"reason": "   "}).json()["error"] == "reason_missing"
    assert staff.post(f"{url}/refuse", {"reason": "x" * 2001}).status_code == 422
    assert staff.post(f"{url}/refuse", {"reason": "a\u0000b"}).status_code == 422
    outsider = api_as(world.person("secretary", "b"))
    assert outsider.post(f"{url}/refuse", {"reason": "no"}).status_code == 404
    reason = "Заседание не записывалось: оборудование неисправно, акт № 3."
    answer = staff.post(f"{url}/refuse", {"reason": reason})
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "refused" and answer.json()["refusal"]["reason"] == reason
    assert petition["id"] not in [
        p["id"] for p in staff.get("/petitions?due=overdue").json()["items"]
    ]
    again = staff.post(f"{url}/refuse", {"reason": reason})
    assert again.status_code == 409 and again.json()["error"] == "petition_not_open"
    assert staff.post(f"{url}/fulfil").status_code in (409, 422)
    assert AuditEvent.objects.filter(action="access.petition_answered_refused").count() == 1


def test_r34_a_review_has_no_due_date_since_no_rule_sets_one(world, staff):
    """п.34 sets terms for copies only; a review (п.28) gets none (ADR 0011)."""
    data = staff.post("/petitions", body(world.hearing(kind="criminal"), kind="review")).json()
    assert data["due_date"] is None and data["urgency"] is None
