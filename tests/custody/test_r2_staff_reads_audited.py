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
        {"channel": "api_media", "purpose": "disciplinary", "purpose_stated": True},
        {"channel": "api_media", "purpose": "proceedings", "purpose_stated": False},
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
        {"channel": "web_playback", "purpose": "facts", "purpose_stated": True}
    ]
    assert (
        reads(sealed)[0]
        and AuditEvent.objects.filter(
            action="recording.read", actor_id=world.person("secretary").pk
        ).exists()
    )
