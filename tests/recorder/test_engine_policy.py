"""The recorder's pure rules, as tables (no ffmpeg run here): R6, R8, R19."""

from __future__ import annotations

import pytest

from taspa.recorder import policy
from taspa.recorder.policy import EncodeSettings, Source, capture_command


@pytest.mark.parametrize(
    ("reason", "allowed"),
    [
        ("adjournment", True),  # R6
        ("recess", True),  # R6
        ("deliberation", True),  # R6: the court retires to deliberate
        ("lunch", False),  # R19: any other stop is a break, not a pause
        ("technical", False),
        ("", False),
        ("Recess", False),
    ],
)
def test_r6_r19_pause_reasons(reason: str, allowed: bool) -> None:
    assert policy.pause_reason_allowed(reason) is allowed


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        ("idle", "start", "recording"),
        ("recording", "start", None),  # start is refused while running
        ("recording", "pause", "paused"),
        ("paused", "pause", None),
        ("paused", "resume", "recording"),
        ("recording", "resume", None),
        ("recording", "disk_full", "halted"),
        ("halted", "resume", None),  # a full disk is not resumed silently
        ("halted", "stop", "stopped"),
        ("paused", "stop", "stopped"),
        ("stopped", "start", None),
        ("idle", "stop", None),
    ],
)
def test_state_transitions(state: str, action: str, after: str | None) -> None:
    assert policy.next_state(state, action) == after


MICS = [
    Source("audio", "sine=frequency=440", "lavfi", "judge"),
    Source("audio", "hw:1,0", "alsa", "plaintiff"),
    Source("audio", "default", "pulse", "defendant"),
]
CAMERA = Source("video", "rtsp://10.0.0.5/stream1", "rtsp", "camera")


def test_capture_command_is_an_argument_list_with_one_opus_track_per_microphone() -> None:
    cmd = capture_command(MICS, meter_fd=7)
    assert cmd[0] == "ffmpeg" and all(isinstance(part, str) for part in cmd)
    assert [cmd[i + 1] for i, part in enumerate(cmd) if part == "-map"] == [
        "[a0]", "[a1]", "[a2]", "[meter]",
    ]  # fmt: skip
    assert cmd[cmd.index("-c:a") + 1] == "libopus" and cmd[cmd.index("-ar") + 1] == "48000"
    assert "amerge=inputs=3" in cmd[cmd.index("-filter_complex") + 1]
    assert cmd[-1] == "pipe:7" and "pipe:1" in cmd
    assert cmd[cmd.index("mpegts") - 1] == "-f" and "-flush_packets" in cmd


def test_only_generated_and_file_inputs_are_paced_with_re() -> None:
    assert policy.input_args(MICS[0])[:3] == ["-thread_queue_size", "8", "-re"]
    assert "-re" not in policy.input_args(MICS[1])
    assert policy.input_args(MICS[1])[-4:] == ["-f", "alsa", "-i", "hw:1,0"]
    assert "-re" in policy.input_args(Source("audio", "/tmp/x.wav", "file"))
    assert "tcp" in policy.input_args(CAMERA)


def test_r19_a_capture_paces_each_generated_or_file_input_once() -> None:
    """Audio by its sample count in the graph (arealtime), video by -re, a device by itself."""
    wav = Source("audio", "/tmp/x.wav", "file", "witness")
    generated_camera = Source("video", "testsrc2=size=1280x720:rate=25", "lavfi", "camera")
    cmd = capture_command([MICS[0], MICS[1], wav, generated_camera], meter_fd=5)
    ends = [i for i, part in enumerate(cmd) if part == "-i"]
    options = [cmd[start + 2 : end] for start, end in zip([-2, *ends], ends, strict=False)]
    assert [("-re" in o) for o in options] == [False, False, False, True]
    graph = cmd[cmd.index("-filter_complex") + 1]
    assert graph.count("arealtime") == 2  # the generated and the file microphone, not the device
    assert "[1:a:0]asetpts" in graph and "arealtime,asplit=2[a1]" not in graph
    # the meter branch measures 0.1 s blocks (R11): it takes its track in 0.1 s frames
    assert graph.count(f"asetnsamples=n={policy.METER_FRAME_SAMPLES}:p=0,aresample=8000") == 3
    unmetered = capture_command(MICS, meter_fd=None)
    assert "asetnsamples" not in unmetered[unmetered.index("-filter_complex") + 1]
    assert "-re" in policy.preflight_command(MICS[0], seconds=1.0)  # no graph to pace it


def test_restart_continues_the_timeline_and_a_file_seeks_like_a_live_feed() -> None:
    wav = Source("audio", "/tmp/x.wav", "file")
    cmd = capture_command([wav], meter_fd=5, ts_offset=12.5)
    assert cmd[cmd.index("-output_ts_offset") + 1] == "12.500000"
    assert cmd[cmd.index("-ss") + 1] == "12.500"
    assert "-ss" not in capture_command([MICS[0]], meter_fd=5, ts_offset=12.5)


def test_h264_camera_is_copied_other_video_is_encoded() -> None:
    sources = [MICS[0], CAMERA, Source("video", "testsrc2=size=1280x720:rate=25", "lavfi")]
    cmd = capture_command(sources, meter_fd=5, copy_video=frozenset({1}))
    assert cmd[cmd.index("-c:v:0") + 1] == "copy"
    assert cmd[cmd.index("-c:v:1") + 1] == "libx264"
    assert cmd[cmd.index("-preset:v:1") + 1] == "veryfast"


def test_r8_disk_estimate_covers_ts_overhead() -> None:
    four_mics = [Source("audio", f"sine=f={400 + i}", "lavfi") for i in range(4)]
    per_second = policy.bytes_per_second(four_mics)
    assert 4 * 48_000 / 8 < per_second < 4 * 48_000 / 8 * 3
    eight_hours = policy.required_bytes(four_mics, 8)
    assert eight_hours == pytest.approx(8 * 3600 * (per_second + 150), rel=1e-6)
    av = policy.bytes_per_second([four_mics[0], CAMERA], EncodeSettings(), copied=1)
    assert av > 4000 * 1000 / 8


def test_sources_are_validated() -> None:
    with pytest.raises(ValueError, match="kind"):
        Source("midi", "x")
    with pytest.raises(ValueError, match="format"):
        Source("audio", "x", "shell")
