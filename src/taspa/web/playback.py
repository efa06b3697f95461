"""What the playback page needs, derived ONCE from a sealed recording (docs/adr/0008-ui.md).

The sealed original (MPEG-TS with Opus tracks, signed) is never changed and never decoded in
the browser. When a recording is sealed, this module writes beside it, under
``TASPA_HOME/playback/<recording id>/``:

- ``peaks.json``: min/max pairs per bin of the mixed audio, in the JSON of the ``waveform-data``
  library (audiowaveform's format) that peaks.js draws for hours-long recordings;
- ``mix.webm`` and, for several microphones, ``track-N.webm``: browser-playable renditions
  (Opus in WebM). Pause gaps in the original's timestamps (R6: media time is wall time) become
  silence, so the player, the waveform and the marks share one timeline;
- ``video.mp4`` when the original has video (H.264 stream copy);
- ``info.json`` (microphone names, video) and ``verdict.json`` (the signature check's result).
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from taspa.recorder.proc import run_tool

log = logging.getLogger("taspa.web")

PEAKS_RATE = 8000  # Hz of the PCM the peaks are computed from: speech needs no more
SAMPLES_PER_PIXEL = 256  # 32 ms per bin: 6 hours ≈ 675,000 bins
FINER = (32, 64, 128)  # short recordings get finer bins, so they fill the view
VIEW_BINS = 1600
RENDITION_KBPS = 32
TOOL_TIMEOUT_S = 6 * 3600


@dataclass(frozen=True)
class PlaybackFiles:
    """Where a recording's derived playback files live."""

    root: Path

    @classmethod
    def of(cls, recording_id: int) -> PlaybackFiles:
        return cls(Path(settings.TASPA_HOME) / "playback" / str(recording_id))

    @property
    def peaks(self) -> Path:
        return self.root / "peaks.json"

    @property
    def mix(self) -> Path:
        return self.root / "mix.webm"

    @property
    def video(self) -> Path:
        return self.root / "video.mp4"

    @property
    def info(self) -> Path:
        return self.root / "info.json"

    @property
    def verdict(self) -> Path:
        return self.root / "verdict.json"

    def track(self, number: int) -> Path:
        return self.root / f"track-{number}.webm"

    @property
    def ready(self) -> bool:
        return self.info.exists()


def probe_streams(media: Path) -> list[dict[str, Any]]:
    """The original's streams (index, codec_type, codec_name), from ffprobe."""
    result = run_tool(
        [
            "ffprobe", "-v", "error", "-show_entries", "stream=index,codec_type,codec_name",
            "-of", "json", str(media),
        ],
        timeout=60,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"ffprobe failed: {result.stderr}")
    return json.loads(result.stdout or b"{}").get("streams", [])


def mix_filter(audio_tracks: int, rate: int) -> str:
    """filter_complex: every audio track mixed to one mono channel, gaps filled with silence."""
    fill = f"aresample={rate}:async=1:first_pts=0"
    if audio_tracks == 1:
        return f"[0:a:0]{fill},aformat=channel_layouts=mono[mix]"
    inputs = "".join(f"[0:a:{n}]" for n in range(audio_tracks))
    mix = f"amix=inputs={audio_tracks}:normalize=0"
    return f"{inputs}{mix},{fill},aformat=channel_layouts=mono[mix]"


def peaks_command(media: Path, audio_tracks: int) -> list[str]:
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(media),
        "-filter_complex", mix_filter(audio_tracks, PEAKS_RATE), "-map", "[mix]",
        "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1",
    ]  # fmt: skip


def bin_peaks(chunks: Iterator[bytes], samples_per_pixel: int) -> list[int]:
    """Min/max per bin of s16le mono PCM as 8-bit values (waveform-data ``bits: 8``), streaming:
    memory stays a few chunks whatever the recording's length."""
    data: list[int] = []
    pending = np.zeros(0, dtype=np.int16)
    for chunk in chunks:
        pending = np.concatenate([pending, np.frombuffer(chunk, dtype="<i2")])
        whole = len(pending) // samples_per_pixel * samples_per_pixel
        data += _min_max(pending[:whole], samples_per_pixel)
        pending = pending[whole:]
    if len(pending):
        data += _min_max(pending, len(pending))
    return data


def _min_max(samples: np.ndarray, width: int) -> list[int]:
    if not len(samples):
        return []
    bins = samples.reshape(-1, width).astype(np.int32) >> 8  # 16-bit to 8-bit
    pairs = np.stack([bins.min(axis=1), bins.max(axis=1)], axis=1)
    return pairs.clip(-128, 127).ravel().tolist()


def samples_per_pixel(duration_s: float | None) -> int:
    """The coarsest bins for hours of audio, finer ones for a recording of a few minutes."""
    for finer in FINER:
        if (duration_s or 0) * PEAKS_RATE / finer <= VIEW_BINS:
            return finer
    return SAMPLES_PER_PIXEL


def waveform_json(data: list[int], per_pixel: int) -> dict[str, Any]:
    return {
        "version": 2,
        "channels": 1,
        "sample_rate": PEAKS_RATE,
        "samples_per_pixel": per_pixel,
        "bits": 8,
        "length": len(data) // 2,
        "data": data,
    }


def compute_peaks(media: Path, audio_tracks: int, per_pixel: int) -> dict[str, Any]:
    """Decode the original once, at low rate, through a pipe (never whole into memory)."""
    process = subprocess.Popen(
        peaks_command(media, audio_tracks), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    chunks = iter(lambda: process.stdout.read(per_pixel * 2 * 2048), b"")
    data = bin_peaks(chunks, per_pixel)
    _, err = process.communicate(timeout=60)
    if process.returncode != 0:
        raise RuntimeError(f"ffmpeg failed decoding for peaks: {err.decode(errors='replace')}")
    return waveform_json(data, per_pixel)


def rendition_command(media: Path, audio_tracks: int, out: Path, track: int | None) -> list[str]:
    """Opus in WebM for the browser: the mix, or one microphone alone (``track``)."""
    if track is None:
        graph = mix_filter(audio_tracks, 48000)
    else:
        graph = f"[0:a:{track}]aresample=48000:async=1:first_pts=0[mix]"
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(media),
        "-filter_complex", graph, "-map", "[mix]", "-c:a", "libopus",
        "-b:a", f"{RENDITION_KBPS}k", "-f", "webm", str(out),
    ]  # fmt: skip


def video_command(media: Path, out: Path) -> list[str]:
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(media),
        "-map", "0:v:0", "-c:v", "copy", "-an", "-movflags", "+faststart", "-f", "mp4", str(out),
    ]  # fmt: skip


def _run(command: list[str], out: Path) -> None:
    """Write ``out`` through a temporary name: a half-made file is never served."""
    partial = out.with_name(f".{out.name}.partial")
    command = [*command[:-1], str(partial)]
    result = run_tool(command, timeout=TOOL_TIMEOUT_S)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg failed: {result.stderr}")
    partial.replace(out)


def _write_json(path: Path, value: Any) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)


def make_playback_files(
    media: Path, recording_id: int, track_names: list[str], duration_s: float | None
) -> PlaybackFiles:
    """Derive everything the playback page shows; idempotent (a rerun redoes what is missing).
    ``info.json`` is written last: its presence says the rest is complete."""
    files = PlaybackFiles.of(recording_id)
    if files.ready:
        return files
    files.root.mkdir(parents=True, exist_ok=True)
    streams = probe_streams(media)
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    video = [s for s in streams if s.get("codec_type") == "video"]
    if audio:
        per_pixel = samples_per_pixel(duration_s)
        _write_json(files.peaks, compute_peaks(media, len(audio), per_pixel))
        _run(rendition_command(media, len(audio), files.mix, None), files.mix)
    if len(audio) > 1:
        for number in range(len(audio)):
            out = files.track(number)
            _run(rendition_command(media, len(audio), out, number), out)
    has_video = bool(video) and video[0].get("codec_name") == "h264"
    if has_video:
        _run(video_command(media, files.video), files.video)
    names = [track_names[n] if n < len(track_names) else f"#{n + 1}" for n in range(len(audio))]
    info = {"tracks": names, "video": has_video, "audio": bool(audio)}
    if audio:
        info["samples_per_pixel"] = per_pixel
    _write_json(files.info, info)
    return files


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def store_verdict(files: PlaybackFiles, checks: list[Any]) -> dict[str, Any]:
    """Keep a verification's result with the moment it was made (shown as such on the page)."""
    verdict = {
        "checked_at": datetime.now(UTC).isoformat(),
        "ok": bool(checks) and all(c.ok for c in checks),
        "checks": [
            {
                "name": c.name,
                "ok": c.ok,
                "detail": c.detail,
                # what the page translates: the detail's code and its values (verify_report)
                "code": getattr(c, "code", ""),
                "params": getattr(c, "params", {}),
            }
            for c in checks
        ],
    }
    files.root.mkdir(parents=True, exist_ok=True)
    _write_json(files.verdict, verdict)
    return verdict
