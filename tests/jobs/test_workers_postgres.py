"""`taspa worker` on PostgreSQL (the multi-machine case: SKIP LOCKED claims): two workers run
each job of one queue exactly once, and a restart of the database server in the middle loses
no job and runs none twice — the workers reconnect and write the outcomes they held."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from test_workers import _env, enqueue, notes_of, stop, wait_until, worker

pytestmark = pytest.mark.slow

PGBIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


class Postgres:
    def __init__(self, root: Path) -> None:
        import socket

        self.root, self.data = root, root / "data"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.bin = Path(PGBIN[-1])
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        if os.getuid() == 0:
            shutil.chown(root, "postgres")

    def _pg(self, *args: str) -> None:
        subprocess.run([*self.run_as, *args], check=True, capture_output=True, timeout=60)

    def init(self) -> Postgres:
        self._pg(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "taspa")
        self.start()
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                 "-w", "-o", options, "start")  # fmt: skip

    def stop(self) -> None:
        self._pg(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgres://taspa@127.0.0.1:{self.port}/postgres"

    def statuses(self) -> Counter:
        import psycopg

        try:
            with psycopg.connect(self.url, connect_timeout=5) as db:
                rows = db.execute("SELECT status FROM django_tasks_database_dbtaskresult")
                return Counter(status for (status,) in rows.fetchall())
        except psycopg.OperationalError:
            return Counter()


@pytest.fixture
def postgres() -> Postgres:
    if not PGBIN:
        pytest.skip("PostgreSQL is not installed")
    # Outside pytest's 0700 temporary tree, which the postgres user cannot enter.
    root = Path(tempfile.mkdtemp(prefix="taspa-pg-workers."))
    server = Postgres(root).init()
    yield server
    with contextlib.suppress(subprocess.CalledProcessError):
        server.stop()
    shutil.rmtree(root, ignore_errors=True)


def test_workers_on_postgresql_survive_a_database_restart_exactly_once(tmp_path, postgres):
    url = postgres.url
    subprocess.run(
        [sys.executable, "-m", "taspa", "migrate", "-v0"], env=_env(tmp_path, url), check=True
    )
    notes = enqueue(tmp_path, 30, 0.2, database_url=url)
    workers = [worker(tmp_path, database_url=url), worker(tmp_path, database_url=url)]
    try:
        wait_until(lambda: postgres.statuses()["SUCCESSFUL"] >= 8, 60, "a third of the jobs")
        postgres.stop()  # the database goes away mid-queue, with jobs in flight
        time.sleep(2)
        postgres.start()
        wait_until(lambda: postgres.statuses()["SUCCESSFUL"] == 30, 120, "every job done")
    finally:
        codes = [stop(w) for w in workers]
    assert codes == [0, 0]
    done = notes_of(notes)
    assert [done[f"done {n}"] for n in range(30)] == [1] * 30, done
    assert postgres.statuses() == Counter({"SUCCESSFUL": 30})
    log = (tmp_path / "workers.log").read_text()
    assert "database unavailable" in log or "database lost" in log, "the restart was noticed"
