"""Capture engine cost against bare ffmpeg, and courtrooms per machine.

    .venv/bin/python -m bench.recorder [--seconds 20] [--capacity-seconds 12] [--max-rooms 96]

CPU per courtroom = user+sys seconds of the ffmpeg child plus the engine's Python threads, per
second of media. The bare figure is ffmpeg doing the same encode straight to a file. Capacity
runs N four-microphone courtrooms at once and stops at the first N where one drops a sample.

A dropped sample is counted from the stored file, not from the engine's bookkeeping: ffprobe
lists every audio packet of every microphone; a hole between one packet's end and the next
one's start, a restart (a gap event), or media shorter than the wall-clock time between the
first sample and the stop request by more than ``START_SLACK_S`` are dropped samples (at 48 kHz).
The slack is the start-up latency an idle machine shows (about 20 ms: the first Opus frames);
a source that cannot keep up shows up as a shortfall growing with time. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from taspa.recorder.engine import CaptureEngine, CaptureResult, Source

MICS = [
    Source("audio", f"sine=frequency={f}:sample_rate=48000", "lavfi", f"mic{i}")
    for i, f in enumerate((220, 330, 440, 550))
]
CAMERA = Source("video", "testsrc2=size=1280x720:rate=25", "lavfi", "camera")
CLOCK_TICKS = 100
SAMPLE_RATE = 48_000
START_SLACK_S = 0.05


@dataclass(frozen=True)
class Cost:
    cpu_s: float
    media_s: float
    stop_s: float = 0.0
    bytes_per_s: float = 0.0
    python_s: float = 0.0

    @property
    def per_media_s(self) -> float:
        return self.cpu_s / self.media_s


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def engine_cost(sources: list[Source], seconds: float, spool: Path) -> Cost:
    """The engine's ffmpeg child plus this process's threads (the main thread only sleeps)."""
    engine = CaptureEngine(sources=sources, spool_dir=spool)
    before = _self_cpu()
    engine.start()
    time.sleep(seconds)
    child = _proc_cpu(engine.ffmpeg_pid)
    stopping = time.perf_counter()
    result = engine.stop()
    stop_s = time.perf_counter() - stopping
    python = _self_cpu() - before
    return Cost(child + python, result.duration_s, stop_s, result.bytes / result.duration_s, python)


def bare_cost(sources: list[Source], seconds: float, out: Path) -> Cost:
    """ffmpeg alone: the same inputs and encoders, written to a file."""
    cmd = ["ffmpeg", "-v", "error", "-y"]
    for source in sources:
        cmd += ["-re", "-f", "lavfi", "-i", source.input]
    for index, source in enumerate(sources):
        cmd += ["-map", f"{index}:{source.kind[0]}:0"]
    cmd += ["-c:a", "libopus", "-b:a", "48k", "-ar", "48000"]
    if any(s.kind == "video" for s in sources):
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "50"]
        cmd += ["-b:v", "1500k", "-pix_fmt", "yuv420p"]
    cmd += ["-t", str(seconds), "-f", "mpegts", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Cost(cpu, seconds, 0.0, out.stat().st_size / seconds)


def audio_packets(media: Path) -> dict[str, list[tuple[float, float]]]:
    """(start, duration) in seconds of every audio packet, per stream, from the stored file."""
    listing = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries",
         "packet=stream_index,pts_time,duration_time", "-of", "csv=p=0", str(media)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    streams: dict[str, list[tuple[float, float]]] = {}
    for line in listing.splitlines():
        fields = line.split(",")
        if len(fields) >= 3 and fields[1] != "N/A" and fields[2] != "N/A":
            streams.setdefault(fields[0], []).append((float(fields[1]), float(fields[2])))
    return streams


def dropped_samples(result: CaptureResult, stopped_at: float) -> tuple[int, float]:
    """Samples missing from the worst microphone of one courtroom, and its shortfall in seconds
    against wall time (see the module docstring for what counts)."""
    wall = stopped_at - result.started_at.timestamp()
    worst_dropped, worst_shortfall = 0, 0.0
    for packets in audio_packets(result.media_path).values():
        packets.sort()
        holes = sum(
            max(0.0, nxt[0] - (cur[0] + cur[1]) - 1e-3) for cur, nxt in itertools.pairwise(packets)
        )
        shortfall = wall - sum(duration for _, duration in packets)
        missing = holes + max(0.0, shortfall - START_SLACK_S)
        worst_dropped = max(worst_dropped, round(missing * SAMPLE_RATE))
        worst_shortfall = max(worst_shortfall, shortfall)
    if result.gaps:
        worst_dropped = max(worst_dropped, 1)
    return worst_dropped, worst_shortfall


@dataclass(frozen=True)
class Capacity:
    rooms: int
    dropped: int  # samples, summed over the courtrooms (worst microphone of each)
    rooms_dropping: int
    worst_shortfall_s: float
    worst_ratio: float  # media seconds per wall second of the slowest courtroom

    @property
    def ok(self) -> bool:
        return self.dropped == 0


def rooms_ok(rooms: int, seconds: float, work: Path) -> Capacity:
    engines = [CaptureEngine(sources=MICS, spool_dir=work / f"n{rooms}-{i}") for i in range(rooms)]
    for engine in engines:
        engine.start()
    time.sleep(seconds)
    stopped_at = time.time()
    results = [engine.stop() for engine in engines]
    drops = [dropped_samples(r, stopped_at) for r in results]
    worst = min(r.duration_s / (stopped_at - r.started_at.timestamp()) for r in results)
    for result in results:
        shutil.rmtree(result.media_path.parent, ignore_errors=True)
    return Capacity(
        rooms,
        sum(d for d, _ in drops),
        sum(1 for d, _ in drops if d),
        max(s for _, s in drops),
        worst,
    )


def capacity(seconds: float, max_rooms: int, work: Path) -> list[Capacity]:
    """Grow N until a courtroom drops a sample, then bisect (in steps of 2) between the last good
    and the first bad N."""
    steps: list[Capacity] = []
    rooms, good, bad = 4, 0, None
    while rooms <= max_rooms and bad is None:
        steps.append(rooms_ok(rooms, seconds, work))
        good, bad = (rooms, None) if steps[-1].ok else (good, rooms)
        rooms = rooms * 2 if rooms < 16 else rooms + 16
    while bad is not None and bad - good > 2:
        rooms = (good + bad) // 4 * 2
        steps.append(rooms_ok(rooms, seconds, work))
        good, bad = (rooms, bad) if steps[-1].ok else (good, rooms)
    return sorted(steps, key=lambda step: step.rooms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--capacity-seconds", type=float, default=12.0)
    parser.add_argument("--max-rooms", type=int, default=96)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="taspa-bench-") as tmp:
        work = Path(tmp)
        rows = []
        for name, sources in (("4 mics, audio only", MICS), ("720p25 + 1 mic", [MICS[0], CAMERA])):
            engine = engine_cost(sources, args.seconds, work / name.replace(" ", "_"))
            bare = bare_cost(sources, args.seconds, work / f"{len(rows)}.ts")
            rows.append((name, engine, bare))
        steps = capacity(args.capacity_seconds, args.max_rooms, work)
    print("| courtroom | engine CPU s / media s | of which Python | bare ffmpeg CPU s / media s"
          " | ratio | engine stop() | stored kB/s (engine vs bare) |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, engine, bare in rows:
        print(
            f"| {name} | {engine.per_media_s:.4f} ({engine.per_media_s * 100:.1f} % of a core)"
            f" | {engine.python_s / engine.media_s:.4f} | {bare.per_media_s:.4f}"
            f" | {engine.per_media_s / bare.per_media_s:.2f}"
            f" | {engine.stop_s * 1000:.0f} ms | {engine.bytes_per_s / 1000:.1f} vs"
            f" {bare.bytes_per_s / 1000:.1f} |"
        )
    print(
        "\n| 4-mic courtrooms at once | dropped samples (48 kHz) | courtrooms dropping "
        "| worst shortfall vs wall | worst media/wall |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for step in steps:
        print(
            f"| {step.rooms} | {step.dropped} | {step.rooms_dropping} "
            f"| {step.worst_shortfall_s * 1000:.0f} ms | {step.worst_ratio:.4f} |"
        )
    best = max((step.rooms for step in steps if step.ok), default=0)
    cores = os.cpu_count() or 1
    print(
        f"\n| audio courtrooms (4 mics) per core without a dropped sample | {best / cores:.1f} "
        f"({best} on {cores} cores, {args.capacity_seconds:g} s each) |"
    )
    print("| --- | --- |")


if __name__ == "__main__":
    main()
