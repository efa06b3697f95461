"""#16 point 4: copies any player plays, made by stream copy (R31). A recording as the recorder
writes it (two Opus microphones and H.264 in MPEG-TS) gives an Ogg Opus audio-only copy and an
MP4 audio+video copy whose packets are the sealed original's (packet hashes compared), inside a
package that ``taspa verify`` accepts (its page in Chromium: test_copy_page.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from taspa.access.copies import copies_dir, issue_copy
from taspa.access.models import Petition
from taspa.recorder.actions import seal_stopped
from taspa.recorder.models import Mark, Recording
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key
from taspa.sealing.hashing import sha256_file
from taspa.sealing.reading import write_sealed

from .copykit import SECONDS, make_recording, packets, stream_kinds, unpack

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
PASSWORD = "pin-1234"
MARKS = [(0.5, "Судья Ахметов", "judge"), (4.0, "Свидетель Омарова", "witness"),
         (9.0, "Истец Әсел Үмбетова", "plaintiff")]  # fmt: skip


@pytest.fixture(scope="module")
def recorder_media(tmp_path_factory) -> Path:
    return make_recording(tmp_path_factory.mktemp("rec") / "capture.ts")


@pytest.fixture
def recorded(world, home, court_ca, recorder_media, tmp_path, api_as):
    """``recorded(kind)``: a sealed recording of ``recorder_media`` with three speaker marks,
    and a copy petition on it, as the recorder and the portal leave them."""
    secretary = world.person("secretary")
    register_signing_key(
        actor=world.admin,
        user=secretary,
        p12=democa.issue_p12(court_ca[0], common_name="Айгүл Жұмабаева", password=PASSWORD),
        password=PASSWORD,
    )

    def make(kind: str) -> tuple[Recording, Petition]:
        hearing = world.hearing(court="a", kind=kind)
        spool = tmp_path / f"spool-{hearing.pk}"
        spool.mkdir()
        media = spool / "capture.ts"
        media.write_bytes(recorder_media.read_bytes())
        digest = sha256_file(media)
        now = timezone.now()
        type(hearing).objects.filter(pk=hearing.pk).update(state="stopped")
        recording = Recording.objects.create(
            hearing=hearing, state=Recording.State.STOPPED, spool_dir=str(spool),
            started_at=now - timedelta(seconds=SECONDS), stopped_at=now, container="mpegts",
            media_path=str(media), sha256=digest.sha256, bytes=digest.bytes,
            duration_s=float(SECONDS),
        )  # fmt: skip
        for offset, speaker, role in MARKS:
            Mark.objects.create(
                recording=recording, speaker=speaker, role=role, offset_s=offset,
                at=now - timedelta(seconds=SECONDS - offset), created_by=secretary,
            )  # fmt: skip
        recording = seal_stopped(recording)
        assert recording.state == Recording.State.SEALED
        body = {
            "hearing": hearing.pk, "kind": "copy", "delivery": "online",
            "applicant": {"name": "Әсел Үмбетова", "role": "plaintiff", "address": "", "phone": ""},
            "personal_data_warning_acknowledged": True,
        }  # fmt: skip
        answer = api_as(secretary).post("/petitions", body)
        assert answer.status_code == 201, answer.json()
        petition = Petition.objects.get(pk=answer.json()["id"])
        return recording, petition

    make.secretary = secretary
    return make


def original_file(recording: Recording, into: Path) -> Path:
    return write_sealed(recording, into, ["media"]).media


def test_r31_audio_only_copy_is_ogg_opus_with_the_originals_packets(recorded, tmp_path, capsys):
    recording, petition = recorded("civil")
    copy = issue_copy(actor=recorded.secretary, petition=petition)
    _, manifest, media = unpack(copies_dir() / copy.file_name, tmp_path / "out")
    assert media.suffix == ".ogg" and manifest["copy"]["container"] == "audio/ogg"
    assert stream_kinds(media) == ["audio/opus", "audio/opus"]  # both microphones, no video
    original = original_file(recording, tmp_path)
    for track in ("a:0", "a:1"):
        assert [p.md5 for p in packets(media, track)] == [p.md5 for p in packets(original, track)]
    assert manifest["copy"]["source"]["sha256"] == recording.sha256
    assert manifest["file"]["sha256"] == copy.media_sha256 == sha256_file(media).sha256
    assert manifest["copy"]["excluded"] == []
    call_command("verify", str(copies_dir() / copy.file_name))
    out = capsys.readouterr().out
    assert "FAIL" not in out and "copy_source" in out and "bag_fixity" in out


def test_r31_audio_video_copy_is_mp4_with_the_originals_packets(recorded, tmp_path, capsys):
    recording, petition = recorded("criminal")
    copy = issue_copy(actor=recorded.secretary, petition=petition)
    _, manifest, media = unpack(copies_dir() / copy.file_name, tmp_path / "out")
    assert media.suffix == ".mp4" and manifest["copy"]["container"] == "video/mp4"
    assert sorted(stream_kinds(media)) == ["audio/opus", "audio/opus", "video/h264"]
    original = original_file(recording, tmp_path)
    for track in ("a:0", "a:1", "v:0"):
        copied, sealed = packets(media, track), packets(original, track)
        assert [p.md5 for p in copied] == [p.md5 for p in sealed], track
        # the recording's own timeline: a mark's time is the same moment in the copy
        assert all(abs(c.start - s.start) < 0.002 for c, s in zip(copied, sealed, strict=True))
    call_command("verify", str(copies_dir() / copy.file_name))
    out = capsys.readouterr().out
    assert "FAIL" not in out and "original_manifest_signature" in out
