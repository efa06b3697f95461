"""Faults with real ffmpeg: kill -9 of ffmpeg, a dropped feed, a killed recorder process, a
full disk. A gap is never silent, and what was written before it stays intact (R6, R19)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from taspa.recorder import analysis
from taspa.recorder.engine import CaptureEngine, EngineEvent, Source, verify_pieces

RATE = 48000
SRC = Path(__file__).resolve().parents[2] / "src"


class Events(list):
    """EngineEvents with the monotonic time each arrived."""

    def __call__(self, event: EngineEvent) -> None:
        self.append((time.monotonic(), event))

    def kinds(self) -> list[str]:
        return [event.kind for _, event in self]

    def first(self, kind: str) -> tuple[float, EngineEvent]:
        return next((at, e) for at, e in self if e.kind == kind)


@pytest.fixture(scope="module")
def counter_wav(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A 30 s pseudo-random source whose every stretch names its own sample position."""
    signal_ = analysis.counter_noise(30.0)
    path = tmp_path_factory.mktemp("src") / "counter.wav"
    analysis.write_wav(path, signal_)
    return path, signal_


def source_ranges(pcm: np.ndarray, source: np.ndarray) -> list[tuple[int, int]]:
    """For each stretch of recorded audio, the [start, end) source samples it holds, found by
    cross-correlating its first and last 0.1 s against the known source."""
    ranges = []
    for start, end in analysis.runs_of_signal(pcm):
        head, head_corr = analysis.locate(pcm[start + 2400 : start + 7200], source)
        tail, tail_corr = analysis.locate(pcm[end - 7200 : end - 2400], source)
        assert min(head_corr, tail_corr) > 0.8, "the recording does not match the source"
        head_lag, tail_lag = head - (start + 2400), tail - (end - 7200)
        # aresample's drift compensation may move a sample or two; a loss would be far more.
        assert abs(head_lag - tail_lag) <= 2, "samples lost inside a run"
        ranges.append((start + head_lag, end + tail_lag))
    return ranges


@pytest.mark.slow
def test_r19_kill_9_of_ffmpeg_restarts_within_2_s_and_loses_under_1_s(
    tmp_path: Path, counter_wav: tuple[Path, np.ndarray]
) -> None:
    wav, source = counter_wav
    events = Events()
    engine = CaptureEngine(
        sources=[Source("audio", str(wav), "file", "counter")],
        spool_dir=tmp_path / "spool",
        on_event=events,
    )
    engine.start()
    time.sleep(2.5)
    killed = time.monotonic()
    os.kill(engine.ffmpeg_pid, signal.SIGKILL)
    time.sleep(2.5)
    result = engine.stop()

    assert events.kinds() == ["source_lost", "alarm", "gap", "restarted"]
    gap_at, gap_event = events.first("gap")
    assert gap_at - killed < 2.0  # recording again, and the gap announced, within 2 s
    assert events.first("alarm")[0] - killed < 0.5
    assert result.gaps == [gap_event.gap] and "code -9" in gap_event.gap.cause

    pcm = analysis.decode_pcm(result.media_path, fill_gaps=True)
    (a_start, a_end), (b_start, b_end) = source_ranges(pcm, source)
    lost = (b_start - a_end) / RATE
    print(f"kill -9: source samples {a_end}..{b_start} missing = {lost * 1000:.1f} ms")
    assert 0 < lost <= 1.0
    assert a_start <= 0.05 * RATE and b_end >= a_end + 2.0 * RATE
    reported = (gap_event.gap.end - gap_event.gap.start).total_seconds()
    assert abs(reported - lost) < 0.25  # the journal's gap is the gap in the media
    assert verify_pieces(result.media_path, result.journal_path).ok


class DroppingFeed:
    """A live feed on a FIFO that goes away mid-hearing and comes back (a camera or mixer
    that loses its link): it stalls, closes, and reconnects with a fresh WAV stream.

    Like a real device it keeps reconnecting until someone takes its stream: the recorder's
    first retry may still be the reader that saw the link drop, and a write to it breaks the
    pipe; the device then dials again and resends from where the hearing is."""

    def __init__(self, path: Path, source: np.ndarray) -> None:
        self.path, self.source = path, source
        self.stalled: float | None = None
        self.finished = False
        os.mkfifo(path)

    def _connect(self, deadline: float):
        """The FIFO opened for writing once a reader is there (ENXIO until then)."""
        while not self.finished and time.monotonic() < deadline:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.02)
                continue
            os.set_blocking(fd, True)
            return open(fd, "wb", buffering=0)
        return None

    def _stream(self, first: int, seconds: float, deadline: float) -> int:
        header = (
            b"RIFF\xff\xff\xff\xffWAVEfmt "
            + np.array([16, 1 | (1 << 16), RATE, RATE * 2, 2 | (16 << 16)], dtype="<u4").tobytes()
        )
        header += b"data\xff\xff\xff\xff"
        pcm = (self.source * 32767).astype("<i2")
        out = self._connect(deadline)
        if out is None:
            return first
        with out:
            out.write(header)
            t0 = time.monotonic()
            for k in range(int(seconds * 50)):
                time.sleep(max(0.0, t0 + k * 0.02 - time.monotonic()))
                out.write(pcm[first + k * 960 : first + (k + 1) * 960].tobytes())
            if self.stalled is None:
                self.stalled = time.monotonic()
            time.sleep(1.5)  # the feed hangs before the link drops
        return first + int(seconds * 50) * 960

    def run(self) -> None:
        deadline = time.monotonic() + 15.0
        position = self._stream(0, 2.5, deadline)
        while not self.finished and time.monotonic() < deadline:
            try:
                self._stream(position, 6.0, deadline)
                return
            except (BrokenPipeError, ConnectionResetError):
                time.sleep(0.02)  # the reader went away: dial again


@pytest.mark.slow
def test_r19_a_stalled_then_dropped_feed_is_an_alarm_and_a_gap(
    tmp_path: Path, counter_wav: tuple[Path, np.ndarray]
) -> None:
    import threading

    feed = DroppingFeed(tmp_path / "feed.wav", counter_wav[1])
    thread = threading.Thread(target=feed.run, daemon=True)
    events = Events()
    engine = CaptureEngine(
        sources=[Source("audio", str(feed.path), "file", "mixer")],
        spool_dir=tmp_path / "spool",
        on_event=events,
    )
    thread.start()
    engine.start()
    time.sleep(7.5)
    result = engine.stop()
    feed.finished = True
    thread.join(10)
    assert events.kinds()[:2] == ["source_lost", "alarm"]
    assert events.first("alarm")[0] - feed.stalled < 1.5  # the stall is noticed within ~1 s
    assert "gap" in events.kinds() and len(result.gaps) == 1
    assert (result.gaps[0].end - result.gaps[0].start).total_seconds() >= 1.0
    assert verify_pieces(result.media_path, result.journal_path).ok
    pcm = analysis.decode_pcm(result.media_path, fill_gaps=True)
    before, after = source_ranges(pcm, counter_wav[1])
    assert before[1] - before[0] > 1.5 * RATE and after[1] - after[0] > 0.5 * RATE
    assert after[0] >= before[1]  # the feed resumed where it was, nothing duplicated


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody reaped yet counts as dead)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except OSError:
        return False


CHILD = """
import json, sys, time
from pathlib import Path
from taspa.recorder.engine import CaptureEngine, Source
engine = CaptureEngine(sources=[Source("audio", sys.argv[1], "file", "counter")],
                       spool_dir=Path(sys.argv[2]))
engine.start()
time.sleep(0.5)
print(json.dumps({"ffmpeg": engine.ffmpeg_pid}), flush=True)
time.sleep(60)
"""


@pytest.mark.slow
def test_r19_recover_after_the_recorder_process_is_killed(
    tmp_path: Path, counter_wav: tuple[Path, np.ndarray]
) -> None:
    wav, source = counter_wav
    spool = tmp_path / "spool"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(wav), str(spool)], stdout=subprocess.PIPE, env=env
    ) as child:
        ffmpeg = json.loads(child.stdout.readline())["ffmpeg"]
        time.sleep(2.0)
        child.kill()  # kill -9 of the Python side; its ffmpeg is orphaned
        crashed = time.time()
        child.wait()
    time.sleep(0.5)

    events = Events()
    engine = CaptureEngine.recover(spool, on_event=events)
    assert engine.running and not alive(ffmpeg)
    assert events.kinds()[:1] == ["alarm"]
    time.sleep(2.0)
    result = engine.stop()

    assert "gap" in events.kinds() and len(result.gaps) == 1
    assert result.gaps[0].cause == "the recorder process died"
    assert len(result.commands) == 2 and result.command == result.commands[0]
    assert verify_pieces(result.media_path, result.journal_path).ok
    records = [json.loads(x) for x in result.journal_path.read_text().splitlines()]
    assert [r["type"] for r in records].count("recover") == 1
    pcm = analysis.decode_pcm(result.media_path, fill_gaps=True)
    (_, before_end), (after_start, _) = source_ranges(pcm, source)
    crash_at = crashed - result.started_at.timestamp()
    print(f"recovery: audio kept until {before_end / RATE:.3f} s, crash at {crash_at:.3f} s")
    assert crash_at - before_end / RATE <= 1.0  # fsync'd pieces + salvaged packets
    assert after_start > before_end


def disk_full_scenario(workdir: Path) -> dict:
    """Runs inside a private mount namespace: a 3 MB tmpfs spool filled up mid-recording."""
    mount = workdir / "mnt"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], check=True)
    events = Events()
    tone = Source("audio", "sine=frequency=440:sample_rate=48000", "lavfi", "judge")
    engine = CaptureEngine(sources=[tone], spool_dir=mount / "spool", on_event=events)
    engine.start()
    time.sleep(1.5)
    with open(mount / "filler", "wb") as filler:
        filler.write(b"\0" * (shutil.disk_usage(mount).free - 24_000))
    filled = time.monotonic()
    while "disk_full" not in events.kinds() and time.monotonic() - filled < 8:
        time.sleep(0.05)
    result = engine.stop()
    verdict = verify_pieces(result.media_path, result.journal_path)
    return {
        "kinds": events.kinds(),
        "after_s": events.first("disk_full")[0] - filled if "disk_full" in events.kinds() else None,
        "verified": verdict.ok,
        "detail": verdict.detail,
        "bytes": result.bytes,
        "size": result.media_path.stat().st_size,
        "decoded_s": analysis.media_seconds(result.media_path),
    }


@pytest.mark.slow
def test_r19_disk_full_alarms_within_5_s_and_keeps_what_was_written(tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a small tmpfs privately")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(Path(__file__).parent)])}
    run = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", sys.executable, __file__,
         "--disk-full", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    if run.returncode != 0 and "Operation not permitted" in run.stderr:
        pytest.skip(f"no private mounts here: {run.stderr.strip()[-200:]}")
    assert run.returncode == 0, run.stderr[-2000:]
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["kinds"][:2] == ["disk_full", "alarm"]
    assert outcome["after_s"] < 5.0
    assert outcome["verified"], outcome["detail"]
    assert outcome["bytes"] == outcome["size"] and outcome["size"] % 188 == 0
    assert outcome["decoded_s"] > 1.5


if __name__ == "__main__" and sys.argv[1:2] == ["--disk-full"]:
    print(json.dumps(disk_full_scenario(Path(sys.argv[2]))))
