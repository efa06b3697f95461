"""R33 in the staff's browser: the petitions page's form that formats the applicant's own medium
and writes the granted copy onto it, through the same action as the API
(``copies.record_medium_written``). The first submit names the device and its folder; the
action's refusal, shown next to the confirmation field in the user's language, tells the exact
text (device, size, label) to type. A real loop device stands in for the stick (root and
losetup, as in test_r33_applicant_medium)."""

from __future__ import annotations

import hashlib
import os

import pytest
from django.test import Client
from django.urls import reverse

from taspa.access.models import Copy
from taspa.audit.models import AuditEvent

from .test_r33_applicant_medium import _blkid, media_roots, medium_copy, staff

__all__ = ["media_roots", "staff"]  # fixtures, shared with the API's R33 tests
pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def _browser(world, language: str) -> Client:
    client = Client()
    client.force_login(world.person("secretary"))
    client.cookies["django_language"] = language
    return client


def test_r33_medium_form_refuses_a_wrong_confirmation_by_its_field_in_russian(
    world, sealed_hearing, staff, loop_device
):
    device, point = loop_device
    copy = medium_copy(staff, sealed_hearing("civil"))
    browser = _browser(world, "ru")
    listing = browser.get(reverse("access:petitions"))
    url = reverse("access:medium_write", args=[copy.petition_id])
    assert url in listing.content.decode()  # the petitions page leads to the form

    first = browser.post(url, {"device": device, "mount": str(point)})
    page = first.content.decode()
    expected = f"{device} 32.0 MiB OLDSTICK"
    assert first.status_code == 422
    error = first.context["form"].errors["confirmation"][0]
    assert "Для подтверждения введите точно" in error and expected in error
    assert 'id="id_confirmation-error"' in page and 'name="confirmation"' in page

    wrong = browser.post(
        url, {"device": device, "mount": str(point), "confirmation": f"{device} 32.0 MiB"}
    )
    assert wrong.status_code == 422
    assert expected in wrong.context["form"].errors["confirmation"][0]
    assert (point / "old.doc").exists()  # nothing was formatted
    assert _blkid(device)["LABEL"] == "OLDSTICK"
    copy.refresh_from_db()
    assert copy.medium_formatted_at is None
    assert not AuditEvent.objects.filter(action="access.medium_format").exists()


def test_r33_medium_form_writes_the_copy_onto_the_medium(world, sealed_hearing, staff, loop_device):
    device, point = loop_device
    copy = medium_copy(staff, sealed_hearing("civil"))
    browser = _browser(world, "kk")
    url = reverse("access:medium_write", args=[copy.petition_id])
    outside = browser.post(url, {"device": device, "mount": "/tmp"})
    assert outside.status_code == 422 and "mount" in outside.context["form"].errors
    expected = f"{device} 32.0 MiB OLDSTICK"
    answer = browser.post(url, {"device": device, "mount": str(point), "confirmation": expected})
    assert answer.status_code == 302 and answer["Location"] == reverse("access:petitions")
    assert _blkid(device)["LABEL"] == "TASPA"  # really formatted
    assert sorted(p for p in os.listdir(point) if p != "lost+found") == [copy.file_name]
    on_medium = (point / copy.file_name).read_bytes()
    assert hashlib.sha256(on_medium).hexdigest() == copy.digest
    copy = Copy.objects.get(pk=copy.pk)
    assert copy.medium_record["written"]["sha256"] == copy.digest
    listing = browser.get(reverse("access:petitions")).content.decode()
    assert url not in listing  # no longer waiting to be written


def test_r33_medium_form_is_court_staffs(world, sealed_hearing, staff):
    copy = medium_copy(staff, sealed_hearing("civil"))
    url = reverse("access:medium_write", args=[copy.petition_id])
    assert _browser(world, "ru").get(url).status_code == 200
    other = Client()
    other.force_login(world.person("secretary", court="b"))
    assert other.get(url).status_code == 404
    assert other.post(url, {"device": "/dev/loop0", "mount": "/tmp"}).status_code == 404


def test_r33_medium_form_without_the_applicants_consent_says_so_in_russian(
    world, sealed_hearing, staff
):
    copy = medium_copy(staff, sealed_hearing("civil"), consent=False)
    url = reverse("access:medium_write", args=[copy.petition_id])
    answer = _browser(world, "ru").post(url, {"device": "/dev/loop0", "mount": "/tmp"})
    assert answer.status_code == 422
    assert "Заявитель не дал согласия на форматирование носителя." in answer.content.decode()
    assert "R33" not in answer.content.decode()
    copy.refresh_from_db()
    assert copy.medium_formatted_at is None
