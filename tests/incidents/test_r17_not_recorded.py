"""R17: a hearing that turns out not to have been recorded — silent on every channel, covering
less than the hearing, or never started — gets a ``not_recorded`` incident and its act at once."""

import subprocess
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from taspa.courts.models import Hearing
from taspa.incidents.detection import check_overdue, check_recorded
from taspa.incidents.models import Act, Incident, Notification, RecordingCheck
from taspa.recorder import actions as recorder
from taspa.recorder import runtime
from taspa.recorder.models import Pause, Recording

SILENCE = [{"kind": "audio", "format": "lavfi", "input": "anullsrc=r=48000:cl=mono"}]


def record_for(hearing, secretary, seconds: float) -> Recording:
    recorder.start_recording(actor=secretary, hearing=hearing)
    try:
        time.sleep(seconds)
    finally:
        hearing.refresh_from_db()  # the actions read the hearing's state from the instance
        stopped = recorder.stop_recording(actor=secretary, hearing=hearing)
        runtime.forget(hearing.pk)
    return stopped


@pytest.fixture
def secretary(world, keys):
    person = world.person("secretary")
    keys.register(world.admin, person, "Айгүл Жұмабаева")
    return person


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r17_silent_recording_raises_not_recorded_with_its_act(world, secretary):
    world.rooms["a"].sources = SILENCE
    world.rooms["a"].save()
    hearing = world.hearing(court="a", kind="criminal")
    recording = record_for(hearing, secretary, 2.5)
    assert recording.state == Recording.State.SEALED  # sealed and signed, yet holds nothing

    check = RecordingCheck.objects.get(hearing=hearing)
    assert check.ok is False and check.reason == "silent"
    assert check.facts["covered_s"] > 1.0 and check.facts["loudest_dbfs"] <= -60
    incident = Incident.objects.get(hearing=hearing, kind="not_recorded")
    assert "silent throughout" in incident.detail
    act = Act.objects.get(hearing=hearing)
    assert act.status == "pending" and list(act.incidents.all()) == [incident]
    assert act.required_roles == ["secretary", "court_admin"]
    # R9: the hearing is over, so the court administrator hears of it at once.
    assert Notification.objects.filter(
        recipient=world.person("court_admin"), incident=incident
    ).exists()
    # Rerunning the check (the periodic job) raises nothing new.
    check_overdue()
    assert Incident.objects.filter(hearing=hearing, kind="not_recorded").count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r17_r10_recording_with_sound_is_not_flagged_and_goes_on_through_an_incident(
    world, secretary, api_as
):
    hearing = world.hearing(court="a", kind="criminal")  # the room's source is a 440 Hz tone
    api = api_as(secretary)
    assert api.post(f"/hearings/{hearing.pk}/start").json() == {"state": "recording"}
    try:
        time.sleep(1.0)
        # R10: the secretary reports a problem; the recording and the hearing go on.
        reported = api.post(
            f"/hearings/{hearing.pk}/incidents",
            {"kind": "source_lost", "detail": "The witness microphone crackles."},
        )
        assert reported.status_code == 201
        time.sleep(1.0)
        assert api.get(f"/hearings/{hearing.pk}").json()["state"] == "recording"
        assert api.get(f"/hearings/{hearing.pk}/levels").json()["channels"][0]["rms_dbfs"] > -40
    finally:
        stopped = api.post(f"/hearings/{hearing.pk}/stop").json()
        runtime.forget(hearing.pk)
    assert stopped["state"] == "sealed"
    check = RecordingCheck.objects.get(hearing=hearing)
    assert check.ok is True and check.facts["loudest_dbfs"] > -40
    assert not Incident.objects.filter(kind="not_recorded").exists()
    # R9: stopping the recording told the court administrator about the reported incident.
    notice = Notification.objects.get(recipient=world.person("court_admin"))
    assert "The witness microphone crackles." in notice.body


def make_media(path, source: str, seconds: float) -> None:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"{source}:d={seconds}",
         "-c:a", "libopus", "-b:a", "32k", "-f", "mpegts", str(path)],
        check=True, timeout=60,
    )  # fmt: skip


def stopped_recording(hearing, media, *, minutes: float) -> Recording:
    stopped_at = timezone.now()
    return Recording.objects.create(
        hearing=hearing,
        spool_dir=str(media.parent),
        started_at=stopped_at - timedelta(minutes=minutes),
        stopped_at=stopped_at,
        state=Recording.State.STOPPED,
        media_path=str(media),
    )


@pytest.mark.django_db
def test_r17_recording_shorter_than_the_hearing_is_not_recorded(world, tmp_path, settings):
    settings.TASPA_COVERAGE_TOLERANCE_S = 60
    hearing = world.hearing(court="a")
    media = tmp_path / "short.ts"
    make_media(media, "sine=frequency=440", 5)
    stopped_recording(hearing, media, minutes=10)  # ten minutes of hearing, five seconds of audio
    check = check_recorded(hearing_id=hearing.pk)
    assert check.ok is False and check.reason == "short_coverage"
    assert 4.5 < check.facts["covered_s"] < 5.5 and check.facts["expected_s"] > 590
    assert "covers 5 s of the 600 s" in Incident.objects.get(kind="not_recorded").detail


@pytest.mark.django_db
def test_r17_lawful_pauses_do_not_count_against_coverage(world, tmp_path, settings):
    settings.TASPA_COVERAGE_TOLERANCE_S = 60
    hearing = world.hearing(court="a")
    media = tmp_path / "paused.ts"
    make_media(media, "sine=frequency=440", 5)
    recording = stopped_recording(hearing, media, minutes=3)
    # A recess of 2 min 56 s: the hearing was on record for about 4 s, all of it covered (R6).
    Pause.objects.create(
        recording=recording,
        reason="recess",
        announced_at=recording.started_at + timedelta(seconds=2),
        started_at=recording.started_at + timedelta(seconds=2),
        ended_at=recording.stopped_at - timedelta(seconds=2),
        requested_by=world.person("secretary"),
    )
    assert check_recorded(hearing_id=hearing.pk).ok is True
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_r17_unreadable_media_is_not_recorded(world, tmp_path):
    hearing = world.hearing(court="a")
    media = tmp_path / "garbage.ts"
    media.write_bytes(b"\x00" * 4096)
    stopped_recording(hearing, media, minutes=5)
    check = check_recorded(hearing_id=hearing.pk)
    assert check.ok is False and check.reason == "short_coverage"
    assert "error" in check.facts or check.facts["tracks"] == []


@pytest.mark.django_db
def test_r17_hearing_that_never_started_is_found_by_the_periodic_job(world, settings):
    settings.TASPA_UNRECORDED_AFTER_H = 12
    late = world.hearing(court="a", kind="criminal")
    recent = world.hearing(court="a", kind="criminal")
    not_required = world.hearing(court="a", kind="civil", writ_proceedings=True)
    reported = world.hearing(court="a", kind="criminal")
    long_ago = timezone.now() - timedelta(hours=13)
    Hearing.objects.filter(pk__in=[late.pk, not_required.pk, reported.pk]).update(
        scheduled_at=long_ago
    )
    Incident.objects.create(
        hearing=reported, kind="recording_impossible", detail="Power cut.", at=long_ago
    )

    assert check_overdue().startswith("1 not recorded")
    incident = Incident.objects.get(kind="not_recorded")
    assert incident.hearing == late and "no recording" in incident.detail
    assert Act.objects.get(hearing=late).status == "pending"
    admin = world.person("court_admin")
    notified = set(Notification.objects.filter(recipient=admin).values_list("incident", flat=True))
    # R9: both over hearings' incidents reached the administrator; the recent one is not over.
    assert notified == set(Incident.objects.values_list("pk", flat=True))
    assert not RecordingCheck.objects.filter(hearing__in=[recent, not_required]).exists()

    check_overdue()
    assert Incident.objects.filter(kind="not_recorded").count() == 1
