"""Timestamps checked during capture (R6, R19: a continuous record that plays its full length).

A looping source (the demo's looped speech file did this at every loop) restarts its clock
each time round: without repair the sealed file played a quarter of its length and ffmpeg
complained about non-monotonic DTS over a thousand times.
"""

from __future__ import annotations

import itertools
import subprocess
import time
from pathlib import Path

import pytest

from taspa.recorder import policy
from taspa.recorder.engine import CaptureEngine, EngineEvent, Source
from taspa.recorder.journal import MEDIA_NAME
from taspa.recorder.timestamps import PesWatch, parse_input_jumps


def _tone(path: Path, seconds: float, freq: int) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency={freq}:sample_rate=48000:duration={seconds}", str(path)],
        check=True, timeout=30,
    )  # fmt: skip
    return path


def looping(wav: Path, *, with_tone: bool) -> str:
    """The demo's old judge source: a file looped by amovie (its clock restarts each loop)."""
    head = f"amovie=filename={wav}:loop=0,aresample=48000,aformat=channel_layouts=mono"
    if not with_tone:
        return head
    return (
        f"{head}[s];sine=frequency=440:sample_rate=48000,volume=0.05[t];[s][t]amix=inputs=2[out0]"
    )


def played_seconds(media: Path, track: int) -> float:
    """Seconds of audio a player gets out of one track (decoded samples at 48 kHz)."""
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(media), "-map", f"0:a:{track}",
         "-f", "s16le", "-ac", "1", "-ar", "48000", "-"],
        capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return len(pcm) / 96000


def probed_duration(media: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
         str(media)],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    return float(out)


def timestamp_complaints(media: Path) -> int:
    err = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(media), "-f", "null", "-"],
        capture_output=True, text=True, timeout=60,
    ).stderr  # fmt: skip
    return sum("monoton" in line for line in err.splitlines())


@pytest.mark.slow
def test_r6_r19_continuous_record_of_a_looping_source_plays_its_full_length(
    tmp_path: Path,
) -> None:
    judge = _tone(tmp_path / "judge.wav", 1.3, 300)
    parties = _tone(tmp_path / "parties.wav", 0.9, 700)
    events: list[EngineEvent] = []
    engine = CaptureEngine(
        sources=[
            Source("audio", looping(judge, with_tone=True), "lavfi", "Судья"),
            Source("audio", looping(parties, with_tone=False), "lavfi", "Стороны"),
        ],
        spool_dir=tmp_path / "spool",
        on_event=events.append,
    )
    began = time.monotonic()
    engine.start()
    time.sleep(9.0)
    result = engine.stop()
    wall = time.monotonic() - began
    # Every loop restarted the input's clock (6 and 10 times); none of it reaches the file.
    assert timestamp_complaints(result.media_path) == 0
    assert probed_duration(result.media_path) == pytest.approx(wall, abs=1.0)
    for track in (0, 1):
        assert played_seconds(result.media_path, track) == pytest.approx(wall, abs=1.0)
    assert result.gaps == []  # repaired where it arose: no restart, nothing lost
    reported = [e.detail for e in events if e.kind == "timestamps"]
    assert any(
        d.startswith("track 1 (Судья): the source's timestamps jumped back") for d in reported
    )
    assert any(
        d.startswith("track 2 (Стороны): the source's timestamps jumped back") for d in reported
    )
    assert len(reported) == 2  # one incident per track, not one per loop


@pytest.mark.slow
def test_r6_r19_a_restart_after_a_break_stays_a_visible_gap(tmp_path: Path) -> None:
    """The sample clock starts every run at 0 + -output_ts_offset: a break is still a gap."""
    engine = CaptureEngine(
        sources=[Source("audio", "sine=frequency=440:sample_rate=48000", "lavfi", "judge")],
        spool_dir=tmp_path / "spool",
    )
    engine.start()
    time.sleep(2.5)
    pid = engine.ffmpeg_pid
    subprocess.run(["kill", "-9", str(pid)], check=True)
    time.sleep(3.0)
    result = engine.stop()
    assert len(result.gaps) == 1
    assert timestamp_complaints(result.media_path) == 0
    packets = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "packet=pts_time",
         "-of", "csv=p=0", str(result.media_path)],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.split()  # fmt: skip
    times = [float(t.strip(",")) for t in packets]
    steps = [b - a for a, b in itertools.pairwise(times)]
    assert all(step > 0 for step in steps)
    gap = (result.gaps[0].end - result.gaps[0].start).total_seconds()
    # The largest step is the break (plus one 20 ms frame), not a restart of the clock at 0.
    assert max(steps) == pytest.approx(gap + 0.02, abs=0.15)
    assert times[-1] == pytest.approx(result.duration_s, abs=0.5)


def _ts(
    tmp_path: Path, name: str, *, seconds: float, video: bool = False, offset: float = 0.0
) -> bytes:
    out = tmp_path / name
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=duration={seconds}"]
    if video:
        cmd += ["-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=25:duration={seconds}"]
    cmd += ["-c:a", "libopus", "-ar", "48000"]
    if video:
        cmd += ["-c:v", "libx264", "-preset", "ultrafast"]
    cmd += ["-output_ts_offset", str(offset), "-f", "mpegts", "-muxdelay", "0"]
    cmd += ["-muxpreload", "0", str(out)]
    subprocess.run(cmd, check=True, timeout=60)
    return out.read_bytes()


def test_r19_a_track_whose_clock_restarts_is_caught_at_its_first_packet(tmp_path: Path) -> None:
    """Two real TS files one after the other (a source whose timestamps restart): the watch
    names the track and the first packet not to store, and passes a clean stream."""
    clip = _ts(tmp_path, "clip.ts", seconds=2.0, video=True)
    watch = PesWatch(tracks=2, ahead_s=1e9)
    assert watch.check(clip, now=0.0) is None
    fault = watch.check(clip, now=0.0)
    assert fault is not None and fault.kind == "backwards" and fault.current_s < 0.1
    assert fault.track in (0, 1) and fault.previous_s > 1.8
    # Nothing before the faulty packet is a fault: storing clip[:cut] keeps the file clean.
    assert PesWatch(tracks=2).check(clip[: fault.packet * 188], now=0.0) is None
    assert "track" in fault.describe("judge")


def test_r19_a_hole_in_one_track_is_reported_but_does_not_break_playback(tmp_path: Path) -> None:
    """A camera that froze for 8 s: its next frame jumps ahead; players show a hole."""
    first = _ts(tmp_path, "a.ts", seconds=2.0)
    later = _ts(tmp_path, "b.ts", seconds=2.0, offset=10.0)
    watch = PesWatch(tracks=1, ahead_s=1e9)
    assert watch.check(first, now=0.0) is None
    fault = watch.check(later, now=0.0)
    assert fault is not None and fault.kind == "jump" and not fault.breaks_playback
    assert fault.current_s - fault.previous_s > 7.5
    assert watch.check(later, now=0.0, start=fault.packet + 1) is None


def test_r19_a_source_that_runs_ahead_of_the_clock_is_caught(tmp_path: Path) -> None:
    """Ten seconds of audio arriving in one instant is a burst, not real-time capture."""
    clip = _ts(tmp_path, "burst.ts", seconds=10.0)
    fault = PesWatch(tracks=1, calibrate_s=0.0).check(clip, now=100.0)
    assert fault is not None and fault.kind == "ahead" and fault.track == 0


def test_input_jump_report_names_the_track() -> None:
    log = b"$ ffmpeg ...\n1999995.672018\n    Last message repeated 2 times\n999996.1\n"
    jumps = parse_input_jumps(log, policy.JUMP_MARKER)
    assert [(j.track, j.jump_s, j.times) for j in jumps] == [(1, -4.328, 3), (0, -3.9, 1)]


def test_every_audio_track_is_stamped_from_its_sample_count() -> None:
    cmd = policy.capture_command(
        [Source("audio", "sine", "lavfi", "judge"), Source("audio", "hw:1", "alsa", "mic")],
        meter_fd=5,
        ts_offset=30.0,
    )
    graph = cmd[cmd.index("-filter_complex") + 1]
    assert graph.count("asetpts='N/SR/TB") == 2
    assert "[0:a:0]asetpts" in graph and graph.count("arealtime") == 1  # the paced one only
    assert cmd[cmd.index("-output_ts_offset") + 1] == "30.000000"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r19_a_looping_courtroom_source_is_an_incident_naming_the_track(world, tmp_path) -> None:
    """Through the recorder's actions, as a hearing is recorded: one incident per jumping
    track, saying which microphone it was; the recording itself has no timestamp fault."""
    from taspa.incidents.models import Incident
    from taspa.recorder import actions

    wav = _tone(tmp_path / "loop.wav", 1.0, 500)
    room = world.rooms["a"]
    room.sources = [
        {"kind": "audio", "format": "lavfi", "input": looping(wav, with_tone=True),
         "label": "Судья"},
        {"kind": "audio", "format": "lavfi", "input": "sine=frequency=660:sample_rate=48000",
         "label": "Стороны"},
    ]  # fmt: skip
    room.save()
    hearing = world.hearing(court="a")
    secretary = world.person("secretary")
    actions.start_recording(actor=secretary, hearing=hearing)
    time.sleep(4.0)
    hearing.refresh_from_db()
    recording = actions.stop_recording(actor=secretary, hearing=hearing)
    faults = Incident.objects.filter(hearing=hearing, kind="timestamp_fault")
    assert [i.detail.split(":")[0] for i in faults] == ["track 1 (Судья)"]
    assert not Incident.objects.filter(hearing=hearing, kind="capture_gap").exists()
    media = Path(recording.spool_dir) / MEDIA_NAME  # no EDS key here: it stays in the spool
    assert media.is_file() and timestamp_complaints(media) == 0
    assert played_seconds(media, 0) == pytest.approx(recording.duration_s, abs=0.5)
