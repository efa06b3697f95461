"""The regional judicial administration's pages (R9, R18, R23): the notices the court
administrator forwarded to its staff, read and marked read; the appeal acts that wait for the
head's and a staff member's signatures, signed with their registered keys through the incidents
page's signing; and the replication from the region's courts — at a court's server and at the
regional server — with every reason in the reader's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from replication.sealed_factory import Pki, make_pki, register_key, sealed_recording
from taspa.incidents import acts
from taspa.incidents.actions import forward_incident, notify_court_admins, open_incident
from taspa.incidents.models import Act, Notification
from taspa.replication.court import plan
from taspa.replication.models import Alarm, Outgoing, Peer, Replica


def signed_in(user, language: str = "ru") -> Client:
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def forwarded(world) -> Notification:
    """R9: an incident of court A, reported to its administrator and forwarded by them."""
    hearing = world.hearing("a")
    incident = open_incident(
        actor=None, hearing=hearing, kind="source_lost", detail="Екінші микрофон сөнді"
    )
    notify_court_admins(hearing=hearing)
    staff = world.person("regional_staff", "a")
    staff.language = "ru"
    staff.save(update_fields=["language"])
    forward_incident(actor=world.person("court_admin", "a"), incident=incident, note="срочно")
    return Notification.objects.get(recipient=staff)


@pytest.fixture
def appeal_act(world) -> Act:
    """R17, R18: an act on an appeal hearing of the regional court R (region Almaty)."""
    hearing = world.hearing("r", kind="criminal", instance="appeal", new_evidence_examined=True)
    incident = open_incident(
        actor=None, hearing=hearing, kind="recording_impossible", detail="Компьютер сломался"
    )
    return acts.draw_up_act(actor=None, hearing=hearing, incidents=[incident])


def test_r9_regional_staff_read_the_forwarded_notice_and_mark_it_read(world, forwarded):
    client = signed_in(world.person("regional_staff", "a"))
    page = client.get(reverse("web:regional"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Направил администратор суда" in html and "срочно" in html
    assert "source_lost" not in html and "Потерян источник звука (видео)" in html
    assert page.context["unread"] == 1
    answer = client.post(reverse("web:notice_read", args=[forwarded.pk]), follow=True)
    forwarded.refresh_from_db()
    assert forwarded.read_at is not None
    assert answer.context["unread"] == 0
    assert "Уведомление отмечено как прочитанное." in answer.content.decode()


def test_r9_someone_elses_notice_cannot_be_marked_read(world, forwarded):
    client = signed_in(world.person("regional_head", "a"))
    answer = client.post(reverse("web:notice_read", args=[forwarded.pk]))
    assert answer.status_code == 404
    forwarded.refresh_from_db()
    assert forwarded.read_at is None


def _row(client: Client, act: Act, section: str) -> dict | None:
    rows = client.get(reverse("web:regional")).context[section]
    return next((r for r in rows if r["act"].pk == act.pk), None)


def test_r18_appeal_act_signed_by_the_secretary_the_staff_member_and_the_head(
    world, appeal_act, register_signer
):
    staff, head = world.person("regional_staff", "a"), world.person("regional_head", "b")
    secretary = world.person("secretary", "r")
    for person in (staff, head, secretary):
        register_signer(person)
    staff_page = signed_in(staff)
    row = _row(staff_page, appeal_act, "to_sign")
    assert row is not None and len(row["missing"]) == 3
    html = staff_page.get(reverse("web:regional")).content.decode()
    assert "Работник подразделения департамента Судебной администрации" in html
    answer = staff_page.post(
        reverse("web:act_sign", args=[appeal_act.pk]), {"next": reverse("web:regional")}
    )
    assert answer.status_code == 302 and answer["Location"] == reverse("web:regional")
    assert _row(staff_page, appeal_act, "to_sign") is None, "signed: nothing left for me"
    assert len(_row(staff_page, appeal_act, "waiting")["missing"]) == 2
    head_page = signed_in(head)  # the head of the region, assigned at another of its courts
    assert _row(head_page, appeal_act, "to_sign") is not None
    head_page.post(reverse("web:act_sign", args=[appeal_act.pk]), {"next": "/regional/"})
    signed_in(secretary).post(reverse("web:act_sign", args=[appeal_act.pk]))
    appeal_act.refresh_from_db()
    assert appeal_act.status == "complete" and appeal_act.signatures.count() == 3
    done = _row(staff_page, appeal_act, "complete")
    assert done is not None and not done["missing"]
    assert "подписан всеми" in staff_page.get(reverse("web:regional")).content.decode()


def test_r18_signing_elsewhere_returns_to_the_incidents_page(world, appeal_act, register_signer):
    """A ``next`` that leaves the site is ignored: back to the incidents page."""
    staff = world.person("regional_staff", "a")
    register_signer(staff)
    answer = signed_in(staff).post(
        reverse("web:act_sign", args=[appeal_act.pk]), {"next": "https://example.org/"}
    )
    assert answer["Location"] == reverse("web:incidents")
    assert appeal_act.signatures.count() == 1


def test_r18_without_a_registered_key_the_staff_member_is_told_and_nothing_is_signed(
    world, appeal_act
):
    client = signed_in(world.person("regional_staff", "a"))
    answer = client.post(
        reverse("web:act_sign", args=[appeal_act.pk]), {"next": "/regional/"}, follow=True
    )
    assert answer.status_code == 200 and answer.request["PATH_INFO"] == "/regional/"
    assert [m for m in answer.context["messages"] if m.level_tag == "error"]
    assert appeal_act.signatures.count() == 0


def test_r18_first_instance_acts_and_other_regions_are_not_on_the_page(world, appeal_act):
    first = world.hearing("a")
    incident = open_incident(actor=None, hearing=first, kind="recording_impossible", detail="x")
    first_act = acts.draw_up_act(actor=None, hearing=first, incidents=[incident])
    mine = signed_in(world.person("regional_staff", "a")).get(reverse("web:regional"))
    shown = {r["act"].pk for key in ("to_sign", "waiting", "complete") for r in mine.context[key]}
    assert shown == {appeal_act.pk} and first_act.pk not in shown
    other = signed_in(world.person("regional_staff", "z")).get(reverse("web:regional"))
    assert not any(other.context[key] for key in ("to_sign", "waiting", "complete"))


@pytest.mark.parametrize("who", [("court_admin", "a"), ("secretary", "r"), ("judge", "a")])
def test_the_regional_pages_are_the_regional_administrations(world, who):
    client = signed_in(world.person(*who))
    assert client.get(reverse("web:regional")).status_code == 404
    assert client.get(reverse("web:regional_replication")).status_code == 404


# --- R23 -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("regional-pki"))


@pytest.fixture
def court_server(settings, tmp_path, pki, world):
    settings.TASPA_HOME = tmp_path / "court"
    settings.TASPA_STORAGE = f"file://{tmp_path / 'court' / 'blobs'}"
    settings.TASPA_TRUST_ANCHORS = str(pki.anchors)
    settings.TASPA_ROLE = "court"
    settings.TASPA_COURT = "court-a"
    settings.TASPA_CENTRAL_URL = "https://centre.example/"
    (tmp_path / "court").mkdir()
    register_key(world, pki, "a")
    return tmp_path / "court"


def test_r23_court_server_shows_pending_and_failed_with_the_reason_in_words(world, court_server):
    waiting = sealed_recording(world, court_server / "spool", size=4096, court="a")
    failed = sealed_recording(world, court_server / "spool", size=4096, court="a")
    plan()  # the daily run's planner: every sealed recording has its row
    Outgoing.objects.filter(recording=failed).update(
        state="failed", attempts=3, last_error="0 transfer_broken: PUT /x: [Errno 104] reset"
    )
    page = signed_in(world.person("regional_staff", "b")).get(reverse("web:regional_replication"))
    assert page.status_code == 200
    items = {i["recording"]: i for i in page.context["items"]}
    assert set(items) == {waiting.pk, failed.pk}
    assert items[waiting.pk]["state"] == "ожидает следующего запуска"
    assert items[failed.pk]["reason"].startswith("Связь с региональным сервером прервалась")
    html = page.content.decode()
    assert "Errno" not in html and "transfer_broken" not in html
    assert page.context["pending"] == 1 and page.context["failed"] == 1
    other = signed_in(world.person("regional_staff", "z")).get(reverse("web:regional_replication"))
    assert other.context["items"] == [], "another region's recordings are not listed"


def test_r23_regional_server_lists_every_court_of_the_region_with_alarms_in_words(
    world, settings, tmp_path
):
    settings.TASPA_ROLE = "central"
    settings.TASPA_HOME = tmp_path
    from taspa.replication.central import enrol_court

    enrol_court(actor=world.admin, court=world.courts["a"])
    enrol_court(actor=world.admin, court=world.courts["z"])
    long_ago = timezone.now() - timedelta(days=3)
    Peer.objects.filter(court=world.courts["a"]).update(
        last_seen_at=long_ago, last_acknowledged_at=long_ago
    )
    Alarm.objects.create(
        court=world.courts["a"], kind="silent", detail="no replication since …", raised_at=long_ago
    )
    Replica.objects.create(
        court=world.courts["a"],
        source_id=7,
        file_name="court-a_a-civil-1_h7.ts",
        sha256="0" * 64,
        bytes=10,
        state="refused",
        error="media_hash: sha256 differs; declared_signature: sha256 abc",
    )
    page = signed_in(world.person("regional_head", "r")).get(reverse("web:regional_replication"))
    assert page.status_code == 200
    rows = {row["court"].code: row for row in page.context["rows"]}
    assert set(rows) == {"court-a", "court-b", "court-r"}, "the region's courts, only them"
    assert rows["court-a"]["silent"] and rows["court-a"]["failed"] == 1
    assert not rows["court-b"]["connected"]
    html = page.content.decode()
    assert "Репликации нет более 26 часов" in html
    assert "Не подключён к региональному серверу." in html
    reason = page.context["refused"][0]["reason"]
    assert "court-a_a-civil-1_h7.ts" in reason and "Хэш медиафайла" in reason, reason
    assert "media_hash" not in html and "differs" not in html
