"""R11: the secretary's listening monitor over a real capture from a synthetic source. It plays
the live signal, ends when the recording stops, and leaves the sealed recording as it was."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient, Client
from django.utils import timezone

from taspa.courts.models import Courtroom, Hearing
from taspa.recorder import actions, monitor, remote
from taspa.recorder.engine import CaptureEngine, Source
from taspa.recorder.journal import MEDIA_NAME, Journal
from taspa.recorder.models import Recording
from taspa.sealing.hashing import sha256_file
from taspa.sealing.reading import write_sealed
from taspa.sealing.verify import verify_recording

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
TONES = (1000, 2500)  # one tone per microphone: the monitor must carry both, mixed


def tone_sources(*frequencies: int) -> list[dict[str, str]]:
    return [
        {"kind": "audio", "format": "lavfi", "input": f"sine=frequency={f}:sample_rate=48000"}
        for f in frequencies
    ]


@pytest.fixture
def hearing(hearing):
    """The console's hearing (tests/web/conftest.py) in a courtroom with one tone per microphone."""
    Courtroom.objects.filter(pk=hearing.courtroom_id).update(sources=tone_sources(*TONES))
    return Hearing.objects.get(pk=hearing.pk)


@dataclass
class Heard:
    status: int
    content_type: str = ""
    body: bytes = b""
    requested: float = 0.0
    first_chunk: float | None = None
    ended: float | None = None
    arrivals: list[tuple[float, int]] = field(default_factory=list)


def listen(user, hearing, *, seconds: float = 30.0, then=None, then_after: float = 0.0) -> Heard:
    """GET the monitor as ``user`` through Django's ASGI handler and read it as it comes;
    ``then`` (a blocking call) runs ``then_after`` seconds into the stream."""

    async def run() -> Heard:
        client = AsyncClient()
        await client.aforce_login(user)
        heard = Heard(status=0, requested=time.monotonic())
        response = await client.get(f"/hearings/{hearing.pk}/console/listen")
        heard.status, heard.content_type = response.status_code, response.get("Content-Type", "")
        if not response.streaming:
            heard.body = response.content
            return heard
        chunks = aiter(response.streaming_content)
        task = None
        try:
            while time.monotonic() - heard.requested < seconds:
                try:
                    chunk = await asyncio.wait_for(anext(chunks), timeout=10)
                except StopAsyncIteration:
                    heard.ended = time.monotonic()
                    break
                now = time.monotonic()
                heard.first_chunk = heard.first_chunk or now
                heard.arrivals.append((now, len(chunk)))
                heard.body += chunk
                if then is not None and task is None and now - heard.requested >= then_after:
                    task = asyncio.create_task(sync_to_async(then)())
        finally:
            await chunks.aclose()
            if task is not None:
                await task
        return heard

    return async_to_sync(run)()


def decoded(body: bytes, tmp_path: Path) -> np.ndarray:
    path = tmp_path / "heard.mp3"
    path.write_bytes(body)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels",
         "-of", "json", str(path)],
        capture_output=True, check=True,
    )  # fmt: skip
    stream = json.loads(probe.stdout)["streams"][0]
    assert (stream["codec_name"], stream["sample_rate"], stream["channels"]) == ("mp3", "48000", 1)
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "48000", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768


def strongest_tones(samples: np.ndarray, count: int) -> list[int]:
    spectrum = np.abs(np.fft.rfft(samples[: 48000 * 2] * np.hanning(min(len(samples), 96000))))
    hertz = np.fft.rfftfreq(min(len(samples), 96000), 1 / 48000)
    peaks = []
    for index in np.argsort(spectrum)[::-1]:
        if all(abs(hertz[index] - p) > 50 for p in peaks):
            peaks.append(float(hertz[index]))
        if len(peaks) == count:
            break
    return sorted(round(p) for p in peaks)


def test_r11_monitor_plays_the_live_capture_and_ends_with_the_recording(world, hearing, tmp_path):
    secretary = world.person("secretary")
    actions.start_recording(actor=secretary, hearing=hearing)
    time.sleep(1.5)

    def stop():
        actions.stop_recording(actor=secretary, hearing=Hearing.objects.get(pk=hearing.pk))
        stopped.append(time.monotonic())

    stopped: list[float] = []
    heard = listen(secretary, hearing, then=stop, then_after=4.0)

    assert heard.status == 200 and heard.content_type == "audio/mpeg"
    assert heard.first_chunk - heard.requested < 1.5, "sound within a second and a half"
    assert heard.ended is not None and stopped, "the stream ends when the recording stops"
    assert heard.ended - stopped[0] < 3.0
    samples = decoded(heard.body, tmp_path)
    seconds = len(samples) / 48000
    listened = heard.ended - heard.requested
    # Live, not the file from its start: at most the last second before the request, then what
    # was captured while listening.
    assert listened - 2.0 < seconds < listened + 1.2, (seconds, listened)
    for found, expected in zip(strongest_tones(samples[48000:], 2), TONES, strict=True):
        assert abs(found - expected) < 15, (found, expected)
    assert monitor.listeners(hearing.pk) == 0

    # The record is the capture's own file, untouched: its hash is the engine's running hash.
    recording = Recording.objects.get(hearing=hearing)
    assert recording.state == Recording.State.SEALED
    files = write_sealed(recording, tmp_path / "sealed")  # from the store, hash-checked
    assert sha256_file(files.media).sha256 == recording.sha256
    journal = Journal.read(files.journal)
    assert journal[-1]["type"] == "stop" and journal[-1]["sha256"] == recording.sha256
    checks = verify_recording(files.media)
    assert checks and all(check.ok for check in checks), [c for c in checks if not c.ok]


def test_r11_only_the_hearings_secretary_and_judge_listen(world, hearing, tmp_path):
    actions.start_recording(actor=world.person("secretary"), hearing=hearing)
    time.sleep(1.0)
    judge = listen(world.person("judge"), hearing, seconds=1.5)
    assert judge.status == 200 and len(judge.body) > 1000
    for role, court, status in [("archivist", "a", 403), ("secretary", "b", 404)]:
        assert listen(world.person(role, court), hearing).status == status
    console = Client()
    console.force_login(world.person("archivist"))
    assert 'id="monitor"' not in console.get(f"/hearings/{hearing.pk}/console").content.decode()
    console.force_login(world.person("secretary"))
    page = console.get(f"/hearings/{hearing.pk}/console").content.decode()
    assert 'id="btn-listen"' in page and "/console/listen" in page
    assert monitor.listeners(hearing.pk) == 0


def test_monitor_refuses_a_hearing_not_being_recorded(world, hearing):
    heard = listen(world.person("secretary"), hearing)
    assert heard.status == 409 and b"not being recorded" in heard.body


def test_agent_courtroom_is_heard_from_the_upload_and_the_console_says_where_it_records(
    world, hearing, tmp_path
):
    """A courtroom with a ``taspa recorder`` agent: the capture grows in the upload folder on
    the server (here written by a real engine, as the agent's uploads would), the console says
    the courtroom computer records, and the monitor ends when the hearing stops."""
    remote.register_agent(actor=world.admin, courtroom=hearing.courtroom)
    folder = remote.upload_dir(hearing.pk)
    engine = CaptureEngine(
        sources=[Source(kind="audio", format="lavfi", input="sine=frequency=1500")],
        spool_dir=folder,
    )
    engine.start()
    try:
        Recording.objects.create(hearing=hearing, spool_dir=str(folder), started_at=timezone.now())
        Hearing.objects.filter(pk=hearing.pk).update(state=Hearing.State.RECORDING)
        secretary = Client()
        secretary.force_login(world.person("secretary"))
        page = secretary.get(f"/hearings/{hearing.pk}/console").content.decode()
        assert 'id="agent"' in page and "Recorded on the courtroom computer" in page
        assert "as the courtroom computer uploads it" in page
        box = secretary.get(f"/hearings/{hearing.pk}/console/agent").content.decode()
        assert 'data-phase="recording"' in box and "on the server so far" in box

        def hearing_stops():
            Hearing.objects.filter(pk=hearing.pk).update(state=Hearing.State.STOPPED)

        time.sleep(1.0)
        heard = listen(world.person("secretary"), hearing, then=hearing_stops, then_after=2.0)
    finally:
        engine.stop()
    assert heard.status == 200 and heard.ended is not None
    samples = decoded(heard.body, tmp_path)
    assert strongest_tones(samples, 1) == [pytest.approx(1500, abs=15)]
    assert (folder / MEDIA_NAME).stat().st_size > 0
