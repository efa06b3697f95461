"""Level analysis of a stopped recording for R17: how much audio it holds, and how loud.

ffmpeg decodes each audio track to low-rate PCM (8 kHz keeps speech and costs little: an 8-hour
track is ~230 million samples, read as a stream in 1 MiB chunks, so memory stays flat) and numpy
measures the RMS of every 0.1 s block of every channel, as the level meter does (R11).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taspa.incidents.policy import ANALYSIS_RATE, BLOCK_S
from taspa.recorder.proc import run_tool, spawn, stop_gracefully

CHUNK = 1 << 20
FLOOR_DBFS = -120.0


class AnalysisError(Exception):
    """The media could not be analysed (unreadable, or ffmpeg failed)."""


@dataclass(frozen=True)
class TrackLevels:
    stream: int
    channels: int
    seconds: float  # decodable audio, gaps not filled: a break in the record is not counted
    loudest_dbfs: float  # loudest 0.1 s block RMS over every channel of the track


def audio_channels(path: Path, *, timeout: float = 60) -> list[int]:
    """Channel count of every audio track of ``path`` (ffprobe)."""
    result = run_tool(
        ["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "stream=channels",
         "-of", "json", str(path)],
        timeout=timeout,
    )  # fmt: skip
    if result.returncode != 0:
        raise AnalysisError(f"ffprobe cannot read {path.name}: {result.stderr.strip()[:300]}")
    streams = json.loads(result.stdout or b"{}").get("streams", [])
    return [int(stream.get("channels") or 1) for stream in streams]


def _dbfs(value: float) -> float:
    return FLOOR_DBFS if value <= 0 else max(FLOOR_DBFS, 20 * float(np.log10(value)))


def track_levels(
    path: Path, stream: int, channels: int, *, rate: int = ANALYSIS_RATE, timeout: float = 3600
) -> TrackLevels:
    """Decode one audio track as a stream and measure it block by block."""
    command = [
        "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
        "-map", f"0:a:{stream}", "-ac", str(channels), "-ar", str(rate), "-f", "s16le", "pipe:1",
    ]  # fmt: skip
    block = max(1, int(rate * BLOCK_S)) * channels * 2
    frames, loudest, pending = 0, 0.0, b""
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="taspa-levels-") as scratch:
        process = spawn(command, pass_fds=(), log_path=Path(scratch) / "ffmpeg.log")
        try:
            while chunk := process.stdout.read(CHUNK):
                if time.monotonic() > deadline:
                    raise AnalysisError(f"level analysis of {path.name} took over {timeout:.0f} s")
                pending += chunk
                usable = len(pending) - len(pending) % block
                if usable:
                    samples = np.frombuffer(pending[:usable], dtype="<i2").reshape(-1, channels)
                    pending = pending[usable:]
                    frames += samples.shape[0]
                    loudest = max(loudest, _loudest_block(samples, block // (2 * channels)))
            tail = len(pending) - len(pending) % (2 * channels)
            if tail:
                samples = np.frombuffer(pending[:tail], dtype="<i2").reshape(-1, channels)
                frames += samples.shape[0]
                loudest = max(loudest, _loudest_block(samples, samples.shape[0]))
        finally:
            code = stop_gracefully(process, timeout=5)
            process.stdout.close()
        if code != 0:
            log = (Path(scratch) / "ffmpeg.log").read_text(errors="replace")[-500:]
            raise AnalysisError(f"ffmpeg could not decode {path.name}: {log.strip()}")
    return TrackLevels(stream, channels, frames / rate, _dbfs(loudest))


def _loudest_block(samples: np.ndarray, frames_per_block: int) -> float:
    """The highest RMS (0..1) of any ``frames_per_block`` block of any channel."""
    whole = samples.shape[0] - samples.shape[0] % frames_per_block
    x = samples[:whole].astype(np.float32) / 32768.0
    if whole == 0:
        return 0.0
    blocks = x.reshape(-1, frames_per_block, samples.shape[1])
    return float(np.sqrt(np.mean(blocks * blocks, axis=1)).max())


def media_levels(path: Path) -> list[TrackLevels]:
    """Every audio track of ``path`` measured; empty when it has none."""
    if not path.is_file():
        raise AnalysisError(f"{path} does not exist")
    return [
        track_levels(path, index, channels) for index, channels in enumerate(audio_channels(path))
    ]
