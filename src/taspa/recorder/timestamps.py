"""Timestamps checked as capture arrives, per track (R6, R19).

A source whose clock jumps (a looped file, a device or camera that restarts its clock) gives a
file that players stop playing at the first jump although every byte is there. Two watches:

* ``PesWatch`` reads the PTS/DTS of every PES header in the MPEG-TS that ffmpeg writes, before
  the bytes reach the spool: a track whose timestamps stop increasing (ffmpeg clamps a
  backward step to +1 tick), jump ahead, or run ahead of the wall clock is a fault, and the
  packets from the faulty one on are not stored. Only packets that start a PES
  (payload_unit_start) are parsed: about 50 a second per audio track, 25 per video track.
* ``parse_input_jumps`` reads what the sample-clock filter (``policy.sample_clock``) prints to
  ffmpeg's log when an audio input's own timestamps jump: the jump is repaired there (the track
  is re-stamped from its sample count), and this says which track it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from taspa.recorder.policy import TS_PACKET

PTS_HZ = 90_000
WRAP = 1 << 33
FIRST_PID = 0x100  # ffmpeg's mpegts muxer gives output stream k the PID 0x100 + k
# Only the PUSI bit of a TS header's second byte: finds PES starts with bytes.find, in C.
_PUSI_ONLY = bytes((0x01 if b & 0x40 else 0x00) for b in range(256))
# ffmpeg's log line for a repaired input jump (policy.sample_clock) and its repeat note.
_MARK = re.compile(rb"^(-?\d+\.\d+)\n(?:\s*Last message repeated (\d+) times\n)?", re.M)


@dataclass(frozen=True)
class TimestampFault:
    """A track's timestamps misbehaved in ffmpeg's output: ``packet`` is the index, in the
    chunk given to ``PesWatch.check``, of the faulty packet. Out of order (``backwards``) or
    faster than real time (``ahead``) breaks playback: nothing from it on may be stored. A
    ``jump`` ahead is a hole in one track (a camera that froze), which players handle."""

    track: int
    kind: str  # "backwards" | "jump" | "ahead"
    previous_s: float
    current_s: float
    packet: int

    @property
    def breaks_playback(self) -> bool:
        return self.kind != "jump"

    def describe(self, name: str) -> str:
        what = {
            "backwards": "went back or stopped",
            "jump": "jumped ahead",
            "ahead": "ran ahead of the clock",
        }[self.kind]
        return (
            f"track {self.track + 1} ({name}): timestamps {what} "
            f"({self.previous_s:.3f} s → {self.current_s:.3f} s)"
        )


@dataclass
class _Track:
    last: int | None = None
    first: int = 0
    base: float | None = None  # arrival − media time, the smallest seen while calibrating
    calibrated_at: float = 0.0


@dataclass
class PesWatch:
    """Per-PID timestamp state of one ffmpeg run (a restart starts a new watch: the jump to its
    ``-output_ts_offset`` is the visible gap of a break, not a fault)."""

    tracks: int
    jump_s: float = 2.0
    ahead_s: float = 3.0
    calibrate_s: float = 2.0
    _state: dict[int, _Track] = field(default_factory=dict)

    def check(self, packets: bytes, now: float, start: int = 0) -> TimestampFault | None:
        """The first fault in ``packets`` (whole TS packets) from packet ``start`` on, or
        ``None``."""
        flags = packets[1::TS_PACKET].translate(_PUSI_ONLY)
        k = flags.find(1, start)
        while k >= 0:
            fault = self._packet(packets, k, now)
            if fault is not None:
                return fault
            k = flags.find(1, k + 1)
        return None

    def _packet(self, data: bytes, k: int, now: float) -> TimestampFault | None:
        p = k * TS_PACKET
        track = (((data[p + 1] & 0x1F) << 8) | data[p + 2]) - FIRST_PID
        if not 0 <= track < self.tracks:
            return None  # PAT, PMT, SDT
        control = data[p + 3] >> 4 & 3
        if not control & 1:
            return None  # no payload
        o = p + (5 + data[p + 4] if control == 3 else 4)
        if o + 19 > p + TS_PACKET or data[o : o + 3] != b"\x00\x00\x01":
            return None
        flags = data[o + 7] >> 6
        if not flags & 2:
            return None  # no PTS
        ts = _timestamp(data, o + 14 if flags == 3 else o + 9)  # DTS when present
        return self._step(track, ts, now, k)

    def _step(self, track: int, ts: int, now: float, k: int) -> TimestampFault | None:
        state = self._state.get(track)
        if state is None:
            self._state[track] = _Track(last=ts, first=ts, base=now, calibrated_at=now)
            return None
        step = (ts - state.last) % WRAP
        previous = state.last
        if step == 0 or step > WRAP // 2:
            return self._fault(track, "backwards", previous, ts, k)
        if step > self.jump_s * PTS_HZ:
            return self._fault(track, "jump", previous, ts, k)
        state.last = ts
        offset = now - ((ts - state.first) % WRAP) / PTS_HZ
        if now - state.calibrated_at < self.calibrate_s:
            state.base = min(state.base, offset)  # arrival is never before the sample exists
        elif offset < state.base - self.ahead_s:
            return self._fault(track, "ahead", previous, ts, k)
        return None

    def _fault(self, track: int, kind: str, previous: int, ts: int, k: int) -> TimestampFault:
        self._state.pop(track, None)
        return TimestampFault(track, kind, previous / PTS_HZ, ts / PTS_HZ, k)


def _timestamp(b: bytes, i: int) -> int:
    """A 33-bit PES timestamp from its 5 marker-bit-interleaved bytes."""
    return (
        ((b[i] >> 1) & 7) << 30
        | b[i + 1] << 22
        | (b[i + 2] >> 1) << 15
        | b[i + 3] << 7
        | b[i + 4] >> 1
    )


@dataclass(frozen=True)
class InputJump:
    """An audio input's own timestamps jumped by ``jump_s`` (repaired by the sample clock)."""

    track: int
    jump_s: float
    times: int = 1


def parse_input_jumps(log: bytes, marker: float) -> list[InputJump]:
    """The input jumps that ffmpeg's log reports (values printed by the sample-clock filter:
    ``marker * (track + 1) + jump``)."""
    jumps = []
    for match in _MARK.finditer(log):
        value = float(match.group(1))
        track = round(value / marker) - 1
        if track < 0 or abs(value - marker * (track + 1)) >= marker / 2:
            continue
        times = 1 + int(match.group(2) or 0)
        jumps.append(InputJump(track, round(value - marker * (track + 1), 3), times))
    return jumps
