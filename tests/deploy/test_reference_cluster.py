"""Issue 14 item 6: the reference cluster (deploy/cluster.py) as a court runs it, and faults
the way they happen there.

A courtroom PC's recorder agent records two hearings through nginx (HTTPS, the cluster's test
CA). During the second one, and while the replication of the first to the regional centre is a
job in the queue, one web process (the one holding the agent's upload), one worker and one
SeaweedFS volume server are killed with SIGKILL of their process groups, and PostgreSQL is
stopped immediately and started again. Afterwards nothing is lost or done twice: both
recordings verify from what the proxy serves, the agent's spool is what was sealed, byte for
byte, every job ran to one outcome, and the centre holds each recording once with the same
digest (R6, R13, R14, R19, R20, R23).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from deploy.cluster import Cluster  # noqa: E402

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

MIC = {"kind": "audio", "format": "lavfi", "input": "sine=frequency=440:sample_rate=48000",
       "label": "judge"}  # fmt: skip
SEED = """
import json, shutil
from django.conf import settings
from taspa.api.actions import issue_token
from taspa.demo import install_demo_keys, seed_demo
from taspa.recorder.remote import register_agent
first = seed_demo()
second = seed_demo()  # the same court and people, a second hearing in the same courtroom
anchors = install_demo_keys(first)
shutil.copy(anchors, %r)
print(json.dumps({
    "courtroom": first.courtroom.pk,
    "hearings": [first.hearing.pk, second.hearing.pk],
    "agent_token": register_agent(actor=None, courtroom=first.courtroom),
    "secretary_token": issue_token(actor=None, user=first.secretary),
}))
"""
JOBS = """
import json
from django_tasks_db.models import DBTaskResult
print(json.dumps([
    {"id": str(r.id), "task": r.task_path, "args": r.args_kwargs, "status": r.status,
     "workers": r.worker_ids, "error": r.exception_class_path}
    for r in DBTaskResult.objects.order_by("enqueued_at")
]))
"""
ENQUEUE = """
from taspa.jobs.tasks import run_periodic
print(run_periodic.enqueue(%r).id)
"""
HELD_AT_CENTRE = """
import json
from taspa.replication.models import Replica
print(json.dumps([{"source": r.source_id, "sha256": r.sha256, "state": r.state}
                  for r in Replica.objects.order_by("source_id")]))
"""


def wait_for(what: str, check: Callable[[], Any], timeout: float, log: Callable[[], str] = str):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{log()[-4000:]}")
        time.sleep(0.2)


class Court:
    """The court as a secretary's browser or script reaches it: HTTPS through nginx."""

    def __init__(self, cluster: Cluster, token: str) -> None:
        self.cluster, self.token = cluster, token
        self.tls = ssl.create_default_context(cafile=str(cluster.ca_file))
        self.failures: list[str] = []  # answers ≥ 500 or no answer, seen by the client

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310 — https on loopback
            f"{self.cluster.url}/api/v1{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.tls) as answer:  # noqa: S310
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            if error.code >= 500:
                self.failures.append(f"{method} {path}: {error.code}")
            return error.code, error.read()
        except OSError as error:
            self.failures.append(f"{method} {path}: {error}")
            return 0, b""

    def json(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self.call(method, path, body)
        assert 200 <= status < 300, (method, path, status, data[:500])
        return json.loads(data)

    def hearing(self, hearing: int) -> dict[str, Any]:
        return self.json("GET", f"/hearings/{hearing}")


class Agent:
    """The courtroom PC: ``taspa recorder`` against the proxy, trusting the cluster's CA."""

    def __init__(self, home: Path, cluster: Cluster, courtroom: int, token: str) -> None:
        self.home, self.cluster = home, cluster
        self.courtroom, self.token = courtroom, token
        self.process: subprocess.Popen | None = None

    @property
    def spool(self) -> Path:
        return self.home / "spool"

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "sources.json").write_text(json.dumps([MIC]))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "AWS_"))}
        env.pop("DATABASE_URL", None)
        env |= {"TASPA_HOME": str(self.home), "SSL_CERT_FILE": str(self.cluster.ca_file)}
        with open(self.home / "agent.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "taspa", "recorder", "--server", self.cluster.url,
                 "--token", self.token, "--courtroom", str(self.courtroom),
                 "--spool", str(self.spool), "--sources", str(self.home / "sources.json")],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def phase(self, hearing: int) -> str | None:
        path = self.spool / "agent.json"
        state = json.loads(path.read_text()) if path.exists() else {}
        return state.get("hearings", {}).get(str(hearing))

    def media_sha256(self, hearing: int) -> str:
        media = self.spool / f"hearing-{hearing}" / "recording.ts"
        return hashlib.sha256(media.read_bytes()).hexdigest()

    def output(self) -> str:
        return (self.home / "agent.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


@pytest.fixture
def cluster(tmp_path: Path, record_property) -> Iterator[Cluster]:
    cluster = Cluster(dir=tmp_path / "cluster")
    began = time.monotonic()
    cluster.up()
    record_property("boot: whole cluster, s", round(time.monotonic() - began, 1))
    for name, seconds in cluster.timings.items():
        record_property(f"boot: {name}", seconds)
    try:
        yield cluster
    finally:
        cluster.down()


def jobs(cluster: Cluster) -> list[dict[str, Any]]:
    return json.loads(cluster.taspa("shell", "-c", JOBS).strip().splitlines()[-1])


def enqueue(cluster: Cluster, name: str) -> str:
    return cluster.taspa("shell", "-c", ENQUEUE % name).strip().splitlines()[-1]


def upstream_of_agent(cluster: Cluster) -> str:
    """The web process nginx sent the agent's last request to (from its access log)."""
    by_port = {f"127.0.0.1:{cluster.ports[name]}": name for name in ("web1", "web2")}
    for line in reversed((cluster.dir / "logs" / "nginx-access.log").read_text().splitlines()):
        parts = line.split()
        if "/api/v1/agent/" in parts[2] and parts[4] in by_port:
            return by_port[parts[4]]
    raise AssertionError("nginx has not passed an agent request to a web process")


def record_hearing(court: Court, agent: Agent, hearing: int) -> None:
    assert court.json("POST", f"/hearings/{hearing}/start") == {"state": "recording"}
    wait_for("the agent to record", lambda: agent.phase(hearing) == "recording", 30, agent.output)


def stop_and_seal(court: Court, agent: Agent, hearing: int, timeout: float = 90) -> None:
    status, body = court.call("POST", f"/hearings/{hearing}/stop")
    assert status == 200, body
    wait_for(f"hearing {hearing} uploaded and sealed",
             lambda: agent.phase(hearing) == "done" and
             court.hearing(hearing)["state"] == "sealed", timeout, agent.output)  # fmt: skip


def check_recording(court: Court, agent: Agent, hearing: int, work: Path) -> dict[str, Any]:
    """Served bytes through the proxy equal the sealed digest and the agent's spool, and the
    media with its .p7s, as downloaded, verify with ``taspa verify``."""
    detail = court.hearing(hearing)
    recording = court.json("GET", f"/recordings/{detail['recording']['id']}")
    spool_sha = agent.media_sha256(hearing)
    status, media = court.call("GET", f"/recordings/{recording['id']}/media")
    assert status == 200
    assert recording["sha256"] == spool_sha == hashlib.sha256(media).hexdigest()
    status, signature = court.call("GET", f"/recordings/{recording['id']}/signature")
    assert status == 200
    # A Range read, as a player seeks: the same bytes as the sealed file's slice.
    request = urllib.request.Request(  # noqa: S310 — https on loopback
        f"{court.cluster.url}/api/v1/recordings/{recording['id']}/media",
        headers={"Authorization": f"Bearer {court.token}", "Range": "bytes=1000-4999"},
    )
    with urllib.request.urlopen(request, timeout=30, context=court.tls) as answer:  # noqa: S310
        assert answer.status == 206 and answer.read() == media[1000:5000]
    folder = work / f"hearing-{hearing}"
    folder.mkdir()
    (folder / recording["file_name"]).write_bytes(media)
    (folder / f"{recording['file_name']}.p7s").write_bytes(signature)
    verified = subprocess.run(
        [sys.executable, "-m", "taspa", "verify", str(folder / recording["file_name"]),
         "--ca", str(court.cluster.trust_anchors)],
        env=court.cluster.env("verifier"), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "FAIL" not in verified.stdout
    return recording


def test_r19_r23_reference_cluster_loses_nothing_and_does_nothing_twice(
    cluster: Cluster, tmp_path: Path, record_property
) -> None:
    seeded = cluster.taspa("shell", "-c", SEED % str(cluster.trust_anchors))
    world = json.loads(seeded.strip().splitlines()[-1])
    first, second = world["hearings"]
    court = Court(cluster, world["secretary_token"])
    agent = Agent(tmp_path / "courtroom-pc", cluster, world["courtroom"], world["agent_token"])
    agent.start()
    try:
        # 1. A whole hearing through the proxy, sealed and verified.
        began = time.monotonic()
        record_hearing(court, agent, first)
        time.sleep(5)
        stop_and_seal(court, agent, first)
        record_property("hearing 1: start to sealed, s", round(time.monotonic() - began, 1))
        check_recording(court, agent, first, tmp_path)

        # 2. The second hearing, and the first one's replication as a queued job.
        record_hearing(court, agent, second)
        t0 = time.monotonic()
        replication = enqueue(cluster, "replication.daily")
        fixity = enqueue(cluster, "fixity")
        time.sleep(2)
        killed: dict[str, float] = {}
        web = upstream_of_agent(cluster)  # the process holding the agent's upload
        cluster.kill(web)
        killed[web] = time.monotonic() - t0
        running = [j for j in jobs(cluster) if j["status"] == "RUNNING"]
        worker = "worker1"
        for job in running:  # the worker running a job, if one is
            pid = int(job["workers"][-1].split(":")[1])
            worker = next((n for n in ("worker1", "worker2") if cluster.groups[n] == pid), worker)
        cluster.kill(worker)
        killed[worker] = time.monotonic() - t0
        cluster.kill("volume2")
        killed["volume2"] = time.monotonic() - t0
        # The secretary's screen keeps working through the other web process.
        assert court.hearing(second)["state"] == "recording"
        pg_began = time.monotonic()
        pg_seconds = cluster.restart_postgres()
        killed["postgres (immediate stop, start)"] = pg_began - t0
        for name, at in killed.items():
            record_property(f"kill: {name} at s into hearing 2", round(at, 1))
        record_property("recovery: postgres restart, s", round(pg_seconds, 1))
        # A supervisor (systemd's Restart=always) brings the killed processes back.
        restart_began = time.monotonic()
        cluster.start("volume2")
        record_property("recovery: volume2 back, s", round(time.monotonic() - restart_began, 1))
        restart_began = time.monotonic()
        cluster.start(web, worker)
        record_property(
            f"recovery: {web} and {worker} back, s", round(time.monotonic() - restart_began, 1)
        )
        time.sleep(3)
        agent_web_after = upstream_of_agent(cluster)
        began = time.monotonic()
        stop_and_seal(court, agent, second, timeout=120)
        record_property("hearing 2: stop to sealed, s", round(time.monotonic() - began, 1))
        record_property("hearing 2: agent uploads last went to", agent_web_after)

        # The second hearing's replication, once the first job has run.
        wait_for("the replication and fixity jobs",
                 lambda: all(j["status"] in ("SUCCESSFUL", "FAILED") for j in jobs(cluster)
                             if j["id"] in (replication, fixity)), 90)  # fmt: skip
        replication_again = enqueue(cluster, "replication.daily")
        wait_for("every job to finish",
                 lambda: all(j["status"] in ("SUCCESSFUL", "FAILED") for j in jobs(cluster)),
                 90)  # fmt: skip

        # Nothing lost: both recordings as sealed, served and verified through the proxy.
        recordings = [check_recording(court, agent, second, tmp_path)]
        recordings.insert(
            0, court.json("GET", f"/recordings/{court.hearing(first)['recording']['id']}")
        )
        record_property("hearing 2: duration, s", round(recordings[1]["duration_s"], 1))
        assert recordings[1]["duration_s"] > 8

        # Nothing done twice: every job has one outcome, successful; one per recording for
        # the per-recording tasks; each recording once at the centre, with its digest.
        every = jobs(cluster)
        record_property("jobs", json.dumps([(j["task"].rsplit(".", 1)[-1], j["args"]["args"],
                                             j["status"], len(j["workers"]))
                                            for j in every], ensure_ascii=False))  # fmt: skip
        assert [j for j in every if j["status"] != "SUCCESSFUL"] == []
        per_recording = [(j["task"], json.dumps(j["args"])) for j in every
                         if not j["task"].endswith("run_periodic")]  # fmt: skip
        assert len(per_recording) == len(set(per_recording))
        reruns = [j for j in every if len(j["workers"]) > 1]
        record_property("jobs claimed again after their worker was killed", len(reruns))
        held = json.loads(
            cluster.taspa("shell", "-c", HELD_AT_CENTRE, name="central").strip().splitlines()[-1]
        )
        assert [(h["source"], h["sha256"]) for h in held] == [
            (r["id"], r["sha256"]) for r in recordings
        ]
        assert replication_again in {j["id"] for j in every}
        record_property("client-visible failures through the proxy", len(court.failures))
        assert court.failures == [], court.failures
    finally:
        agent.stop()
