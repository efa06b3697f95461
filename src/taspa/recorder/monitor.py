"""The listening monitor (R11): the live capture, as the server holds it, in the secretary's
headphones through the browser.

Nothing here touches the capture. The monitor opens the growing spool file read-only — the
engine's own file for a courtroom this server records, or the upload for a courtroom whose
``taspa recorder`` agent records on the courtroom computer — starts at its latest PAT packet (at
most a second back: the capture writes one a second), and feeds the bytes as they are appended
to an ffmpeg that mixes the microphones into MP3 for an ``<audio>`` element. That ffmpeg runs at
a lower CPU priority than the capture, is killed when the listener leaves, and the stream ends
when the recording stops. Measured: the sound leaves the server about 0.25 s after it was
captured (docs/adr/0008-ui.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from asgiref.sync import sync_to_async

from taspa.courts.models import Hearing
from taspa.recorder import policy, remote, runtime
from taspa.recorder.journal import JOURNAL_NAME, MEDIA_NAME

log = logging.getLogger("taspa.recorder")

LIVE_STATES = (policy.RECORDING, policy.PAUSED)
MAX_LISTENERS = 4  # per hearing: each one is an ffmpeg beside the capture
MAX_SECONDS = 6 * 3600
SCAN_BYTES = 512 * 1024  # more than a second of any courtroom's capture
PAT_PID = 0
_listeners: dict[int, int] = {}


@dataclass(frozen=True)
class LiveMedia:
    """Where a hearing's capture grows; ``remote``: the agent's upload on this server."""

    hearing_id: int
    media: Path
    journal: Path
    remote: bool


def live_media(hearing: Hearing) -> LiveMedia | None:
    """The growing capture of ``hearing`` while it records or is paused, or None."""
    engine = runtime.engine_for(hearing.pk)
    if engine is not None and engine.state in LIVE_STATES:
        return LiveMedia(hearing.pk, engine.media_path, engine.journal_path, remote=False)
    if hearing.state in LIVE_STATES and remote.agent_of(hearing) is not None:
        folder = remote.upload_dir(hearing.pk)
        return LiveMedia(hearing.pk, folder / MEDIA_NAME, folder / JOURNAL_NAME, remote=True)
    return None


def listeners(hearing_id: int) -> int:
    return _listeners.get(hearing_id, 0)


def latest_pat(data: bytes) -> int | None:
    """Offset of the last TS packet in ``data`` (packet-aligned) that starts a PAT section."""
    end = len(data) - len(data) % policy.TS_PACKET
    for at in range(end - policy.TS_PACKET, -1, -policy.TS_PACKET):
        pid = ((data[at + 1] & 0x1F) << 8) | data[at + 2]
        if data[at] == 0x47 and pid == PAT_PID and data[at + 1] & 0x40:
            return at
    return None


def start_offset(media: Path) -> int:
    """Where a new listener starts: the latest PAT, so ffmpeg knows the tracks at once."""
    size = media.stat().st_size
    size -= size % policy.TS_PACKET
    first = max(0, size - SCAN_BYTES)
    first -= first % policy.TS_PACKET
    with media.open("rb") as reading:
        reading.seek(first)
        found = latest_pat(reading.read(size - first))
    return first + found if found is not None else first


def audio_tracks(journal: Path) -> int | None:
    """How many microphones the capture records (the journal's start record), once it exists."""
    try:
        with journal.open("rb") as reading:
            first = reading.readline()
    except FileNotFoundError:
        return None
    if not first.endswith(b"\n"):
        return None
    start = json.loads(first)
    return sum(1 for source in start.get("sources", []) if source.get("kind") == "audio") or None


def _engine_live(hearing_id: int) -> bool:
    engine = runtime.engine_for(hearing_id)
    return engine is not None and engine.state in LIVE_STATES


def _hearing_live(hearing_id: int) -> bool:
    return Hearing.objects.filter(pk=hearing_id, state__in=LIVE_STATES).exists()


async def _still_live(live: LiveMedia) -> bool:
    if live.remote:
        return await sync_to_async(_hearing_live)(live.hearing_id)
    return _engine_live(live.hearing_id)


async def _wait_for_start(live: LiveMedia, poll_s: float) -> int | None:
    """An agent's first upload may still be on its way: wait for the start record and bytes."""
    while True:
        tracks = audio_tracks(live.journal)
        if tracks is not None and live.media.exists():
            return tracks
        if not await _still_live(live):
            return None
        await asyncio.sleep(poll_s * 10)


async def _feed(live: LiveMedia, stdin: asyncio.StreamWriter, poll_s: float) -> None:
    """Copy what the capture appends to ffmpeg; after the recording stops, the last bytes."""
    loop = asyncio.get_running_loop()
    deadline, check_at, draining_until = loop.time() + MAX_SECONDS, 0.0, None
    try:
        # Read-only: the capture's own file is never written, locked or truncated here.
        with live.media.open("rb") as media:
            media.seek(start_offset(live.media))
            while loop.time() < deadline:
                data = media.read(1 << 16)
                if data:
                    stdin.write(data)
                    await stdin.drain()
                    continue
                now = loop.time()
                if draining_until is not None and now > draining_until:
                    return
                if draining_until is None and now >= check_at:
                    check_at = now + 1.0
                    if not await _still_live(live):
                        draining_until = now + 0.5  # the stop's last packets are still landing
                await asyncio.sleep(poll_s)
    except (BrokenPipeError, ConnectionResetError):
        return
    finally:
        stdin.close()


def _lower_priority(pid: int) -> None:
    """The capture comes first: the monitor's encoder yields the CPU to it."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, 10)


async def listen(live: LiveMedia, *, poll_s: float = 0.05) -> AsyncIterator[bytes]:
    """MP3 bytes of the live capture as they come, until the recording stops (or 6 hours)."""
    tracks = await _wait_for_start(live, poll_s)
    if tracks is None:
        return
    command = policy.monitor_command(tracks)
    log.info("monitor of hearing %s: %s", live.hearing_id, command)
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    _lower_priority(process.pid)
    _listeners[live.hearing_id] = listeners(live.hearing_id) + 1
    feeder = asyncio.create_task(_feed(live, process.stdin, poll_s))
    try:
        while chunk := await process.stdout.read(1 << 14):
            yield chunk
    finally:
        _listeners[live.hearing_id] = max(0, listeners(live.hearing_id) - 1)
        feeder.cancel()
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await feeder
