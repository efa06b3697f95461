"""R32 for part of a hearing through the API: closed portions marked live and by the judge's
decision after sealing; every bad input is a 422 naming its rule, in the caller's language, and
stores nothing; a correction is a new portion that supersedes; the audit chain and the sealed
manifest carry them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from taspa.audit.models import AuditEvent
from taspa.courts.models import Hearing
from taspa.recorder.actions import seal_stopped
from taspa.recorder.models import ClosedPortion, Recording
from taspa.recorder.selectors import closed_intervals
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key
from taspa.sealing.hashing import sha256_file
from taspa.sealing.reading import read_sealed

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(world):
    """A hearing recording for 60 s (capture runs elsewhere: media time is wall time since the
    first sample, as on a courtroom agent)."""
    hearing = world.hearing(court="a", kind="civil")
    Hearing.objects.filter(pk=hearing.pk).update(state="recording")
    recording = Recording.objects.create(
        hearing=hearing,
        spool_dir="/nonexistent",
        started_at=timezone.now() - timedelta(seconds=60),
    )
    return hearing, recording


@pytest.fixture
def stopped_hearing(world, home, court_ca, av_media, tmp_path):
    """``stopped_hearing(kind)`` → (hearing, seal): a stopped recording of real A/V media and
    the function that seals it with the secretary's EDS (as ``sealed_hearing``, one step later)."""
    secretary = world.person("secretary")
    register_signing_key(
        actor=world.admin,
        user=secretary,
        p12=democa.issue_p12(court_ca[0], common_name="Айгүл Жұмабаева", password="pin-1234"),
        password="pin-1234",
    )

    def make(kind: str = "civil"):
        hearing = world.hearing(court="a", kind=kind)
        media = tmp_path / f"capture-{hearing.pk}.ts"
        media.write_bytes(av_media.read_bytes())
        digest = sha256_file(media)
        now = timezone.now()
        Hearing.objects.filter(pk=hearing.pk).update(state="stopped")
        recording = Recording.objects.create(
            hearing=hearing,
            state=Recording.State.STOPPED,
            spool_dir=str(tmp_path),
            started_at=now - timedelta(seconds=3),
            stopped_at=now,
            container="mpegts",
            media_path=str(media),
            sha256=digest.sha256,
            bytes=digest.bytes,
            duration_s=3.0,
        )
        return hearing, lambda: seal_stopped(Recording.objects.get(pk=recording.pk))

    return make


@pytest.fixture
def secretary(world, api_as):
    return api_as(world.person("secretary"))


def at(recording: Recording, seconds: float) -> str:
    return (recording.started_at + timedelta(seconds=seconds)).isoformat()


def portions_url(hearing) -> str:
    return f"/hearings/{hearing.pk}/closed-portions"


def test_r32_portion_marked_live_then_ended(live, secretary):
    hearing, _ = live
    begun = secretary.post(portions_url(hearing), {"reason": "a minor testifies"})
    assert begun.status_code == 201, begun.content
    body = begun.json()
    assert body["end"] is None and 59 <= body["start_s"] <= 75  # now, 60 s in
    assert body["source"] == "live"
    ended = secretary.post(f"{portions_url(hearing)}/{body['id']}/end")  # no body: now
    assert ended.status_code == 200, ended.content
    assert ended.json()["end"] is not None and ended.json()["end_s"] >= body["start_s"]
    listed = secretary.get(portions_url(hearing)).json()["items"]
    assert [p["id"] for p in listed] == [body["id"]]
    actions = list(
        AuditEvent.objects.filter(action__startswith="recorder.closed_portion").values_list(
            "action", flat=True
        )
    )
    assert actions == ["recorder.closed_portion", "recorder.closed_portion_end"]


def test_r32_portion_with_start_and_end_gives_intervals(live, secretary):
    hearing, recording = live
    first = secretary.post(
        portions_url(hearing), {"start": at(recording, 10), "end": at(recording, 20)}
    )
    second = secretary.post(portions_url(hearing), {"start": at(recording, 30)})
    assert first.status_code == second.status_code == 201
    recording.state, recording.duration_s = Recording.State.STOPPED, 50.0
    recording.save()
    got = closed_intervals(recording)
    assert [tuple(round(x, 3) for x in i) for i in got] == [(10.0, 20.0), (30.0, 50.0)]


BAD = [
    ("ends before it starts", {"start": 20, "end": 10}, "closed_portion_ends_before_start"),
    ("ends as it starts", {"start": 20, "end": 20}, "closed_portion_ends_before_start"),
    ("overlaps", {"start": 15, "end": 25}, "closed_portion_overlaps"),
    ("inside another", {"start": 12, "end": 18}, "closed_portion_overlaps"),
    ("before the recording", {"start": -5, "end": 5}, "closed_portion_outside_recording"),
    ("in the future", {"start": 200}, "closed_portion_outside_recording"),
    ("ends in the future", {"start": 40, "end": 300}, "closed_portion_outside_recording"),
]


@pytest.mark.parametrize(("name", "times", "code"), BAD, ids=[b[0] for b in BAD])
def test_r32_bad_portion_is_refused_with_its_rule(live, secretary, name, times, code):
    hearing, recording = live
    assert (
        secretary.post(
            portions_url(hearing), {"start": at(recording, 10), "end": at(recording, 20)}
        ).status_code
        == 201
    )
    before = (ClosedPortion.objects.count(), AuditEvent.objects.count())
    body = {key: at(recording, value) for key, value in times.items()}
    answer = secretary.post(portions_url(hearing), body)
    assert answer.status_code == 422, answer.content
    assert answer.json()["error"] == code and answer.json()["detail"]
    assert (ClosedPortion.objects.count(), AuditEvent.objects.count()) == before


def test_r32_portion_ended_twice_is_refused(live, secretary):
    hearing, recording = live
    made = secretary.post(portions_url(hearing), {"start": at(recording, 10)}).json()
    end_url = f"{portions_url(hearing)}/{made['id']}/end"
    assert secretary.post(end_url, {"at": at(recording, 20)}).status_code == 200
    again = secretary.post(end_url, {"at": at(recording, 30)})
    assert again.status_code == 422 and again.json()["error"] == "closed_portion_already_ended"
    assert ClosedPortion.objects.get(pk=made["id"]).end_s == pytest.approx(20.0)


def test_r32_end_that_would_overlap_the_next_is_refused(live, secretary):
    hearing, recording = live
    first = secretary.post(portions_url(hearing), {"start": at(recording, 10)}).json()
    # an open portion reaches to the end of the recording: a later one overlaps it
    later = secretary.post(portions_url(hearing), {"start": at(recording, 40)})
    assert later.json()["error"] == "closed_portion_overlaps"
    end = secretary.post(f"{portions_url(hearing)}/{first['id']}/end", {"at": at(recording, 5)})
    assert end.json()["error"] == "closed_portion_ends_before_start"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", "Закрытое заседание должно"), ("kk", "Жабық"), ("en", "A closed session must end")],
)
def test_r32_refusal_speaks_the_callers_language(live, secretary, language, expected):
    hearing, recording = live
    secretary.headers["Accept-Language"] = language
    answer = secretary.post(
        portions_url(hearing), {"start": at(recording, 20), "end": at(recording, 10)}
    )
    assert answer.status_code == 422
    assert expected in answer.json()["detail"], answer.json()


def test_r32_only_the_recorder_or_the_judge_marks_live(world, live, api_as):
    hearing, recording = live
    other = api_as(world.person("court_admin"))
    answer = other.post(portions_url(hearing), {"start": at(recording, 10)})
    assert answer.status_code in (403, 404)
    judge = api_as(world.person("judge"))
    assert judge.post(portions_url(hearing), {"start": at(recording, 10)}).status_code == 201
    assert ClosedPortion.objects.count() == 1


def test_r32_fully_closed_hearing_needs_no_portion(world, secretary):
    hearing = world.hearing(court="a", kind="civil", closed=True)
    Hearing.objects.filter(pk=hearing.pk).update(state="recording")
    Recording.objects.create(hearing=hearing, spool_dir="/x", started_at=timezone.now())
    answer = secretary.post(portions_url(hearing), {})
    assert answer.status_code == 422 and answer.json()["error"] == "closed_hearing_whole"


def test_r32_portion_without_recording_is_outside_it(world, secretary):
    hearing = world.hearing(court="a", kind="civil")
    answer = secretary.post(portions_url(hearing), {})
    assert answer.json()["error"] == "closed_portion_outside_recording"


def test_r32_correction_appends_and_supersedes(live, secretary):
    hearing, recording = live
    made = secretary.post(
        portions_url(hearing), {"start": at(recording, 10), "end": at(recording, 20)}
    ).json()
    fixed = secretary.post(
        f"{portions_url(hearing)}/{made['id']}/correct",
        {"start": at(recording, 8), "end": at(recording, 22)},
    )
    assert fixed.status_code == 201, fixed.content
    assert fixed.json()["supersedes"] == made["id"]
    # the old row is kept as it was; the list shows the correction only
    old = ClosedPortion.objects.get(pk=made["id"])
    assert (old.start_s, old.end_s) == (pytest.approx(10.0), pytest.approx(20.0))
    listed = secretary.get(portions_url(hearing)).json()["items"]
    assert [p["id"] for p in listed] == [fixed.json()["id"]]
    stale = secretary.post(
        f"{portions_url(hearing)}/{made['id']}/correct", {"start": at(recording, 9)}
    )
    assert stale.json()["error"] == "closed_portion_superseded"


@pytest.mark.slow
def test_r32_sealed_manifest_lists_portions_and_judge_adds_after(
    world, sealed_hearing, api_as, secretary
):
    hearing = sealed_hearing("civil")
    recording = Recording.objects.get(hearing=hearing)
    manifest = json.loads(read_sealed(recording, "manifest"))
    assert manifest["closed_portions"] == []
    sealed_digest = recording.sha256
    # after sealing only the judge's decision closes a part, and it needs its text
    refused = secretary.post(portions_url(hearing), {"start": at(recording, 1)})
    assert refused.status_code == 403
    judge = api_as(world.person("judge"))
    bare = judge.post(portions_url(hearing), {"start": at(recording, 1)})
    assert bare.json()["error"] == "closed_portion_decision_missing"
    outside = judge.post(
        portions_url(hearing), {"start": at(recording, 2), "end": at(recording, 9), "reason": "x"}
    )
    assert outside.json()["error"] == "closed_portion_outside_recording"
    made = judge.post(
        portions_url(hearing),
        {"start": at(recording, 1), "end": at(recording, 2), "reason": "Decision No. 5"},
    )
    assert made.status_code == 201 and made.json()["source"] == "judge_decision"
    recording.refresh_from_db()
    assert recording.sha256 == sealed_digest  # access changes, the sealed recording never
    assert json.loads(read_sealed(recording, "manifest")) == manifest
    assert closed_intervals(recording) == [(pytest.approx(1.0), pytest.approx(2.0))]
    detail = secretary.get(f"/recordings/{recording.pk}").json()
    assert [p["id"] for p in detail["closed_portions"]] == [made.json()["id"]]


@pytest.mark.slow
def test_r32_manifest_of_recording_sealed_after_portion_lists_it(world, stopped_hearing, api_as):
    """A recording sealed after a portion was marked lists it in its signed manifest."""
    hearing, seal = stopped_hearing("civil")
    recording = hearing.recording
    judge = api_as(world.person("judge"))
    made = judge.post(portions_url(hearing), {"start": at(recording, 1), "end": at(recording, 2)})
    assert made.status_code == 201, made.content
    recording = seal()
    listed = json.loads(read_sealed(recording, "manifest"))["closed_portions"]
    assert [(p["id"], p["start_s"], p["end_s"]) for p in listed] == [(made.json()["id"], 1.0, 2.0)]


def test_r32_console_buttons_begin_and_end_a_closed_session(world, live):
    from django.test import Client

    hearing, _ = live
    client = Client()
    client.force_login(world.person("secretary"))
    client.cookies["django_language"] = "ru"
    base = f"/hearings/{hearing.pk}/console"
    panel = client.get(f"{base}/controls").content.decode()
    assert 'id="btn-closed-begin"' in panel and 'id="closed-portion"' not in panel
    begun = client.post(f"{base}/closed_begin", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="closed-portion"' in begun and 'id="btn-closed-end"' in begun
    assert "Закрытое заседание" in begun  # in the secretary's language
    portion = ClosedPortion.objects.get()
    assert portion.end_s is None and portion.source == "live"
    again = client.post(f"{base}/closed_begin", HTTP_HX_REQUEST="true").content.decode()
    assert "пересекается" in again and ClosedPortion.objects.count() == 1  # overlaps: refused
    ended = client.post(f"{base}/closed_end", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="btn-closed-begin"' in ended and 'id="closed-portion"' not in ended
    assert ClosedPortion.objects.get().end_s is not None
    nothing = client.post(f"{base}/closed_end", HTTP_HX_REQUEST="true").content.decode()
    assert "не идёт" in nothing
    # the judge sees the console but its buttons are the recorder's operator's (R7)
    judge = Client()
    judge.force_login(world.person("judge"))
    judge.post(f"{base}/closed_begin", HTTP_HX_REQUEST="true")
    assert ClosedPortion.objects.count() == 1
