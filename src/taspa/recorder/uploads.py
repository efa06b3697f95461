"""Resumable upload of an agent's spool, and its re-verification before sealing (R14, R19).

The agent appends bytes to two files on the server, the media (``recording.ts``) and the
journal (``journal.jsonl``), with ``Content-Range: bytes START-END/*``. The server accepts a
chunk only at the offset it already holds, fsyncs it, and answers the new offset; after an
outage the agent asks for the offsets and goes on from there. When the agent has stopped and
everything is here, ``complete_upload`` re-verifies the journal's piece chain and the running
SHA-256 against the uploaded bytes, and only then seals as for local capture (ADR 0004). The
recording's state and fields are written by ``recorder.actions`` (``upload_verified``).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from taspa.courts.models import Hearing
from taspa.errors import Conflict, InvalidInput, PayloadTooLarge
from taspa.recorder import actions
from taspa.recorder.journal import JOURNAL_NAME, MEDIA_NAME, Journal, verify_pieces
from taspa.recorder.models import Recording
from taspa.recorder.runtime import upload_dir

FILES = {"media": MEDIA_NAME, "journal": JOURNAL_NAME}
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
MAX_CHUNK = 2 << 20


@dataclass(frozen=True)
class UploadState:
    media: int
    journal: int
    recording_state: str

    def as_dict(self) -> dict[str, Any]:
        return {"media": self.media, "journal": self.journal, "state": self.recording_state}


def _recording(hearing: Hearing) -> Recording:
    recording = Recording.objects.filter(hearing=hearing).first()
    if recording is None:
        raise Conflict("not_started", _("The server has no recording for this hearing yet."))
    return recording


def _path(hearing: Hearing, which: str) -> Path:
    if which not in FILES:
        raise InvalidInput("unknown_file", _("Upload 'media' or 'journal'."))
    return upload_dir(hearing.pk) / FILES[which]


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def upload_state(hearing: Hearing) -> UploadState:
    """The offsets the server holds, fsync'd: where the agent continues."""
    recording = _recording(hearing)
    return UploadState(
        media=_size(_path(hearing, "media")),
        journal=_size(_path(hearing, "journal")),
        recording_state=recording.state,
    )


def parse_content_range(header: str | None, length: int) -> int:
    """The chunk's first byte; its end must agree with the body's length."""
    match = CONTENT_RANGE.match(header or "")
    if match is None:
        raise InvalidInput("content_range", _("Send Content-Range: bytes START-END/TOTAL (or /*)."))
    start, end = int(match[1]), int(match[2])
    if length > MAX_CHUNK:
        raise PayloadTooLarge(
            "chunk_too_large",
            _("Send at most %(count)s bytes per chunk."),
            params={"count": MAX_CHUNK},
        )
    if end - start + 1 != length:
        detail = f"The range holds {end - start + 1} bytes, not {length}."
        raise InvalidInput("content_range", detail)
    return start


def append_chunk(hearing: Hearing, which: str, start: int, data: bytes) -> int:
    """Append ``data`` at ``start`` (which must be the size held now) and fsync: the new offset."""
    recording = _recording(hearing)
    if recording.state != Recording.State.CAPTURING:
        raise Conflict(
            "upload_closed",
            _("The recording is finished; nothing can be added to it."),
            technical=recording.state,
        )
    path = _path(hearing, which)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held = os.fstat(fd).st_size
        if start != held:
            raise OffsetMismatch(held)
        view, written = memoryview(data), 0
        while written < len(view):
            written += os.write(fd, view[written:])
        os.fsync(fd)
        return held + len(data)
    finally:
        os.close(fd)


class OffsetMismatch(Conflict):
    def __init__(self, offset: int) -> None:
        super().__init__("offset_mismatch", f"The server holds {offset} bytes; continue there.")
        self.offset = offset


@dataclass(frozen=True)
class UploadVerdict:
    ok: bool
    detail: str
    stop: dict[str, Any] | None = None


def verify_upload(hearing: Hearing) -> UploadVerdict:
    """Chain of pieces, whole-file SHA-256 and size against the journal's stop record."""
    media, journal = _path(hearing, "media"), _path(hearing, "journal")
    if not media.exists() or not journal.exists():
        return UploadVerdict(False, "nothing uploaded yet")
    records = Journal.read(journal)
    stop = records[-1] if records and records[-1].get("type") == "stop" else None
    if stop is None:
        return UploadVerdict(False, "the journal has no stop record yet")
    if _size(media) < stop["bytes"]:  # still arriving: nothing wrong with what is here
        return UploadVerdict(False, f"{_size(media)} of {stop['bytes']} bytes uploaded")
    chain = verify_pieces(media, journal)
    if not chain.ok:
        return UploadVerdict(False, f"piece chain: {chain.detail}", stop)
    digest = _sha256(media)
    if digest != stop["sha256"] or _size(media) != stop["bytes"]:
        return UploadVerdict(False, f"SHA-256 {digest} / {_size(media)} bytes ≠ the agent's", stop)
    return UploadVerdict(True, chain.detail, stop)


def _sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as media:
        while block := media.read(1 << 20):
            hasher.update(block)
    return hasher.hexdigest()


def complete_upload(hearing: Hearing) -> Recording:
    """Everything is here: re-verify, fill the recording from the journal, seal (R14).

    Idempotent: a completed upload answers with the recording as it stands (a signing failure
    leaves it stopped for ``seal_pending``). A mismatch discards the uploaded copy, so the agent
    sends its spool again from byte 0; the agent's own spool is untouched.
    """
    recording = _recording(hearing)
    if recording.state != Recording.State.CAPTURING:
        return actions.seal_recording(recording)
    verdict = verify_upload(hearing)
    if not verdict.ok:
        if verdict.stop is not None:
            for which in FILES:
                _path(hearing, which).unlink(missing_ok=True)
        raise Conflict(
            "upload_unverified",
            _("The upload does not verify: %(detail)s"),  # (to the courtroom PC's log)
            {"detail": verdict.detail},
        )
    return actions.upload_verified(
        hearing=hearing,
        media=_path(hearing, "media"),
        journal=_path(hearing, "journal"),
        check=verdict.detail,
    )
