"""R2: every playback and download of a recording by court staff is on record with its purpose
(п.2: proceedings, establishing facts, a disciplinary case), as a participant's access is."""

import pytest
from django.test import Client

from taspa.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def reads(recording):
    return list(
        AuditEvent.objects.filter(action="recording.read", object_id=str(recording.pk))
        .order_by("seq")
        .values_list("payload", flat=True)
    )


def test_r2_a_staff_download_is_audited_with_its_purpose(world, sealed, api_as):
    judge = api_as(world.person("judge"))
    url = f"/recordings/{sealed.pk}/media"
    assert judge.get(f"{url}?purpose=disciplinary").status_code == 200
    assert judge.get(url).status_code == 200  # no purpose stated: the proceedings, marked so
    assert reads(sealed) == [
        {"channel": "api", "read": "media", "purpose": "disciplinary", "purpose_stated": True},
        {"channel": "api", "read": "media", "purpose": "proceedings", "purpose_stated": False},
    ]
    # A player seeking inside one playback is not a second read; a purpose п.2 does not name is
    # refused before a byte is served.
    seek = judge.client.get(f"/api/v1{url}", headers=judge.headers | {"Range": "bytes=1000-"})
    assert seek.status_code == 206 and len(reads(sealed)) == 2
    wrong = judge.get(f"{url}?purpose=curiosity")
    assert wrong.status_code == 422 and wrong.json()["error"] == "unknown_purpose"
    assert len(reads(sealed)) == 2


def test_r2_a_staff_playback_page_is_audited(world, sealed):
    client = Client()
    client.force_login(world.person("secretary"))
    assert client.get(f"/recordings/{sealed.pk}?purpose=facts").status_code == 200
    assert reads(sealed) == [
        {"channel": "web", "read": "playback", "purpose": "facts", "purpose_stated": True}
    ]
    assert (
        reads(sealed)[0]
        and AuditEvent.objects.filter(
            action="recording.read", actor_id=world.person("secretary").pk
        ).exists()
    )


@pytest.mark.parametrize(
    ("path", "read"),
    [
        ("signature", "signature"),
        ("manifest", "manifest"),
        ("manifest/signature", "manifest_signature"),
    ],
)
def test_r2_each_sealed_file_download_is_audited_with_its_purpose(
    world, sealed, api_as, path, read
):
    judge = world.person("judge")
    client = api_as(judge)
    url = f"/recordings/{sealed.pk}/{path}"
    wrong = client.get(f"{url}?purpose=curiosity")
    assert wrong.status_code == 422 and wrong.json()["error"] == "unknown_purpose"
    assert "attachment" not in wrong.get("Content-Disposition", "") and reads(sealed) == []
    answer = client.get(f"{url}?purpose=facts")
    assert answer.status_code == 200 and answer.content
    assert client.get(url).status_code == 200
    assert reads(sealed) == [
        {"channel": "api", "read": read, "purpose": "facts", "purpose_stated": True},
        {"channel": "api", "read": read, "purpose": "proceedings", "purpose_stated": False},
    ]
    assert set(
        AuditEvent.objects.filter(action="recording.read", object_id=str(sealed.pk)).values_list(
            "actor_id", flat=True
        )
    ) == {judge.pk}


def test_r2_evidence_record_refuses_an_unknown_purpose(world, sealed, api_as):
    # Served and audited once built: tests/evidence/test_evidence.py (the record needs a TSA).
    wrong = api_as(world.person("judge")).get(f"/recordings/{sealed.pk}/evidence?purpose=x")
    assert wrong.status_code == 422 and wrong.json()["error"] == "unknown_purpose"
    assert reads(sealed) == []


def test_r2_the_page_lets_staff_pick_the_purpose_and_its_links_carry_it(world, sealed):
    client = Client()
    client.force_login(world.person("secretary"))
    page = client.get(f"/recordings/{sealed.pk}?purpose=disciplinary").content.decode()
    assert 'name="purpose"' in page and 'value="disciplinary" selected' in page
    link = f"/api/v1/recordings/{sealed.pk}/media?purpose=disciplinary"
    assert link in page
    assert f"/api/v1/recordings/{sealed.pk}/signature?purpose=disciplinary" in page
    # The page's link, followed with the same session, reaches the audit with the page's purpose.
    assert client.get(link).status_code == 200
    assert [(r["read"], r["purpose"]) for r in reads(sealed)] == [
        ("playback", "disciplinary"),
        ("media", "disciplinary"),
    ]
    # No purpose picked: proceedings selected, the read marked as not stated.
    plain = client.get(f"/recordings/{sealed.pk}").content.decode()
    assert 'value="proceedings" selected' in plain
    assert reads(sealed)[-1]["purpose_stated"] is False


def test_r2_the_page_is_in_kazakh_and_russian(world, sealed):
    client = Client()
    client.force_login(world.person("secretary"))
    for language, word in (("kk", "Тәртіптік іс үшін"), ("ru", "Для дисциплинарного производства")):
        page = client.get(f"/recordings/{sealed.pk}", HTTP_ACCEPT_LANGUAGE=language)
        assert word in page.content.decode()
