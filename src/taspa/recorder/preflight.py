"""R8: before the hearing, check that every source gives signal and the disk holds the day."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taspa.recorder.levels import dbfs
from taspa.recorder.policy import EncodeSettings, Source, preflight_command, required_bytes
from taspa.recorder.proc import ToolResult, run_tool

# Digital silence (a muted or absent device) is no signal; a microphone's noise floor is.
SIGNAL_PEAK_DBFS = -90.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _audio_verdict(result: ToolResult) -> tuple[bool, str]:
    samples = np.frombuffer(result.stdout[: len(result.stdout) // 2 * 2], dtype="<i2")
    if samples.size == 0:
        return False, f"no audio within the time allowed: {result.stderr.strip()[-300:]}"
    peak = dbfs(float(np.max(np.abs(samples.astype(np.float32)))) / 32768.0)
    if peak <= SIGNAL_PEAK_DBFS:
        return False, f"silent: {samples.size} samples, peak {peak:.1f} dBFS"
    return True, f"signal: peak {peak:.1f} dBFS"


def check_source(source: Source, seconds: float) -> Check:
    """One source must deliver audio that is not digital silence, or a video frame."""
    window = max(0.2, min(1.0, seconds / 3))
    result = run_tool(preflight_command(source, seconds=window), timeout=seconds)
    if source.kind == "audio":
        ok, detail = _audio_verdict(result)
    elif result.stdout:
        ok, detail = True, "video frame received"
    else:
        ok, detail = False, f"no video frame within {seconds:g} s: {result.stderr.strip()[-300:]}"
    return Check(name=f"source:{source.name}", ok=ok, detail=detail)


def check_disk(
    sources: list[Source], spool_dir: Path, hours: float, settings: EncodeSettings
) -> Check:
    """Free space on the spool for ``hours`` at the configured bitrates."""
    probe = spool_dir if spool_dir.exists() else spool_dir.parent
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    need = required_bytes(sources, hours, settings)
    detail = f"{need / 1e9:.2f} GB needed for {hours:g} h, {free / 1e9:.2f} GB free"
    return Check(name="disk_space", ok=free >= need, detail=detail)


def preflight(
    sources: list[Source],
    spool_dir: Path,
    *,
    seconds: float = 3.0,
    hours: float = 8.0,
    settings: EncodeSettings | None = None,
) -> list[Check]:
    """R8: every source gives signal within ``seconds`` (checked in parallel), disk for
    ``hours`` at the configured bitrates."""
    settings = settings or EncodeSettings()
    with ThreadPoolExecutor(max_workers=max(1, len(sources))) as pool:
        checks = list(pool.map(lambda s: check_source(s, seconds), sources))
    return [*checks, check_disk(sources, Path(spool_dir), hours, settings)]
