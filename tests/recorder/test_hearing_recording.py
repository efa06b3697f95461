"""A hearing recorded end to end through the API with real FFmpeg: preflight, start, marks,
lawful and unlawful pauses, stop, sealing with the secretary's EDS, and verification."""

import os
import subprocess
import sys
import time

import pytest
from django.core.management import call_command

from taspa.audit.models import AuditEvent
from taspa.audit.selectors import verify_audit_chain
from taspa.courts.models import Hearing
from taspa.incidents.models import Incident
from taspa.recorder import runtime
from taspa.recorder.models import Recording
from taspa.sealing.reading import write_sealed

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hearing(world, signing_secretary):
    """A criminal hearing of court A whose secretary seals with a registered EDS key
    (``signing_secretary``, tests/conftest.py); its capture is stopped afterwards."""
    hearing = world.hearing(court="a", kind="criminal")
    yield hearing
    engine = runtime.engine_for(hearing.pk)
    if engine is not None and engine.running:
        engine.stop()
    runtime.forget(hearing.pk)


def pdf_text(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def stop(api, url: str) -> dict:
    """POST stop; a refusal fails the test with the server's own answer (its code and detail)."""
    answer = api.post(f"{url}/stop")
    assert answer.status_code == 200, (answer.status_code, answer.json())
    return answer.json()


@pytest.fixture
def secretary_api(world, api_as):
    return api_as(world.person("secretary"))


def test_r8_preflight_checks_source_disk_and_key(hearing, secretary_api):
    answer = secretary_api.post(f"/hearings/{hearing.pk}/preflight").json()
    names = {check["name"]: check["ok"] for check in answer["checks"]}
    assert names["signing_key"] is True and names["disk_space"] is True
    assert names["clock"] is True  # R8: against the database server (SQLite: this machine)
    assert any(name.startswith("source:") and ok for name, ok in names.items())
    assert answer["ok"] is True
    assert Hearing.objects.get(pk=hearing.pk).state == "preflight"


def test_r6_r19_full_hearing_with_lawful_pause_is_sealed_and_verifies(
    hearing, secretary_api, tmp_path, capsys
):
    url = f"/hearings/{hearing.pk}"
    assert secretary_api.post(f"{url}/start").json() == {"state": "recording"}
    time.sleep(1.5)
    mark = secretary_api.post(f"{url}/marks", {"speaker": "Әсел Үмбетова", "role": "plaintiff"})
    assert mark.status_code == 201 and mark.json()["offset_s"] > 0.5

    refused = secretary_api.post(f"{url}/pause", {"reason": "lunch"})
    assert refused.status_code == 422
    assert refused.json()["error"] == "pause_reason_not_allowed"
    assert AuditEvent.objects.filter(action="recorder.pause_refused").exists()
    assert secretary_api.get(url).json()["state"] == "recording"

    assert secretary_api.post(f"{url}/pause", {"reason": "recess"}).json() == {"state": "paused"}
    time.sleep(0.5)
    assert secretary_api.post(f"{url}/resume").json() == {"state": "recording"}
    time.sleep(1.0)
    levels = secretary_api.get(f"{url}/levels").json()
    assert levels["channels"] and levels["channels"][0]["rms_dbfs"] > -40  # the tone is heard

    stopped = stop(secretary_api, url)
    assert stopped["state"] == "sealed"
    recording = Recording.objects.get(pk=stopped["recording"])
    detail = secretary_api.get(f"/recordings/{recording.pk}").json()
    assert detail["file_name"].endswith(".ts") and detail["file_name"].isascii()
    assert "Айгүл" in detail["signed_by"] or "CN=" in detail["signed_by"]
    assert [m["speaker"] for m in detail["marks"]] == ["Әсел Үмбетова"]
    assert [p["reason"] for p in detail["pauses"]] == ["recess"]
    assert Hearing.objects.get(pk=hearing.pk).state == "sealed"

    media = secretary_api.client.get(
        f"/api/v1/recordings/{recording.pk}/media",
        headers=secretary_api.headers | {"Range": "bytes=0-187"},
    )
    assert media.status_code == 206 and len(b"".join(media.streaming_content)) == 188

    for language, words in (("kk", "Қысқаша хаттамаға"), ("ru", "краткому протоколу")):
        pdf = secretary_api.get(f"/recordings/{recording.pk}/protocol-extract?language={language}")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        text = pdf_text(pdf.content)
        assert recording.file_name in text and recording.sha256[:16] in text
        assert "Әсел Үмбетова" in text and words in text

    # What a user downloads from the API (media, .p7s, manifest and its .p7s) verifies.
    files = write_sealed(recording, tmp_path)
    call_command("verify", str(files.media))
    out = capsys.readouterr().out
    assert "FAIL" not in out and "media_signature" in out
    assert verify_audit_chain().ok


def test_r7_only_the_secretary_operates_the_recorder(hearing, world, api_as, secretary_api):
    url = f"/hearings/{hearing.pk}"
    judge = api_as(world.person("judge"))
    assert judge.post(f"{url}/start").status_code == 403
    assert secretary_api.post(f"{url}/start").status_code == 200
    assert secretary_api.post(f"{url}/start").status_code == 409  # a second start is refused
    assert judge.post(f"{url}/stop").status_code == 403
    other_court = api_as(world.person("secretary", "b"))
    assert other_court.post(f"{url}/stop").status_code == 404
    assert stop(secretary_api, url)["state"] == "sealed"


def test_r9_unreadable_source_opens_incident_and_refuses_start(world, secretary_api):
    room = world.rooms["a"]
    room.sources = [{"kind": "audio", "format": "file", "input": "/nonexistent/mic.wav"}]
    room.save()
    hearing = world.hearing(court="a")
    response = secretary_api.post(f"/hearings/{hearing.pk}/start")
    assert response.status_code == 422 and response.json()["error"] == "capture_failed"
    incident = Incident.objects.get(hearing=hearing)
    assert incident.kind == "recording_impossible"
    assert Hearing.objects.get(pk=hearing.pk).state == "idle"
    detail = secretary_api.get(f"/hearings/{hearing.pk}").json()
    assert detail["incidents"][0]["kind"] == "recording_impossible"


def test_r14_without_a_key_the_recording_stays_intact_and_unsealed(world, secretary_api):
    hearing = world.hearing(court="a")  # nobody registered an EDS key for this secretary
    url = f"/hearings/{hearing.pk}"
    secretary_api.post(f"{url}/start")
    time.sleep(1.0)
    answer = stop(secretary_api, url)
    assert answer["state"] == "stopped"
    recording = Recording.objects.get(pk=answer["recording"])
    assert recording.sha256 and recording.bytes > 0
    assert Incident.objects.filter(hearing=hearing, kind="signing_failed").exists()
    runtime.forget(hearing.pk)


def test_verify_command_runs_as_a_process(hearing, secretary_api, tmp_path):
    url = f"/hearings/{hearing.pk}"
    secretary_api.post(f"{url}/start")
    time.sleep(1.0)
    recording = Recording.objects.get(pk=stop(secretary_api, url)["recording"])
    from django.conf import settings

    command = [
        sys.executable,
        "-m",
        "taspa",
        "verify",
        str(write_sealed(recording, tmp_path).media),
        "--ca",
        settings.TASPA_TRUST_ANCHORS,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_r28_r32_a_participant_gets_no_raw_recording_outside_a_petition(
    hearing, world, api_as, secretary_api
):
    from taspa.access.actions import link_case_party

    url = f"/hearings/{hearing.pk}"
    secretary_api.post(f"{url}/start")
    time.sleep(1.0)
    recording = stop(secretary_api, url)["recording"]
    party = world.person("participant")
    link_case_party(actor=world.admin, case=hearing.case, user=party, role="participant")
    client = api_as(party)
    assert client.get(url).status_code == 200  # the party sees their hearing…
    for path in ("", "/media", "/signature", "/manifest"):
        assert client.get(f"/recordings/{recording}{path}").status_code == 404  # …not the media
    assert client.get("/recordings").json()["items"] == []
