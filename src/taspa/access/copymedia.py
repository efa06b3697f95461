"""The copy's media (R31; R32 for part of a hearing): the container a common player opens, the
ffmpeg stream copy that makes it, and which packets a cut of closed portions leaves out.

Pure decisions on what ffprobe said (no Django, no I/O), as ``policy.py`` is; ``package.py``
runs the tools. Every packet a copy keeps is the sealed original's packet, stream-copied: the
audio packets are byte for byte the original's, the video's NAL units too (MP4 and Matroska
frame H.264 with length prefixes where MPEG-TS has start codes).

Containers (what plays in Chromium, Firefox, VLC and the players of phones and desktops):

- audio-only, every track Opus (what the recorder writes): Ogg Opus (``.ogg``, RFC 7845);
  streamable, so ffmpeg writes it straight into the package while it is hashed. Not for a
  cut: Ogg stamps a page, not a packet (the granule position at the page's end), so a gap in
  time is no part of it; demuxers date packets back from a page's end or on from the previous
  page's, and a page spanning a cut played the sound before it a cut's length late (ffmpeg's
  default page of 1 s), the first packet after it a cut's length early, whatever the page
  size. A cut Opus copy is Matroska (``.mka``), which stamps every block;
- audio + video, H.264 video and Opus/AAC/MP3 audio: MP4 (``.mp4``);
- anything else (an older recording with MP2 audio): Matroska (``.mka``/``.mkv``), which
  takes every codec ffmpeg stream-copies.

A cut (``plan_cut``) covers each excluded interval whole, rounded outward to packet
boundaries: an audio packet that touches the closed interval ``[a, b]`` is left out. With
video, the cut starts at the keyframe at or before ``a`` and ends at the first keyframe after
``b`` (every kept video frame decodes without a left-out one, and none shows a closed
moment), and the audio is cut over the same span so sound and picture stay together.
``plan_window`` plans the same cut from the packets around each interval only.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

AUDIO, VIDEO = "audio", "video"
MP4_AUDIO = frozenset({"opus", "aac", "mp3"})
MP4_VIDEO = frozenset({"h264"})


@dataclass(frozen=True)
class Stream:
    """One stream of the original as ffprobe lists it."""

    index: int
    kind: str  # "audio" | "video" | other codec types
    codec: str
    time_base: Fraction


@dataclass(frozen=True)
class Packet:
    """One packet of a stream, in decode order, in its stream's time base."""

    pts: int
    duration: int
    key: bool


@dataclass(frozen=True)
class Container:
    format: str  # ffmpeg's muxer
    suffix: str
    mime: str
    streamable: bool  # needs no seeking back: ffmpeg may write it to a pipe


OGG = Container("ogg", ".ogg", "audio/ogg", True)
MKA = Container("matroska", ".mka", "audio/x-matroska", False)
MP4 = Container("mp4", ".mp4", "video/mp4", False)
MKV = Container("matroska", ".mkv", "video/x-matroska", False)


@dataclass(frozen=True)
class Cut:
    """One excluded interval: as asked (recording seconds, closed) and as cut (the first
    left-out packet's start to the last one's end, over every stream of the copy)."""

    requested: tuple[float, float]
    start_s: float | None  # None: no packet of the copy lay in it
    end_s: float | None
    packets: int

    def as_manifest(self) -> dict:
        cut = None if self.start_s is None else [round(self.start_s, 6), round(self.end_s, 6)]
        return {"requested": list(self.requested), "cut": cut, "packets": self.packets}


def kept_streams(streams: Sequence[Stream], video: bool) -> list[Stream]:
    """The original's streams a copy carries: every audio track, and the video with ``video``
    (never data streams)."""
    kinds = {AUDIO, VIDEO} if video else {AUDIO}
    return [s for s in streams if s.kind in kinds]


def container_for(streams: Sequence[Stream], cut: bool = False) -> Container:
    """The container for a copy carrying ``streams`` (see the module docstring); ``cut``: the
    copy leaves closed portions out, so its timeline has gaps."""
    audio = {s.codec for s in streams if s.kind == AUDIO}
    video = {s.codec for s in streams if s.kind == VIDEO}
    if not video:
        return OGG if audio == {"opus"} and not cut else MKA
    if video <= MP4_VIDEO and audio <= MP4_AUDIO:
        return MP4
    return MKV


def copy_command(
    source: str,
    target: str,
    streams: Sequence[Stream] | None,
    container: Container,
    drops: Mapping[int, Sequence[tuple[int, int | None]]] | None = None,
    on: str = "n",
) -> list[str]:
    """ffmpeg stream-copying ``streams`` of ``source`` into ``target`` (``pipe:1`` for stdout).

    The original's timeline is kept (``-copyts``): a mark at 00:42:13 is at 00:42:13 of the
    copy, and a cut is a gap in time. ``drops`` (stream index → inclusive packet index ranges,
    decode order) leaves those packets out through the ``noise`` bitstream filter counting
    packets (``n``): counts, unlike timestamps, do not depend on the muxer's time base.
    ``-copyinkf`` keeps a first video packet that is not a keyframe, so the counts are
    ffprobe's. ``streams`` None: every audio stream.

    ``on="pos"``: the ranges are of packets' byte positions in ``source`` instead (``pos``,
    also independent of the muxer; an upper end None: to the end), for a cut planned from
    the packets around it only (``plan_window``)."""
    drops = drops or {}
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-copyts", "-i", source]
    if streams is None:
        command += ["-map", "0:a"]
    for stream in streams or ():
        command += ["-map", f"0:{stream.index}"]
    command += ["-c", "copy", "-copyinkf"]
    for output, stream in enumerate(streams or ()):
        ranges = drops.get(stream.index)
        if ranges:
            expression = "+".join(
                f"gte({on}\\,{i})" if j is None else f"between({on}\\,{i}\\,{j})" for i, j in ranges
            )
            command += [f"-bsf:{output}", f"noise=drop={expression}"]
    command += ["-fflags", "+bitexact", "-f", container.format, target]
    return command


def _ranges(indexes: set[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for index in sorted(indexes):
        if ranges and ranges[-1][1] == index - 1:
            ranges[-1] = (ranges[-1][0], index)
        else:
            ranges.append((index, index))
    return ranges


def _exact(seconds: float) -> Fraction:
    """Seconds as written (7.2 is 36/5, not the binary float just above it)."""
    return Fraction(repr(float(seconds)))


class PacketTable:
    """A stream's packets in decode order, as columns: a six-hour recording has millions.
    ``pos``: where each starts in the original file (ffprobe's and ffmpeg's ``pos``; -1:
    unknown)."""

    def __init__(self, packets: Iterable[Packet] = ()) -> None:
        self.pts, self.duration, self.key = array("q"), array("q"), bytearray()
        self.pos = array("q")
        for packet in packets:
            self.append(packet.pts, packet.duration, packet.key)

    def append(self, pts: int, duration: int, key: bool, pos: int = -1) -> None:
        self.pts.append(pts)
        self.duration.append(duration)
        self.key.append(key)
        self.pos.append(pos)

    def __len__(self) -> int:
        return len(self.pts)

    def __getitem__(self, i: int) -> Packet:
        return Packet(self.pts[i], self.duration[i], bool(self.key[i]))


def _table(packets: Sequence[Packet] | PacketTable) -> PacketTable:
    return packets if isinstance(packets, PacketTable) else PacketTable(packets)


@dataclass(frozen=True)
class _Window:
    """Packets ending at or after ``low`` and starting before ``high`` (or, with
    ``closed``, at or before it; ``high`` None: to the end) are left out."""

    low: Fraction
    high: Fraction | None
    closed: bool

    def hits(self, table: PacketTable, tb: Fraction) -> set[int]:
        """The indexes of ``table``'s packets in the window (whole ticks of ``tb``)."""
        low = math.ceil(self.low / tb)  # end * tb >= low
        pts, duration = table.pts, table.duration
        if self.high is None:
            return {i for i in range(len(pts)) if pts[i] + duration[i] >= low}
        high = math.floor(self.high / tb) if self.closed else math.ceil(self.high / tb) - 1
        return {i for i in range(len(pts)) if pts[i] <= high and pts[i] + duration[i] >= low}


def _first_key(table: PacketTable, tb: Fraction, moment: Fraction, strict: bool):
    """The PTS (seconds) of the first keyframe at (or, ``strict``, after) ``moment``."""
    threshold = math.floor(moment / tb) if strict else math.ceil(moment / tb) - 1
    after = [t for t, key in zip(table.pts, table.key, strict=True) if key and t > threshold]
    return min(after) * tb if after else None


def _resume(
    video: Sequence[Stream], tables: Mapping[int, PacketTable], high: Fraction
) -> Fraction | None:
    """Where the copy resumes after a cut ending at ``high``: the first moment after it at
    which every video stream has a keyframe (None: one has none, the cut runs to the end)."""
    moment, strict = high, True
    for _ in range(8 * len(video) + 1):
        found = [_first_key(tables[s.index], s.time_base, moment, strict) for s in video]
        if any(f is None for f in found):
            return None
        latest = max(found)
        if not strict and all(f == latest for f in found):
            return latest
        moment, strict = latest, False
    return None  # the streams' keyframes never meet: leave the rest out


def _video_drops(table: PacketTable, tb: Fraction, window: _Window) -> set[int]:
    """A video stream's packets to leave out: every one in the window, and every one decoded
    after the first of them until the keyframe the copy resumes at, so that no kept frame is
    predicted from a left-out one (B-frames shown before the cut, P-frames after it)."""
    hits = window.hits(table, tb)
    if not hits:
        return hits
    first, resume = min(hits), len(table)
    if window.high is not None:
        at = math.ceil(window.high / tb)
        resume = next(
            (i for i in range(first, len(table)) if table.key[i] and table.pts[i] >= at),
            len(table),
        )
    return hits | set(range(first, resume))


def _cut_one(
    streams: Sequence[Stream], tables: Mapping[int, PacketTable], a: float, b: float
) -> dict[int, set[int]]:
    if not (a <= b) or math.isinf(a):
        raise ValueError(f"an excluded interval must run forward: [{a}, {b}]")
    low = _exact(max(a, 0.0))
    high = None if math.isinf(b) else _exact(b)  # open-ended: to the end of the recording
    video = [s for s in streams if s.kind == VIDEO]
    if not video:
        window = _Window(low, high, closed=True)
        return {s.index: window.hits(tables[s.index], s.time_base) for s in streams}
    resume = None if high is None else _resume(video, tables, high)
    window = _Window(low, resume, closed=False)
    drops = {s.index: _video_drops(tables[s.index], s.time_base, window) for s in video}
    starts = [
        min(tables[s.index].pts[i] for i in drops[s.index]) * s.time_base
        for s in video
        if drops[s.index]
    ]  # the audio is cut from where the picture is, so the two stay together
    audio = _Window(min([low, *starts]), window.high, closed=False)
    for s in streams:
        if s.kind != VIDEO:
            drops[s.index] = audio.hits(tables[s.index], s.time_base)
    return drops


def plan_cut(
    streams: Sequence[Stream],
    packets: Mapping[int, Sequence[Packet] | PacketTable],
    excluded: Sequence[tuple[float, float]],
) -> tuple[list[Cut], dict[int, list[tuple[int, int]]]]:
    """What a copy carrying ``streams`` leaves out for ``excluded`` (recording seconds, each a
    closed interval ``[a, b]``): one ``Cut`` per interval, and per stream the packet index
    ranges to drop (for ``copy_command``)."""
    tables = {s.index: _table(packets[s.index]) for s in streams}
    dropped: dict[int, set[int]] = {s.index: set() for s in streams}
    cuts = []
    for a, b in excluded:
        found = _cut_one(streams, tables, a, b)
        starts, ends, count = [], [], 0
        for s in streams:
            table, indexes = tables[s.index], found[s.index]
            if indexes:
                starts.append(min(table.pts[i] for i in indexes) * s.time_base)
                ends.append(max(table.pts[i] + table.duration[i] for i in indexes) * s.time_base)
            count += len(indexes)
            dropped[s.index] |= indexes
        cuts.append(
            Cut(
                requested=(float(a), float(b)),
                start_s=float(min(starts)) if starts else None,
                end_s=float(max(ends)) if ends else None,
                packets=count,
            )
        )
    return cuts, {index: _ranges(found) for index, found in dropped.items() if found}


def parse_packets(lines: Iterable[str], streams: Sequence[Stream]) -> dict[int, PacketTable]:
    """ffprobe's ``-show_entries packet=stream_index,pts,dts,duration[,pos],flags -of
    csv=p=0`` lines as packets per stream. A packet without a PTS takes its DTS, else the
    previous packet's end; one without a duration ends where the next one of its stream
    starts."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    tables = {s.index: PacketTable() for s in streams}
    pending: dict[int, list[int]] = {}  # stream → indexes still without a duration
    for line in lines:
        fields = line.split(",", 6)
        if len(fields) < 5 or not fields[0].isdigit():
            continue
        pos = -1
        if len(fields) > 5 and (fields[4].isdigit() or fields[4] == "N/A"):  # pos, flags
            pos = _int(fields[4])
            pos = -1 if pos is None else pos
            fields[4] = fields[5]
        table = tables.get(int(fields[0]))
        if table is None:
            continue
        pts, dts, duration = _int(fields[1]), _int(fields[2]), _int(fields[3])
        when = pts if pts is not None else dts
        if when is None:
            when = table.pts[-1] + table.duration[-1] if len(table) else 0
        for waiting in pending.pop(int(fields[0]), []):
            table.duration[waiting] = max(0, when - table.pts[waiting])
        if not duration:
            pending.setdefault(int(fields[0]), []).append(len(table))
        table.append(when, duration or 0, "K" in fields[4], pos)
    return tables


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


# --- a cut planned from the packets around it only ---------------------------------------------
#
# Listing every packet of a long recording costs more than the stream copy itself (ffprobe
# prints ~700,000 lines for two microphones over two hours). A cut needs only the packets at
# its two edges: ``plan_window`` plans it on them, as ``plan_cut`` does on every packet, with
# the packets of the interior (all left out) counted, not listed, and names the packets left
# out by their byte positions in the original, which ffmpeg's ``noise`` filter sees as well.

EDGE_SLACK = Fraction(1)  # s: frames reordered (B-frames) or packets half-listed at a seek


@dataclass(frozen=True)
class Window:
    """What was read around one excluded interval: ``head`` packets from before its start,
    ``tail`` from before its end to past it (None: the interval runs to the end), ``counted``
    each stream's packets from the head's first to the tail's last (or to the end), listed or
    not; ``from_start``: the head begins at the recording's first packet; ``to_end``: the
    tail (or, without one, the count) runs to its last."""

    head: Mapping[int, PacketTable]
    tail: Mapping[int, PacketTable] | None
    counted: Mapping[int, int]
    from_start: bool
    to_end: bool


@dataclass(frozen=True)
class WindowPlan:
    cut: Cut
    drops: dict[int, list[tuple[int, int | None]]]  # stream → byte-position ranges


def _stitch(head: PacketTable, tail: PacketTable | None) -> tuple[PacketTable, int] | None:
    """The head's packets, then the tail's that lie after them in the file, and how many came
    from the head; None when a position is unknown or out of order."""
    joined = PacketTable()
    for i in range(len(head)):
        if head.pos[i] < 0 or (len(joined) and head.pos[i] <= joined.pos[-1]):
            return None
        joined.append(head.pts[i], head.duration[i], bool(head.key[i]), head.pos[i])
    split = len(joined)
    for i in range(len(tail) if tail is not None else 0):
        pos = tail.pos[i]
        if pos < 0:
            return None
        if len(joined) == split and split and pos <= joined.pos[-1]:
            continue  # listed by both (the windows overlap)
        if len(joined) and pos <= joined.pos[-1]:
            return None
        joined.append(tail.pts[i], tail.duration[i], bool(tail.key[i]), pos)
    return joined, split


def plan_window(
    streams: Sequence[Stream], window: Window, interval: tuple[float, float]
) -> WindowPlan | None:
    """``plan_cut`` for one interval from the packets around it (see ``Window``); None when
    they do not settle it (a wider window or every packet must): the interval's first or last
    left-out packet too near an edge of what was listed, or unlisted packets that might not
    all be left out."""
    tables, splits, gaps = {}, {}, {}
    for s in streams:
        head = window.head.get(s.index, PacketTable())
        tail = None if window.tail is None else window.tail.get(s.index, PacketTable())
        stitched = _stitch(head, tail)
        if stitched is None:
            return None
        tables[s.index], splits[s.index] = stitched
        gaps[s.index] = window.counted.get(s.index, 0) - len(stitched[0])
        if gaps[s.index] < 0:
            return None
    (cut,), found = plan_cut(streams, tables, [interval])
    drops: dict[int, list[tuple[int, int | None]]] = {}
    unlisted = 0
    for s in streams:
        table, split, gap = tables[s.index], splits[s.index], gaps[s.index]
        ranges, last, tb = found.get(s.index, []), len(table) - 1, s.time_base
        if gap:  # the interior: unlisted, so it must lie inside one left-out run
            end = last if window.tail is None else split
            if not split or not any(i <= split - 1 and end <= j for i, j in ranges):
                return None
            unlisted += gap
        if not ranges:
            continue
        first, final = ranges[0][0], ranges[-1][1]
        if not window.from_start and (
            first == 0 or table.pts[0] * tb > table.pts[first] * tb - EDGE_SLACK
        ):
            return None
        if not window.to_end and (
            final == last
            or table.pts[last] * tb < (table.pts[final] + table.duration[final]) * tb + EDGE_SLACK
        ):
            return None
        drops[s.index] = [
            (table.pos[i], None if j == last and window.to_end else table.pos[j]) for i, j in ranges
        ]
    whole = Cut(cut.requested, cut.start_s, cut.end_s, cut.packets + unlisted)
    return WindowPlan(whole, drops)
