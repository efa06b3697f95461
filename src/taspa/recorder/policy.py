"""Pure recorder rules: lawful pause reasons, the recording lifecycle, ffmpeg argument lists.

Standard library only (STYLE.md): the engine runs what these functions build, and the exact
argument list is kept as provenance for the record (R14, R19).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

# R6: stopping is not a break only for these; any other stop is refused (R19).
PAUSE_REASONS = ("adjournment", "recess", "deliberation")


def pause_reason_allowed(reason: str) -> bool:
    """R6/R19: only an adjournment, a recess or the court retiring to deliberate may pause."""
    return reason in PAUSE_REASONS


# --- the capture engine's own states ----------------------------------------------------------

IDLE, RECORDING, PAUSED, HALTED, STOPPED = "idle", "recording", "paused", "halted", "stopped"

# What one CaptureEngine (one ffmpeg and its spool) may do next: (state, action) -> next state.
# A watchdog restart is not a transition: the engine is still "recording" while it closes the
# gap (R6: a crash is a break, never a pause). The hearing's lifecycle is LIFECYCLE below.
TRANSITIONS: dict[tuple[str, str], str] = {
    (IDLE, "start"): RECORDING,
    (RECORDING, "pause"): PAUSED,
    (PAUSED, "resume"): RECORDING,
    (RECORDING, "disk_full"): HALTED,
    (PAUSED, "disk_full"): HALTED,
    (RECORDING, "stop"): STOPPED,
    (PAUSED, "stop"): STOPPED,
    (HALTED, "stop"): STOPPED,
}


def next_state(state: str, action: str) -> str | None:
    """The engine's state after ``action`` in ``state``, or ``None`` when it is not allowed."""
    return TRANSITIONS.get((state, action))


# --- the recording lifecycle: hearing x recording ---------------------------------------------
#
# Every change of a hearing's state (courts.Hearing.state) and of its recording's state
# (recorder.Recording.state) goes through ``lifecycle_step``; ``recorder.actions`` is the one
# module that writes them, for capture in this server and for a courtroom agent alike (ADR 0004).
# The recording's state is ``NO_RECORDING`` until it exists.

H_IDLE, H_PREFLIGHT, H_RECORDING, H_PAUSED = "idle", "preflight", "recording", "paused"
H_STOPPED, H_SEALED = "stopped", "sealed"
NO_RECORDING, CAPTURING, R_STOPPED, R_SEALED = "", "capturing", "stopped", "sealed"
HEARING_STATES = (H_IDLE, H_PREFLIGHT, H_RECORDING, H_PAUSED, H_STOPPED, H_SEALED)
RECORDING_STATES = (NO_RECORDING, CAPTURING, R_STOPPED, R_SEALED)
LIVE_HEARING_STATES = (H_RECORDING, H_PAUSED)  # a capture runs or is held somewhere

KEEP = None  # in a row of LIFECYCLE: this side's state does not change
Row = tuple[str | None, str | None]

# (hearing state, recording state, event) -> (next hearing state, next recording state).
# Events: preflight, start, pause, resume, mark, stop (the secretary's or the agent's), halted
# (disk full: the engine holds what it has; the hearing goes on, R10), capture_end (the media
# is complete here: the local engine stopped, or the agent's upload re-verified), sealed (R14).
LIFECYCLE: dict[tuple[str, str, str], Row] = {
    (H_IDLE, NO_RECORDING, "preflight"): (H_PREFLIGHT, KEEP),
    (H_PREFLIGHT, NO_RECORDING, "preflight"): (KEEP, KEEP),
    (H_IDLE, NO_RECORDING, "start"): (H_RECORDING, CAPTURING),
    (H_PREFLIGHT, NO_RECORDING, "start"): (H_RECORDING, CAPTURING),
    (H_RECORDING, CAPTURING, "pause"): (H_PAUSED, KEEP),
    (H_PAUSED, CAPTURING, "resume"): (H_RECORDING, KEEP),
    (H_RECORDING, CAPTURING, "mark"): (KEEP, KEEP),
    # A mark an agent made while it recorded counts as long as its media is still arriving,
    # whatever the server's state has moved on to since (its events arrive late, in order).
    (H_RECORDING, CAPTURING, "mark_reported"): (KEEP, KEEP),
    (H_PAUSED, CAPTURING, "mark_reported"): (KEEP, KEEP),
    (H_STOPPED, CAPTURING, "mark_reported"): (KEEP, KEEP),
    (H_RECORDING, CAPTURING, "halted"): (KEEP, KEEP),
    (H_PAUSED, CAPTURING, "halted"): (KEEP, KEEP),
    (H_RECORDING, CAPTURING, "stop"): (H_STOPPED, KEEP),
    (H_PAUSED, CAPTURING, "stop"): (H_STOPPED, KEEP),
    (H_STOPPED, CAPTURING, "capture_end"): (KEEP, R_STOPPED),
    # An agent's upload can verify before its "stopped" event arrived (the outbox lags).
    (H_RECORDING, CAPTURING, "capture_end"): (H_STOPPED, R_STOPPED),
    (H_PAUSED, CAPTURING, "capture_end"): (H_STOPPED, R_STOPPED),
    (H_STOPPED, R_STOPPED, "sealed"): (H_SEALED, R_SEALED),
}

# Why an event is refused, whatever the state it met (CONTRACT.md error codes, HTTP 409).
REFUSALS = {
    "preflight": "already_started",
    "start": "already_started",
    "pause": "not_recording",
    "resume": "not_paused",
    "mark": "not_recording",
    "mark_reported": "not_capturing",
    "halted": "not_recording",
    "stop": "not_recording",
    "capture_end": "not_capturing",
    "sealed": "not_stopped",
}

NEEDS = {  # for the refusal's text: the hearing states an event needs
    event: sorted({h for (h, _r, e) in LIFECYCLE if e == event}) for event in REFUSALS
}


@dataclass(frozen=True)
class Step:
    """The outcome of an event: the states after it, or the refusal's code and text."""

    hearing: str
    recording: str
    refusal: str = ""
    detail: str = ""

    @property
    def allowed(self) -> bool:
        return not self.refusal


def lifecycle_step(hearing: str, recording: str, event: str) -> Step:
    """Where ``event`` leads from (``hearing``, ``recording``); a refusal when it may not happen.

    ``recording`` is the recording's state, ``NO_RECORDING`` before there is one."""
    if event not in REFUSALS:
        raise ValueError(f"unknown lifecycle event {event!r}")
    row = LIFECYCLE.get((hearing, recording, event))
    if row is None:
        needs = " or ".join(NEEDS[event]) or "another state"
        detail = f"The hearing is {hearing}; {event} needs {needs}."
        return Step(hearing, recording, REFUSALS[event], detail)
    next_hearing, next_recording = row
    return Step(next_hearing or hearing, next_recording or recording)


def already_there(hearing: str, event: str) -> bool:
    """An agent reporting what the server already holds (it asked for it): a confirmation,
    not a second transition (ADR 0004)."""
    return (event, hearing) in {
        ("start", H_RECORDING),
        ("start", H_PAUSED),
        ("pause", H_PAUSED),
        ("resume", H_RECORDING),
        ("stop", H_STOPPED),
        ("stop", H_SEALED),
    }


# --- R8: the equipment check before the start --------------------------------------------------


@dataclass(frozen=True)
class PreflightGate:
    """Whether recording may start: a passing equipment check of the courtroom recent enough."""

    ok: bool
    refusal: str = ""
    detail: str = ""


def preflight_gate(
    last_passed_at: datetime | None, now: datetime, max_age_min: int
) -> PreflightGate:
    """R8: «Перед началом судебного заседания секретарь … проверяет работоспособность средств
    аудио-, видеозаписи». Recording starts only after a passing check of the courtroom at most
    ``max_age_min`` minutes old (TASPA_PREFLIGHT_MAX_AGE_MIN); 0 turns the requirement off (a
    court's own decision, e.g. for a test bench). Without one, only an override with a reason,
    kept in the audit trail, lets recording start (R10: the hearing itself is never blocked)."""
    if max_age_min <= 0:
        return PreflightGate(True)
    if last_passed_at is None:
        return PreflightGate(
            False, "preflight_required", "Check the equipment of this courtroom first."
        )
    age_min = (now - last_passed_at).total_seconds() / 60
    if age_min > max_age_min:
        return PreflightGate(
            False,
            "preflight_required",
            f"The last passing equipment check was {age_min:.0f} min ago; the court requires "
            f"one within {max_age_min} min before the start.",
        )
    return PreflightGate(True)


# --- R2: why court staff play or download a recording -----------------------------------------

# п.2: recordings are used «в целях судопроизводства … а также в целях установления фактических
# данных … или в рамках производства по дисциплинарному делу».
STAFF_PURPOSES = ("proceedings", "facts", "disciplinary")
DEFAULT_STAFF_PURPOSE = "proceedings"


def staff_purpose(stated: str | None) -> tuple[str, bool] | None:
    """(purpose, stated?) for a staff read of a recording (R2): the purpose given, or the
    proceedings themselves when none is given; ``None`` for a purpose п.2 does not name."""
    if not stated:
        return DEFAULT_STAFF_PURPOSE, False
    return (stated, True) if stated in STAFF_PURPOSES else None


# --- sources and encoding settings -------------------------------------------------------------

SOURCE_KINDS = ("audio", "video")
SOURCE_FORMATS = ("lavfi", "alsa", "pulse", "rtsp", "file", "v4l2")
# Generated and file inputs would run as fast as the CPU allows: they are paced to real time,
# once. A capture's audio is paced in its filter graph by its sample count (arealtime, see
# sample_clock below), so its input gets no -re; a video input, and preflight's reads, get -re.
# Both at once cost ffmpeg ~4 % more CPU for nothing (its -re polls every 10 ms on top of the
# filter's sleeps; bench/recorder.py). Live devices are paced by their own clock: neither.
PACED_FORMATS = frozenset({"lavfi", "file", None})
THREAD_QUEUE = {"alsa": 1024, "pulse": 1024, "rtsp": 256, "v4l2": 64}


@dataclass(frozen=True)
class Source:
    """One courtroom input as ffmpeg sees it (set by administrators only, CONTRACT.md)."""

    kind: str
    input: str
    format: str | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"source kind must be one of {SOURCE_KINDS}, not {self.kind!r}")
        if self.format is not None and self.format not in SOURCE_FORMATS:
            raise ValueError(f"source format must be one of {SOURCE_FORMATS}, not {self.format!r}")

    @property
    def name(self) -> str:
        return self.label or self.input


@dataclass(frozen=True)
class EncodeSettings:
    """Bitrates and codec choices; one place so preflight's disk estimate matches the encode."""

    audio_bitrate_kbps: int = 48  # per microphone, mono Opus: transparent for speech
    video_bitrate_kbps: int = 1500  # 720p25 H.264
    copied_video_kbps: int = 4000  # assumed for an IP camera stream kept as is
    video_preset: str = "veryfast"
    gop_frames: int = 50  # a keyframe every 2 s at 25 fps bounds what a crash can cost
    meter_rate: int = 8000  # level-meter PCM; R11 needs levels, not fidelity


def _demuxer_args(source: Source) -> list[str]:
    if source.format == "rtsp":
        # A dropped camera must end the process (the watchdog restarts it), not hang it.
        return ["-rtsp_transport", "tcp", "-timeout", "3000000"]
    if source.format in (None, "file"):
        return []
    return ["-f", source.format]


def input_args(
    source: Source, *, seek: float = 0.0, live: bool = False, filter_paced: bool = False
) -> list[str]:
    """ffmpeg input options for one source. ``seek`` restarts a file where a live feed would be;
    ``live`` marks a file that is fed in real time by another program (a FIFO): pacing it with
    -re would add ffmpeg's probing time to every sample's latency, so it is read as it comes.
    ``filter_paced``: the filter graph holds this input to real time (arealtime), not -re."""
    # A capture device must never wait on a busy encoder, so it gets a deep queue; a paced or
    # generated input must not: with -re a deep queue of raw 720p frames cost ffmpeg 2.5x the
    # CPU (bench/recorder.py) and could hold gigabytes.
    args = ["-thread_queue_size", str(THREAD_QUEUE.get(source.format, 8))]
    if source.format in PACED_FORMATS and not live and not filter_paced:
        args.append("-re")
    if source.format in (None, "file") and seek > 0 and not live:
        args += ["-ss", f"{seek:.3f}"]
    return [*args, *_demuxer_args(source), "-i", source.input]


# R6/R19: a source whose timestamps jump back (a looped file, a device or camera whose clock
# restarts) would otherwise be muxed as non-monotonic DTS: players stop at the first jump and
# -re stops pacing until the input's clock catches up, so a minute of audio arrives at once.
# Every audio track is therefore re-stamped from its own sample count, and a paced input is
# held to real time by that count (arealtime) alone, not by the input's clock (no -re on it).
# A restart still begins at -output_ts_offset, so a break stays a visible gap.
# A jump of an input's own clock (back, or ahead by more than 2 s) is printed to ffmpeg's log as
# JUMP_MARKER * (track + 1) + jump seconds, so the engine can say which track was repaired.
JUMP_MARKER = 1_000_000
JUMP_AHEAD_S = 2


def sample_clock(track: int) -> str:
    """asetpts stamping ``track`` from its sample count and reporting its input's jumps."""
    jump = "(PTS-PREV_INPTS)*TB"
    bound = JUMP_MARKER // 2
    report = f"print({JUMP_MARKER * (track + 1)}+clip({jump},-{bound},{bound}),24)"  # 24: warning
    test = f"lt(PTS,PREV_INPTS)+gt({jump},{JUMP_AHEAD_S})"
    return f"asetpts='N/SR/TB+0*if({test},{report},0)'"


# The meter's branch takes its track in frames of 0.05 s at 48 kHz before resampling: the
# sources' own ~21 ms frames cost a resampler call, a merge and a pipe write each, which made the
# branch ~10 % of the engine's ffmpeg CPU (bench/recorder.py: 0.1 s frames ~0.93 of bare ffmpeg,
# 0.05 s ~1.04, 21 ms 1.10). Not 0.1 s: the timeline (a run's anchor and end, so the marks'
# offsets and the recording's duration) is counted from the meter's samples, and a run shorter
# than one frame would not be counted at all — a restart paused at once after a crash lost its
# 0.2 s from the duration (tests/recorder/test_lifecycle.py). At 44.1 kHz a frame is 0.054 s.
METER_FRAME_SAMPLES = 2400


def audio_filter(
    audio_inputs: Sequence[int],
    rate: int,
    *,
    meter: bool = True,
    paced: frozenset[int] = frozenset(),
) -> str:
    """filter_complex for the audio: track ``n`` (``[a{n}]``) stamped from its sample count,
    and, with ``meter``, every track as one channel of low-rate s16 PCM (``[meter]``, R11).
    Inputs in ``paced`` are read at real time by their sample count."""
    chains = []
    for n, i in enumerate(audio_inputs):
        head = f"[{i}:a:0]{sample_clock(n)}" + (",arealtime" if i in paced else "")
        if not meter:
            chains.append(f"{head}[a{n}]")
            continue
        chains.append(f"{head},asplit=2[a{n}][r{n}]")
        chains.append(
            f"[r{n}]asetnsamples=n={METER_FRAME_SAMPLES}:p=0,aresample={rate},"
            f"aformat=sample_fmts=s16:channel_layouts=mono[m{n}]"
        )
    if meter:
        labels = "".join(f"[m{n}]" for n in range(len(audio_inputs)))
        if len(audio_inputs) == 1:
            chains.append(f"{labels}anull[meter]")
        else:
            chains.append(f"{labels}amerge=inputs={len(audio_inputs)}[meter]")
    return ";".join(chains)


def track_sources(sources: Sequence[Source]) -> list[Source]:
    """The sources in the order of the output's tracks (MPEG-TS PID 0x100 + track)."""
    return [s for s in sources if s.kind == "audio"] + [s for s in sources if s.kind == "video"]


def _audio_output_args(audio: Sequence[tuple[int, Source]], settings: EncodeSettings) -> list[str]:
    args: list[str] = []
    # MPEG-TS carries no track titles: the journal's start record names track n (source n).
    for n in range(len(audio)):
        args += ["-map", f"[a{n}]"]
    if audio:
        args += ["-c:a", "libopus", "-b:a", f"{settings.audio_bitrate_kbps}k", "-ar", "48000"]
    return args


def _video_output_args(
    video: Sequence[tuple[int, Source]], copy: frozenset[int], settings: EncodeSettings
) -> list[str]:
    args: list[str] = []
    for track, (index, _source) in enumerate(video):
        args += ["-map", f"{index}:v:0"]
        if index in copy:
            args += [f"-c:v:{track}", "copy"]  # already H.264: store the camera's own stream
            continue
        args += [
            f"-c:v:{track}", "libx264", f"-preset:v:{track}", settings.video_preset,
            f"-tune:v:{track}", "zerolatency", f"-g:v:{track}", str(settings.gop_frames),
            f"-b:v:{track}", f"{settings.video_bitrate_kbps}k", f"-pix_fmt:v:{track}", "yuv420p",
        ]  # fmt: skip
    return args


def capture_command(
    sources: Sequence[Source],
    *,
    meter_fd: int | None,
    ts_offset: float = 0.0,
    copy_video: frozenset[int] = frozenset(),
    live: frozenset[int] = frozenset(),
    settings: EncodeSettings = EncodeSettings(),
    ffmpeg: str = "ffmpeg",
) -> list[str]:
    """One ffmpeg process per hearing: MPEG-TS on stdout, level-meter PCM on ``meter_fd``.

    ``ts_offset`` (seconds since the recording started) makes a restarted process continue the
    media timeline at wall-clock time, so a gap is a visible timestamp gap (R6, R19). MPEG-TS is
    chosen because every 188-byte packet is self-delimiting: a file cut anywhere after a kill -9
    still decodes (docs/adr/0001-capture-container.md). ``copy_video`` holds input indexes whose
    H.264 is stored without re-encoding; ``live`` holds file inputs fed in real time.
    """
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning"]
    audio = [(i, s) for i, s in enumerate(sources) if s.kind == "audio"]
    video = [(i, s) for i, s in enumerate(sources) if s.kind == "video"]
    paced = frozenset(i for i, s in audio if s.format in PACED_FORMATS and i not in live)
    for index, source in enumerate(sources):
        cmd += input_args(source, seek=ts_offset, live=index in live, filter_paced=index in paced)
    if audio:
        graph = audio_filter(
            [i for i, _ in audio], settings.meter_rate, meter=meter_fd is not None, paced=paced
        )
        cmd += ["-filter_complex", graph]
    cmd += _audio_output_args(audio, settings) + _video_output_args(video, copy_video, settings)
    cmd += ["-output_ts_offset", f"{ts_offset:.6f}", "-f", "mpegts", "-muxdelay", "0"]
    cmd += ["-muxpreload", "0", "-pat_period", "1", "-flush_packets", "1", "pipe:1"]
    if audio and meter_fd is not None:
        cmd += ["-map", "[meter]", "-f", "s16le", "-flush_packets", "1", f"pipe:{meter_fd}"]
    return cmd


def probe_video_codec_command(source: Source, ffprobe: str = "ffprobe") -> list[str]:
    """ffprobe printing the first video stream's codec name (to decide on stream copy)."""
    args = _demuxer_args(source)
    return [
        ffprobe, "-v", "error", *args, "-select_streams", "v:0",
        "-show_entries", "stream=codec_name", "-of", "default=nw=1:nk=1", source.input,
    ]  # fmt: skip


def preflight_command(source: Source, *, seconds: float, rate: int = 8000) -> list[str]:
    """ffmpeg reading ``seconds`` of one source to stdout: mono PCM, or one tiny grey frame."""
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"]
    cmd += input_args(source)
    if source.kind == "audio":
        return [*cmd, "-map", "0:a:0", "-t", f"{seconds:.3f}", "-ac", "1", "-ar", str(rate),
                "-f", "s16le", "pipe:1"]  # fmt: skip
    return [*cmd, "-map", "0:v:0", "-frames:v", "1", "-s", "32x18", "-pix_fmt", "gray",
            "-f", "rawvideo", "pipe:1"]  # fmt: skip


# --- disk space (R8) ---------------------------------------------------------------------------

TS_PACKET = 188


def bytes_per_second(
    sources: Sequence[Source], settings: EncodeSettings = EncodeSettings(), copied: int = 0
) -> float:
    """Stored bytes per second of recording, TS overhead included (R8's 8-hour check).

    Opus sends 50 frames a second per track and every frame starts its own PES packet, so an
    audio track costs whole 188-byte TS packets, not just its bitrate (measured in the ADR).
    """
    audio = sum(1 for s in sources if s.kind == "audio")
    video = sum(1 for s in sources if s.kind == "video")
    frame_bytes = settings.audio_bitrate_kbps * 1000 / 8 / 50 + 17  # PES + Opus control header
    per_track = 50 * TS_PACKET * math.ceil(frame_bytes / 184) * 1.1  # 10 % for VBR peaks
    encoded = (video - copied) * settings.video_bitrate_kbps + copied * settings.copied_video_kbps
    return audio * per_track + encoded * 1000 / 8 * 1.08 + 2 * TS_PACKET


def required_bytes(
    sources: Sequence[Source],
    hours: float,
    settings: EncodeSettings = EncodeSettings(),
    copied: int = 0,
) -> int:
    """Bytes needed for ``hours`` of recording plus the journal (~150 bytes per 1 s piece)."""
    seconds = hours * 3600
    return int(seconds * (bytes_per_second(sources, settings, copied) + 150))


# --- clocks (R8) -------------------------------------------------------------------------------

CLOCK_TOLERANCE_S = 1.0  # R8: recordings and signatures carry wall-clock times courts rely on


@dataclass(frozen=True)
class ClockSample:
    """One NTP-style exchange: ``offset`` = other clock − ours, known to within ± ``rtt / 2``."""

    offset: float
    rtt: float

    @property
    def ok(self) -> bool:
        """Within tolerance even at the worst end of the measurement's uncertainty."""
        return abs(self.offset) + self.rtt / 2 <= CLOCK_TOLERANCE_S


def clock_sample(sent: float, other: float, received: float) -> ClockSample:
    """``other`` was read by the far side between our ``sent`` and ``received``: assume the
    middle of the round trip (NTP's symmetric-path estimate)."""
    return ClockSample(offset=other - (sent + received) / 2, rtt=max(0.0, received - sent))


# --- the listening monitor (R11) ---------------------------------------------------------------

MONITOR_BITRATE_KBPS = 64  # mono MP3: enough to judge the sound in headphones


def monitor_command(audio_tracks: int, ffmpeg: str = "ffmpeg") -> list[str]:
    """ffmpeg turning the growing MPEG-TS (on stdin, from its latest PAT) into an MP3 stream of
    every microphone mixed, for the secretary's headphones (R11). It reads what the capture
    wrote; it never opens a device. A 2 KB probe and no analysis start it within a few hundred
    milliseconds (the PMT already names the Opus tracks); no gap filling, so after a lawful
    pause the listener hears the resumed sound at once instead of the pause's silence."""
    if audio_tracks == 1:
        graph = "[0:a:0]aformat=channel_layouts=mono[mix]"
    else:
        inputs = "".join(f"[0:a:{n}]" for n in range(audio_tracks))
        graph = f"{inputs}amix=inputs={audio_tracks}:normalize=0,aformat=channel_layouts=mono[mix]"
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
        "-fflags", "+nobuffer+discardcorrupt", "-probesize", "2048", "-analyzeduration", "0",
        "-f", "mpegts", "-i", "pipe:0", "-filter_complex", graph, "-map", "[mix]",
        "-c:a", "libmp3lame", "-b:a", f"{MONITOR_BITRATE_KBPS}k", "-ar", "48000", "-threads", "1",
        "-f", "mp3", "-write_xing", "0", "-id3v2_version", "0", "-flush_packets", "1", "pipe:1",
    ]  # fmt: skip
