"""Capture engine cost against bare ffmpeg, and courtrooms per machine.

    .venv/bin/python -m bench.recorder [--seconds 20] [--runs 3] [--capacity-seconds 12]
                                       [--max-rooms 96] [--confirm 2] [--no-capacity]

``--no-capacity`` (or ``TASPA_BENCH_CAPACITY=0`` in the environment, which reaches it through
``python -m bench --only recorder``) runs the per-courtroom table only (~4 minutes): the
capacity search means something on a quiet machine only.

CPU per courtroom = user+sys seconds of the ffmpeg child plus the engine's Python threads, per
second of media. The bare figure is ffmpeg doing the same encode straight to a file. Engine and
bare alternate, ``--runs`` pairs; the table gives medians, and the ratio is the median of each
pair's ratio: on a shared, busy machine CPU seconds drift with the load, so only figures taken
side by side compare. "Of which Python" splits the engine's Python CPU by thread (schedstat):
the reader (both pipes), the watchdog, and the rest (start, stop, journal records). Peak RSS:
VmHWM of the engine's ffmpeg before stop, the Python process's VmRSS while capturing (Django and
numpy included), and the bare ffmpeg's maxrss (wait4).

Capacity runs N four-microphone courtrooms at once and stops at the first N where one drops a
sample; the best N is then run ``--confirm`` more times (a drop there steps N down by 2).
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
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from taspa.recorder.engine import CaptureEngine, CaptureResult, EngineError, Source

# What the four microphones say, in Kazakh (espeak-ng): speech, not tones. libopus analyses a
# voice and codes it in its hybrid mode, about twice the CPU of the pure tones this bench used
# before (2026-12-03: 0.063-0.069 CPU s per media s for 4 mics against 0.029), and a courtroom
# is speech. Every microphone speaks all the time: the encoder's worst case.
SPEECH = (
    "Сот отырысы ашық деп жарияланады. Азаматтық іс қаралады.",
    "Хатшы, іске қатысушы адамдардың келуі туралы баяндаңыз.",
    "Талапкер келді, жауапкер тиісті түрде хабардар етілді, бірақ келмеді.",
    "Тараптарға іс жүргізу құқықтары мен міндеттері түсіндірілді.",
)
# The tones this bench's microphones played until 2026-12-03, kept as one row to compare with.
TONES = [
    Source("audio", f"sine=frequency={f}:sample_rate=48000", "lavfi", f"mic{i}")
    for i, f in enumerate((220, 330, 440, 550))
]
CAMERA = Source("video", "testsrc2=size=1280x720:rate=25", "lavfi", "camera")
CLOCK_TICKS = 100
SAMPLE_RATE = 48_000
START_SLACK_S = 0.05
MiB = 1024


@dataclass(frozen=True)
class Cost:
    cpu_s: float
    media_s: float
    stop_s: float = 0.0
    bytes_per_s: float = 0.0
    python_s: float = 0.0
    reader_s: float = 0.0
    watchdog_s: float = 0.0
    ffmpeg_rss_kib: int = 0
    python_rss_kib: int = 0

    @property
    def per_media_s(self) -> float:
        return self.cpu_s / self.media_s


def _proc_cpu(pid: int | None) -> float:
    """user+sys seconds of a process; 0 for one gone (a restarted run: a drop anyway)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _self_cpu() -> float:
    return time.process_time()


def _status_kib(pid: int | str | None, key: str) -> int:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _threads_cpu(prefix: str) -> float:
    """CPU seconds of this process's live threads whose name starts with ``prefix``."""
    total = 0
    for thread in threading.enumerate():
        if thread.name.startswith(prefix) and thread.native_id is not None:
            try:
                total += int(
                    Path(f"/proc/self/task/{thread.native_id}/schedstat").read_text().split()[0]
                )
            except OSError:
                continue
    return total / 1e9


def speech_mics(folder: Path) -> list[Source]:
    """Four microphones, each looping its own sentence (``SPEECH``, espeak-ng at its own pace),
    stamped from its sample count so the loop's timestamps keep rising (as ``taspa.demo``)."""
    folder.mkdir(parents=True, exist_ok=True)
    mics = []
    for index, sentence in enumerate(SPEECH):
        spoken, speech = folder / f"espeak-{index}.wav", folder / f"speech-{index}.wav"
        subprocess.run(
            ["espeak-ng", "-v", "kk", "-s", str(140 + 10 * index), "-w", str(spoken), sentence],
            check=True,
            capture_output=True,
            timeout=60,
        )
        # 48 kHz mono beforehand, as a microphone delivers it: no resampling in the measure.
        subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(spoken), "-ar", "48000", "-ac", "1", str(speech)],
            check=True,
            timeout=60,
        )
        graph = f"amovie=filename={speech}:loop=0,asetpts=N/SR/TB"
        mics.append(Source("audio", graph, "lavfi", f"mic{index}"))
    return mics


def engine_cost(sources: list[Source], seconds: float, spool: Path) -> Cost:
    """The engine's ffmpeg child plus this process's threads (the main thread only sleeps)."""
    engine = CaptureEngine(sources=sources, spool_dir=spool)
    before = _self_cpu()
    engine.start()
    time.sleep(seconds)
    child = _proc_cpu(engine.ffmpeg_pid)
    rss = _status_kib(engine.ffmpeg_pid, "VmHWM")
    reader, watchdog = _threads_cpu("taspa-capture"), _threads_cpu("taspa-watchdog")
    python_rss = _status_kib("self", "VmRSS")
    stopping = time.perf_counter()
    result = engine.stop()
    stop_s = time.perf_counter() - stopping
    python = _self_cpu() - before
    return Cost(
        child + python, result.duration_s, stop_s, result.bytes / result.duration_s, python,
        reader, watchdog, rss, python_rss,
    )  # fmt: skip


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
    process = subprocess.Popen(cmd)
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, cmd)
    cpu = usage.ru_utime + usage.ru_stime
    return Cost(cpu, seconds, 0.0, out.stat().st_size / seconds, ffmpeg_rss_kib=usage.ru_maxrss)


@dataclass(frozen=True)
class Pairs:
    """``runs`` engine/bare pairs of one courtroom, taken alternately."""

    engine: list[Cost]
    bare: list[Cost]

    def median(self, figure: Callable[[Cost], float]) -> float:
        return statistics.median(figure(c) for c in self.engine)

    @property
    def ratio(self) -> float:
        return statistics.median(
            e.per_media_s / b.per_media_s for e, b in zip(self.engine, self.bare, strict=True)
        )

    @property
    def bare_per_media_s(self) -> float:
        return statistics.median(b.per_media_s for b in self.bare)


def pairs(sources: list[Source], seconds: float, runs: int, work: Path) -> Pairs:
    engine, bare = [], []
    for run in range(runs):
        engine.append(engine_cost(sources, seconds, work / f"engine-{run}"))
        bare.append(bare_cost(sources, seconds, work / f"bare-{run}.ts"))
        shutil.rmtree(work / f"engine-{run}", ignore_errors=True)
    return Pairs(engine, bare)


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
    cores_busy: float = 0.0  # CPU seconds per wall second of every ffmpeg and this process
    python_rss_kib: int = 0
    ffmpeg_rss_kib: int = 0  # the sum over the courtrooms' ffmpeg processes

    @property
    def ok(self) -> bool:
        return self.dropped == 0


def rooms_ok(rooms: int, seconds: float, work: Path, mics: list[Source]) -> Capacity:
    engines = [CaptureEngine(sources=mics, spool_dir=work / f"n{rooms}-{i}") for i in range(rooms)]
    for index, engine in enumerate(engines):
        try:
            engine.start()
        except EngineError:  # the machine is past saturation: this N fails outright
            for number, started in enumerate(engines[:index]):
                started.stop()
                shutil.rmtree(work / f"n{rooms}-{number}", ignore_errors=True)
            return Capacity(rooms, SAMPLE_RATE, rooms - index, 0.0, 0.0)
    # CPU from here to the stop request: every ffmpeg and every thread of this process.
    pids = [engine.ffmpeg_pid for engine in engines]
    cpu_before = sum(_proc_cpu(pid) for pid in pids) + _self_cpu()
    began = time.time()
    time.sleep(seconds)
    stopped_at = time.time()
    cpu = sum(_proc_cpu(pid) for pid in pids) + _self_cpu() - cpu_before
    python_rss = _status_kib("self", "VmRSS")
    ffmpeg_rss = sum(_status_kib(pid, "VmRSS") for pid in pids)
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
        cpu / (stopped_at - began),
        python_rss,
        ffmpeg_rss,
    )


def capacity(
    seconds: float, max_rooms: int, work: Path, confirm: int, mics: list[Source]
) -> list[Capacity]:
    """Grow N until a courtroom drops a sample, then bisect (in steps of 2) between the last good
    and the first bad N; then run the best N ``confirm`` more times (a drop steps it down)."""
    steps: list[Capacity] = []
    rooms, good, bad = 4, 0, None
    while rooms <= max_rooms and bad is None:
        steps.append(rooms_ok(rooms, seconds, work, mics))
        good, bad = (rooms, None) if steps[-1].ok else (good, rooms)
        rooms = rooms * 2 if rooms < 16 else rooms + 16
    while bad is not None and bad - good > 2:
        rooms = (good + bad) // 4 * 2
        steps.append(rooms_ok(rooms, seconds, work, mics))
        good, bad = (rooms, bad) if steps[-1].ok else (good, rooms)
    again = 0
    while good and again < confirm:
        steps.append(rooms_ok(good, seconds, work, mics))
        again = again + 1 if steps[-1].ok else 0
        good = good if steps[-1].ok else good - 2
    return steps


def best_rooms(steps: list[Capacity], confirm: int) -> int:
    """The largest N whose every run kept every sample, run at least ``confirm`` times (an N
    stepped down to in the confirmation has only its confirmation runs)."""
    runs: dict[int, list[bool]] = {}
    for step in steps:
        runs.setdefault(step.rooms, []).append(step.ok)
    good = [n for n, oks in runs.items() if all(oks) and len(oks) >= max(1, confirm)]
    return max(good, default=0)


def _mib(kib: float) -> str:
    return f"{kib / MiB:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--capacity-seconds", type=float, default=12.0)
    parser.add_argument("--max-rooms", type=int, default=96)
    parser.add_argument("--confirm", type=int, default=2)
    parser.add_argument(
        "--no-capacity",
        dest="capacity",
        action="store_false",
        default=os.environ.get("TASPA_BENCH_CAPACITY", "1") != "0",
        help="only the per-courtroom table (also TASPA_BENCH_CAPACITY=0)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="taspa-bench-") as tmp:
        work = Path(tmp)
        mics = speech_mics(work / "speech")
        rows = []
        courtrooms = (
            ("4 mics speaking, audio only", mics),
            ("720p25 + 1 mic speaking", [mics[0], CAMERA]),
            ("4 mics playing sine tones (the input before 2026-12-03)", TONES),
        )
        for index, (name, sources) in enumerate(courtrooms):
            rows.append((name, pairs(sources, args.seconds, args.runs, work / f"room-{index}")))
        print_costs(rows, args.runs)
        steps = (
            capacity(args.capacity_seconds, args.max_rooms, work, args.confirm, mics)
            if args.capacity
            else []
        )
    if steps:
        print_capacity(steps, args)
    else:
        load = os.getloadavg()
        print(
            "Capacity search not run (--no-capacity / TASPA_BENCH_CAPACITY=0). Load average "
            f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} at the end; compare the ratios."
        )


def print_costs(rows: list[tuple[str, Pairs]], runs: int) -> None:
    print(
        f"| courtroom (medians of {runs} engine/bare pairs) | engine CPU s / media s "
        "| of which Python: reader / watchdog / start, stop | engine's ffmpeg "
        "| bare ffmpeg CPU s / media s | ratio | peak RSS: engine's ffmpeg / Python process "
        "| peak RSS: bare ffmpeg | engine stop() | stored kB/s (engine vs bare) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, pair in rows:
        m = pair.median
        total = m(lambda c: c.per_media_s)
        reader = m(lambda c: c.reader_s / c.media_s)
        watchdog = m(lambda c: c.watchdog_s / c.media_s)
        rest = m(lambda c: (c.python_s - c.reader_s - c.watchdog_s) / c.media_s)
        ffmpeg = m(lambda c: (c.cpu_s - c.python_s) / c.media_s)
        bare_rss = statistics.median(b.ffmpeg_rss_kib for b in pair.bare)
        bare_bytes = statistics.median(b.bytes_per_s for b in pair.bare)
        print(
            f"| {name} | {total:.4f} ({total * 100:.1f} % of a core)"
            f" | {m(lambda c: c.python_s / c.media_s):.4f}: {reader:.4f} / {watchdog:.4f}"
            f" / {rest:.4f} | {ffmpeg:.4f} | {pair.bare_per_media_s:.4f} | {pair.ratio:.2f}"
            f" | {_mib(m(lambda c: c.ffmpeg_rss_kib))} / {_mib(m(lambda c: c.python_rss_kib))}"
            f" | {_mib(bare_rss)} | {m(lambda c: c.stop_s) * 1000:.0f} ms"
            f" | {m(lambda c: c.bytes_per_s) / 1000:.1f} vs {bare_bytes / 1000:.1f} |"
        )
    print(flush=True)


def print_capacity(steps: list[Capacity], args: argparse.Namespace) -> None:
    print(
        "| 4-mic courtrooms at once | dropped samples (48 kHz) | courtrooms dropping "
        "| worst shortfall vs wall | worst media/wall | cores busy "
        "| RSS: Python process / all ffmpeg |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for step in sorted(steps, key=lambda step: step.rooms):
        print(
            f"| {step.rooms} | {step.dropped} | {step.rooms_dropping} "
            f"| {step.worst_shortfall_s * 1000:.0f} ms | {step.worst_ratio:.4f} "
            f"| {step.cores_busy:.2f} | {_mib(step.python_rss_kib)} / {_mib(step.ffmpeg_rss_kib)} |"
        )
    best = best_rooms(steps, args.confirm)
    cores = os.cpu_count() or 1
    print(
        f"\n| audio courtrooms (4 mics) per core without a dropped sample | {best / cores:.1f} "
        f"({best} on {cores} cores; every run of it, {args.capacity_seconds:g} s each, "
        "without a drop) |"
    )
    print("| --- | --- |")
    load = os.getloadavg()
    print(
        f"\nThe machine is shared: load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} at "
        "the end. CPU seconds drift with the load, so compare the ratios (each pair taken side "
        "by side in this run), not absolute figures across runs."
    )


if __name__ == "__main__":
    main()
