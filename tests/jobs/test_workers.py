"""`taspa worker` processes (R-independent operations, issue 14): any number share one queue
and run every job exactly once; SIGTERM lets the running job finish or puts it back in the
queue, and a worker killed outright loses nothing either."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent


def _env(home: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env | {
        "TASPA_HOME": str(home),
        "DJANGO_SETTINGS_MODULE": "taspa.settings",
        "PYTHONPATH": os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]),
    }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "taspa", "migrate", "-v0"], env=_env(tmp_path), check=True
    )
    return tmp_path


def enqueue(home: Path, count: int, seconds: float, database_url: str | None = None) -> Path:
    notes = home / "notes.txt"
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); import worker_probe, sys; "
            "worker_probe.enqueue(int(sys.argv[1]), sys.argv[2], float(sys.argv[3]))",
            str(count),
            str(notes),
            str(seconds),
        ],
        env=_env(home, database_url),
        check=True,
    )
    return notes


def worker(home: Path, *args: str, database_url: str | None = None) -> subprocess.Popen:
    log = (home / "workers.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "taspa", "worker", "--interval", "0.2", "--no-scheduler", *args],
        env=_env(home, database_url),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def statuses(home: Path) -> Counter:
    with sqlite3.connect(home / "taspa.sqlite3", timeout=30) as db:
        rows = db.execute("SELECT status FROM django_tasks_database_dbtaskresult").fetchall()
    return Counter(status for (status,) in rows)


def notes_of(notes: Path) -> Counter:
    if not notes.exists():
        return Counter()
    return Counter(" ".join(line.split()[:2]) for line in notes.read_text().splitlines())


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def stop(process: subprocess.Popen, timeout: float = 30) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout)


def test_two_workers_run_every_job_of_one_queue_exactly_once(home):
    notes = enqueue(home, 40, 0.05)
    workers = [worker(home), worker(home)]
    try:
        wait_until(lambda: statuses(home)["SUCCESSFUL"] == 40, 90, "40 jobs done")
    finally:
        codes = [stop(w) for w in workers]
    assert codes == [0, 0]
    done = notes_of(notes)
    assert all(done[f"done {n}"] == 1 and done[f"start {n}"] == 1 for n in range(40))
    pids = {line.split()[2] for line in notes.read_text().splitlines()}
    assert len(pids) == 2, "both workers took jobs"
    # One structured log line per job (taspa.jobs), from whichever worker ran it.
    lines = [
        json.loads(line.split("taspa.jobs: ", 1)[1])
        for line in (home / "workers.log").read_text().splitlines()
        if 'taspa.jobs: {"event": "job"' in line
    ]
    assert sorted(line["args"][0] for line in lines) == list(range(40))
    assert {line["status"] for line in lines} == {"successful"}
    assert all(line["task"] == "probe" and line["duration_ms"] >= 50 for line in lines)


def test_sigterm_mid_job_lets_the_job_finish_then_the_worker_exits(home):
    notes = enqueue(home, 1, 3.0)
    process = worker(home, "--grace", "30")
    wait_until(lambda: notes_of(notes)["start 0"] == 1, 60, "the job to start")
    assert stop(process) == 0
    assert statuses(home) == Counter({"SUCCESSFUL": 1})
    assert notes_of(notes) == Counter({"start 0": 1, "done 0": 1})


@pytest.mark.parametrize("how", ["sigterm_past_grace", "kill_9"])
def test_an_interrupted_job_goes_back_to_the_queue_and_runs_once_more(home, how):
    notes = enqueue(home, 1, 4.0)
    first = worker(home, "--grace", "0.5")
    wait_until(lambda: notes_of(notes)["start 0"] == 1, 60, "the job to start")
    if how == "kill_9":
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        assert statuses(home) == Counter({"RUNNING": 1})  # held by a dead process
    else:
        assert stop(first) == 0
        assert statuses(home) == Counter({"READY": 1})  # released, not failed, not lost
    second = worker(home)
    try:
        wait_until(lambda: statuses(home)["SUCCESSFUL"] == 1, 60, "the job to be run again")
    finally:
        assert stop(second) == 0
    assert notes_of(notes) == Counter({"start 0": 2, "done 0": 1})
