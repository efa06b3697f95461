"""Crash recovery of a spool after the recorder process itself died (R19).

The journal's pieces were fsync'd after their media bytes, so every journaled piece must still
match the file. Bytes written after the last piece are salvaged as whole TS packets (a packet
cut by the crash is discarded); the chain then continues from the last piece.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taspa.recorder import policy
from taspa.recorder.journal import CHAIN_GENESIS, PieceRecord, chain_link, read_pieces
from taspa.recorder.policy import TS_PACKET
from taspa.recorder.spool import SYNC


class SpoolCorrupt(Exception):
    """A journaled piece no longer matches the media file: not a crash, an edit or a fault."""


@dataclass(frozen=True)
class RunInfo:
    index: int
    ts_offset: float
    anchor: float | None
    media_end: float | None
    command: list[str] = field(default_factory=list)


@dataclass
class Restored:
    hasher: Any  # hashlib object over the verified pieces
    last_piece: PieceRecord | None
    salvaged: bytes
    discarded: int
    runs: list[RunInfo] = field(default_factory=list)
    state: str = policy.RECORDING
    media_end: float = 0.0


def kill_orphan(records: list[dict[str, Any]]) -> None:
    """Kill the last run's ffmpeg if it outlived us (matched by its exact command line)."""
    runs = [r for r in records if r.get("type") == "run"]
    if not runs:
        return
    pid, command = runs[-1]["pid"], runs[-1]["command"]
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    except OSError:
        return
    if [part.decode(errors="replace") for part in cmdline] != command:
        return
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _verify(media: Any, pieces: list[PieceRecord]) -> Any:
    whole = hashlib.sha256()
    chain, offset = CHAIN_GENESIS, 0
    for expected_index, piece in enumerate(pieces):
        data = media.read(piece.length)
        digest = hashlib.sha256(data).hexdigest()
        link = chain_link(chain, digest)
        if (piece.index, piece.offset, digest, link) != (
            expected_index,
            offset,
            piece.sha256,
            piece.chain,
        ):
            raise SpoolCorrupt(f"piece {expected_index} does not match the media file")
        whole.update(data)
        chain, offset = link, offset + piece.length
    return whole


def salvage(tail: bytes) -> bytes:
    """The longest prefix of ``tail`` made of whole TS packets that start with the sync byte."""
    good = 0
    while good + TS_PACKET <= len(tail) and tail[good] == SYNC:
        good += TS_PACKET
    return tail[:good]


def _runs(records: list[dict[str, Any]], last_write: float) -> list[RunInfo]:
    anchors: dict[int, float] = {}
    ends: dict[int, float] = {}
    for record in records:
        if record.get("type") == "piece" and record.get("anchor") is not None:
            anchors[record["run"]] = record["anchor"]
        if record.get("type") == "run_end":
            anchors[record["run"]], ends[record["run"]] = record["anchor"], record["media_end"]
    runs = []
    for record in (r for r in records if r.get("type") == "run"):
        index, offset = record["run"], record["ts_offset"]
        anchor = anchors.get(index)
        end = ends.get(index)
        if end is None and anchor is not None:
            end = offset + max(
                0.0, last_write - anchor
            )  # the crash: media ran until the last write
        runs.append(RunInfo(index, offset, anchor, end, record["command"]))
    return runs


def _state(records: list[dict[str, Any]]) -> str:
    state = policy.RECORDING
    for record in records:
        state = {
            "pause": policy.PAUSED,
            "resume": policy.RECORDING,
            "disk_full": policy.HALTED,
        }.get(record.get("type"), state)
    return state


def restore_spool(media_path: Path, journal_path: Path, records: list[dict[str, Any]]) -> Restored:
    """Verify journaled pieces, cut the file back to the last one, return the salvageable tail."""
    pieces = read_pieces(journal_path)
    last_write = os.stat(media_path).st_mtime
    with open(media_path, "r+b") as media:
        hasher = _verify(media, pieces)
        end = media.tell()
        tail = media.read()
        kept = salvage(tail)
        media.truncate(end)  # the salvaged packets are appended again as a journaled piece
        os.fsync(media.fileno())
    runs = _runs(records, min(last_write, time.time()))
    ended = [r.media_end for r in runs if r.media_end is not None]
    return Restored(
        hasher=hasher,
        last_piece=pieces[-1] if pieces else None,
        salvaged=kept,
        discarded=len(tail) - len(kept),
        runs=runs,
        state=_state(records),
        media_end=ended[-1] if ended else 0.0,
    )
