"""#17 point 3 (R32 for part of a hearing, at stream-copy cost): a cut planned from the packets
around each closed portion only — listed a few seconds either side of its edges, the interior
counted by ffprobe, not listed — leaves out exactly the packets the cut planned on every packet
of the recording leaves out, and names the same span and packet count in the copy's manifest:
for the audio tracks and with the video (keyframe to keyframe), for portions at the start, in
the middle, to the end and past the end, with seeks and an unlisted interior (1 s edges on a
12 s recording); a window that cannot settle a cut falls back to every packet."""

from __future__ import annotations

import pytest

from taspa.access import copymedia, package
from taspa.access.copymedia import PacketTable, Window, plan_cut, plan_window

from . import copykit

pytestmark = pytest.mark.slow
recorder_media = copykit.recorder_media  # the fixture
INTERVALS = [
    (0.0, 0.5), (2.0, 3.5), (7.2, 8.1), (3.0, 9.0), (4.01, 4.02), (10.5, float("inf")),
    (11.9, 30.0), (20.0, 30.0),
]  # fmt: skip


def left_out(tables, drops, on: str) -> dict[int, list[int]]:
    """Per stream, the byte positions of the packets ``drops`` leave out (ranges of packet
    counts or of positions, as ffmpeg's ``noise`` filter reads them)."""
    found = {}
    for index, ranges in drops.items():
        table = tables[index]
        value = range(len(table)) if on == "n" else table.pos
        found[index] = [
            table.pos[i]
            for i, v in enumerate(value)
            if any(lo <= v and (hi is None or v <= hi) for lo, hi in ranges)
        ]
    return found


@pytest.mark.parametrize("video", [False, True], ids=["audio", "audio+video"])
def test_r32_cut_planned_around_each_portion_leaves_out_what_every_packet_says(
    recorder_media, monkeypatch, video
):
    monkeypatch.setattr(package, "EDGE_S", 1.0)  # seeks and an unlisted interior, even here
    streams = copymedia.kept_streams(package.probe_streams(recorder_media), video)
    every = package.probe_packets(recorder_media, streams)
    for interval in INTERVALS:
        around = package._plan_around(recorder_media, streams, [interval])
        assert around is not None, interval  # settled from the windows, no full listing
        cuts, drops = around
        full_cuts, full_drops = plan_cut(streams, every, [interval])
        assert cuts == full_cuts, interval
        assert left_out(every, drops, "pos") == left_out(every, full_drops, "n"), interval


def test_r32_a_window_that_cannot_settle_the_cut_says_so():
    audio = copymedia.Stream(0, "audio", "opus", copymedia.Fraction(1, 100))

    def table(first: int, last: int, pos=lambda n: 100 * n) -> PacketTable:
        found = PacketTable()
        for n in range(first, last):
            found.append(2 * n, 2, True, pos(n))
        return found

    def window(head, tail, counted, **flags):
        return Window({0: head}, {0: tail}, {0: counted}, flags.get("start", False), False)

    # 0–2 s listed, 4–6 s listed, 300 packets in all: the 100 between are left out
    plan = plan_window([audio], window(table(0, 100), table(200, 300), 300), (1.5, 4.5))
    assert plan is not None and plan.cut.packets == 225 - 74 + 1  # 1.48–4.52 s
    assert plan.drops == {0: [(7400, 22500)]}
    # the interior is not all inside the interval: it cannot be left unlisted
    assert plan_window([audio], window(table(0, 100), table(200, 300), 300), (1.5, 1.6)) is None
    # the first packet left out is too near the first listed: what came before it is unknown
    assert plan_window([audio], window(table(70, 100), table(200, 300), 230), (1.5, 4.5)) is None
    # positions unknown (-1): no ranges of positions to drop by
    broken = table(0, 100, pos=lambda n: -1)
    assert plan_window([audio], window(broken, table(200, 300), 300), (1.5, 4.5)) is None


def test_r32_a_cut_by_byte_position_drops_through_ffmpegs_noise_filter():
    streams = [copymedia.Stream(1, "audio", "opus", copymedia.Fraction(1, 90000))]
    command = copymedia.copy_command(
        "in.ts", "out.mka", streams, copymedia.MKA, {1: [(10, 20), (30, None)]}, on="pos"
    )
    assert command[command.index("-bsf:0") + 1] == (
        "noise=drop=between(pos\\,10\\,20)+gte(pos\\,30)"
    )  # to the end of the recording: no upper bound
