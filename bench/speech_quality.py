"""What a cheaper Opus encode would cost the evidence: CPU, size and measured speech quality.

    .venv/bin/python -m bench.speech_quality [--speech FILE ...] [--seconds 60]

Not part of ``python -m bench``: it needs two packages the project does not, ``pesq`` (ITU-T
P.862.2 wideband PESQ) and ``pystoi`` (short-time objective intelligibility), installed by hand
(``pip install numpy scipy cython wheel pystoi``, then ``pip install --no-build-isolation pesq``:
pesq's own build does not declare what it needs), ideally in a venv of their own.

The courtrooms-per-core figure of ``bench.recorder`` is bound by libopus itself (the engine's
ffmpeg is within a few per cent of bare ffmpeg), and libopus' settings are the only large lever.
For each setting: CPU seconds per media second of bare ffmpeg encoding four microphones at
48 kb/s each as fast as it can (one thread, the recorder's encode), the bitrate one microphone
really gets (VBR), and the decoded speech against the original: PESQ-WB (1 to 4.64, mean of
10 s windows) and STOI (0 to 1). Speech: each ``--speech`` file and a Kazakh and a Russian
sentence from espeak-ng, each looped to ``--seconds``. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

# (label, libopus options after -c:a libopus -b:a 48k); the first is what the recorder uses.
SETTINGS = [
    ("recorder's: complexity 10, VBR, application audio", []),
    ("complexity 7", ["-compression_level", "7"]),
    ("complexity 6", ["-compression_level", "6"]),
    ("complexity 6, constrained VBR", ["-compression_level", "6", "-vbr", "constrained"]),
    ("application lowdelay (CELT only)", ["-application", "lowdelay"]),
]
SENTENCES = {
    "kk": "Сот отырысы ашық деп жарияланады. Хатшы, іске қатысушы адамдардың келуі туралы "
    "баяндаңыз. Талапкер келді, жауапкер тиісті түрде хабардар етілді, бірақ келмеді.",
    "ru": "Судебное заседание объявляется открытым. Слушается гражданское дело по иску о "
    "взыскании задолженности. Истец явился, ответчик извещён надлежащим образом, но не явился.",
}
WINDOW_S = 10


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=600)


def _pcm(path: Path, rate: int) -> np.ndarray:
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(rate)]
    raw = subprocess.run([*cmd, "-f", "s16le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768


def _cpu_per_media_s(speech: Path, options: list[str], seconds: float) -> float:
    cmd = ["ffmpeg", "-v", "error", "-y", "-threads", "1"]
    for _ in range(4):
        cmd += ["-i", str(speech)]
    for index in range(4):
        cmd += ["-map", f"{index}:a"]
    cmd += ["-c:a", "libopus", "-b:a", "48k", "-ar", "48000", *options, "-f", "null", "-"]
    process = subprocess.Popen(cmd)
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise subprocess.CalledProcessError(os.waitstatus_to_exitcode(status), cmd)
    return (usage.ru_utime + usage.ru_stime) / seconds


def reference(speech: Path) -> tuple[np.ndarray, np.ndarray]:
    """The original speech at PESQ-WB's 16 kHz and STOI's 10 kHz, decoded once per input."""
    return _pcm(speech, 16000), _pcm(speech, 10000)


def measure(
    speech: Path,
    original: tuple[np.ndarray, np.ndarray],
    options: list[str],
    seconds: float,
    work: Path,
) -> tuple[float, ...]:
    from pesq import pesq
    from pystoi import stoi

    coded = work / "coded.ogg"
    _ffmpeg("-i", str(speech), "-c:a", "libopus", "-b:a", "48k", *options, str(coded))
    kbps = coded.stat().st_size * 8 / seconds / 1000
    (ref16, ref10), out16, out10 = original, _pcm(coded, 16000), _pcm(coded, 10000)
    n, m, window = min(len(ref16), len(out16)), min(len(ref10), len(out10)), WINDOW_S * 16000
    scores = [
        pesq(16000, ref16[i : i + window], out16[i : i + window], "wb")
        for i in range(0, n - window + 1, window)
    ]
    intelligibility = stoi(ref10[:m], out10[:m], 10000, extended=False)
    cpu = min(_cpu_per_media_s(speech, options, seconds) for _ in range(3))
    return cpu, kbps, float(np.mean(scores)), float(intelligibility)


def speech_inputs(files: list[Path], seconds: float, work: Path) -> list[tuple[str, Path]]:
    """Every input as ``seconds`` of 48 kHz mono WAV, looped."""
    sources = [(path.name, path) for path in files]
    for language, sentence in SENTENCES.items():
        spoken = work / f"espeak-{language}.wav"
        subprocess.run(
            ["espeak-ng", "-v", language, "-s", "150", "-w", str(spoken), sentence],
            check=True,
            capture_output=True,
            timeout=60,
        )
        sources.append((f"espeak-ng {language}", spoken))
    looped = []
    for index, (name, path) in enumerate(sources):
        wav = work / f"speech-{index}.wav"
        _ffmpeg(
            "-stream_loop", "-1", "-i", str(path), "-t", str(seconds), "-ar", "48000", "-ac", "1",
            str(wav),
        )  # fmt: skip
        looped.append((name, wav))
    return looped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speech", type=Path, action="append", default=[])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    print(
        "| speech | libopus setting | CPU s / media s, 4 mics (rooms per core) | kb/s per mic "
        "| PESQ-WB | STOI |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="taspa-bench-speech-") as tmp:
        work = Path(tmp)
        for name, speech in speech_inputs(args.speech, args.seconds, work):
            original = reference(speech)
            for label, options in SETTINGS:
                figures = measure(speech, original, options, args.seconds, work)
                cpu, kbps, pesq_wb, intelligibility = figures
                print(
                    f"| {name} | {label} | {cpu:.4f} ({1 / cpu:.0f}) | {kbps:.1f} "
                    f"| {pesq_wb:.2f} | {intelligibility:.4f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
