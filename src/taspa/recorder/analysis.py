"""Measuring recorded media: decode to PCM, find tone onsets, locate audio in a known source.

Used by the recorder's tests and benchmark to prove what the engine claims (R6, R12, R19):
where a mark lands, and exactly which source samples a crash cost.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from taspa.recorder.proc import run_tool


def decode_pcm(
    path: Path, *, stream: int = 0, rate: int = 48000, fill_gaps: bool = False
) -> np.ndarray:
    """One audio track as float32 mono. ``fill_gaps`` pads timestamp gaps with digital silence,
    so sample ``n`` is media time ``n / rate`` (a gap in the record stays visible). Gaps from
    20 ms up are padded; aresample's default (100 ms) would smear a short break into the audio
    around it, hiding it from the sample-accurate loss measurement."""
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-map", f"0:a:{stream}", "-ac", "1"]
    if fill_gaps:
        command += ["-af", f"aresample={rate}:async=1:min_hard_comp=0.02:first_pts=0"]
    command += ["-ar", str(rate), "-f", "s16le", "pipe:1"]
    result = run_tool(command, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"decode failed: {result.stderr}")
    return np.frombuffer(result.stdout, dtype="<i2").astype(np.float32) / 32768.0


def media_seconds(path: Path, *, stream: int = 0) -> float:
    """Seconds of decodable audio in one track (the ffmpeg notes' sample count)."""
    return len(decode_pcm(path, stream=stream)) / 48000


def write_wav(path: Path, samples: np.ndarray, rate: int = 48000) -> None:
    """Mono 16-bit WAV from float samples in [-1, 1]."""
    pcm = np.clip(samples * 32767, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())


def counter_noise(seconds: float, rate: int = 48000, seed: int = 6001) -> np.ndarray:
    """A known pseudo-random signal, band-limited to 4 kHz so Opus keeps its waveform: every
    stretch of it identifies its own position (a sample counter that survives lossy coding)."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(int(seconds * rate)).astype(np.float32)
    spectrum = np.fft.rfft(white)
    spectrum[int(len(spectrum) * 4000 / (rate / 2)) :] = 0
    noise = np.fft.irfft(spectrum, n=len(white)).astype(np.float32)
    return 0.3 * noise / np.max(np.abs(noise))


def locate(window: np.ndarray, source: np.ndarray) -> tuple[int, float]:
    """Where ``window`` sits in ``source``: (sample index, normalised correlation peak)."""
    size = 1 << int(np.ceil(np.log2(len(source) + len(window))))
    corr = np.fft.irfft(np.fft.rfft(source, size) * np.conj(np.fft.rfft(window, size)), size)
    corr = corr[: len(source) - len(window) + 1]
    index = int(np.argmax(corr))
    energy = float(np.linalg.norm(window) * np.linalg.norm(source[index : index + len(window)]))
    return index, float(corr[index]) / energy if energy else 0.0


def onsets(samples: np.ndarray, rate: int = 48000, threshold: float = 0.05) -> list[float]:
    """Seconds at which the signal rises above ``threshold`` after at least 0.1 s below it."""
    loud = np.abs(samples) > threshold
    found, quiet_run, hold = [], 0, int(0.1 * rate)
    for index in np.flatnonzero(loud):
        if not found or index - quiet_run > hold:
            found.append(index / rate)
        quiet_run = index
    return found


def runs_of_signal(samples: np.ndarray, min_gap: int = 480) -> list[tuple[int, int]]:
    """[start, end) sample ranges that are not digital silence, split at zero runs >= min_gap."""
    nonzero = np.flatnonzero(samples != 0)
    if nonzero.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(nonzero) >= min_gap)
    starts = [int(nonzero[0]), *(int(nonzero[b + 1]) for b in breaks)]
    ends = [*(int(nonzero[b]) + 1 for b in breaks), int(nonzero[-1]) + 1]
    return list(zip(starts, ends, strict=True))
