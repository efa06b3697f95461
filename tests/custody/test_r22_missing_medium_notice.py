"""R22 with R21: when the archivist accepts a case and flags that the medium of a recording did
not come with it, somebody must go and find it. The court's administrator and the secretary who
had the medium get a notice in their inbox (and by e-mail), in their own language, naming the
case and the recording; the administrator sees it on the incidents page. A complete acceptance
tells nobody anything."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from taspa.courts.models import User
from taspa.custody.actions import write_medium
from taspa.incidents.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def medium(world, sealed, mount):
    return write_medium(actor=world.person("secretary"), recording=sealed, mount=mount)


def accept(world, api_as, case) -> dict:
    answer = api_as(world.person("archivist")).post(f"/cases/{case.pk}/archive-acceptance")
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_r22_a_flagged_acceptance_notifies_the_court_admin_and_the_secretary(
    world, medium, sealed, api_as
):
    admin, secretary = world.person("court_admin"), world.person("secretary")
    User.objects.filter(pk=admin.pk).update(language="ru", email="admin-a@court.kz")
    User.objects.filter(pk=secretary.pk).update(language="kk", email="secretary-a@court.kz")
    assert accept(world, api_as, medium.case)["flagged"] is True  # the secretary kept it

    notices = Notification.objects.filter(kind="media_missing")
    assert {n.recipient.username for n in notices} == {"court_admin-a", "secretary-a"}
    to_admin = notices.get(recipient=admin)
    assert to_admin.subject == f"Дело {medium.case.number} принято в архив без носителя записи"
    assert sealed.file_name in to_admin.body and "archivist of a" in to_admin.body
    to_secretary = notices.get(recipient=secretary)
    assert "архивке жазба жеткізгішінсіз қабылданды" in to_secretary.subject
    assert sealed.file_name in to_secretary.body
    assert not Notification.objects.filter(recipient=world.person("court_admin", "b")).exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["admin-a@court.kz", "secretary-a@court.kz"]

    # The administrator's inbox (API) and incidents page show it.
    inbox = api_as(admin).get("/inbox").json()
    assert any(item["kind"] == "media_missing" for item in inbox["items"])
    browser = Client()
    browser.force_login(admin)
    page = browser.get("/incidents/").content.decode()
    assert to_admin.subject in page and sealed.file_name in page

    # Handed over after all: the next acceptance is complete and notifies nobody.
    api_as(secretary).post(f"/media/{medium.pk}/handover", {"to": "archivist-a"})
    assert accept(world, api_as, medium.case)["flagged"] is False
    assert Notification.objects.filter(kind="media_missing").count() == 2


def test_r22_no_medium_ever_written_notifies_the_hearings_secretary(world, sealed, api_as):
    assert accept(world, api_as, sealed.hearing.case)["missing"][0]["why"] == "no_medium"
    recipients = set(
        Notification.objects.filter(kind="media_missing").values_list(
            "recipient__username", flat=True
        )
    )
    assert recipients == {"court_admin-a", "secretary-a"}
