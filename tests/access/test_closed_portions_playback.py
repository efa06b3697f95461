"""R32 for part of a hearing, as people notice it: a participant plays the granted copy online
and never receives a byte of a closed portion (Range requests probed across its boundaries,
the audio decoded: silence there, the hearing's sound everywhere else); the judge and the
court's staff still play everything; the pure rules as a table."""

from __future__ import annotations

import json
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from taspa.access.copies import copies_dir, issue_copy
from taspa.access.models import Copy
from taspa.access.policy import (
    ApplicantRole,
    Audience,
    Form,
    Media,
    PetitionKind,
    decide_petition,
    excluded_for,
    merge_intervals,
    portion_refusal,
)
from taspa.audit.models import AuditEvent
from taspa.courts.models import Hearing, HearingParticipant
from taspa.courts.policy import CaseKind
from taspa.recorder import portions
from taspa.recorder.actions import seal_stopped
from taspa.recorder.models import Recording
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key
from taspa.sealing.hashing import sha256_file
from taspa.web.actions import prepare_playback

from . import copykit

SECONDS = 6.0
CLOSED = [(1.0, 2.0), (3.5, 4.5)]
EDGE = 0.03  # the Opus frame either side of a boundary (the open sound's own edge)


# --- the rules as tables (pure) ------------------------------------------------------------------

KINDS = [CaseKind.CRIMINAL, CaseKind.CIVIL, CaseKind.ADMINISTRATIVE, CaseKind.ADMIN_OFFENCE]


@pytest.mark.parametrize("case_kind", KINDS)
@pytest.mark.parametrize(
    "role", [ApplicantRole.PARTICIPANT, ApplicantRole.REPRESENTATIVE, ApplicantRole.OTHER]
)
def test_r32_partly_closed_copy_rules_table(case_kind, role):
    """A partly closed hearing is not a closed one: its copy is decided as for an open hearing
    (R30, R31), and what the copy carries leaves every closed portion out (R32)."""
    decision = decide_petition(case_kind=case_kind, closed=False, kind=PetitionKind.COPY, role=role)
    if role == ApplicantRole.OTHER:
        assert not decision.granted and decision.code == "applicant_not_entitled"
        return
    video = case_kind == CaseKind.CRIMINAL
    assert decision.granted and decision.media == (Media.AUDIO_VIDEO if video else Media.AUDIO)
    assert decision.form == (Form.APPENDIX_1 if video else Form.APPENDIX_2)
    assert excluded_for(Audience.COPY, closed_hearing=False, portions=CLOSED) == CLOSED


# (audience, hearing closed whole) → what it must not receive
AUDIENCE_TABLE = [
    (Audience.COPY, False, CLOSED),  # R32: a copy and its online playback leave every part out
    (Audience.COPY, True, None),  # R32: a hearing closed whole gives no copy at all
    (Audience.REVIEW_IN_COURT, False, []),  # R28, R32: the review in court shows everything
    (Audience.REVIEW_IN_COURT, True, []),
    (Audience.COURT, False, []),  # the judge and the court's staff keep and hear it all
    (Audience.COURT, True, []),
]


@pytest.mark.parametrize(("audience", "closed", "expected"), AUDIENCE_TABLE)
def test_r32_who_receives_closed_portions_table(audience, closed, expected):
    assert excluded_for(audience, closed_hearing=closed, portions=CLOSED) == expected


PORTION_TABLE = [
    # start, end, recorded so far, others → the rule broken
    (1.0, 2.0, 6.0, [], None),
    (1.0, None, 6.0, [], None),
    (2.0, 1.0, 6.0, [], "closed_portion_ends_before_start"),
    (2.0, 2.0, 6.0, [], "closed_portion_ends_before_start"),
    (-0.5, 1.0, 6.0, [], "closed_portion_outside_recording"),
    (6.0, None, 6.0, [], "closed_portion_outside_recording"),
    (5.0, 7.0, 6.0, [], "closed_portion_outside_recording"),
    (1.0, 2.0, None, [], "closed_portion_outside_recording"),
    (1.5, 2.5, 6.0, [(1.0, 2.0)], "closed_portion_overlaps"),
    (0.5, 3.0, 6.0, [(1.0, 2.0)], "closed_portion_overlaps"),
    (4.0, 5.0, 6.0, [(3.0, None)], "closed_portion_overlaps"),
    (2.0, 3.0, 6.0, [(1.0, 2.0)], None),  # touching is not overlapping
]


@pytest.mark.parametrize(("start", "end", "recorded", "others", "code"), PORTION_TABLE)
def test_r32_portion_rules_table(start, end, recorded, others, code):
    assert portion_refusal(start, end, recorded_s=recorded, others=others) == code


def test_r32_intervals_merge_clamp_and_sort():
    portions = [(3.0, None), (1.0, 2.0), (1.5, 2.5), (-1.0, 0.5), (8.0, 9.0)]
    assert merge_intervals(portions, 6.0) == [(0.0, 0.5), (1.0, 2.5), (3.0, 6.0)]


# --- online playback of a real copy ------------------------------------------------------------


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def tone_media(tmp_path) -> Path:
    """Six seconds of a 440 Hz tone, Opus in MPEG-TS, as the courtroom's capture writes it."""
    path = tmp_path / "tone.ts"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi",
            "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}",
            "-c:a", "libopus", "-b:a", "64k", "-f", "mpegts",
            "-muxdelay", "0", "-muxpreload", "0", str(path),  # media time from 0, as captured
        ],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture
def partly_closed(world, home, court_ca, tone_media, tmp_path, api_as):
    """A civil hearing recorded for six seconds whose court closed 1–2 s (marked live, before
    sealing) and 3.5–4.5 s (the judge's decision after sealing); a participant's copy of it."""
    secretary = world.person("secretary")
    register_signing_key(
        actor=world.admin,
        user=secretary,
        p12=democa.issue_p12(court_ca[0], common_name="Айгүл Жұмабаева", password="pin"),
        password="pin",
    )
    hearing = world.hearing(court="a", kind="civil")
    digest = sha256_file(tone_media)
    now = timezone.now()
    Hearing.objects.filter(pk=hearing.pk).update(state="stopped")
    recording = Recording.objects.create(
        hearing=hearing,
        state=Recording.State.STOPPED,
        spool_dir=str(tmp_path),
        started_at=now - timedelta(seconds=SECONDS),
        stopped_at=now,
        container="mpegts",
        media_path=str(tone_media),
        sha256=digest.sha256,
        bytes=digest.bytes,
        duration_s=SECONDS,
    )
    judge = api_as(world.person("judge"))

    def moment(seconds: float) -> str:
        return (recording.started_at + timedelta(seconds=seconds)).isoformat()

    url = f"/hearings/{hearing.pk}/closed-portions"
    assert judge.post(url, {"start": moment(1.0), "end": moment(2.0)}).status_code == 201
    recording = seal_stopped(Recording.objects.get(pk=recording.pk))
    decided = judge.post(
        url, {"start": moment(3.5), "end": moment(4.5), "reason": "Ruling of the court No. 7"}
    )
    assert decided.status_code == 201, decided.content
    participant = world.person("participant")
    HearingParticipant.objects.create(
        hearing=hearing, name=participant.full_name, role="plaintiff", user=participant
    )
    portal = signed_in(participant)
    answer = portal.post(
        "/access/portal/",
        {
            "hearing": hearing.pk,
            "kind": "copy",
            "delivery": "online",
            "applicant_name": "Әсел Үмбетова",
            "address": "Алматы",
            "phone": "+7 700 000 00 00",
            "undertakings_accepted": "on",
            "personal_data_warning_acknowledged": "on",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    staff = signed_in(secretary)
    petition_id = hearing.petitions.get().pk
    assert staff.post(f"/access/petitions/{petition_id}/fulfil").status_code == 302
    return hearing, recording, Copy.objects.get(petition_id=petition_id), portal


def decode(data: bytes, tmp_path: Path, name: str) -> np.ndarray:
    """Mono 8 kHz samples of a served file, decoded by ffmpeg."""
    path = tmp_path / name
    path.write_bytes(data)
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "8000", "-f", "s16le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def rms_db(samples: np.ndarray, start: float, end: float) -> float:
    part = samples[int(start * 8000) : int(end * 8000)]
    level = float(np.sqrt(np.mean(part**2))) if len(part) else 0.0
    return 20 * np.log10(max(level, 1e-9) / 32768)


def packets(path: Path) -> list[dict]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "packet=pts_time,pos,size", "-of", "json",
         str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return [p for p in json.loads(out)["packets"] if p.get("pos") not in (None, "N/A")]


def fetch(client: Client, url: str, header: str | None) -> tuple[int, bytes, str]:
    kwargs = {"HTTP_RANGE": header} if header else {}
    answer = client.get(url, **kwargs)
    body = b"".join(answer.streaming_content) if answer.streaming else answer.content
    return answer.status_code, body, answer.get("Content-Range", "")


@pytest.mark.slow
@pytest.mark.django_db
def test_r32_online_playback_never_receives_a_closed_portion(partly_closed, tmp_path):
    _, _, copy, portal = partly_closed
    page = portal.get(f"/access/portal/copies/{copy.pk}/play")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="closed-note"' in text and "R32" not in text  # no rule ids to a citizen
    assert AuditEvent.objects.filter(action="access.copy_play").count() == 1
    listing = portal.get("/access/portal/").content.decode()
    assert f'id="play-{copy.petition_id}"' in listing

    # the copy itself is cut: its signed manifest lists both intervals, packets left out
    with zipfile.ZipFile(copies_dir() / copy.file_name) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".manifest.json") and "/copy/" in n)
        excluded = json.loads(archive.read(name))["copy"]["excluded"]
    assert [tuple(e["requested"]) for e in excluded] == CLOSED
    assert all(e["packets"] > 0 for e in excluded)

    url = f"/access/portal/copies/{copy.pk}/files/mix.webm"
    status, whole, _ = fetch(portal, url, None)
    assert status == 200 and len(whole) > 1000
    served = tmp_path / "served.webm"
    served.write_bytes(whole)
    # Range requests across each boundary of each closed portion: the packets around it
    probes = 0
    listed = packets(served)
    for a, b in CLOSED:
        for boundary in (a, b):
            near = [p for p in listed if abs(float(p["pts_time"]) - boundary) <= 0.25]
            first, last = int(near[0]["pos"]), int(near[-1]["pos"]) + int(near[-1]["size"]) - 1
            status, body, span = fetch(portal, url, f"bytes={first}-{last}")
            assert status == 206 and span == f"bytes {first}-{last}/{len(whole)}"
            assert body == whole[first : last + 1]
            probes += 1
    status, tail, _ = fetch(portal, url, "bytes=-4096")
    assert status == 206 and tail == whole[-4096:]
    assert probes == 4

    samples = decode(whole, tmp_path, "whole.webm")
    assert len(samples) / 8000 == pytest.approx(SECONDS, abs=0.1)  # the original's timeline
    for a, b in CLOSED:
        assert rms_db(samples, a + EDGE, b - EDGE) < -80, (a, b)  # nothing of the closed part
    for a, b in [(0.0, 1.0), (2.0, 3.5), (4.5, SECONDS)]:
        assert rms_db(samples, a + EDGE + 0.05, b - EDGE) > -30, (a, b)  # the tone, -21 dBFS

    peaks = portal.get(f"/access/portal/copies/{copy.pk}/files/peaks.json")
    assert peaks.status_code == 200
    data = json.loads(b"".join(peaks.streaming_content))
    assert data["length"] > 0 and data["bits"] == 8


@pytest.mark.slow
@pytest.mark.django_db
def test_r32_judge_and_staff_still_play_everything(world, partly_closed, tmp_path):
    _, recording, _, portal = partly_closed
    prepare_playback(recording)  # what the seal job derives for the court's playback page
    for role in ("judge", "secretary", "court_admin"):
        client = signed_in(world.person(role))
        page = client.get(f"/recordings/{recording.pk}")
        assert page.status_code == 200, role
        status, body, _ = fetch(client, f"/recordings/{recording.pk}/files/mix.webm", None)
        assert status == 200, role
        samples = decode(body, tmp_path, f"{role}.webm")
        for a, b in CLOSED:
            assert rms_db(samples, a + EDGE, b - EDGE) > -30, (role, a, b)
    # the participant cannot reach the court's own playback of the whole record
    assert portal.get(f"/recordings/{recording.pk}/files/mix.webm").status_code == 404
    assert portal.get(f"/recordings/{recording.pk}").status_code == 404


@pytest.mark.slow
@pytest.mark.django_db
def test_r32_only_the_applicant_plays_the_copy_online(world, partly_closed):
    _, _, copy, portal = partly_closed
    stranger = signed_in(world.person("participant", court="b"))
    assert stranger.get(f"/access/portal/copies/{copy.pk}/play").status_code == 404
    assert stranger.get(f"/access/portal/copies/{copy.pk}/files/mix.webm").status_code == 404
    Copy.objects.filter(pk=copy.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert portal.get(f"/access/portal/copies/{copy.pk}/files/mix.webm").status_code == 404


# --- the copy follows the portions: issue_copy takes them from closed_intervals ---------------

recorder_media, recorded = copykit.recorder_media, copykit.recorded  # the fixtures
PORTIONS = [(2.0, 3.5), (7.2, 8.1)]


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["civil", "criminal"])
def test_r32_copy_issued_on_petition_leaves_out_the_hearings_closed_portions(
    recorded, tmp_path, capsys, kind
):
    """The judge's decisions after sealing close two parts; the copy staff issue on the petition
    (no intervals named by anyone) leaves out both, packet for packet, and verifies."""
    recording, petition = recorded(kind)
    judge = recording.hearing.judge
    start = recording.started_at
    for a, b in PORTIONS:
        portions.add_portion(
            actor=judge,
            hearing=recording.hearing,
            start=start + timedelta(seconds=a),
            end=start + timedelta(seconds=b),
            reason="Ruling of the court",
        )
    sealed_before = recording.sha256
    copy = issue_copy(actor=recorded.secretary, petition=petition)
    zip_path = copies_dir() / copy.file_name
    _, manifest, media = copykit.unpack(zip_path, tmp_path / "out")
    excluded = manifest["copy"]["excluded"]
    assert [tuple(e["requested"]) for e in excluded] == [
        (pytest.approx(a), pytest.approx(b)) for a, b in PORTIONS
    ]
    assert manifest["copy"]["source"]["sha256"] == sealed_before
    spans = [tuple(e["cut"]) for e in excluded]  # rounded outward (to keyframes with video)
    original = copykit.original_file(recording, tmp_path)
    for track in ("a:0", "a:1"):
        copied = {p.md5 for p in copykit.packets(media, track)}
        for p in copykit.packets(original, track):
            # a packet merely touching a boundary (within 1 ms) may go either way
            if any(p.start < b - 1e-3 and p.end > a + 1e-3 for a, b in PORTIONS):
                assert p.md5 not in copied, (track, p.start)  # nothing of a closed part
            elif not any(p.start <= b + 1e-3 and p.end >= a - 1e-3 for a, b in spans):
                assert p.md5 in copied, (track, p.start)  # everything outside the cut spans
    call_command("verify", str(zip_path))
    assert "FAIL" not in capsys.readouterr().out
    recording.refresh_from_db()
    assert recording.sha256 == sealed_before  # the original is untouched
