"""Fixtures for access: sealed recordings of real A/V media (ffmpeg), a court CA and keys."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from taspa.recorder.actions import seal_stopped
from taspa.recorder.models import Recording
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key
from taspa.sealing.hashing import sha256_file

PASSWORD = "pin-1234"


@pytest.fixture(scope="session")
def court_ca(tmp_path_factory) -> tuple[democa.DemoCA, Path]:
    ca = democa.create_ca("Access Test Court CA")
    pem = tmp_path_factory.mktemp("ca") / "ca.pem"
    pem.write_bytes(ca.pem)
    return ca, pem


@pytest.fixture(scope="session")
def av_media(tmp_path_factory) -> Path:
    """Three seconds of MPEG-TS with H.264 video and two audio streams (as a courtroom with a
    camera and two microphone feeds would give)."""
    path = tmp_path_factory.mktemp("media") / "av.ts"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=3",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
            "-f", "lavfi", "-i", "sine=frequency=880:duration=3",
            "-map", "0:v", "-map", "1:a", "-map", "2:a",
            "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "mp2", "-f", "mpegts", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture
def home(settings, tmp_path, court_ca):
    """A private TASPA_HOME and blob store per test (sealed names repeat across tests)."""
    settings.TASPA_HOME = tmp_path / "home"
    settings.TASPA_HOME.mkdir()
    settings.TASPA_STORAGE = f"file://{tmp_path / 'blobs'}"
    settings.TASPA_TRUST_ANCHORS = str(court_ca[1])
    return settings.TASPA_HOME


@pytest.fixture
def sealed_hearing(world, home, court_ca, av_media, tmp_path):
    """``sealed_hearing(kind, closed=False)``: a hearing whose recording is sealed with the
    secretary's EDS, through the recorder's own sealing code."""
    secretary = world.person("secretary")
    register_signing_key(
        actor=world.admin,
        user=secretary,
        p12=democa.issue_p12(court_ca[0], common_name="Айгүл Жұмабаева", password=PASSWORD),
        password=PASSWORD,
    )

    def make(kind: str = "civil", closed: bool = False):
        hearing = world.hearing(court="a", kind=kind, closed=closed)
        spool = tmp_path / f"spool-{hearing.pk}"
        spool.mkdir()
        media = spool / "capture.ts"
        media.write_bytes(av_media.read_bytes())
        digest = sha256_file(media)
        now = timezone.now()
        # the hearing stands where a stop leaves it: stopped, not yet sealed
        type(hearing).objects.filter(pk=hearing.pk).update(state="stopped")
        recording = Recording.objects.create(
            hearing=hearing,
            state=Recording.State.STOPPED,
            spool_dir=str(spool),
            started_at=now - timedelta(seconds=3),
            stopped_at=now,
            container="mpegts",
            media_path=str(media),
            sha256=digest.sha256,
            bytes=digest.bytes,
            duration_s=3.0,
        )
        sealed = seal_stopped(recording)
        assert sealed.state == Recording.State.SEALED
        return hearing

    return make
