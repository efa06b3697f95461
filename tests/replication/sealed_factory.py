"""Sealed recordings made quickly for replication and retention tests: synthetic media bytes
put through the recorder's real sealing (manifest, CMS signatures with a registered EDS key,
blob store), so the files verify exactly as a captured hearing's do."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from taspa.recorder.actions import seal_stopped
from taspa.recorder.journal import CHAIN_GENESIS, JOURNAL_NAME, PieceRecord, chain_link, piece_line
from taspa.recorder.models import Recording
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key

PASSWORD = "pin-1234"


@dataclass
class Pki:
    ca: democa.DemoCA
    anchors: Path


def make_pki(directory: Path) -> Pki:
    ca = democa.create_ca("Replication Test CA")
    anchors = directory / "trust-anchors.pem"
    anchors.write_bytes(ca.pem)
    return Pki(ca, anchors)


def register_key(world, pki: Pki, court: str = "a") -> None:
    register_signing_key(
        actor=world.admin,
        user=world.person("secretary", court),
        p12=democa.issue_p12(pki.ca, common_name="Айгүл Жұмабаева", password=PASSWORD),
        password=PASSWORD,
    )


def sealed_recording(
    world,
    spool: Path,
    *,
    size: int = 300_000,
    seed: int | None = None,
    court: str = "a",
    kind: str = "criminal",
    piece: int | None = None,
) -> Recording:
    """A hearing in ``court`` with a sealed recording of ``size`` pseudo-random bytes; with
    ``piece``, journaled as the recorder does (a chained line per ``piece`` bytes, R19)."""
    hearing = world.hearing(court=court, kind=kind)
    seed = hearing.pk if seed is None else seed
    data = hashlib.shake_256(f"taspa-{seed}".encode()).digest(size)
    directory = spool / f"h{hearing.pk}"
    directory.mkdir(parents=True)
    media = directory / "capture.ts"
    media.write_bytes(data)
    chain = write_journal(directory / JOURNAL_NAME, data, piece) if piece else None
    now = timezone.now()
    # the hearing stands where a stop leaves it: stopped, not yet sealed
    type(hearing).objects.filter(pk=hearing.pk).update(state="stopped")
    recording = Recording.objects.create(
        hearing=hearing,
        state=Recording.State.STOPPED,
        spool_dir=str(directory),
        started_at=now - timedelta(minutes=5),
        stopped_at=now,
        container="mpegts",
        sha256=hashlib.sha256(data).hexdigest(),
        bytes=size,
        duration_s=300.0,
        media_path=str(media),
        chain_head=chain[0] if chain else "",
        pieces=chain[1] if chain else None,
    )
    sealed = seal_stopped(recording)
    assert sealed.state == Recording.State.SEALED, "the secretary needs a registered key"
    return Recording.objects.get(pk=sealed.pk)


def write_journal(path: Path, data: bytes, piece: int) -> tuple[str, int]:
    """The recorder's journal of ``data`` cut into ``piece``-byte pieces: its chain head and
    piece count (what the manifest's ``segments`` says)."""
    head, lines = CHAIN_GENESIS, []
    for index, offset in enumerate(range(0, len(data), piece)):
        chunk = data[offset : offset + piece]
        sha = hashlib.sha256(chunk).hexdigest()
        head = chain_link(head, sha)
        record = PieceRecord(index, offset, len(chunk), sha, head)
        lines.append(json.dumps(piece_line(record), separators=(",", ":"), sort_keys=True))
    path.write_text("".join(line + "\n" for line in lines))
    return head, len(lines)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without Taspa's, Django's or the database's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    # R8's start guard is proven in process (tests/recorder/test_r8_preflight_guard.py)
    return env | {"TASPA_PREFLIGHT_MAX_AGE_MIN": "0"} | extra


def flip_stored_byte(digest: str, offset: int) -> None:
    """Behind Taspa's back: flip one byte of the content-addressed file in the file store."""
    from taspa.storage.store import get_store

    path = get_store().path(digest)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
