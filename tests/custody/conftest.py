"""Fixtures for custody: a sealed recording made without waiting for real time, media mount
points (a plain directory, and where the suite runs as root: real small, read-only and
nested file systems), and the people of the custody chain."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from taspa.recorder.actions import seal_stopped
from taspa.recorder.models import Mark, Pause, Recording
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key

PASSWORD = "pin-1234"
IS_ROOT = os.geteuid() == 0


@pytest.fixture(scope="session")
def custody_ca() -> democa.DemoCA:
    return democa.create_ca("Taspa Custody Test CA")


@pytest.fixture
def trusted(custody_ca, settings, tmp_path) -> Path:
    anchors = tmp_path / "trust-anchors.pem"
    anchors.write_bytes(custody_ca.pem)
    settings.TASPA_TRUST_ANCHORS = str(anchors)
    return anchors


def make_ts(path: Path, seconds: float = 4.0) -> None:
    """A short MPEG-TS with one Opus track, as the recorder stores it."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"sine=frequency=440:d={seconds}",
         "-c:a", "libopus", "-b:a", "32k", "-f", "mpegts", str(path)],
        check=True, timeout=60,
    )  # fmt: skip


@pytest.fixture
def sealed(world, custody_ca, trusted, tmp_path, settings) -> Recording:
    """A sealed recording of a criminal first-instance hearing in court A, with two marks and a
    recess, signed with the secretary's EDS key."""
    settings.TASPA_HOME = tmp_path / "home"  # sealed files of this test only
    settings.TASPA_HOME.mkdir()
    secretary = world.person("secretary")
    register_signing_key(
        actor=world.admin,
        user=secretary,
        p12=democa.issue_p12(custody_ca, common_name="Айгүл Жұмабаева", password=PASSWORD),
        password=PASSWORD,
    )
    hearing = world.hearing(court="a", kind="criminal")
    spool = tmp_path / "spool"
    spool.mkdir()
    media = spool / "capture.ts"
    make_ts(media)
    data = media.read_bytes()
    started = timezone.now() - timedelta(seconds=10)
    # the hearing stands where a stop leaves it: stopped, not yet sealed
    type(hearing).objects.filter(pk=hearing.pk).update(state="stopped")
    recording = Recording.objects.create(
        hearing=hearing,
        spool_dir=str(spool),
        started_at=started,
        stopped_at=started + timedelta(seconds=4),
        state=Recording.State.STOPPED,
        container="mpegts",
        sha256=hashlib.sha256(data).hexdigest(),
        bytes=len(data),
        duration_s=4.0,
        chain_head="0" * 64,
        pieces=4,
        media_path=str(media),
    )
    for offset, speaker, role in (
        (0.5, "Ерлан Сәтбаев", "judge"),
        (2.0, "Әсел Үмбетова", "plaintiff"),
    ):
        Mark.objects.create(
            recording=recording, speaker=speaker, role=role, offset_s=offset,
            at=started + timedelta(seconds=offset), created_by=secretary,
        )  # fmt: skip
    Pause.objects.create(
        recording=recording, reason="recess", announced_at=started + timedelta(seconds=3),
        started_at=started + timedelta(seconds=3), ended_at=started + timedelta(seconds=3.5),
        requested_by=secretary,
    )  # fmt: skip
    sealed = seal_stopped(recording)
    assert sealed.state == Recording.State.SEALED
    return Recording.objects.get(pk=recording.pk)


@pytest.fixture(autouse=True)
def media_roots(settings, tmp_path) -> None:
    """Media are 'mounted' under this test's directory; plain directories stand in for sticks
    unless a test asks for a real mount point."""
    settings.TASPA_MEDIUM_ROOTS = [str(tmp_path)]
    settings.TASPA_MEDIUM_REQUIRE_MOUNT_POINT = False


@pytest.fixture
def mount(tmp_path) -> Path:
    """A 'medium' that is a plain directory, with somebody's old files on it."""
    root = tmp_path / "usb"
    (root / "old" / "deeper").mkdir(parents=True)
    (root / "old" / "deeper" / "photo.jpg").write_bytes(b"\xff\xd8old")
    (root / ".hidden").write_text("old")
    (root / "notes.txt").write_text("old")
    return root


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, timeout=30)


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False, timeout=30)


@pytest.fixture
def tmpfs(tmp_path) -> Iterator[callable]:
    """``tmpfs(size, ro=False)``: a real small file system mounted under tmp_path (root only)."""
    if not IS_ROOT:
        pytest.skip("mounting a file system needs root")
    mounted: list[Path] = []

    def make(size: str, *, ro: bool = False, at: Path | None = None) -> Path:
        point = at or tmp_path / f"tmpfs{len(mounted)}"
        point.mkdir(parents=True, exist_ok=True)
        _mount("-t", "tmpfs", "-o", f"size={size}{',ro' if ro else ''}", "tmpfs", str(point))
        mounted.append(point)
        return point

    yield make
    for point in reversed(mounted):
        _umount(point)
