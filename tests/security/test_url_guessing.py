"""No recording, copy, receipt or act is readable without authorisation, even by guessing or
counting up the ids in its URL (R20, R28, R30–R32).

Every URL that hands out evidence or a document is tried with the real id and its neighbours,
by people who may not read it: staff of another court and of another region, a participant of
another case, a participant (for raw recordings, which parties reach only by petition), and
anonymous callers. None of them gets a byte.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from replication.sealed_factory import register_key, sealed_recording
from security.scene import Scene
from taspa.access.models import Copy
from taspa.api.models import ApiToken

REFUSED = {401, 403, 404, 422}  # 422: an id no object can have (0)
OUTSIDERS = ["secretary@other", "judge@region", "archivist@region", "other_party", "anonymous"]
DOCUMENT_TYPES = ("application/pdf", "application/zip", "video/", "audio/", "application/pkcs7")


def _evidence(s: Scene) -> dict[str, tuple[int, list[str]]]:
    """Each protected URL (with ``{}`` for the id), the id of court A's object, and who besides
    the outsiders is refused too."""
    raw = ["party"]  # R28, R31, R32: parties get recordings by petition, never raw
    recording = s.recording.pk
    return {
        "/api/v1/recordings/{}": (recording, raw),
        "/api/v1/recordings/{}/media": (recording, raw),
        "/api/v1/recordings/{}/signature": (recording, raw),
        "/api/v1/recordings/{}/manifest": (recording, raw),
        "/api/v1/recordings/{}/manifest/signature": (recording, raw),
        "/api/v1/recordings/{}/protocol-extract?language=ru": (recording, raw),
        "/api/v1/acts/{}": (s.act.pk, raw),
        "/api/v1/acts/{}/pdf": (s.act.pk, raw),
        "/api/v1/destruction-acts/{}/pdf": (s.destruction_act.pk, raw),
        "/api/v1/media/{}": (s.medium.pk, raw),
        "/api/v1/media/{}/label": (s.medium.pk, raw),
        "/api/v1/petitions/{}": (s.copy_petition.pk, []),
        "/api/v1/petitions/{}/form": (s.copy_petition.pk, []),
        "/api/v1/copies/{}/download": (s.copy.pk, []),
        "/recordings/{}": (recording, raw),
        "/recordings/{}/files/peaks.json": (recording, raw),
    }


def _leaks(answer) -> bool:
    """Did the answer hand out anything but a refusal?"""
    if getattr(answer, "streaming", False):
        return True
    content_type = answer.get("Content-Type", "")
    return content_type.startswith(DOCUMENT_TYPES) or answer.status_code < 300


def _refused_web(answer) -> bool:
    return answer.status_code in (403, 404) or (
        answer.status_code == 302 and answer["Location"].startswith("/login/")
    )


@pytest.mark.parametrize("actor", [*OUTSIDERS, "party"])
def test_r20_r32_guessed_ids_of_evidence_are_refused(scene: Scene, actor: str):
    """The real id and its neighbours, on every evidence URL: refused, nothing handed out."""
    client = scene.web(actor)
    api = scene.api(actor)
    wrong = []
    for template, (target, also_refused) in _evidence(scene).items():
        if actor == "party" and "party" not in also_refused:
            continue  # the applicant's own petition and copy: allowed (see the matrix)
        for guess in (target, target - 1, target + 1, target + 2, 10**9):
            url = template.format(guess)
            if url.startswith("/api/"):
                answer = api.get(url)
                refused = answer.status_code in REFUSED
            else:
                answer = client.get(url)
                refused = _refused_web(answer)
            if not refused or _leaks(answer):
                wrong.append(f"{url} → {answer.status_code}")
    assert wrong == []


def test_r20_counting_up_recording_ids_finds_only_ones_own(scene: Scene, security_pki):
    """A secretary of court Z walks every recording id: only court Z's recording plays."""
    register_key(scene.world, security_pki, "z")
    theirs = sealed_recording(scene.world, scene.home / "spool-z", size=2048, court="z")
    api = scene.api("secretary@other")
    readable = [
        pk
        for pk in range(1, theirs.pk + 5)
        if api.get(f"/api/v1/recordings/{pk}/media").status_code == 200
    ]
    listed = [item["id"] for item in api.get("/api/v1/recordings").json()["items"]]
    assert readable == [theirs.pk] and listed == [theirs.pk]


def test_r31_other_users_download_link_is_refused(scene: Scene):
    """The link of the applicant's copy does not work for another participant, even of the
    same court, nor for staff of another court."""
    url = f"/api/v1/copies/{scene.copy.pk}/download"
    assert scene.api("party").get(url).status_code == 200
    for actor in ("other_party", "participant@own", "secretary@other", "court_admin@region"):
        answer = scene.api(actor).get(url)
        assert answer.status_code in (403, 404), actor
        assert not _leaks(answer)


def test_r31_expired_download_link_is_refused_to_the_applicant(scene: Scene):
    """After the link expires the applicant gets the rule's refusal (422
    ``download_link_expired``, CONTRACT.md's code for a regulation refusal); court staff of
    the court still reach the copy."""
    Copy.objects.filter(pk=scene.copy.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    url = f"/api/v1/copies/{scene.copy.pk}/download"
    expired = scene.api("party").get(url)
    assert expired.status_code == 422 and expired.json()["error"] == "download_link_expired"
    assert not _leaks(expired)
    assert scene.api("secretary@own").get(url).status_code == 200


def test_r31_a_copy_link_with_a_range_header_is_refused_alike(scene: Scene):
    """Asking for a slice of the zip does not get round the check."""
    url = f"/api/v1/copies/{scene.copy.pk}/download"
    answer = scene.api("other_party").get(url, HTTP_RANGE="bytes=0-10")
    assert answer.status_code == 403 and not _leaks(answer)


def test_r20_guessed_revoked_and_foreign_tokens_get_nothing(scene: Scene):
    media = f"/api/v1/recordings/{scene.recording.pk}/media"
    for token in ("tsp_" + "A" * 43, "tsp_", "", scene.tokens["agent@own"], "Bearer"):
        answer = Client().get(media, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert answer.status_code == 401, token
    secretary = scene.tokens["secretary@own"]
    assert scene.api("secretary@own").get(media).status_code == 200
    ApiToken.objects.filter(user=scene.users["secretary@own"]).update(revoked_at=timezone.now())
    revoked = Client().get(media, HTTP_AUTHORIZATION=f"Bearer {secretary}")
    assert revoked.status_code == 401 and not _leaks(revoked)


def test_r20_token_of_a_deactivated_user_gets_nothing(scene: Scene):
    media = f"/api/v1/recordings/{scene.recording.pk}/media"
    judge = scene.users["judge@own"]
    judge.is_active = False
    judge.save(update_fields=["is_active"])
    answer = scene.api("judge@own").get(media)
    assert answer.status_code == 401 and not _leaks(answer)
