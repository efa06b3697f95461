"""What the capture engine reports and keeps per ffmpeg run: events, gaps, results (R6, R19)."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from taspa.recorder.timestamps import PesWatch


class EngineError(Exception):
    """A request the engine cannot honour in its current state."""


@dataclass(frozen=True)
class Gap:
    """A break in the record, as wall-clock times of the media timeline (R6, R19)."""

    start: datetime
    end: datetime
    cause: str


@dataclass(frozen=True)
class EngineEvent:
    kind: str  # gap | alarm | source_lost | disk_full | restarted | timestamps
    at: datetime
    detail: str
    gap: Gap | None = None


@dataclass(frozen=True)
class CaptureResult:
    media_path: Path
    sha256: str
    bytes: int
    duration_s: float
    chain_head: str
    pieces: int
    gaps: list[Gap]
    started_at: datetime
    container: str
    command: list[str]
    commands: list[list[str]] = field(default_factory=list)  # every run, restarts included
    journal_path: Path | None = None


@dataclass
class RunState:
    """One ffmpeg process. ``anchor`` is the wall time of its first sample; ``frames`` counts
    level-meter frames, so ``ts_offset + frames / rate`` is where its media ends."""

    index: int
    ts_offset: float
    launched: float
    command: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None
    meter_fd: int | None = None
    anchor: float | None = None
    meter_bytes: int = 0
    first_data: float | None = None
    last_data: float = 0.0
    media_end: float | None = None  # restored runs: known from the journal
    retiring: bool = False
    fault: str | None = None  # a timestamp fault in its output: restart it (timestamps.py)
    pes: PesWatch | None = None
    jumped: set[int] = field(default_factory=set)  # tracks whose jump ahead was reported
    threads: list[threading.Thread] = field(default_factory=list)
