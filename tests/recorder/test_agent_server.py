"""The court server's side of remote capture (ADR 0004): agent registration and tokens, the
command queue, events applied once with their original times, the resumable upload and its
re-verification before sealing (R6–R8, R12, R14, R19)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.test import Client

from taspa.courts.models import Hearing
from taspa.recorder import remote
from taspa.recorder.engine import CaptureEngine, Source
from taspa.recorder.models import Mark, Recording
from taspa.recorder.policy import clock_sample
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key


class AgentClient:
    def __init__(self, token: str, courtroom: int) -> None:
        self.client, self.courtroom = Client(), courtroom
        self.headers = {"Authorization": f"Bearer {token}"}

    def url(self, path: str) -> str:
        return f"/api/v1/agent/courtrooms/{self.courtroom}/{path}"

    def get(self, path: str):
        return self.client.get(self.url(path), headers=self.headers)

    def post(self, path: str, body: dict):
        return self.client.post(
            self.url(path), body, content_type="application/json", headers=self.headers
        )

    def put(self, path: str, start: int, data: bytes):
        headers = self.headers | {"Content-Range": f"bytes {start}-{start + len(data) - 1}/*"}
        return self.client.put(
            self.url(path), data, content_type="application/octet-stream", headers=headers
        )

    def events(self, *events: dict):
        return self.post("events", {"events": list(events)})


@pytest.fixture
def agent(world) -> AgentClient:
    room = world.rooms["a"]
    return AgentClient(remote.register_agent(actor=None, courtroom=room), room.pk)


def test_r8_clock_offset_is_measured_ntp_style() -> None:
    sample = clock_sample(sent=100.0, other=100.7, received=100.2)
    assert sample.offset == pytest.approx(0.6) and sample.rtt == pytest.approx(0.2)
    assert sample.ok  # 0.6 ± 0.1 s is within a second
    assert not clock_sample(100.0, 101.1, 100.4).ok  # 0.9 ± 0.2 s may be 1.1 s off
    assert not clock_sample(100.0, 98.5, 100.0).ok


def test_agent_registration_is_for_court_admins_and_tokens_are_per_courtroom(world, api_as) -> None:
    room = world.rooms["a"]
    assert (
        api_as(world.person("secretary")).post(f"/courtrooms/{room.pk}/recorder-agent").status_code
        == 403
    )
    made = api_as(world.person("court_admin")).post(f"/courtrooms/{room.pk}/recorder-agent")
    assert made.status_code == 201 and made.json()["token"].startswith("tsa_")
    agent = AgentClient(made.json()["token"], room.pk)
    assert agent.get("config").json()["sources"] == room.sources
    assert agent.client.get("/api/v1/agent/time", headers=agent.headers).json()["now"] > 0
    assert AgentClient(made.json()["token"], world.rooms["b"].pk).get("config").status_code == 404
    assert AgentClient("tsa_forged", room.pk).get("config").status_code == 401
    # A user's token is not an agent token, nor the other way round.
    assert agent.client.get("/api/v1/hearings", headers=agent.headers).status_code == 401


def test_r7_secretary_commands_are_queued_for_the_agent_and_marks_use_its_clock(
    world, api_as, agent
) -> None:
    hearing = world.hearing(court="a")
    secretary = api_as(world.person("secretary"))
    assert secretary.post(f"/hearings/{hearing.pk}/start").json() == {"state": "recording"}
    (start,) = agent.get("commands?after=0").json()["commands"]
    assert (start["verb"], start["hearing"]) == ("start", hearing.pk)
    anchor = time.time() - 5.0
    started = {"seq": 1, "kind": "started", "at": anchor, "hearing": hearing.pk,
               "data": {"anchor": anchor}}  # fmt: skip
    assert agent.events(started).json() == {"acked": 1}
    mark = secretary.post(f"/hearings/{hearing.pk}/marks", {"speaker": "A", "role": "judge"})
    assert 4.5 < mark.json()["offset_s"] < 6.0  # wall time since the agent's first sample
    assert secretary.post(f"/hearings/{hearing.pk}/pause", {"reason": "lunch"}).status_code == 422
    assert secretary.post(f"/hearings/{hearing.pk}/pause", {"reason": "recess"}).status_code == 200
    verbs = [c["verb"] for c in agent.get(f"commands?after={start['seq']}").json()["commands"]]
    assert verbs == ["pause"]
    levels = {"hearing": hearing.pk, "channels": [{"name": "judge", "rms_dbfs": -20.0,
              "peak_dbfs": -6.0, "silent": False, "clipping": False}]}  # fmt: skip
    assert agent.post("levels", levels).status_code == 200
    assert secretary.get(f"/hearings/{hearing.pk}/levels").json()["channels"][0]["name"] == "judge"


def test_r12_events_from_the_courtroom_apply_once_with_their_own_times(world, agent) -> None:
    hearing = world.hearing(court="a")
    t0 = time.time() - 60
    events = [
        {"seq": 1, "kind": "started", "at": t0, "hearing": hearing.pk, "data": {"anchor": t0}},
        {"seq": 2, "kind": "mark", "at": t0 + 10, "hearing": hearing.pk,
         "data": {"speaker": "Әсел", "role": "plaintiff", "offset_s": 10.0}},
        {"seq": 3, "kind": "paused", "at": t0 + 20, "hearing": hearing.pk,
         "data": {"reason": "recess"}},
        {"seq": 4, "kind": "resumed", "at": t0 + 30, "hearing": hearing.pk},
        {"seq": 5, "kind": "gap", "at": t0 + 41, "hearing": hearing.pk,
         "data": {"detail": "0.2 s not recorded", "gap_start": t0 + 40, "gap_end": t0 + 40.2,
                  "cause": "ffmpeg exited with code -9"}},
    ]  # fmt: skip
    assert agent.events(*events).json() == {"acked": 5}
    assert agent.events(*events).json() == {"acked": 5}  # a resend changes nothing
    recording = Recording.objects.get(hearing=hearing)
    assert recording.started_at.timestamp() == pytest.approx(t0)
    assert Mark.objects.filter(recording=recording).count() == 1
    pause = recording.pauses.get()
    assert pause.reason == "recess" and pause.ended_at.timestamp() == pytest.approx(t0 + 30)
    gap = hearing.incidents.get(kind="capture_gap")
    assert (gap.gap_end - gap.gap_start).total_seconds() == pytest.approx(0.2, abs=0.01)
    assert Hearing.objects.get(pk=hearing.pk).state == "recording"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r14_r19_upload_resumes_at_the_server_offset_and_seals_only_verified_bytes(
    world, agent, tmp_path: Path, settings
) -> None:
    ca = democa.create_ca("Test CA")
    (tmp_path / "anchors.pem").write_bytes(ca.pem)
    settings.TASPA_TRUST_ANCHORS = str(tmp_path / "anchors.pem")
    secretary = world.person("secretary")
    p12 = democa.issue_p12(ca, common_name="Secretary", password="pin")
    register_signing_key(actor=world.admin, user=secretary, p12=p12, password="pin")
    hearing = world.hearing(court="a")
    engine = CaptureEngine(sources=[Source("audio", "sine=frequency=440", "lavfi", "judge")],
                           spool_dir=tmp_path / "spool")  # fmt: skip
    engine.start()
    time.sleep(1.5)
    result = engine.stop()
    stopped = {"sha256": result.sha256, "bytes": result.bytes}
    assert agent.events(
        {"seq": 1, "kind": "started", "at": result.started_at.timestamp(), "hearing": hearing.pk},
        {"seq": 2, "kind": "stopped", "at": time.time(), "hearing": hearing.pk, "data": stopped},
    ).json() == {"acked": 2}  # fmt: skip
    assert Hearing.objects.get(pk=hearing.pk).state == "stopped"
    media, journal = result.media_path.read_bytes(), result.journal_path.read_bytes()
    base = f"uploads/{hearing.pk}"
    assert agent.get(base).json() == {"media": 0, "journal": 0, "state": "capturing"}
    assert agent.put(f"{base}/files/journal", 0, journal).json() == {"offset": len(journal)}
    half = len(media) // 2
    assert agent.put(f"{base}/files/media", 0, media[:half]).json() == {"offset": half}
    early = agent.post(f"{base}/complete", {})
    assert early.status_code == 409 and early.json()["error"] == "upload_unverified"
    assert agent.get(base).json()["media"] == half  # the link broke here: ask, then go on
    again = agent.put(f"{base}/files/media", 0, media[:10])
    assert again.status_code == 409 and again.json()["error"] == "offset_mismatch"
    assert agent.put(f"{base}/files/media", half, media[half:]).json() == {"offset": len(media)}
    done = agent.post(f"{base}/complete", {}).json()
    assert done["state"] == "sealed" and done["sha256"] == result.sha256
    assert agent.post(f"{base}/complete", {}).json() == done  # idempotent
    assert agent.put(f"{base}/files/media", len(media), b"x" * 188).status_code == 409


def test_r8_preflight_of_a_remote_courtroom_reports_the_agent_and_the_clock(
    world, api_as, agent
) -> None:
    hearing = world.hearing(court="a")
    secretary = api_as(world.person("secretary"))
    never = secretary.post(f"/hearings/{hearing.pk}/preflight").json()
    checks = {c["name"]: c for c in never["checks"]}
    assert never["ok"] is False and checks["agent_reachable"]["ok"] is False
    assert "announcement" in never  # R16: what to read out when the recorder cannot record
    assert checks["clock"]["ok"] is True  # this server against its database's clock
    reported = [{"name": "server_reachable", "ok": True, "detail": "http://court"},
                {"name": "clock", "ok": True, "detail": "+0.004 s against the server"},
                {"name": "source:judge", "ok": True, "detail": "signal"}]  # fmt: skip
    agent.events({"seq": 1, "kind": "preflight", "at": time.time(),
                  "data": {"checks": reported, "clock_offset_s": 0.004}})  # fmt: skip
    agent.get("commands?after=0")
    answer = secretary.post(f"/hearings/{hearing.pk}/preflight").json()
    names = {c["name"] for c in answer["checks"]}
    assert {"agent_reachable", "agent:clock", "agent:source:judge", "signing_key"} <= names
    assert next(c for c in answer["checks"] if c["name"] == "agent_reachable")["ok"] is True


@pytest.mark.slow
def test_r6_an_agent_shut_down_mid_hearing_resumes_with_a_gap(tmp_path: Path) -> None:
    """SIGTERM to the agent is no lawful stop: the spool is left as after a crash (no ffmpeg
    left running), and the next start recovers it with the break recorded as a gap."""
    from taspa.recorder.journal import verify_pieces

    mic = Source("audio", "sine=frequency=440", "lavfi", "judge")
    engine = CaptureEngine(sources=[mic], spool_dir=tmp_path / "spool")
    engine.start()
    time.sleep(1.2)
    engine.detach()
    time.sleep(0.5)
    again = CaptureEngine.recover(tmp_path / "spool")
    assert again.running
    time.sleep(1.2)
    result = again.stop()
    assert [g.cause for g in result.gaps] == ["the recorder process died"]
    assert verify_pieces(result.media_path, result.journal_path).ok
