"""The capture engine with real ffmpeg and real-time sources: the file, the chain, levels,
marks, lawful pauses, preflight (R6, R8, R11, R12, R19)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from taspa.recorder import analysis
from taspa.recorder.engine import (
    CALIBRATE_S,
    READ_PAUSE_S,
    CaptureEngine,
    CaptureResult,
    EngineError,
    EngineEvent,
    Source,
    preflight,
    verify_pieces,
)

TONE = Source("audio", "sine=frequency=440:sample_rate=48000", "lavfi", "judge")
TONE2 = Source("audio", "sine=frequency=880:sample_rate=48000", "lavfi", "witness")
SILENCE = Source("audio", "anullsrc=r=48000:cl=mono", "lavfi", "interpreter")
FULL_SCALE = Source("audio", "aevalsrc=sin(2*PI*440*t):s=48000", "lavfi", "prosecutor")


def probe_streams(path: Path) -> list[dict]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return json.loads(out)["streams"]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> CaptureResult:
    engine = CaptureEngine(
        sources=[TONE, TONE2], spool_dir=tmp_path_factory.mktemp("rec") / "spool"
    )
    engine.start()
    time.sleep(2.6)
    return engine.stop()


@pytest.mark.slow
def test_r19_stop_hands_over_digest_and_chain_without_rereading(recording: CaptureResult) -> None:
    data = recording.media_path.read_bytes()
    assert recording.sha256 == hashlib.sha256(data).hexdigest()
    assert recording.bytes == len(data) and len(data) % 188 == 0
    assert recording.container == "mpegts" and recording.gaps == []
    assert recording.duration_s == pytest.approx(2.6, abs=0.3)
    assert recording.pieces >= 3  # a piece (fsync + journal line) at least every second
    verdict = verify_pieces(recording.media_path, recording.journal_path)
    assert verdict.ok and verdict.pieces == recording.pieces
    assert recording.chain_head in verdict.detail
    assert recording.command[0] == "ffmpeg" and "-output_ts_offset" in recording.command


@pytest.mark.slow
def test_each_microphone_is_its_own_opus_48k_track(recording: CaptureResult) -> None:
    streams = probe_streams(recording.media_path)
    assert [(s["codec_name"], s["sample_rate"]) for s in streams] == [("opus", "48000")] * 2
    start = json.loads(recording.journal_path.read_text().splitlines()[0])
    assert [s["label"] for s in start["sources"]] == ["judge", "witness"]  # track order
    assert analysis.media_seconds(recording.media_path, stream=1) == pytest.approx(2.6, abs=0.3)


def _copy_spool(recording: CaptureResult, tmp_path: Path) -> tuple[Path, Path]:
    media, journal = tmp_path / "m.ts", tmp_path / "j.jsonl"
    shutil.copy(recording.media_path, media)
    shutil.copy(recording.journal_path, journal)
    return media, journal


@pytest.mark.slow
def test_r19_one_flipped_byte_names_its_piece(recording: CaptureResult, tmp_path: Path) -> None:
    media, journal = _copy_spool(recording, tmp_path)
    second = [json.loads(line) for line in journal.read_text().splitlines()]
    second = next(r for r in second if r.get("type") == "piece" and r["index"] == 1)
    with open(media, "r+b") as out:
        out.seek(second["offset"] + 100)
        byte = out.read(1)
        out.seek(-1, os.SEEK_CUR)
        out.write(bytes([byte[0] ^ 0x01]))
    verdict = verify_pieces(media, journal)
    assert not verdict.ok and verdict.first_bad == 1
    assert "piece 1" in verdict.detail


@pytest.mark.slow
@pytest.mark.parametrize("which", ["second", "last"])
def test_r19_a_deleted_journal_line_names_the_missing_piece(
    recording: CaptureResult, tmp_path: Path, which: str
) -> None:
    media, journal = _copy_spool(recording, tmp_path)
    lines = journal.read_text().splitlines()
    pieces = [i for i, line in enumerate(lines) if json.loads(line).get("type") == "piece"]
    victim = pieces[1] if which == "second" else pieces[-1]
    journal.write_text("\n".join(line for i, line in enumerate(lines) if i != victim) + "\n")
    verdict = verify_pieces(media, journal)
    assert not verdict.ok
    assert verdict.first_bad == (1 if which == "second" else len(pieces) - 1)


@pytest.mark.slow
def test_r11_levels_tell_tone_from_silence_and_flag_clipping(tmp_path: Path) -> None:
    engine = CaptureEngine(
        sources=[TONE, SILENCE, FULL_SCALE], spool_dir=tmp_path / "spool", silence_after_s=1.0
    )
    engine.start()
    try:
        time.sleep(0.6)
        early = engine.level_updates
        time.sleep(1.0)
        rate = engine.level_updates - early
        tone, silence, loud = engine.levels()
    finally:
        engine.stop()
    assert rate >= 5  # R11: the meter moves at least five times a second
    assert tone.rms_dbfs == pytest.approx(-21.1, abs=1.5) and not tone.silent
    assert silence.rms_dbfs <= -100 and silence.silent  # > silence_after_s without signal
    assert loud.clipping and not tone.clipping and loud.peak_dbfs >= -0.1
    assert [c.name for c in (tone, silence, loud)] == ["judge", "interpreter", "prosecutor"]


@pytest.mark.slow
def test_r11_the_meter_keeps_moving_at_the_console_cadence_once_reads_are_paced(
    tmp_path: Path,
) -> None:
    # Past its first 2 s a run's pipes are read five times a second (engine.READ_PAUSE_S), not
    # at every ffmpeg write: the console's stream (5 a second) must still see fresh levels
    # each time, and every 0.1 s block must still be measured.
    engine = CaptureEngine(sources=[TONE, FULL_SCALE], spool_dir=tmp_path / "spool")
    engine.start()
    try:
        time.sleep(CALIBRATE_S + 0.5)
        first = seen = engine.level_updates
        fresh, started = 0, time.monotonic()
        while time.monotonic() - started < 2.0:
            time.sleep(0.02)
            if engine.level_updates != seen:
                fresh, seen = fresh + 1, engine.level_updates
        blocks = engine.level_updates - first
        tone, loud = engine.levels()
    finally:
        result = engine.stop()
    assert READ_PAUSE_S <= 0.2
    assert fresh >= 8  # the meter changed at least 4 times a second, as the console asks
    assert blocks >= 16  # every 0.1 s block measured (a busy machine may lag a little)
    assert tone.rms_dbfs == pytest.approx(-21.1, abs=1.5) and loud.clipping
    assert result.gaps == [] and verify_pieces(result.media_path, result.journal_path).ok


class RealTimeFifo(threading.Thread):
    """A live source the test controls: 48 kHz PCM written into a FIFO in real time, with tone
    bursts whose wall-clock onset the test notes as it writes them (what a person would hear)."""

    def __init__(self, path: Path, bursts: list[float], seconds: float) -> None:
        super().__init__(daemon=True)
        self.path, self.bursts, self.seconds = path, bursts, seconds
        self.onsets: list[float] = []
        os.mkfifo(path)

    def run(self) -> None:
        rate, chunk = 48000, 960
        header = b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVEfmt "
        header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        header += b"data" + struct.pack("<I", 0xFFFFFFFF)
        tone = (0.5 * np.sin(2 * np.pi * 1000 * np.arange(chunk) / rate) * 32767).astype("<i2")
        quiet = np.zeros(chunk, dtype="<i2").tobytes()
        starts = {round(b * rate / chunk) for b in self.bursts}
        loud = {k for s in starts for k in range(s, s + 10)}  # 0.2 s bursts
        try:
            with open(self.path, "wb", buffering=0) as out:
                out.write(header)
                t0 = time.time()
                for k in range(int(self.seconds * rate / chunk)):
                    time.sleep(max(0.0, t0 + k * chunk / rate - time.time()))
                    if k in starts:
                        self.onsets.append(time.time())
                    out.write(tone.tobytes() if k in loud else quiet)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the recorder stopped reading


@pytest.mark.slow
def test_r12_mark_offsets_land_within_100_ms_of_the_sound(tmp_path: Path) -> None:
    # The FIFO is a live feed (no -re); ffmpeg's probing blocks the writer for the first
    # second or so, so the bursts come once the writer runs on schedule.
    fifo = RealTimeFifo(tmp_path / "room.wav", bursts=[2.0, 2.9, 3.8], seconds=30)
    engine = CaptureEngine(
        sources=[Source("audio", str(fifo.path), "file", "room")], spool_dir=tmp_path / "spool"
    )
    fifo.start()
    engine.start()
    time.sleep(4.4)
    marks = [engine.media_offset(_utc(t)) for t in fifo.onsets]
    result = engine.stop()
    fifo.join(5)
    heard = analysis.onsets(analysis.decode_pcm(result.media_path), threshold=0.1)
    assert len(marks) == len(heard) == 3
    for mark, onset in zip(marks, heard, strict=True):
        assert abs(mark - onset) <= 0.1, (marks, heard)


def _utc(ts: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)


@pytest.mark.slow
def test_r6_lawful_pause_is_no_gap_and_the_timeline_runs_on(tmp_path: Path) -> None:
    events: list[EngineEvent] = []
    engine = CaptureEngine(sources=[TONE], spool_dir=tmp_path / "spool", on_event=events.append)
    engine.start()
    with pytest.raises(EngineError):
        engine.start()  # one recording at a time
    time.sleep(1.2)
    with pytest.raises(EngineError, match="lunch"):
        engine.pause("lunch")  # R19: not a lawful reason
    assert engine.running
    engine.pause("recess")
    assert not engine.running
    time.sleep(1.0)
    engine.resume()
    time.sleep(1.2)
    result = engine.stop()
    assert events == [] and result.gaps == []
    # Wall-clock timeline; the margin covers ffmpeg's restart on a busy 2-core machine.
    assert result.duration_s == pytest.approx(3.4, abs=0.5)
    pcm = analysis.decode_pcm(result.media_path, fill_gaps=True)
    (_, a_end), (b_start, _) = analysis.runs_of_signal(pcm)
    assert (b_start - a_end) / 48000 == pytest.approx(1.0, abs=0.4)  # the pause, visible
    assert verify_pieces(result.media_path, result.journal_path).ok
    with pytest.raises(EngineError, match="recover"):
        CaptureEngine(sources=[TONE], spool_dir=tmp_path / "spool").start()


@pytest.mark.slow
def test_r8_preflight_finds_signal_silence_a_dead_source_and_short_disk(tmp_path: Path) -> None:
    dead = Source("audio", str(tmp_path / "no-such-mic.wav"), "file", "dead")
    started = time.monotonic()
    checks = preflight([TONE, SILENCE, dead], tmp_path / "spool", seconds=3.0, hours=8)
    assert time.monotonic() - started < 3.5
    by_name = {c.name: c for c in checks}
    assert by_name["source:judge"].ok
    assert not by_name["source:interpreter"].ok and "silent" in by_name["source:interpreter"].detail
    assert not by_name["source:dead"].ok
    assert by_name["disk_space"].ok
    engine = CaptureEngine(sources=[dead], spool_dir=tmp_path / "spool")
    with pytest.raises(EngineError, match="No such file"):
        engine.start()  # R9: recording is impossible, and the error says why
    assert not engine.running and not (tmp_path / "spool" / "journal.jsonl").exists()
    huge = preflight([TONE], tmp_path, seconds=3.0, hours=10_000_000)
    assert not huge[-1].ok and huge[-1].name == "disk_space"


@pytest.mark.slow
def test_video_is_h264_beside_opus_and_an_h264_file_is_copied(tmp_path: Path) -> None:
    clip = tmp_path / "camera.ts"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
         "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", str(clip)],
        check=True,
    )  # fmt: skip
    live = Source("video", "testsrc2=size=1280x720:rate=25", "lavfi", "room camera")
    camera = Source("video", str(clip), "file", "ip camera")
    engine = CaptureEngine(sources=[TONE, live, camera], spool_dir=tmp_path / "spool", video=True)
    engine.start()
    time.sleep(2.5)
    result = engine.stop()
    codecs = [(s["codec_type"], s["codec_name"]) for s in probe_streams(result.media_path)]
    assert sorted(codecs) == [("audio", "opus"), ("video", "h264"), ("video", "h264")]
    assert result.command[result.command.index("-c:v:0") + 1] == "libx264"
    assert result.command[result.command.index("-c:v:1") + 1] == "copy"
    assert verify_pieces(result.media_path, result.journal_path).ok
    audio_only = CaptureEngine(sources=[TONE, live], spool_dir=tmp_path / "a", video=False)
    assert [s.kind for s in audio_only.sources] == ["audio"]
