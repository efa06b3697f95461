"""The court server unreachable for a whole hearing: the courtroom agent records, marks, pauses
and stops locally, and when the server comes back it uploads everything; the server
re-verifies, seals with the secretary's key, and the result is the agent's file byte for byte
(R6, R12, R14, R19; issue 9's "court server unreachable" fault; ADR 0004)."""

from __future__ import annotations

import hashlib
import os
import signal
import time
import urllib.request
from pathlib import Path

import pytest
from agent_harness import Agent, Court, taspa, wait_for

from taspa.recorder.proc import descendant_processes

pytestmark = pytest.mark.slow

MIC = {"kind": "audio", "format": "lavfi", "input": "sine=frequency=440:sample_rate=48000",
       "label": "judge"}  # fmt: skip


def ffmpeg_of(agent: Agent) -> int:
    found = [
        pid
        for pid, name in descendant_processes(agent.process.pid).items()
        if name.startswith("ffmpeg")
    ]
    assert len(found) == 1, found
    return found[0]


def fetch_sealed(court: Court, recording: dict, folder: Path) -> Path:
    """The sealed files as the API serves them (from the blob store), named as sealed."""
    folder.mkdir()
    name = recording["file_name"]
    base = name.rsplit(".", 1)[0]
    files = {name: "media", f"{name}.p7s": "signature", f"{base}.manifest.json": "manifest",
             f"{base}.manifest.json.p7s": "manifest/signature"}  # fmt: skip
    for file_name, part in files.items():
        request = urllib.request.Request(  # noqa: S310 — http://127.0.0.1 only
            f"{court.url}/api/v1/recordings/{recording['id']}/{part}",
            headers={"Authorization": f"Bearer {court.secretary_token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            (folder / file_name).write_bytes(answer.read())
    return folder / name


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def court(tmp_path: Path):
    court = Court.seed(tmp_path / "court")
    yield court
    court.stop()


@pytest.fixture
def agent(tmp_path: Path, court: Court):
    agent = Agent(home=tmp_path / "courtroom-pc", court=court, sources=[MIC])
    yield agent
    agent.stop()


def test_r19_server_down_for_the_whole_hearing_loses_nothing(
    court: Court, agent: Agent, record_property
):
    hearing = court.hearing
    agent.start()  # the court server is not running at all
    asked = time.monotonic()
    agent.local("start", "--hearing", str(hearing))
    spool = agent.spool / f"hearing-{hearing}"
    wait_for("local recording", lambda: agent.phase(hearing) == "recording", 20)
    time.sleep(2.0)
    agent.drop("mark", speaker="Ерлан Сәтбаев", role="судья")
    # The mark's offset is recording time when it was pressed: at most the time since the
    # operator asked to start (however slowly a loaded machine started the capture).
    since_asked = time.monotonic() - asked
    os.kill(ffmpeg_of(agent), signal.SIGKILL)  # a break while nobody can hear about it
    time.sleep(2.0)
    agent.drop("pause", reason="recess")
    time.sleep(0.5)
    agent.drop("resume")
    time.sleep(1.0)
    agent.local("stop")
    wait_for("local stop", lambda: agent.phase(hearing) == "stopped", 20)
    local_sha = sha256(spool / "recording.ts")

    court.start()  # the link returns: events are replayed, the spool is uploaded and sealed
    wait_for("upload and seal", lambda: agent.phase(hearing) == "done", 60, agent.output)
    detail = court.api(f"/hearings/{hearing}")
    assert detail["state"] == "sealed", detail
    recording = court.api(f"/recordings/{detail['recording']['id']}")
    assert recording["sha256"] == local_sha
    downloaded = court.api(f"/recordings/{recording['id']}/media")
    assert hashlib.sha256(downloaded).hexdigest() == local_sha
    record_property("recorded offline, s", round(recording["duration_s"], 1))
    record_property("uploaded bytes identical to the spool", len(downloaded))
    assert [m["speaker"] for m in recording["marks"]] == ["Ерлан Сәтбаев"]
    assert 1.5 < recording["marks"][0]["offset_s"] <= since_asked + 0.1
    assert [p["reason"] for p in recording["pauses"]] == ["recess"]
    gaps = [i for i in recording["incidents"] if i["kind"] == "capture_gap"]
    assert len(gaps) == 1 and gaps[0]["gap_start"] and gaps[0]["gap_end"]
    assert any(i["kind"] == "source_lost" for i in recording["incidents"])

    media = fetch_sealed(court, recording, court.home / "sealed")
    verified = taspa(court.home, "verify", str(media))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "FAIL" not in verified.stdout


def test_r6_server_lost_mid_hearing_commands_then_local_stop_then_upload(court, agent):
    """The secretary starts through the server; the server dies mid-hearing; the room stops
    locally; the server returns and seals what the agent recorded."""
    hearing = court.hearing
    court.start()
    agent.start()
    assert court.api(f"/hearings/{hearing}/start", "POST") == {"state": "recording"}
    wait_for("the agent to start", lambda: agent.phase(hearing) == "recording", 20, agent.output)
    time.sleep(1.5)
    levels = wait_for("levels from the room", lambda: court.api(f"/hearings/{hearing}/levels")
                      ["channels"], 10)  # fmt: skip
    assert levels[0]["rms_dbfs"] > -40  # R11: the room's meter, seen on the server
    court.stop()  # mid-hearing: the room keeps recording
    time.sleep(2.0)
    agent.drop("stop", hearing=hearing)
    wait_for("local stop", lambda: agent.phase(hearing) == "stopped", 20, agent.output)
    local_sha = sha256(agent.spool / f"hearing-{hearing}" / "recording.ts")
    court.start()
    wait_for("upload and seal", lambda: agent.phase(hearing) == "done", 60, agent.output)
    detail = court.api(f"/hearings/{hearing}")
    recording = court.api(f"/recordings/{detail['recording']['id']}")
    assert detail["state"] == "sealed" and recording["sha256"] == local_sha
    assert recording["duration_s"] > 3.0
