"""The cut of a copy as a table (R32 for part of a hearing, #18 point 2): which packets leave
with a closed interval. Audio: every packet touching it. Video: also every frame decoded after
the first left-out one until the keyframe where the copy resumes, so no kept frame is predicted
from a closed one (B-frames before the interval, P-frames after it)."""

from fractions import Fraction

import pytest

from taspa.access.copymedia import (
    MKA,
    MKV,
    MP4,
    OGG,
    Packet,
    Stream,
    container_for,
    copy_command,
    parse_packets,
    plan_cut,
)

AUDIO = Stream(0, "audio", "opus", Fraction(1, 100))
VIDEO = Stream(1, "video", "h264", Fraction(1, 1))


def audio_packets(count: int) -> list[Packet]:
    return [Packet(pts=2 * n, duration=2, key=True) for n in range(count)]  # 20 ms each


@pytest.mark.parametrize(
    ("interval", "dropped", "span"),
    [
        ((0.05, 0.09), [(2, 4)], (0.04, 0.10)),  # inside packets: rounded outward
        ((0.04, 0.08), [(1, 4)], (0.02, 0.10)),  # on boundaries: the touching packets too
        ((0.0, 0.01), [(0, 0)], (0.0, 0.02)),
        ((5.0, 6.0), [], None),  # outside the recording: nothing to cut
    ],
)
def test_r32_audio_cut_covers_the_closed_interval(interval, dropped, span):
    cuts, drops = plan_cut([AUDIO], {0: audio_packets(10)}, [interval])
    assert drops.get(0, []) == dropped
    got = None if cuts[0].start_s is None else (cuts[0].start_s, cuts[0].end_s)
    assert got == (pytest.approx(span) if span else None)


def test_r32_video_cut_leaves_out_every_frame_predicted_from_a_closed_one():
    # decode order of an IBBP stream: I0 P3 B1 B2 P6 B4 B5 I9 B7 B8 (pts in seconds)
    order = [(0, True), (3, False), (1, False), (2, False), (6, False), (4, False), (5, False),
             (9, True), (7, False), (8, False)]  # fmt: skip
    video = [Packet(pts=pts, duration=1, key=key) for pts, key in order]
    audio = [Packet(pts=100 * n, duration=100, key=True) for n in range(10)]  # 1 s each
    streams = [Stream(0, "audio", "opus", Fraction(1, 100)), VIDEO]
    cuts, drops = plan_cut(streams, {0: audio, 1: video}, [(3.2, 3.8)])
    # P3 holds the interval; B1, B2 (shown before it) are predicted from it, and everything
    # decoded after it until the keyframe I9 is predicted from it or from frames that are;
    # B7, B8, decoded after I9 but shown before it, are predicted from P6: gone as well
    assert drops[1] == [(1, 6), (8, 9)]
    kept = [p.pts for i, p in enumerate(video) if not any(a <= i <= b for a, b in drops[1])]
    assert kept == [0, 9]
    # the sound goes with the picture: from B1's moment (the packet touching it too) to I9
    assert drops[0] == [(0, 8)]
    assert (cuts[0].start_s, cuts[0].end_s) == (0.0, 9.0)


def test_r32_video_open_gop_frames_after_the_resuming_keyframe_are_left_out():
    order = [(0, True), (3, False), (1, False), (2, False), (6, True), (4, False), (5, False),
             (9, False)]  # fmt: skip
    video = [Packet(pts=pts, duration=1, key=key) for pts, key in order]
    _, drops = plan_cut([VIDEO], {1: video}, [(3.2, 3.8)])
    kept = [p.pts for i, p in enumerate(video) if not any(a <= i <= b for a, b in drops[1])]
    assert kept == [0, 6, 9]  # B4, B5 are shown before I6 and predicted from P3: gone


def test_r32_several_cameras_resume_where_each_has_a_keyframe():
    one = [Packet(pts=n, duration=1, key=n % 4 == 0) for n in range(16)]  # keys 0 4 8 12
    two = [Packet(pts=n, duration=1, key=n % 6 == 0) for n in range(16)]  # keys 0 6 12
    streams = [VIDEO, Stream(2, "video", "h264", Fraction(1, 1))]
    cuts, drops = plan_cut(streams, {1: one, 2: two}, [(2.5, 3.0)])
    assert drops == {1: [(2, 11)], 2: [(2, 11)]}  # both resume at 12
    assert (cuts[0].start_s, cuts[0].end_s) == (2.0, 12.0)


@pytest.mark.parametrize(
    ("codecs", "container"),
    [
        ([("audio", "opus"), ("audio", "opus")], OGG),
        ([("audio", "mp2")], MKA),
        ([("audio", "opus"), ("video", "h264")], MP4),
        ([("audio", "mp2"), ("video", "h264")], MKV),
        ([("audio", "opus"), ("video", "hevc")], MKV),
    ],
)
def test_r31_the_copy_is_in_a_container_common_players_open(codecs, container):
    streams = [Stream(i, kind, codec, Fraction(1, 90000)) for i, (kind, codec) in enumerate(codecs)]
    assert container_for(streams) == container


def test_r31_copy_command_stream_copies_and_drops_by_packet_count():
    streams = [Stream(0, "audio", "opus", Fraction(1, 90000)), VIDEO]
    command = copy_command("in.ts", "pipe:1", streams, OGG, {1: [(3, 5), (9, 9)]})
    assert command[command.index("-c") + 1] == "copy" and "-copyts" in command
    assert command[command.index("-bsf:1") + 1] == (
        "noise=drop=between(n\\,3\\,5)+between(n\\,9\\,9)"
    )
    assert "-bsf:0" not in command


def test_packets_parsed_from_ffprobe_csv_fill_in_missing_times():
    csv = "0,0,0,1800,K_,\n\n0,N/A,1800,N/A,K_\n0,3600,3600,1800,K_\n2,0,0,9,K_\n"
    found = parse_packets(csv, [Stream(0, "audio", "opus", Fraction(1, 90000))])
    table = found[0]
    assert [table[i] for i in range(len(table))] == [
        Packet(0, 1800, True), Packet(1800, 1800, True), Packet(3600, 1800, True),
    ]  # fmt: skip
    assert list(found) == [0]


def test_r32_an_open_ended_portion_cuts_to_the_end_and_a_backward_one_is_refused():
    cuts, drops = plan_cut([AUDIO], {0: audio_packets(10)}, [(0.1, float("inf"))])
    assert drops[0] == [(4, 9)] and cuts[0].end_s == pytest.approx(0.2)
    video = [Packet(pts=n, duration=1, key=n % 3 == 0) for n in range(9)]
    _, drops = plan_cut([VIDEO], {1: video}, [(4.5, float("inf"))])
    assert drops[1] == [(4, 8)]
    with pytest.raises(ValueError):
        plan_cut([AUDIO], {0: audio_packets(10)}, [(0.5, 0.2)])
