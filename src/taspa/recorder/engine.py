"""The capture engine: one ffmpeg per hearing, one growing MPEG-TS file, a watchdog (R6, R11, R19).

ffmpeg writes MPEG-TS to its stdout and low-rate PCM for the level meter to a second pipe. The
engine appends whole 188-byte packets to the spool's media file, keeps its SHA-256 running,
fsyncs and journals a chained piece about every second, and restarts ffmpeg within two seconds
when it dies or its sources stall. A restart continues the media timeline at wall-clock time
(``-output_ts_offset``), so a break in the record is a timestamp gap in the file and a "gap"
event, never silence. Every track's timestamps are checked as the packets arrive
(``timestamps.py``): audio is stamped from its sample count in ffmpeg (``policy.sample_clock``),
an input whose own clock jumped is reported by track, and a packet out of order never reaches
the spool (the run restarts instead). Design and measurements: docs/adr/0001-capture-container.md.
"""

from __future__ import annotations

import fcntl
import logging
import os
import select
import stat
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from taspa.recorder import policy
from taspa.recorder.events import CaptureResult, EngineError, EngineEvent, Gap
from taspa.recorder.events import RunState as _Run
from taspa.recorder.journal import (
    JOURNAL_NAME,
    MEDIA_NAME,
    ChainVerdict,
    Journal,
    PieceRecord,
    verify_pieces,
)
from taspa.recorder.levels import ChannelLevel, LevelMeter
from taspa.recorder.policy import TS_PACKET, EncodeSettings, Source, capture_command
from taspa.recorder.preflight import Check, preflight
from taspa.recorder.proc import run_tool, spawn, stop_gracefully
from taspa.recorder.recovery import Restored, SpoolCorrupt, kill_orphan, restore_spool
from taspa.recorder.spool import DiskFull, MediaSpool, aligned_packets
from taspa.recorder.timestamps import PesWatch, TimestampFault, parse_input_jumps

__all__ = [
    "CaptureEngine", "CaptureResult", "ChainVerdict", "ChannelLevel", "Check", "EngineError",
    "EngineEvent", "Gap", "PieceRecord", "Source", "preflight", "verify_pieces",
]  # fmt: skip

log = logging.getLogger("taspa.recorder")
CONTAINER = "mpegts"
LOG_NAME = "ffmpeg.log"
# Reading cost (bench/recorder.py): two threads blocked in read, one wake-up per ffmpeg write
# (~250 a second per courtroom; a wake-up costs 80-200 µs of CPU on a busy VM, mostly cold
# caches), were most of the engine's cost over bare ffmpeg. One thread per run reads both
# pipes. For its first CALIBRATE_S it reads as ffmpeg writes (the sample-0 anchor and the PES
# arrival base are minima over arrival times), then every READ_PAUSE_S: ffmpeg writes on into
# the pipes, the meter measures every 0.1 s block and delivers them five times a second (the
# console's stream samples five a second), and a kill of this process loses at most what the
# pipes held (0.2 s). A read that fills half a pipe is not followed by a pause (a burst).
CALIBRATE_S = 2.0
READ_PAUSE_S = 0.2
MEDIA_PIPE_BYTES = 256 << 10  # 0.5 s of a 4 Mbit/s camera; 60 courtrooms stay far below the
# kernel's per-user pipe allowance (pipe-user-pages-soft, 64 MiB), past which pipes shrink
# The watchdog looks when a reader pokes it (its pipes ended, a timestamp fault, a stall, a
# piece due while media stalls) and otherwise every WATCH_TICK_S (input jumps in ffmpeg's log,
# no media within 5 s of a start, the retry of a source that is gone).
WATCH_TICK_S = 0.5


def _is_fifo(source: Source) -> bool:
    try:
        return stat.S_ISFIFO(os.stat(source.input).st_mode)
    except OSError:
        return False


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _pipe_size(fd: int, wanted: int = 0) -> int:
    """The pipe's capacity, grown to ``wanted`` where the kernel allows it."""
    if wanted:
        try:
            return fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, wanted)
        except OSError:
            pass
    return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)


class CaptureEngine:
    """Records ``sources`` into ``spool_dir``; see the module docstring and CONTRACT.md."""

    def __init__(
        self,
        *,
        sources: list[Source],
        spool_dir: Path,
        on_event: Callable[[EngineEvent], None] = lambda e: None,
        video: bool | None = None,
        silence_after_s: float = 10.0,
        piece_seconds: float = 0.9,
        stall_seconds: float = 1.0,
        settings: EncodeSettings | None = None,
    ) -> None:
        self.sources = self._select(sources, video)
        self.spool_dir = Path(spool_dir)
        self.media_path = self.spool_dir / MEDIA_NAME
        self.journal_path = self.spool_dir / JOURNAL_NAME
        self.settings = settings or EncodeSettings()
        self.piece_seconds = piece_seconds
        self.stall_seconds = stall_seconds
        self._on_event = on_event
        self._audio = [s for s in self.sources if s.kind == "audio"]
        self._meter = LevelMeter(
            [s.name for s in self._audio], self.settings.meter_rate, silence_after_s=silence_after_s
        )
        self.state = policy.IDLE
        self._lock = threading.RLock()
        self._halt = threading.Event()
        self._runs: list[_Run] = []
        self._gaps: list[Gap] = []
        self._open_gap: tuple[float, str] | None = None
        self._copy_video: frozenset[int] = frozenset()
        self._live = frozenset(
            i for i, s in enumerate(self.sources) if s.format in (None, "file") and _is_fifo(s)
        )
        self._journal: Journal | None = None
        self._spool: MediaSpool | None = None
        self._watchdog: threading.Thread | None = None
        self._tracks = [s.name for s in policy.track_sources(self.sources)]
        self._log_seen = 0  # bytes of ffmpeg.log already read for input timestamp jumps
        self._jumped: set[int] = set()  # tracks whose input jumps were already reported
        self._poke = threading.Event()  # a run's pipes ended or its output broke: look now

    @staticmethod
    def _select(sources: list[Source], video: bool | None) -> list[Source]:
        has_audio = any(s.kind == "audio" for s in sources)
        if video is True and not any(s.kind == "video" for s in sources):
            raise EngineError("video requested but no video source is configured")
        chosen = [s for s in sources if video is not False or s.kind == "audio"]
        if not chosen or not has_audio:
            raise EngineError("a recording needs at least one audio source")
        return chosen

    # --- public interface ----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.state == policy.RECORDING

    def start(self, *, confirm_s: float = 5.0) -> None:
        """Begin capture; returns once media flows. Refuses when running or when the spool holds
        a recording; raises EngineError, leaving no spool behind, when ffmpeg cannot open the
        sources within ``confirm_s`` (R9: recording is impossible, the reason is the error)."""
        with self._lock:
            self._require("start")
            if self.journal_path.exists() and self.journal_path.stat().st_size:
                raise EngineError(f"{self.spool_dir} holds a recording: use recover()")
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            self._copy_video = self._probe_copy()
            self._journal = Journal(self.journal_path)
            self._spool = MediaSpool(
                self.media_path, self._journal, piece_seconds=self.piece_seconds
            )
            self._journal.append(self._start_record())
            self._log_seen = _size(self.spool_dir / LOG_NAME)
            self.state = policy.RECORDING
            run = self._launch(0.0)
        problem = self._confirm(run, confirm_s)
        if problem is not None:
            self._abandon(run)
            raise EngineError(f"capture could not start: {problem}")
        self._start_watchdog()

    def _confirm(self, run: _Run, timeout: float) -> str | None:
        """Wait for the first media bytes; the reason when ffmpeg exits or stays silent."""
        deadline = time.monotonic() + timeout
        while run.first_data is None and time.monotonic() < deadline:
            if run.process.poll() is not None:
                for thread in run.threads:
                    thread.join(1.0)
                break
            time.sleep(0.01)
        if run.first_data is not None:
            return None
        tail = (self.spool_dir / LOG_NAME).read_text(errors="replace").strip().splitlines()
        return tail[-1] if tail and not tail[-1].startswith("$ ") else "no media from ffmpeg"

    def _abandon(self, run: _Run) -> None:
        """Undo a start that recorded nothing: no process, no spool files, back to idle."""
        self._retire(run, graceful=False)
        with self._lock:
            self._spool.close()
            self._journal.close()
            for path in (self.media_path, self.journal_path):
                path.unlink(missing_ok=True)
            self._runs, self.state = [], policy.IDLE

    def pause(self, reason: str | None = None) -> None:
        """R6 lawful pause: ffmpeg stops cleanly, the media file stays open, no gap is recorded."""
        if reason is not None and not policy.pause_reason_allowed(reason):
            raise EngineError(f"pause reason {reason!r} is not allowed (R6, R19)")
        with self._lock:
            self._require("pause")
            self.state = policy.PAUSED
            run = self._current()
        self._retire(run, graceful=True)
        with self._lock:
            self._close_gap(time.time())
            self._spool_piece()
            self._record({"type": "pause", "at": time.time(), "reason": reason})

    def resume(self) -> None:
        """Restart ffmpeg; its timestamps continue at the wall-clock time since the start."""
        with self._lock:
            self._require("resume")
            self.state = policy.RECORDING
            self._record({"type": "resume", "at": time.time()})
            self._meter.restart_silence_clock()
            self._launch(self._next_offset())

    def stop(self) -> CaptureResult:
        """Stop ffmpeg cleanly, flush, fsync and close: everything sealing needs, no re-read."""
        with self._lock:
            self._require("stop")
            self.state = policy.STOPPED
            run = self._current()
        self._halt.set()
        self._poke.set()
        self._retire(run, graceful=True)
        if self._watchdog is not None:
            self._watchdog.join()
        self._check_input_jumps()  # what the last run printed before it ended
        with self._lock:
            self._close_gap(time.time())
            return self._finish()

    def detach(self) -> None:
        """Leave the spool as a crash would — no stop record — without orphaning ffmpeg: the
        agent is shut down mid-hearing, and ``recover()`` goes on later with a gap (R6)."""
        with self._lock:
            run = self._current()
        self._halt.set()
        self._poke.set()
        if self._watchdog is not None:
            self._watchdog.join()
        self._retire(run, graceful=True)
        with self._lock:
            self._spool_piece()
            self._spool.close()
            self._journal.close()
            self._journal, self.state = None, policy.STOPPED

    def levels(self) -> list[ChannelLevel]:
        """R11: RMS and peak dBFS per microphone: each 0.1 s block is measured, and the latest
        arrives five times a second (READ_PAUSE_S), as often as the console's stream asks."""
        return self._meter.levels(recording=self.running)

    def media_offset(self, wall: datetime) -> float:
        """Seconds into the media for a wall-clock moment (R12 speaker marks)."""
        moment = wall.timestamp()
        with self._lock:
            runs = [r for r in self._runs if r.anchor is not None]
            if not runs:
                raise EngineError("no media recorded yet")
            run = next((r for r in reversed(runs) if r.anchor <= moment), runs[0])
            return max(0.0, run.ts_offset + moment - run.anchor)

    @property
    def started_at(self) -> datetime | None:
        """Wall time of the media's first sample (media offset 0)."""
        first = self._runs[0] if self._runs else None
        return None if first is None else _utc(first.anchor or first.launched)

    @property
    def gaps(self) -> list[Gap]:
        return list(self._gaps)

    @property
    def level_updates(self) -> int:
        """How many level blocks the meter has measured (R11: ten a second while recording)."""
        return self._meter.updates

    @property
    def ffmpeg_pid(self) -> int | None:
        """The running ffmpeg's process id (fault injection, diagnostics)."""
        run = self._current()
        return None if run is None or run.process is None else run.process.pid

    @classmethod
    def recover(
        cls,
        spool_dir: Path,
        *,
        on_event: Callable[[EngineEvent], None] = lambda e: None,
        **options: Any,
    ) -> CaptureEngine:
        """After the Python process died: verify the journal, salvage whole TS packets written
        after its last piece, continue the chain and, if it was recording, the capture (with a
        gap from the last salvaged media to now)."""
        journal_path = Path(spool_dir) / JOURNAL_NAME
        if not journal_path.exists():
            raise EngineError(f"no journal in {spool_dir}")
        records = Journal.read(journal_path)
        if not records or records[0].get("type") != "start":
            raise EngineError("the journal does not begin with a start record")
        if any(r.get("type") == "stop" for r in records):
            raise EngineError("the recording was stopped; nothing to recover")
        start = records[0]
        for key in ("piece_seconds", "silence_after_s", "stall_seconds"):
            options.setdefault(key, start.get(key, options.get(key)))
        options = {k: v for k, v in options.items() if v is not None}
        engine = cls(
            sources=[Source(**s) for s in start["sources"]],
            spool_dir=Path(spool_dir),
            on_event=on_event,
            video=start["video"],
            settings=EncodeSettings(**start["settings"]),
            **options,
        )
        engine._restore(records)
        return engine

    # --- state and journal -----------------------------------------------------------------------

    def _require(self, action: str) -> None:
        if policy.next_state(self.state, action) is None:
            raise EngineError(f"cannot {action} while {self.state}")

    def _current(self) -> _Run | None:
        return self._runs[-1] if self._runs else None

    def _record(self, record: dict[str, Any]) -> None:
        if self._journal is not None:
            self._journal.append(record)

    def _start_record(self) -> dict[str, Any]:
        return {
            "type": "start",
            "at": time.time(),
            "container": CONTAINER,
            "sources": [asdict(s) for s in self.sources],
            "video": any(s.kind == "video" for s in self.sources),
            "settings": asdict(self.settings),
            "copy_video": sorted(self._copy_video),
            "piece_seconds": self.piece_seconds,
            "silence_after_s": self._meter.silence_after_s,
            "stall_seconds": self.stall_seconds,
        }

    def _emit(self, kind: str, detail: str, gap: Gap | None = None) -> None:
        event = EngineEvent(kind=kind, at=datetime.now(UTC), detail=detail, gap=gap)
        log.log(logging.WARNING if kind != "restarted" else logging.INFO, "%s: %s", kind, detail)
        try:
            self._on_event(event)
        except Exception:
            log.exception("on_event handler failed for %s", event)

    def _spool_piece(self) -> None:
        if self._spool is not None:
            try:
                self._spool.close_piece()
            except OSError:
                log.exception("could not close a piece")

    def _probe_copy(self) -> frozenset[int]:
        """Video inputs already in H.264 (an IP camera over RTSP) are stored without re-encoding."""
        copy = set()
        for index, source in enumerate(self.sources):
            if source.kind == "video" and source.format in ("rtsp", "file", None):
                probe = run_tool(policy.probe_video_codec_command(source), timeout=10)
                if probe.stdout.decode(errors="replace").split()[:1] == ["h264"]:
                    copy.add(index)
        return frozenset(copy)

    # --- runs ----------------------------------------------------------------------------------

    def _next_offset(self) -> float:
        """Media time for a process launched now: wall time since the first sample, plus the
        start-up latency the first run showed (so new samples land at their wall-clock time)."""
        first = self._runs[0]
        live = first.process is not None and first.anchor is not None
        latency = max(0.0, first.anchor - first.launched) if live else 0.0
        return max(0.0, time.time() - (first.anchor or first.launched) + latency)

    def _launch(self, ts_offset: float) -> _Run:
        read_fd, write_fd = os.pipe()
        command = capture_command(
            self.sources,
            meter_fd=write_fd,
            ts_offset=ts_offset,
            copy_video=self._copy_video,
            live=self._live,
            settings=self.settings,
        )
        run = _Run(index=len(self._runs), ts_offset=ts_offset, launched=time.time())
        run.pes = PesWatch(len(self._tracks))
        try:
            run.process = spawn(command, pass_fds=(write_fd,), log_path=self.spool_dir / LOG_NAME)
        finally:
            os.close(write_fd)
        run.command, run.meter_fd, run.last_data = command, read_fd, run.launched
        self._runs.append(run)
        self._spool.run = run.index
        self._record(
            {"type": "run", "run": run.index, "ts_offset": ts_offset, "launched": run.launched,
             "command": command, "pid": run.process.pid}
        )  # fmt: skip
        name = f"taspa-capture-{run.index}"  # bench.recorder counts its CPU by this name
        thread = threading.Thread(target=self._read_pipes, args=(run,), daemon=True, name=name)
        run.threads.append(thread)
        thread.start()
        return run

    def _retire(self, run: _Run | None, *, graceful: bool) -> None:
        """End a run and wait until every byte it wrote is in the spool (never under the lock)."""
        if run is None or run.process is None:
            return
        run.retiring = True
        if graceful:
            stop_gracefully(run.process)
        else:
            run.process.kill()
            run.process.wait()
        for thread in run.threads:
            thread.join()
        if run.process.stdout is not None:
            run.process.stdout.close()
        with self._lock:
            if run.anchor is not None and run.media_end is None:
                run.media_end = self._run_end(run)
                code = run.process.returncode
                self._record(
                    {"type": "run_end", "run": run.index, "anchor": run.anchor,
                     "media_end": run.media_end, "code": code}
                )  # fmt: skip

    def _run_end(self, run: _Run) -> float:
        """Where a run's media ends on the timeline (seconds)."""
        if run.media_end is not None:
            return run.media_end
        frames = run.meter_bytes // (2 * len(self._audio))
        return run.ts_offset + frames / self.settings.meter_rate

    def _read_pipes(self, run: _Run) -> None:
        """Both of ffmpeg's pipes until both end: media into the spool, PCM into the meter."""
        media_fd, meter_fd = run.process.stdout.fileno(), run.meter_fd
        sizes = {media_fd: _pipe_size(media_fd, MEDIA_PIPE_BYTES), meter_fd: _pipe_size(meter_fd)}
        # One buffer for every read: a fresh bytes object of the pipe's size per read cost an
        # mmap, page faults and an munmap each time.
        buffer = bytearray(max(sizes.values()))
        view = memoryview(buffer)
        poller, hangup = select.poll(), select.poll()
        for fd in sizes:
            poller.register(fd, select.POLLIN)
            hangup.register(fd, 0)  # only POLLHUP: the pause ends the moment ffmpeg exits
        rest, burst = b"", True
        try:
            while sizes:
                paced = not run.retiring and time.time() - run.launched > CALIBRATE_S
                if paced and not burst:
                    hangup.poll(READ_PAUSE_S * 1000)
                burst = media = False
                for fd, _event in poller.poll(0 if paced else READ_PAUSE_S * 1000):
                    got = os.readv(fd, [view[: sizes[fd]]])
                    data = bytes(view[:got])
                    burst |= got >= sizes[fd] // 2
                    if fd == meter_fd and data:
                        self._meter_data(run, data)
                        continue
                    if data:
                        media = True
                        packets, rest = aligned_packets(rest + data)
                        if not packets or self._store(run, packets):
                            continue
                    poller.unregister(fd)  # ended, or the spool takes no more from this run
                    hangup.unregister(fd)
                    del sizes[fd]
                if not media:
                    self._quiet(run)
        finally:
            os.close(meter_fd)
            self._poke.set()  # the watchdog restarts a run that died without waiting a tick
        if rest:
            log.warning("run %d: dropped a %d-byte partial TS packet", run.index, len(rest))

    def _quiet(self, run: _Run) -> None:
        """No media in this read: past ``stall_seconds`` the watchdog restarts the run, and a
        piece that is due is closed by it (R19: fsync'd about every second even when media
        stalls). The watchdog itself only looks every WATCH_TICK_S otherwise."""
        stalled = time.time() - run.last_data > self.stall_seconds
        spool = self._spool
        if stalled or (spool is not None and spool.due()):
            self._poke.set()

    def _store(self, run: _Run, packets: bytes) -> bool:
        now = time.time()
        # R19: a packet whose timestamps break its track's order never reaches the spool; the
        # run is restarted (a visible gap) instead of sealing a file players stop playing.
        fault = self._pes_fault(run, packets, now)
        if fault is not None:
            packets = packets[: fault.packet * TS_PACKET]
        with self._lock:
            if self.state == policy.HALTED:
                return False
            run.last_data = now
            if run.first_data is None and packets:
                run.first_data = now
                self._first_data(run)
            try:
                if packets:
                    self._spool.anchor = run.anchor
                    self._spool.append(packets)
                if self._spool.due():
                    self._spool.close_piece()
            except DiskFull as full:
                self._disk_full(run, full)
                return False
            if fault is not None:
                self._timestamp_fault(run, fault)
        if fault is not None:
            self._poke.set()
            self._emit("timestamps", run.fault)  # after the lock: the restart must not wait
            return False
        return True

    def _pes_fault(self, run: _Run, packets: bytes, now: float) -> TimestampFault | None:
        """The first fault that breaks playback; a track's jump ahead is only reported."""
        start = 0
        while run.pes is not None and (fault := run.pes.check(packets, now, start)) is not None:
            if fault.breaks_playback:
                return fault
            if fault.track not in run.jumped:
                run.jumped.add(fault.track)
                self._emit("timestamps", fault.describe(self._tracks[fault.track]))
            start = fault.packet + 1
        return None

    def _timestamp_fault(self, run: _Run, fault: TimestampFault) -> None:
        detail = fault.describe(self._tracks[fault.track])
        run.fault = f"{detail}; source restarted"
        self._record({"type": "timestamps", "run": run.index, "track": fault.track,
                      "fault": fault.kind, "at": time.time(), "action": "restart"})  # fmt: skip

    def _check_input_jumps(self) -> None:
        """Report the audio inputs whose own clock jumped: the sample clock repaired them in
        ffmpeg (policy.sample_clock), which printed the jump to its log."""
        log_path = self.spool_dir / LOG_NAME
        if _size(log_path) <= self._log_seen:
            return  # nothing new: a stat, not an open and a read, several times a second
        try:
            with open(log_path, "rb") as log_file:
                log_file.seek(self._log_seen)
                data = log_file.read()
        except OSError:
            return
        data = data[: data.rfind(b"\n") + 1]
        self._log_seen += len(data)
        for jump in parse_input_jumps(data, policy.JUMP_MARKER):
            if not 0 <= jump.track < len(self._tracks):
                continue
            with self._lock:
                self._record({"type": "timestamps", "track": jump.track, "jump_s": jump.jump_s,
                              "times": jump.times, "at": time.time(),
                              "action": "sample_clock"})  # fmt: skip
            if jump.track in self._jumped:
                continue
            self._jumped.add(jump.track)
            direction = "back" if jump.jump_s < 0 else "ahead"
            self._emit(
                "timestamps",
                f"track {jump.track + 1} ({self._tracks[jump.track]}): the source's timestamps "
                f"jumped {direction} by {abs(jump.jump_s):.3f} s; re-stamped from its sample "
                "count, the recording plays continuously",
            )

    def _meter_data(self, run: _Run, data: bytes) -> None:
        run.meter_bytes += len(data)
        # Samples never arrive before they exist: the earliest arrival bounds sample 0.
        frames = run.meter_bytes // (2 * len(self._audio))
        candidate = time.time() - frames / self.settings.meter_rate
        if run.anchor is None or candidate < run.anchor:
            run.anchor = candidate
        self._meter.feed(data)

    def _first_data(self, run: _Run) -> None:
        if self._open_gap is not None and run.index > 0:
            self._close_gap(self._wall(run.ts_offset))
            self._emit("restarted", f"capture running again (run {run.index})")

    def _wall(self, media_s: float) -> float:
        first = self._runs[0]
        return (first.anchor or first.launched) + media_s

    # --- watchdog ------------------------------------------------------------------------------

    def _start_watchdog(self) -> None:
        self._halt.clear()
        self._poke.clear()
        self._watchdog = threading.Thread(target=self._watch, name="taspa-watchdog", daemon=True)
        self._watchdog.start()

    def _watch(self) -> None:
        """R6/R19: a death or a stall while recording becomes a gap and a restart within 2 s."""
        while True:
            self._poke.wait(WATCH_TICK_S)
            self._poke.clear()
            if self._halt.is_set():
                break
            self._check_input_jumps()
            with self._lock:
                run = self._current()
                cause = self._failure(run) if self.state == policy.RECORDING else None
                if self._spool is not None and self._spool.due() and self.state != policy.HALTED:
                    self._spool_piece()  # fsync at least every second even when data stalls
            if cause is None or run is None:
                continue
            self._retire(run, graceful=False)
            with self._lock:
                if self.state == policy.RECORDING:
                    self._restart(run, cause)

    def _failure(self, run: _Run | None) -> str | None:
        if run is None or run.retiring:
            return None
        now = time.time()
        if run.fault is not None:
            return run.fault
        code = run.process.poll()
        if code is None and run.threads and not run.threads[-1].is_alive():
            try:  # its pipes ended: ffmpeg is exiting; its status follows within moments
                code = run.process.wait(0.05)
            except subprocess.TimeoutExpired:
                code = None
        if code is not None:
            if run.first_data is None and now - run.launched < 1.0:
                return None  # a source that is gone: retry at most once a second
            return f"ffmpeg exited with code {code}"
        if run.first_data is None and now - run.launched > max(5.0, self.stall_seconds):
            return "no media within 5 s of starting ffmpeg"
        if run.first_data is not None and now - run.last_data > self.stall_seconds:
            return f"no media for {now - run.last_data:.1f} s (a source dropped)"
        return None

    def _restart(self, run: _Run, cause: str) -> None:
        """Relaunch first, then tell: the handlers (incidents in the database) must never delay
        the new ffmpeg, or a slow database would lengthen every break."""
        first = self._open_gap is None
        if first:
            start = self._wall(self._run_end(run)) if run.anchor is not None else run.last_data
            self._open_gap = (start, cause)
            self._record({"type": "failure", "run": run.index, "cause": cause, "at": time.time()})
        self._spool_piece()
        self._launch(self._next_offset())
        if first:
            self._emit("source_lost", cause)
            self._emit("alarm", f"recording interrupted: {cause}; restarting")
        else:
            self._emit("source_lost", f"restart failed: {cause}")

    def _close_gap(self, end: float) -> None:
        if self._open_gap is None:
            return
        start, cause = self._open_gap
        self._open_gap = None
        gap = Gap(start=_utc(start), end=_utc(max(start, end)), cause=cause)
        self._gaps.append(gap)
        self._record({"type": "gap", "start": start, "end": max(start, end), "cause": cause})
        self._emit(
            "gap", f"{(gap.end - gap.start).total_seconds():.3f} s not recorded: {cause}", gap
        )

    def _disk_full(self, run: _Run, full: DiskFull) -> None:
        self.state = policy.HALTED
        self._emit("disk_full", str(full))
        self._emit("alarm", f"recording halted: disk full; {full.offset} bytes kept and journaled")
        run.retiring = True
        run.process.kill()
        self._record({"type": "disk_full", "at": time.time(), "offset": full.offset})

    # --- stop and recovery ---------------------------------------------------------------------

    def _finish(self) -> CaptureResult:
        spool, journal = self._spool, self._journal
        spool.close_piece()
        spool.close()
        ended = [r for r in self._runs if r.anchor is not None]
        duration = self._run_end(ended[-1]) if ended else 0.0
        result = CaptureResult(
            media_path=self.media_path,
            sha256=spool.sha256,
            bytes=spool.offset,
            duration_s=round(duration, 3),
            chain_head=spool.chain,
            pieces=spool.index,
            gaps=list(self._gaps),
            started_at=self.started_at,
            container=CONTAINER,
            command=self._runs[0].command if self._runs else [],
            commands=[r.command for r in self._runs if r.command],
            journal_path=self.journal_path,
        )
        self._record({"type": "stop", "at": time.time(), "sha256": result.sha256,
                      "bytes": result.bytes, "chain_head": result.chain_head,
                      "duration_s": result.duration_s})  # fmt: skip
        journal.close()
        return result

    def _restore(self, records: list[dict[str, Any]]) -> None:
        kill_orphan(records)
        self._log_seen = _size(self.spool_dir / LOG_NAME)
        try:
            restored = restore_spool(self.media_path, self.journal_path, records)
        except SpoolCorrupt as corrupt:
            raise EngineError(f"cannot recover: {corrupt}") from corrupt
        self._copy_video = frozenset(records[0].get("copy_video", []))
        self._runs = [
            _Run(index=r.index, ts_offset=r.ts_offset, launched=r.anchor or 0.0, anchor=r.anchor,
                 media_end=r.media_end, command=r.command)
            for r in restored.runs
        ]  # fmt: skip
        self._journal = Journal(self.journal_path)
        self._spool = MediaSpool(
            self.media_path,
            self._journal,
            piece_seconds=self.piece_seconds,
            resume=restored.last_piece,
            whole=restored.hasher,
        )
        if restored.salvaged:
            self._spool.append(restored.salvaged)
            self._spool.close_piece(salvaged=True)
        self._record({"type": "recover", "at": time.time(), "salvaged": len(restored.salvaged),
                      "discarded": restored.discarded})  # fmt: skip
        self._resume_state(restored)

    def _resume_state(self, restored: Restored) -> None:
        self.state = restored.state
        if self.state == policy.RECORDING:
            end = self._wall(restored.media_end) if self._runs else time.time()
            self._open_gap = (end, "the recorder process died")
            self._emit("alarm", "recorder recovered after a crash; restarting capture")
            self._launch(self._next_offset())
        self._start_watchdog()
