"""The one growing media file: whole TS packets appended, hashed, fsync'd, journaled (R19).

The file written here is the file that is sealed (R13, R14): its SHA-256 is kept running while
it grows, so stop → seal never re-reads or re-muxes hours of media.
"""

from __future__ import annotations

import errno
import hashlib
import os
import time
from pathlib import Path
from typing import Any

from taspa.recorder.journal import CHAIN_GENESIS, Journal, PieceRecord, chain_link, piece_line
from taspa.recorder.policy import TS_PACKET

SYNC = 0x47
RESERVE_NAME = ".reserve"
# Freed on ENOSPC so the last piece can still be journaled and fsync'd (R19: nothing written
# before a full disk may be lost).
RESERVE_BYTES = 1 << 20


class DiskFull(Exception):
    """The media file cannot grow; everything before ``offset`` is written and journaled."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"no space left on device at byte {offset}")
        self.offset = offset


def aligned_packets(data: bytes) -> tuple[bytes, bytes]:
    """Split ``data`` into whole TS packets and the remainder (a packet cut by a kill)."""
    cut = len(data) - len(data) % TS_PACKET
    return data[:cut], data[cut:]


def packets_valid(data: bytes | memoryview) -> bool:
    """True when every 188-byte packet in ``data`` starts with the sync byte."""
    return all(data[i] == SYNC for i in range(0, len(data), TS_PACKET))


class MediaSpool:
    """Appends to ``media_path`` and writes one journal line per piece of ~``piece_seconds``."""

    def __init__(
        self,
        media_path: Path,
        journal: Journal,
        *,
        piece_seconds: float = 0.9,
        resume: PieceRecord | None = None,
        whole: Any = None,
    ) -> None:
        self.media_path = media_path
        self.journal = journal
        self.piece_seconds = piece_seconds
        self._fd = os.open(media_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._whole = whole or hashlib.sha256()
        self._piece = hashlib.sha256()
        last = resume or PieceRecord(-1, 0, 0, "", CHAIN_GENESIS)
        self.index = last.index + 1
        self.piece_start = last.offset + last.length
        self.offset = self.piece_start
        self.chain = last.chain
        self.piece_opened = time.monotonic()
        self.run = 0
        self.anchor: float | None = None  # wall time of the current run's first sample
        self._reserve = media_path.parent / RESERVE_NAME
        self._make_reserve()

    def _make_reserve(self) -> None:
        try:
            with open(self._reserve, "wb") as reserve:
                os.posix_fallocate(reserve.fileno(), 0, RESERVE_BYTES)
        except OSError:
            self._reserve.unlink(missing_ok=True)  # no room even for the reserve: run without

    def append(self, packets: bytes) -> None:
        """Write whole TS packets; on ENOSPC keep the whole packets written, journal, raise."""
        view = memoryview(packets)
        written = 0
        try:
            while written < len(view):
                written += os.write(self._fd, view[written:])
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
            self._disk_full(view, written)
        self._account(view)

    def _account(self, view: memoryview) -> None:
        self._whole.update(view)
        self._piece.update(view)
        self.offset += len(view)

    def _disk_full(self, view: memoryview, written: int) -> None:
        self._reserve.unlink(missing_ok=True)
        keep = written - written % TS_PACKET
        os.ftruncate(self._fd, self.offset + keep)
        self._account(view[:keep])
        self.close_piece()
        raise DiskFull(self.offset)

    def due(self) -> bool:
        return time.monotonic() - self.piece_opened >= self.piece_seconds

    def close_piece(self, **extra: Any) -> PieceRecord | None:
        """fsync the media, then journal the piece since the last one (no-op when empty)."""
        self.piece_opened = time.monotonic()
        length = self.offset - self.piece_start
        if length == 0:
            return None
        # Media first: a journal line never points at bytes not on disk. fdatasync: the data and
        # the file's new size, without its timestamps (one journal write per piece, R19).
        os.fdatasync(self._fd)
        digest = self._piece.hexdigest()
        piece = PieceRecord(
            self.index, self.piece_start, length, digest, chain_link(self.chain, digest)
        )
        self.journal.append(
            piece_line(piece, t=time.time(), run=self.run, anchor=self.anchor, **extra)
        )
        self.index, self.piece_start, self.chain = piece.index + 1, self.offset, piece.chain
        self._piece = hashlib.sha256()
        return piece

    @property
    def sha256(self) -> str:
        return self._whole.hexdigest()

    def close(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1
        self._reserve.unlink(missing_ok=True)
