"""R9, R10, R16: an incident's times for the minutes, the announcement, and the notices after the
hearing — court administrator, then the regional administration — in the inbox and by e-mail
through a real SMTP server on loopback."""

from datetime import timedelta

import pytest
from django.utils import timezone

from taspa.audit.models import AuditEvent
from taspa.courts.models import Hearing
from taspa.incidents.actions import notify_court_admins, open_incident
from taspa.incidents.models import Incident, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def hearing(world):
    return world.hearing(court="a", kind="civil")


@pytest.fixture
def secretary(world, api_as):
    return api_as(world.person("secretary"))


@pytest.fixture
def admin_api(world, api_as):
    return api_as(world.person("court_admin"))


def report(api, hearing, detail="The microphones in room 1 do not work."):
    answer = api.post(
        f"/hearings/{hearing.pk}/incidents", {"kind": "recording_impossible", "detail": detail}
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_r16_report_answers_with_the_text_to_read(hearing, secretary):
    answer = report(secretary, hearing)
    assert "Судебное заседание продолжается" in answer["announcement"] or (
        "Сот отырысы жалғасады" in answer["announcement"]
    )
    detail = secretary.get(f"/incidents/{answer['id']}").json()
    assert "Сот отырысы жалғасады" in detail["announcement_texts"]["kk"]
    assert "Судебное заседание продолжается" in detail["announcement_texts"]["ru"]


def test_r9_r16_judge_told_and_announcement_are_recorded_once(hearing, secretary, world, api_as):
    incident = report(secretary, hearing)["id"]
    told_at = (timezone.now() - timedelta(minutes=3)).replace(microsecond=0)
    told = secretary.post(f"/incidents/{incident}/judge-told", {"at": told_at.isoformat()})
    assert told.status_code == 200, told.content
    assert told.json()["judge_told_at"] == told_at.isoformat()
    announced = secretary.post(f"/incidents/{incident}/announced")
    assert announced.status_code == 200 and announced.json()["announced_at"]

    again = secretary.post(f"/incidents/{incident}/announced")
    assert again.status_code == 409 and again.json()["error"] == "already_announced"
    assert secretary.post(f"/incidents/{incident}/judge-told").json()["error"] == (
        "judge_already_told"
    )
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    other = report(secretary, hearing, "Second failure.")["id"]
    refused = secretary.post(f"/incidents/{other}/judge-told", {"at": future})
    assert refused.status_code == 422 and refused.json()["error"] == "time_in_future"

    judge = api_as(world.person("judge"))
    assert judge.post(f"/incidents/{other}/announced").status_code == 403  # R7: the secretary
    stranger = api_as(world.person("secretary", "b"))
    assert stranger.post(f"/incidents/{other}/announced").status_code == 404

    shown = secretary.get(f"/hearings/{hearing.pk}").json()["incidents"]
    first = next(i for i in shown if i["id"] == incident)
    assert first["judge_told_at"] == told_at.isoformat() and first["announced_at"]
    assert AuditEvent.objects.filter(action="incident.judge_told").count() == 1


def test_r10_an_incident_changes_nothing_about_the_hearing(hearing, secretary):
    report(secretary, hearing)
    assert Hearing.objects.get(pk=hearing.pk).state == "idle"
    detail = secretary.get(f"/hearings/{hearing.pk}").json()
    assert detail["state"] == "idle" and len(detail["incidents"]) == 1


def test_r9_nobody_is_notified_while_the_hearing_is_on(hearing, secretary, world):
    report(secretary, hearing)
    assert not Notification.objects.exists()
    assert Incident.objects.get().admin_notified_at is None


def test_r9_secretary_informs_the_court_administrator_after_the_hearing(
    hearing, secretary, admin_api, world
):
    incident = report(secretary, hearing)["id"]
    answer = secretary.post(f"/incidents/{incident}/notify")
    assert answer.status_code == 200 and answer.json()["admin_notified_at"]
    inbox = admin_api.get("/inbox").json()
    # The notice of R9, and the act R17 drew up now that the hearing is over, to sign (R18).
    assert inbox["unread"] == 2
    assert sorted(n["kind"] for n in inbox["items"]) == ["act_to_sign", "incident_to_admin"]
    notice = next(n for n in inbox["items"] if n["kind"] == "incident_to_admin")
    assert notice["incident"] == incident
    assert hearing.case.number in notice["subject"]
    assert "The microphones in room 1 do not work." in notice["body"]
    # Idempotent: a second notice is not sent.
    secretary.post(f"/incidents/{incident}/notify")
    assert Notification.objects.filter(kind="incident_to_admin").count() == 1
    # Other courts' administrators hear nothing.
    assert not Notification.objects.filter(recipient=world.person("court_admin", "b")).exists()


def test_r9_incident_opened_after_the_hearing_ended_goes_to_the_administrator_at_once(
    hearing, world
):
    Hearing.objects.filter(pk=hearing.pk).update(state=Hearing.State.SEALED)
    open_incident(actor=None, hearing=hearing, kind="signing_failed", detail="No EDS key.")
    notice = Notification.objects.get()
    assert notice.recipient == world.person("court_admin")
    assert Incident.objects.get().admin_notified_at is not None


def test_r9_administrator_forwards_to_the_regional_staff(hearing, secretary, admin_api, world):
    incident = report(secretary, hearing)["id"]
    secretary.post(f"/incidents/{incident}/notify")

    refused = secretary.post(f"/incidents/{incident}/forward", {"note": "x"})
    assert refused.status_code == 403 and refused.json()["error"] == "not_court_admin"

    answer = admin_api.post(f"/incidents/{incident}/forward", {"note": "Please send a technician."})
    assert answer.status_code == 200, answer.content
    # Regional staff of every court in the Almaty region; not Astana's, not the regional head.
    almaty = ["regional_staff-a", "regional_staff-b", "regional_staff-r"]
    assert answer.json()["forwarded_to"] == almaty
    notice = Notification.objects.get(recipient=world.person("regional_staff", "r"))
    assert notice.kind == "incident_forwarded" and "Please send a technician." in notice.body
    assert "court_admin of a" in notice.body
    assert not Notification.objects.filter(recipient=world.person("regional_staff", "z")).exists()
    assert Incident.objects.get(pk=incident).forwarded_by == world.person("court_admin")

    twice = admin_api.post(f"/incidents/{incident}/forward")
    assert twice.status_code == 409 and twice.json()["error"] == "already_forwarded"
    assert AuditEvent.objects.filter(action="incident.forward").count() == 1


def test_inbox_is_personal_and_notices_can_be_marked_read(hearing, secretary, admin_api, world):
    # A lost source needs no act (R17), so the administrator's notice is the only one.
    answer = secretary.post(
        f"/hearings/{hearing.pk}/incidents", {"kind": "source_lost", "detail": "Mic 2 is dead."}
    )
    incident = answer.json()["id"]
    secretary.post(f"/incidents/{incident}/notify")
    notice = admin_api.get("/inbox").json()["items"][0]
    assert secretary.get("/inbox").json() == {"items": [], "unread": 0}
    assert secretary.post(f"/inbox/{notice['id']}/read").status_code == 404
    read = admin_api.post(f"/inbox/{notice['id']}/read").json()
    assert read["read_at"]
    assert admin_api.get("/inbox?unread=true").json() == {"items": [], "unread": 0}


def test_r9_notice_arrives_by_email_at_the_loopback_smtp_server(hearing, world, smtp_server):
    admin = world.person("court_admin")
    admin.email, admin.language = "admin-a@court.example", "ru"
    admin.save()
    incident = open_incident(
        actor=None, hearing=hearing, kind="source_lost", detail="Микрофон судьи отключился."
    )
    notify_court_admins(hearing=hearing)

    assert len(smtp_server.messages) == 1
    recipients, message = smtp_server.messages[0]
    assert recipients == ["admin-a@court.example"]
    assert (
        message["Subject"].startswith("Сбой аудио-, видеозаписи")
        or "=?utf-8?" in message["Subject"]
    )
    from email.header import decode_header, make_header

    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == f"Сбой аудио-, видеозаписи: дело {hearing.case.number}, заседание " + (
        timezone.localtime(hearing.scheduled_at).strftime("%d.%m.%Y")
    )
    body = message.get_payload(decode=True).decode(message.get_content_charset())
    assert "Микрофон судьи отключился." in body and "Потерян источник звука" in body
    notice = Notification.objects.get(incident=incident)
    assert notice.emailed_at is not None and notice.email_error == ""


def test_r9_failed_email_leaves_the_inbox_notice_and_the_reason(
    hearing, world, settings, closed_port
):
    admin = world.person("court_admin")
    admin.email = "admin-a@court.example"
    admin.save()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 5
    open_incident(actor=None, hearing=hearing, kind="source_lost", detail="Lost.")
    notify_court_admins(hearing=hearing)
    notice = Notification.objects.get()
    assert notice.emailed_at is None and notice.email_error
    assert Incident.objects.get().admin_notified_at is not None


def test_notice_without_an_address_stays_in_the_inbox(hearing, world, mailoutbox):
    open_incident(actor=None, hearing=hearing, kind="source_lost", detail="Lost.")
    notify_court_admins(hearing=hearing)
    assert Notification.objects.get().email_error == "no e-mail address"
    assert mailoutbox == []
