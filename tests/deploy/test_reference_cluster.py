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
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.append(str(Path(__file__).resolve().parents[2]))  # the repository root: deploy/
from deploy.cluster import WEB, WORKERS, Cluster

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
     "workers": r.worker_ids, "error": r.exception_class_path, "value": r.return_value}
    for r in DBTaskResult.objects.order_by("enqueued_at")
]))
"""
ENQUEUE = """
import json
from taspa.jobs.tasks import run_periodic
print(json.dumps([str(run_periodic.enqueue(name).id) for name in %r]))
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


class Watcher(threading.Thread):
    """A secretary's screen refreshing the hearing through the proxy every 0.25 s."""

    def __init__(self, cluster: Cluster, token: str, hearing: int) -> None:
        super().__init__(daemon=True)
        self.court, self.hearing = Court(cluster, token), hearing
        self.answers: list[tuple[float, int]] = []  # (monotonic time, HTTP status or 0)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            status, _ = self.court.call("GET", f"/hearings/{self.hearing}")
            self.answers.append((time.monotonic(), status))
            self.done.wait(0.25)

    def failed(self) -> list[tuple[float, int]]:
        return [(at, status) for at, status in self.answers if status != 200]


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
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "AWS_", "DJANGO_"))
        }
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


def enqueue(cluster: Cluster, *names: str) -> list[str]:
    """Queue periodic jobs now, as the scheduler would; their result ids."""
    return json.loads(cluster.taspa("shell", "-c", ENQUEUE % (names,)).strip().splitlines()[-1])


def running_worker(cluster: Cluster, job: str) -> int | None:
    """The pid of the worker running job ``job`` (straight from PostgreSQL: no start-up)."""
    row = cluster.psql(
        f"SELECT status, worker_ids FROM django_tasks_database_dbtaskresult WHERE id = '{job}'"
    )
    status, _, workers = row.partition("|")
    if status != "RUNNING":
        return None
    return int(json.loads(workers)[-1].split(":")[1])


def upstream_of_agent(cluster: Cluster) -> str:
    """The web process nginx sent the agent's last request to (from its access log)."""
    by_port = {f"127.0.0.1:{cluster.ports[name]}": name for name in ("web1", "web2")}
    for line in reversed((cluster.dir / "logs" / "nginx-access.log").read_text().splitlines()):
        parts = line.split()
        if "/api/v1/agent/" in parts[2] and parts[4] in by_port:
            return by_port[parts[4]]
    raise AssertionError("nginx has not passed an agent request to a web process")


def record_hearing(court: Court, agent: Agent, hearing: int) -> None:
    # R8: the equipment check first; where the agent has not reported its own yet, the start is
    # the operator's recorded decision.
    checked = court.json("POST", f"/hearings/{hearing}/preflight")
    body = None if checked["ok"] else {"override_reason": "reference cluster: agent checks pending"}
    assert court.json("POST", f"/hearings/{hearing}/start", body) == {"state": "recording"}
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
    folder = work / f"hearing-{hearing}-{time.monotonic_ns()}"
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


def served_by(cluster: Cluster, name: str, token: str, recording: int) -> str:
    """SHA-256 of a recording's media as web process ``name`` serves it (past nginx)."""
    request = urllib.request.Request(  # noqa: S310 — http on loopback
        f"{cluster.web_url(name)}/api/v1/recordings/{recording}/media",
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return hashlib.sha256(answer.read()).hexdigest()


def metrics_excerpt(cluster: Cluster) -> str:
    """``curl /metrics`` of one web process (probes and Prometheus talk to it directly)."""
    with urllib.request.urlopen(f"{cluster.web_url('web1')}/metrics", timeout=10) as answer:  # noqa: S310
        lines = answer.read().decode().splitlines()
    wanted = ("taspa_recordings", "taspa_jobs", "taspa_hearings", "taspa_blob")
    return "\n".join(line for line in lines if line.startswith(wanted))


def finished(cluster: Cluster, ids: tuple[str, ...] = ()) -> bool:
    return all(j["status"] in ("SUCCESSFUL", "FAILED") for j in jobs(cluster)
               if not ids or j["id"] in ids)  # fmt: skip


def test_r19_r23_reference_cluster_loses_nothing_and_does_nothing_twice(
    cluster: Cluster, tmp_path: Path, record_property
) -> None:
    figure = record_property
    seeded = cluster.taspa("shell", "-c", SEED % str(cluster.trust_anchors))
    world = json.loads(seeded.strip().splitlines()[-1])
    first, second = world["hearings"]
    court = Court(cluster, world["secretary_token"])
    agent = Agent(tmp_path / "courtroom-pc", cluster, world["courtroom"], world["agent_token"])
    # HTTPS as the browser sees it: HSTS through the proxy; a web process reached without
    # the proxy's X-Forwarded-Proto sends the browser to HTTPS.
    with urllib.request.urlopen(f"{cluster.url}/healthz", context=court.tls) as answer:  # noqa: S310
        assert "max-age=" in answer.headers["Strict-Transport-Security"]
    plain = http.client.HTTPConnection("127.0.0.1", cluster.ports["web1"], timeout=10)
    plain.request("GET", "/")
    redirect = plain.getresponse()
    assert redirect.status == 301 and redirect.headers["Location"].startswith("https://")
    plain.close()
    agent.start()
    try:
        # 1. A whole hearing through the proxy, sealed and verified.
        began = time.monotonic()
        record_hearing(court, agent, first)
        time.sleep(5)
        stop_and_seal(court, agent, first)
        figure("hearing 1: start to sealed, s", round(time.monotonic() - began, 1))
        first_recording = check_recording(court, agent, first, tmp_path)

        # 2. The second hearing; the first one's replication and a fixity run as queued jobs.
        # The centre is frozen (SIGSTOP: a link that hangs), so the replication job is caught
        # mid-way: its worker is the one killed.
        record_hearing(court, agent, second)
        t0 = time.monotonic()
        watcher = Watcher(cluster, world["secretary_token"], second)
        watcher.start()
        killed: dict[str, float] = {}
        os.killpg(cluster.groups["central"], signal.SIGSTOP)
        try:
            replication, fixity = enqueue(cluster, "replication.daily", "fixity")
            running = wait_for("the replication job to run",
                               lambda: running_worker(cluster, replication), 30)  # fmt: skip
            worker = next(n for n in WORKERS if cluster.groups[n] == running)
            web = upstream_of_agent(cluster)  # the process holding the agent's upload
            cluster.kill(web)
            killed[f"{web} (the agent's upload)"] = time.monotonic() - t0
            cluster.kill(worker)
            worker_killed = time.monotonic()
            killed[f"{worker} (running the replication)"] = worker_killed - t0
            cluster.kill("volume2")
            killed["volume2"] = time.monotonic() - t0
            # The secretary's screen keeps working through the other web process.
            assert court.hearing(second)["state"] == "recording"
            pg_down = time.monotonic()
            killed["postgres (immediate stop, then start)"] = pg_down - t0
            figure("recovery: postgres down and up again, s",
                   round(cluster.restart_postgres(), 1))  # fmt: skip
            pg_up = time.monotonic()
        finally:
            os.killpg(cluster.groups["central"], signal.SIGCONT)
        for name, at in killed.items():
            figure(f"kill: {name}, s into hearing 2", round(at, 1))
        # With volume2 still down, hearing 1's sealed bytes come from the other replica.
        status, media = court.call("GET", f"/recordings/{first_recording['id']}/media")
        assert status == 200 and hashlib.sha256(media).hexdigest() == first_recording["sha256"]
        figure("volume2 down: hearing 1 served intact through the proxy, bytes", len(media))
        # A supervisor (systemd's Restart=always) brings the killed processes back.
        began = time.monotonic()
        cluster.start("volume2", web, worker)
        for name in ("volume2", web, worker):
            figure(f"recovery: {name} answering again, s", cluster.timings[f"start {name} s"])
        with urllib.request.urlopen(f"{cluster.url}/readyz", timeout=10, context=court.tls) as ok:  # noqa: S310
            assert json.loads(ok.read())["status"] == "ok"
        wait_for("the interrupted replication job to finish",
                 lambda: finished(cluster, (replication, fixity)), 90)  # fmt: skip
        figure("recovery: the interrupted replication job finished, s after its worker's kill",
               round(time.monotonic() - worker_killed, 1))  # fmt: skip
        figure("metrics during hearing 2 (excerpt of web1's /metrics)", metrics_excerpt(cluster))
        time.sleep(2)
        began = time.monotonic()
        watcher.done.set()
        watcher.join(timeout=40)
        # Through the kills the screen kept answering; only requests that met PostgreSQL
        # down (or their connection cut by its immediate stop) may have failed.
        failed = watcher.failed()
        when = [(round(at - t0, 1), status) for at, status in failed]
        figure("secretary's screen during the faults: requests, failed (s, status)",
               f"{len(watcher.answers)}, {when}")  # fmt: skip
        assert len(watcher.answers) > 10
        assert [f for f in failed if not pg_down - 0.5 <= f[0] <= pg_up + 5] == []
        # ...and those were told the outage is temporary (503 Retry-After, or the proxy's 502),
        # never a server error.
        assert [f for f in failed if f[1] == 500] == []
        stop_and_seal(court, agent, second, timeout=120)
        wall = time.monotonic() - t0
        figure("hearing 2: stop to sealed, s", round(time.monotonic() - began, 1))
        figure("hearing 2: agent uploads last went to", upstream_of_agent(cluster))

        # The second hearing's replication.
        (replication_again,) = enqueue(cluster, "replication.daily")
        wait_for("every job to finish", lambda: finished(cluster), 90)

        # Nothing lost: both recordings as sealed, served and verified through the proxy, and
        # by each web process; the agent recorded through it all; every process still up.
        recordings = [check_recording(court, agent, h, tmp_path) for h in (first, second)]
        for name in WEB:
            for recording in recordings:
                assert served_by(cluster, name, court.token, recording["id"]) == recording["sha256"]
        figure("hearing 2: duration, s", round(recordings[1]["duration_s"], 1))
        figure("hearing 2: wall time start to stop, s", round(wall, 1))
        assert recordings[1]["duration_s"] > wall - 5
        for recording in recordings:
            gaps = [i for i in recording["incidents"] if i["kind"] == "capture_gap"]
            assert gaps == [], gaps
        gone = [name for name in cluster.groups if not cluster.alive(name)]
        assert gone == [], f"{gone} did not survive the faults"

        # Nothing done twice: every job has one outcome, successful; one per recording for
        # the per-recording tasks; each recording acknowledged once and held once at the
        # centre, with its digest.
        every = jobs(cluster)
        figure("jobs (task, args, status, claims)",
               json.dumps([(j["task"].rsplit(".", 1)[-1], j["args"]["args"], j["status"],
                            len(j["workers"])) for j in every], ensure_ascii=False))  # fmt: skip
        assert [j for j in every if j["status"] != "SUCCESSFUL"] == []
        assert replication_again in {j["id"] for j in every}
        once = [(j["task"], json.dumps(j["args"])) for j in every
                if not j["task"].endswith("run_periodic")]  # fmt: skip
        assert len(once) == len(set(once))
        # (notices, e.g. of a failed equipment check before an R8 override, are one per notice)
        per_recording = [t for t in once if not t[0].endswith("send_notification_email")]
        assert len(per_recording) == 4, per_recording
        figure("jobs claimed again after their worker was killed",
               sum(len(j["workers"]) > 1 for j in every))  # fmt: skip
        for name in ("replication.daily", "fixity"):
            outcomes = [j["value"] for j in every if j["args"]["args"] == [name]]
            figure(f"outcomes of {name}", json.dumps(outcomes))
        outgoing = cluster.psql(
            "SELECT recording_id, version = acked_version, pending FROM replication_outgoing "
            "ORDER BY recording_id"
        ).splitlines()
        assert outgoing == [f"{r['id']}|t|f" for r in recordings], outgoing
        held = json.loads(
            cluster.taspa("shell", "-c", HELD_AT_CENTRE, name="central").strip().splitlines()[-1]
        )
        assert [(h["source"], h["sha256"]) for h in held] == [
            (r["id"], r["sha256"]) for r in recordings
        ]
        figure("client-visible failures through the proxy", len(court.failures))
        assert court.failures == [], court.failures
    finally:
        agent.stop()
