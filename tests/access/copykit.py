"""Helpers of the copy-media tests: a recording as the recorder writes it (Opus tracks and H.264
in MPEG-TS on the hearing's own timeline), and packet hashes read back from any container."""

from __future__ import annotations

import json
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from taspa.access.models import Petition
from taspa.recorder.actions import seal_stopped
from taspa.recorder.models import Mark, Recording
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key
from taspa.sealing.hashing import sha256_file
from taspa.sealing.layout import SealedFiles
from taspa.sealing.manifest import build_manifest, certificate_summary
from taspa.sealing.reading import write_sealed
from taspa.sealing.seal import seal_recording

SECONDS = 12
FPS = 10
GOP = 25  # a keyframe every 2.5 s: the cut's rounding to keyframes shows


def make_recording(path: Path) -> Path:
    """Two microphones (distinct noise, so no two packets are alike) as mono Opus 48 kHz
    stamped from their sample count, and H.264 with a keyframe every 2.5 s: what
    ``recorder.policy.capture_command`` writes (MPEG-TS, -muxdelay 0, timeline from 0)."""
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}:duration={SECONDS}",
            "-f", "lavfi", "-i", f"anoisesrc=a=0.2:seed=1:d={SECONDS}:r=48000",
            "-f", "lavfi", "-i", f"anoisesrc=a=0.2:seed=2:d={SECONDS}:r=48000",
            "-filter_complex", "[1:a]asetpts=N/SR/TB[a0];[2:a]asetpts=N/SR/TB[a1]",
            "-map", "[a0]", "-map", "[a1]", "-map", "0:v",
            "-c:a", "libopus", "-b:a", "48k", "-ar", "48000",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", str(GOP), "-pix_fmt", "yuv420p",
            "-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


@dataclass(frozen=True)
class Pkt:
    start: float
    end: float
    key: bool
    md5: str


def packets(path: Path, spec: str) -> list[Pkt]:
    """Every packet of stream ``spec`` (``a:0``, ``v:0``) in decode order: its time span, key
    flag and the MD5 of its payload as ffmpeg demuxes it (``-c copy``: nothing decoded). H.264
    is read as Annex B NAL units with one framing (``h264_metadata``), since MP4 and Matroska
    store the same NAL units with length prefixes where MPEG-TS has start codes."""
    bsf = ["-bsf:v", "h264_mp4toannexb,h264_metadata"] if spec.startswith("v") else []
    hashes = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", f"0:{spec}", "-c", "copy", *bsf,
         "-f", "framemd5", "-"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    md5s = [line.split(",")[5].strip() for line in hashes.splitlines() if not line.startswith("#")]
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", spec, "-show_entries",
         "packet=pts_time,dts_time,duration_time,flags", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    rows = json.loads(probe)["packets"]
    assert len(rows) == len(md5s), (len(rows), len(md5s))
    found = []
    for row, md5 in zip(rows, md5s, strict=True):
        start = float(row.get("pts_time", row.get("dts_time", 0)))
        found.append(
            Pkt(start, start + float(row.get("duration_time", 0)), "K" in row["flags"], md5)
        )
    return found


def stream_kinds(path: Path) -> list[str]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name", "-of", "json",
         str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return [f"{s['codec_type']}/{s['codec_name']}" for s in json.loads(out)["streams"]]


def unpack(zip_path: Path, into: Path) -> tuple[Path, dict, Path]:
    """The bag folder, the copy's manifest and the copy's media file."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(into)
    bag = next(into.iterdir())
    manifest_path = next((bag / "data" / "copy").glob("*.manifest.json"))
    manifest = json.loads(manifest_path.read_bytes())
    return bag, manifest, bag / "data" / "copy" / manifest["file"]["name"]


def seal_file(media: Path, out: Path, signer, marks: list[dict]) -> SealedFiles:
    """Seal ``media`` outside any database, as the recorder's sealing code does (R14)."""
    digest = sha256_file(media)
    result = {"media_path": str(media), "sha256": digest.sha256, "bytes": digest.bytes,
              "duration_s": float(SECONDS), "chain_head": None, "pieces": None,
              "started_at": datetime.now(UTC), "container": "mpegts"}  # fmt: skip
    manifest = build_manifest(
        file_name="court-a_page-1_h1.ts",
        result=result,
        hearing={"id": 1, "case_number": "2-123/2026", "case_kind": "criminal"},
        secretary={
            "name": "Айгүл Жұмабаева",
            "certificate": certificate_summary(signer.certificate),
        },
        marks=marks,
    )
    return seal_recording(result_like=result, manifest=manifest, signer=signer, out_dir=out)


# --- fixtures (imported by the test modules) ---------------------------------------------------

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
    """The sealed original's media, from the blob store."""
    return write_sealed(recording, into, ["media"]).media
