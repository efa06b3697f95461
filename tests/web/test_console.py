"""The secretary's console over the real recorder (R6–R12, R16): the web views call the same
actions as the API, so the same rules answer."""

import json
import time

import pytest

from taspa.courts.models import Hearing
from taspa.incidents.models import Incident
from taspa.recorder.models import Recording
from taspa.web.playback import PlaybackFiles

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def operate(client, hearing, operation, **data):
    response = client.post(f"/hearings/{hearing.pk}/console/{operation}", data)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "timeline-changed"
    return response.content.decode()


def test_r7_only_the_hearings_secretary_gets_the_buttons(hearing, client_for):
    judge_page = client_for("judge-a").get(f"/hearings/{hearing.pk}/console").content.decode()
    assert 'id="btn-start"' not in judge_page and "(clause 7 of the Rules)" in judge_page
    refused = operate(client_for("judge-a"), hearing, "start")
    assert "not allow" in refused
    assert Hearing.objects.get(pk=hearing.pk).state == "idle"
    assert client_for("secretary-b").get(f"/hearings/{hearing.pk}/console").status_code == 404


def test_console_records_marks_pauses_and_seals(hearing, client_for):
    secretary = client_for("secretary-a")
    page = secretary.get(f"/hearings/{hearing.pk}/console").content.decode()
    assert 'id="btn-preflight"' in page and "Әсел Үмбетова" not in page  # marks come when live
    assert "passed" in operate(secretary, hearing, "preflight")
    started = operate(secretary, hearing, "start")
    assert 'data-state="recording"' in started and 'data-key="2"' in started
    assert "Әсел Үмбетова" in started  # participants prefill the mark buttons (R12)
    time.sleep(1.0)
    assert "Әсел Үмбетова" in operate(
        secretary, hearing, "mark", speaker="Әсел Үмбетова", role="plaintiff"
    )
    refused = operate(secretary, hearing, "pause", reason="lunch")  # R6: not a lawful reason
    assert "(R6, R19)" in refused and 'data-state="recording"' in refused
    assert 'data-state="paused"' in operate(secretary, hearing, "pause", reason="recess")
    assert 'data-state="recording"' in operate(secretary, hearing, "resume")
    time.sleep(0.5)
    stopped = operate(secretary, hearing, "stop")
    recording = Recording.objects.get(hearing=hearing)
    assert recording.state == "sealed" and recording.file_name in stopped
    timeline = secretary.get(f"/hearings/{hearing.pk}/console/timeline").content.decode()
    assert timeline.count("tl-mark") == 1 and "tl-pause" in timeline and "tl-resume" in timeline


def test_r16_incident_shows_the_announcement_and_is_recorded(hearing, client_for):
    secretary = client_for("secretary-a")
    secretary.cookies["django_language"] = "ru"
    page = secretary.get(f"/hearings/{hearing.pk}/console").content.decode()
    assert "По техническим причинам" in page  # the text read to the participants (R16)
    operate(secretary, hearing, "incident", kind="recording_impossible", detail="Нет питания")
    incident = Incident.objects.get(hearing=hearing)
    assert incident.kind == "recording_impossible"
    assert incident.reported_by.username == "secretary-a"
    timeline = secretary.get(f"/hearings/{hearing.pk}/console/timeline").content.decode()
    assert "Нет питания" in timeline


def test_playback_files_are_made_once_at_sealing(hearing, client_for):
    secretary = client_for("secretary-a")
    operate(secretary, hearing, "start")
    time.sleep(1.2)
    operate(secretary, hearing, "mark", speaker="Судья", role="judge")
    time.sleep(0.8)
    operate(secretary, hearing, "stop")
    recording = Recording.objects.get(hearing=hearing)
    files = PlaybackFiles.of(recording.pk)
    assert files.ready, "the sealed signal made the playback files (inline task backend)"
    peaks = json.loads(files.peaks.read_text())
    assert peaks["version"] == 2 and peaks["bits"] == 8 and peaks["channels"] == 1
    assert len(peaks["data"]) == 2 * peaks["length"]
    seconds = peaks["length"] * peaks["samples_per_pixel"] / peaks["sample_rate"]
    assert abs(seconds - recording.duration_s) < 0.5
    assert json.loads(files.verdict.read_text())["ok"] is True

    page = secretary.get(f"/recordings/{recording.pk}").content.decode()
    assert 'id="zoomview"' in page
    assert 'id="verdict-summary"' in page and "verdict ok" in page
    assert recording.file_name in page and "Судья" in page
    ranged = secretary.get(
        f"/recordings/{recording.pk}/files/mix.webm", headers={"Range": "bytes=0-9"}
    )
    assert ranged.status_code == 206 and b"".join(ranged.streaming_content)[:4] == b"\x1aE\xdf\xa3"
    assert client_for("secretary-b").get(f"/recordings/{recording.pk}").status_code == 404
    assert secretary.get(f"/recordings/{recording.pk}/files/secret.txt").status_code == 404
