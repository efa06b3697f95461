"""Hearing-list API latency and the retention sweep with millions of recordings in PostgreSQL.

Run: ``.venv/bin/python -m bench.scale [--rows 1000000 10000000] [--rate 10] [--seconds 20]``
(about 15 minutes on 2 cores; ``wrk`` from Debian is used when installed).

A throw-away PostgreSQL (as ``scripts/with-postgres``: initdb in a temporary directory, a free
loopback port, fsync and full-page writes off — they only speed up the bulk load; no figure here
waits on a commit) gets Taspa's schema from ``taspa migrate`` and then synthetic rows straight
from SQL (``INSERT … SELECT … FROM generate_series``): 50 district courts in the 17 regions, 2
secretaries, 4 judges and 4 courtrooms per court, a regional head per region, one case per 4
hearings, and per hearing one sealed recording with its digests, size, duration, file name and
retention row. Retention follows each case's judgment date (5-year clock, 15 % of cases without
judgment, 1 % on legal hold): recordings whose date passed more than a week ago are already
moved and deleted (out of the store, their last fixity check the day before: the head of the
fixity order, as on a real server); a week's backlog is due. The scales grow the same database
(1M, then +9M).

At each scale, per request, a fresh ``taspa serve`` (uvicorn, default settings) gets a fixed
request rate from ``bench.loadgen`` (open loop: latency counts from each request's due time, so
a stall is not hidden) and then ``wrk`` (closed loop, 4 connections, its maximum throughput);
the server's peak RSS is its ``VmHWM`` after the fixed-rate run, its peak threads and PostgreSQL
connections are sampled every 0.1 s during it. The raw figure each is compared
with is the endpoint's slowest SQL statement run alone through psycopg on the same data — what
the request would cost with no Python around the database. The sweep is
``taspa retention run --dry-run`` (wall time and peak RSS of the process), against one SELECT
of every due row. ``taspa serve``'s periodic jobs are moved a day out so none overlaps a
measurement; the fixity pass they would start every 10 minutes gets its own row. The plans
PostgreSQL chose are printed below the table.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from bench.loadgen import LoadResult, open_loop

REGIONS = (
    "Abai", "Akmola", "Aktobe", "Almaty", "Atyrau", "East Kazakhstan", "Jambyl", "Jetisu",
    "West Kazakhstan", "Karaganda", "Kostanay", "Kyzylorda", "Mangystau", "Pavlodar",
    "North Kazakhstan", "Turkistan", "Ulytau",
)  # fmt: skip
CHUNK = 1_000_000  # hearings per INSERT … SELECT: a progress line and a bounded transaction
MiB = 1 << 20

# Deterministic, independent of the scale, so a bigger scale is the smaller one plus more rows.
FUNCTIONS = """
CREATE FUNCTION bench_at(i bigint) RETURNS timestamptz LANGUAGE sql STABLE AS
  $$ SELECT timestamptz '2016-01-01 03:00+00'
            + (abs(hashint8extended(i, 2)) % 341884800) * interval '1 second' $$;
CREATE FUNCTION bench_case(i bigint) RETURNS bigint LANGUAGE sql STABLE AS
  $$ SELECT (i + 3) / 4 $$;
CREATE FUNCTION bench_court(k bigint) RETURNS bigint LANGUAGE sql STABLE AS
  $$ SELECT (k - 1) % 50 + 1 $$;
CREATE FUNCTION bench_judgment(k bigint) RETURNS date LANGUAGE sql STABLE AS
  $$ SELECT CASE WHEN abs(hashint8extended(k, 5)) % 100 < 15 THEN NULL
                 ELSE nullif(least(date '2016-03-01' + (abs(hashint8extended(k, 3)) % 3950)::int,
                                   current_date + 1), current_date + 1) END $$;
CREATE FUNCTION bench_until(k bigint) RETURNS date LANGUAGE sql STABLE AS
  $$ SELECT (bench_judgment(k) + interval '5 years')::date $$;
CREATE FUNCTION bench_hex(i bigint, seed bigint) RETURNS text LANGUAGE sql STABLE AS
  $$ SELECT lpad(to_hex(hashint8extended(i, seed)), 16, '0')
            || lpad(to_hex(hashint8extended(i, seed + 1)), 16, '0')
            || lpad(to_hex(hashint8extended(i, seed + 2)), 16, '0')
            || lpad(to_hex(hashint8extended(i, seed + 3)), 16, '0') $$;
CREATE FUNCTION bench_hold(k bigint) RETURNS boolean LANGUAGE sql STABLE AS
  $$ SELECT abs(hashint8extended(k, 4)) % 100 = 0 $$;
"""

PEOPLE = """
INSERT INTO courts_court (id, code, name, level, region)
SELECT c, lower(replace(r.name, ' ', '-')) || '-' || ((c - 1) / 17 + 1),
       'Specialised district court No. ' || (c - 1) / 17 + 1 || ' of ' || r.name || ' region',
       'district', r.name
FROM generate_series(1, 50) c
JOIN unnest(%(regions)s::text[]) WITH ORDINALITY r(name, n) ON r.n = (c - 1) %% 17 + 1;

INSERT INTO courts_user (id, password, is_superuser, username, first_name, last_name, email,
                         is_staff, is_active, date_joined, full_name, language)
SELECT 1, '!', false, 'root', '', '', '', false, true, now(), 'System administrator', ''
UNION ALL
SELECT (c.id - 1) * 6 + s + 2, '!', false,
       CASE WHEN s < 2 THEN 'sec-' || c.code || '-' || (s + 1)
            ELSE 'judge-' || c.code || '-' || (s - 1) END,
       '', '', '', false, true, now(),
       CASE WHEN s < 2 THEN 'Secretary ' ELSE 'Judge ' END || c.code || ' ' || s, 'ru'
FROM courts_court c CROSS JOIN generate_series(0, 5) s
UNION ALL
SELECT 302 + n, '!', false, 'head-' || n, '', '', '', false, true, now(), 'Regional head ' || n,
       'kk'
FROM generate_series(1, 17) n;

INSERT INTO courts_roleassignment (role, court_id, user_id)
SELECT 'system_admin', NULL, 1
UNION ALL
SELECT CASE WHEN s < 2 THEN 'secretary' ELSE 'judge' END, c, (c - 1) * 6 + s + 2
FROM generate_series(1, 50) c CROSS JOIN generate_series(0, 5) s
UNION ALL
SELECT 'regional_head', n, 302 + n FROM generate_series(1, 17) n;

INSERT INTO courts_courtroom (id, name, sources, court_id)
SELECT (c - 1) * 4 + k, 'Hall ' || k,
       '[{"kind": "audio", "input": "alsa:hw:1,0", "channels": 4},
         {"kind": "video", "input": "rtsp://10.0.0.20/stream1"}]'::jsonb, c
FROM generate_series(1, 50) c CROSS JOIN generate_series(1, 4) k;
"""

CASES = """
INSERT INTO courts_case (id, number, kind, language, judgment_effective_on, created_at, court_id)
SELECT k, (ARRAY['1', '2', '3', '5', '7'])[abs(hashint8extended(k, 7)) %% 5 + 1] || '-' || k
          || '-' || to_char(bench_at(4 * k), 'YYYY'),
       (ARRAY['criminal', 'civil', 'administrative', 'admin_offence', 'disciplinary'])
           [abs(hashint8extended(k, 7)) %% 5 + 1],
       CASE WHEN k %% 3 = 0 THEN 'ru' ELSE 'kk' END,
       bench_judgment(k), bench_at(4 * k) - interval '60 days', bench_court(k)
FROM generate_series(%(klo)s::bigint, %(khi)s::bigint) k;

INSERT INTO retention_caseretention (id, retention_until, hold, hold_reason, hold_set_at, case_id)
SELECT k, bench_until(k), bench_hold(k),
       CASE WHEN bench_hold(k) THEN 'New review of the case (cassation petition)' ELSE '' END,
       CASE WHEN bench_hold(k) THEN now() - interval '40 days' END, k
FROM generate_series(%(klo)s::bigint, %(khi)s::bigint) k
WHERE bench_judgment(k) IS NOT NULL;
"""

HEARINGS = """
INSERT INTO courts_hearing (id, instance, closed, scheduled_at, circumstances, state,
    recording_required, recording_rule, recording_explanation_ru, recording_explanation_en,
    created_at, case_id, courtroom_id, judge_id, secretary_id, stand_in_id)
SELECT i, 'first', abs(hashint8extended(i, 1)) %% 20 = 0, bench_at(i),
       '{"writ_proceedings": false, "guilt_fully_admitted": false}'::jsonb, 'sealed',
       'required', 'R3',
       'Судебное заседание суда первой инстанции фиксируется средствами аудио-, видеозаписи.',
       'A first-instance hearing is recorded by audio and video means.',
       bench_at(i) - interval '14 days', bench_case(i),
       (bench_court(bench_case(i)) - 1) * 4 + i %% 4 + 1,
       (bench_court(bench_case(i)) - 1) * 6 + 4 + bench_case(i) %% 4,
       (bench_court(bench_case(i)) - 1) * 6 + 2 + i %% 2, NULL
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) i;
"""

RECORDINGS = """
INSERT INTO recorder_recording (id, state, spool_dir, started_at, stopped_at, container, command,
    file_name, sha256, bytes, duration_s, chain_head, pieces, media_path, signature_digest,
    manifest_digest, manifest_signature_digest, signer_subject, sealed_at, stored_at,
    hearing_id, signed_by_id, fixity_checked_at, fixity_ok, court_id)
SELECT g.i, 'sealed', '', g.at, g.at + g.dur * interval '1 second', 'mpegts',
       '["ffmpeg", "-f", "alsa", "-i", "hw:1,0", "-rtsp_transport", "tcp", "-i",
         "rtsp://10.0.0.20/stream1", "-c:v", "copy", "-c:a", "libopus", "-f", "mpegts"]'::jsonb,
       n.name, bench_hex(g.i, 10), (g.dur * 200000)::bigint, g.dur,
       bench_hex(g.i, 20), (g.dur * 200000 / 1048576)::int + 1,
       '/var/lib/taspa/sealed/' || c.code || '/' || to_char(g.at, 'YYYY/MM') || '/h' || g.i
           || '/' || n.name,
       bench_hex(g.i, 30),
       bench_hex(g.i, 40),
       bench_hex(g.i, 50),
       'CN=Secretary ' || c.code || ', O=' || c.name || ', C=KZ',
       g.at + (g.dur + 20) * interval '1 second',
       CASE WHEN NOT g.gone THEN g.at + (g.dur + 40) * interval '1 second' END,
       g.i, (c.id - 1) * 6 + 2 + g.i %% 2,
       CASE WHEN g.gone THEN bench_until(g.k) + interval '1 day'
            ELSE now() - (abs(hashint8extended(g.i, 8)) %% 2592000) * interval '1 second' END,
       true, c.id
FROM (SELECT i, bench_at(i) + interval '5 minutes' AS at,
             600 + abs(hashint8extended(i, 6)) %% 13800 AS dur, bench_case(i) AS k,
             coalesce(NOT bench_hold(bench_case(i))
                      AND bench_until(bench_case(i)) < current_date - 7, false) AS gone
      FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) i) g
JOIN courts_case cs ON cs.id = g.k
JOIN courts_court c ON c.id = cs.court_id
CROSS JOIN LATERAL (
    SELECT c.code || '_' || cs.number || '_' || to_char(g.at, 'YYYY-MM-DD') || '_h' || g.i
           || '.ts' AS name) n;
"""

RECORDING_RETENTION = """
INSERT INTO retention_recordingretention (id, retention_until, hold, disposition, archive_url,
    archive_digest, archived_at, deleted_at, recording_id)
SELECT i, u, h,
       CASE WHEN gone THEN 'deleted' ELSE 'on_server' END,
       CASE WHEN gone THEN 's3://national-archive/taspa/' || bench_case(i) ELSE '' END,
       CASE WHEN gone THEN bench_hex(i, 60) ELSE '' END,
       CASE WHEN gone THEN u + interval '1 day 2 hours' END,
       CASE WHEN gone THEN u + interval '1 day 3 hours' END,
       i
FROM (SELECT i, bench_until(bench_case(i)) AS u, bench_hold(bench_case(i)) AS h,
             NOT bench_hold(bench_case(i))
                 AND bench_until(bench_case(i)) < current_date - 7 AS gone
      FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) i) g;
"""

# The tables that grow with the scale: their secondary indexes are dropped for the load and
# built again after it (one sort each instead of millions of random insertions).
GROWING = (
    "courts_case", "retention_caseretention", "courts_hearing", "recorder_recording",
    "retention_recordingretention",
)  # fmt: skip
INDEXES = """
SELECT t.relname, i.indexrelid::regclass::text, c.conname, pg_get_indexdef(i.indexrelid),
       pg_get_constraintdef(c.oid)
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = t.oid AND c.contype = 'u'
WHERE t.relname = ANY(%s) AND NOT i.indisprimary
"""
LOADED = (
    "courts_court", "courts_user", "courts_roleassignment", "courts_courtroom", "courts_case",
    "retention_caseretention", "courts_hearing", "recorder_recording",
    "retention_recordingretention",
)  # fmt: skip

# The floor the sweep competes with: one query for every due row, in the sweep's order.
ALL_DUE = """
SELECT r.recording_id, rec.file_name, r.retention_until
FROM retention_recordingretention r JOIN recorder_recording rec ON rec.id = r.recording_id
WHERE NOT r.hold AND r.disposition <> 'deleted' AND r.retention_until < current_date
ORDER BY r.retention_until, r.id
"""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    """A throw-away server, as ``scripts/with-postgres`` starts one (as ``postgres`` when root)."""

    SETTINGS = (
        "fsync=off", "full_page_writes=off", "synchronous_commit=off",  # the bulk load only
        "wal_level=minimal", "max_wal_senders=0", "max_wal_size=8GB", "checkpoint_timeout=30min",
        "shared_buffers=1GB", "maintenance_work_mem=512MB",
        "client_connection_check_interval=1000",  # a request the client gave up on stops
    )  # fmt: skip

    def __init__(self) -> None:
        self.bin = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
        self.dir = Path(tempfile.mkdtemp(prefix="taspa-bench-pg-"))
        self.port = _port()
        self.url = f"postgres://taspa@127.0.0.1:{self.port}/postgres"
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    def _pg(self, *argv: str) -> None:
        subprocess.run([*self._as, *argv], check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        data = self.dir / "data"
        self._pg(str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "taspa",
                 "-E", "UTF8", "--locale=C.UTF-8")  # fmt: skip
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 " + " ".join(
            f"-c {setting}" for setting in self.SETTINGS
        )
        self._pg(str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "log"), "-w",
                 "start", "-o", options)  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            [*self._as, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
             "-w", "stop"], check=False, capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)


def _env(home: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "DJANGO_"))}
    return env | {"TASPA_HOME": str(home), "DATABASE_URL": database_url}


def taspa(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "taspa", *argv], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def _execute(conn, script: str, params: dict) -> None:
    """Each statement of ``script`` on its own: a statement with parameters must be alone."""
    for statement in filter(str.strip, script.split(";\n")):
        conn.execute(statement, params)


def _secondary_indexes(conn) -> list[tuple[object, object]]:
    """(drop, create) for every index of the growing tables but their primary keys."""
    from psycopg import sql

    found = []
    for table, index, constraint, indexdef, constraintdef in conn.execute(INDEXES, [list(GROWING)]):
        if constraint:  # a unique constraint owns its index
            found.append((
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.Identifier(table), sql.Identifier(constraint)),
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    sql.Identifier(table), sql.Identifier(constraint), sql.SQL(constraintdef)),
            ))  # fmt: skip
        else:
            found.append(
                (sql.SQL("DROP INDEX {}").format(sql.Identifier(index)), sql.SQL(indexdef))
            )
    return found


# Columns added to the schema since the INSERTs below were written get a default for the
# load (only in this throw-away database), so the loader keeps working as the schema grows.
NOT_NULL_WITHOUT_DEFAULT = """
SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = 'public' AND is_nullable = 'NO' AND column_default IS NULL
  AND table_name = ANY(%s) AND column_name <> 'id'
"""
DEFAULTS = {"text": "''", "character varying": "''", "boolean": "false", "jsonb": "'{}'",
            "integer": "0", "bigint": "0", "double precision": "0",
            "timestamp with time zone": "now()", "date": "current_date"}  # fmt: skip


def default_new_columns(url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        for table, column, kind in conn.execute(
            NOT_NULL_WITHOUT_DEFAULT, [list(LOADED)]
        ).fetchall():
            if kind in DEFAULTS:
                conn.execute(
                    sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
                        sql.Identifier(table), sql.Identifier(column), sql.SQL(DEFAULTS[kind])
                    )
                )


def load(url: str, have: int, want: int) -> float:
    """Grow the synthetic data from ``have`` to ``want`` recordings; seconds taken."""
    import psycopg
    from psycopg import sql

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        # Rows are consistent by construction: skip the per-row foreign-key triggers.
        conn.execute("SET session_replication_role = replica")
        if have == 0:
            default_new_columns(url)
            conn.execute(FUNCTIONS)
            _execute(conn, PEOPLE, {"regions": list(REGIONS)})
        indexes = _secondary_indexes(conn)
        for drop, _ in indexes:
            conn.execute(drop)
        for lo in range(have + 1, want + 1, CHUNK):
            hi = min(lo + CHUNK - 1, want)
            bounds = {"lo": lo, "hi": hi, "klo": (lo + 2) // 4 + 1, "khi": (hi + 3) // 4}
            with conn.transaction():
                for step in (CASES, HEARINGS, RECORDINGS, RECORDING_RETENTION):
                    _execute(conn, step, bounds)
            print(f"  loaded {hi:,} recordings, {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)  # fmt: skip
        for _, create in indexes:
            conn.execute(create)
        print(
            f"  indexes built, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True
        )
        for table in LOADED:
            setval = "SELECT setval(pg_get_serial_sequence(%s, 'id'), max(id)) FROM {}"
            conn.execute(sql.SQL(setval).format(sql.Identifier(table)), [table])
        # What autovacuum would have done long ago on a real server: hint bits, visibility map.
        conn.execute(
            sql.SQL("VACUUM (ANALYZE) {}").format(sql.SQL(", ").join(map(sql.Identifier, LOADED)))
        )
    return time.perf_counter() - started


@dataclass(frozen=True)
class Measured:
    load: LoadResult
    peak_rss: int  # bytes
    wrk: str
    peak_threads: int  # the server process's, sampled during the fixed-rate run
    peak_connections: int  # PostgreSQL client connections the server held, likewise


class Sampler:
    """Every 0.1 s while running: the server's thread count and its PostgreSQL connections
    (every client backend but those open before the server started: this process's own)."""

    SQL = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        self.before = self._connections()
        self.threads = self.connections = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _connections(self) -> int:
        return self.conn.execute(self.SQL).fetchone()[0]

    def start(self, pid: int) -> None:
        def run() -> None:
            while not self._stop.wait(0.1):
                try:
                    threads = len(os.listdir(f"/proc/{pid}/task"))
                except OSError:
                    return
                self.threads = max(self.threads, threads)
                self.connections = max(self.connections, self._connections() - self.before)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.conn.close()


class Server:
    """``taspa serve`` in its own process; its peak RSS comes from ``/proc/PID/status``."""

    def __init__(self, env: dict[str, str]) -> None:
        self.url = f"http://127.0.0.1:{_port()}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "taspa", "serve", "--no-migrate", "--addr", self.url[7:]],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{self.url}/api/v1/openapi.json", timeout=1).close()  # noqa: S310
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("taspa serve did not answer")

    def peak_rss(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wrk(url: str, token: str | None) -> str:
    """``wrk``'s own figure: closed loop, 4 connections, 5 s — requests/s and its p50."""
    if shutil.which("wrk") is None:
        return "not installed"
    header = ["-H", f"Authorization: Bearer {token}"] if token else []
    out = subprocess.run(
        ["wrk", "-t1", "-c4", "-d5s", "--latency", "--timeout", "10s", *header, url],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if not rate or not p50:
        return "failed"
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[p50.group(2)]
    bad = f", {non2xx.group(1)} non-2xx" if non2xx else ""
    return f"{float(rate.group(1)):.0f} req/s, p50 {float(p50.group(1)) * scale:.0f} ms{bad}"


def measure(env, path: str, token: str | None, rate: float, seconds: float) -> Measured:
    """A fresh server, a warm-up, the fixed-rate run (peak RSS, threads and database
    connections read here), then ``wrk``."""
    sampler = Sampler(env["DATABASE_URL"])
    server = Server(env)
    try:
        url = server.url + path
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        open_loop(url, headers=headers, rate=10, seconds=1)  # warm: imports, first connection
        sampler.start(server.process.pid)
        result = open_loop(url, headers=headers, rate=rate, seconds=seconds, timeout=10.0)
        sampler.stop()
        peak = server.peak_rss()
        return Measured(result, peak, wrk(url, token), sampler.threads, sampler.connections)
    finally:
        sampler.stop()
        server.stop()


def quiet_periodic_jobs() -> None:
    """Move ``taspa serve``'s periodic jobs a day out, so none runs inside a measurement (the
    fixity pass has its own row)."""
    from datetime import timedelta

    from django.utils import timezone

    from taspa.jobs.models import ScheduledJob
    from taspa.jobs.registry import PERIODIC

    later = timezone.now() + timedelta(days=1)
    for name in PERIODIC:
        ScheduledJob.objects.update_or_create(name=name, defaults={"next_run_at": later})


def fixity_pass(limit_s: int = 120) -> tuple[float | None, float, int]:
    """The queue query of one rolling fixity pass (``run_fixity``, every 10 minutes inside
    ``taspa serve``) with the blob re-hash stubbed out: seconds (None past ``limit_s``), the
    same queue's first 100 rows alone in ms, and the temporary-file bytes PostgreSQL wrote."""
    from unittest import mock

    from django.db import OperationalError, connection

    from taspa.sealing import fixity

    def temp_bytes() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]

    logging.getLogger("taspa.sealing").setLevel(logging.WARNING)
    spilled, seconds = temp_bytes(), None
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = '{int(limit_s)}s'")
    started = time.perf_counter()
    try:
        with mock.patch.object(fixity, "check_recording", lambda recording, store=None: []):
            fixity.run_fixity(bytes_budget=1)
        seconds = time.perf_counter() - started
    except OperationalError:  # statement_timeout
        pass
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
    time.sleep(1)  # the statistics collector's next report
    spilled = temp_bytes() - spilled
    first, _ = slowest_sql(fixity_first_rows)
    return seconds, sql_ms(first, runs=3), spilled


def fixity_first_rows() -> list:
    """What one batch of the pass needs: the pass's own queue query for its first batch (the
    never checked, then the longest unchecked), fetched as a plain query."""
    import itertools

    from django.utils import timezone

    from taspa.sealing import fixity

    return list(itertools.islice(fixity._in_turn(timezone.now()), fixity.BATCH))


def setup_django(home: Path, url: str) -> None:
    for name in [k for k in os.environ if k.startswith(("TASPA_", "DJANGO_"))]:
        del os.environ[name]
    os.environ.update(TASPA_HOME=str(home), DATABASE_URL=url)
    os.environ["DJANGO_SETTINGS_MODULE"] = "taspa.settings"
    import django

    django.setup()


def slowest_sql(call) -> tuple[str, object]:
    """Run ``call`` once, capturing its SQL; return the slowest statement and the result."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        value = call()
    return max(captured.captured_queries, key=lambda q: float(q["time"]))["sql"], value


def sql_ms(sql: str, runs: int = 5) -> float:
    """Median milliseconds of one statement through psycopg, results fetched."""
    from django.db import connection

    times = []
    with connection.cursor() as cursor:
        for _ in range(runs):
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
        return [row[0] for row in cursor.fetchall()]


def api_queries(court: str) -> dict[str, tuple[str, str]]:
    """For each endpoint: the slowest SQL statement its view runs, and the next-page cursor."""
    from taspa.courts.api import list_hearings
    from taspa.courts.models import User
    from taspa.recorder.api import list_recordings

    def request(username: str) -> SimpleNamespace:
        return SimpleNamespace(user=User.objects.get(username=username), LANGUAGE_CODE="en")

    secretary, head = request(f"sec-{court}-1"), request("head-1")
    hearings, _ = slowest_sql(lambda: list_hearings(secretary, limit=50))
    regional, _ = slowest_sql(lambda: list_hearings(head, limit=50))
    first, page = slowest_sql(lambda: list_recordings(secretary, court=court, limit=100))
    second, _ = slowest_sql(
        lambda: list_recordings(secretary, court=court, after=page["next"], limit=100)
    )
    return {
        "hearings": (hearings, ""),
        "regional": (regional, ""),
        "recordings": (first, ""),
        "next": (second, str(page["next"])),
    }


@dataclass(frozen=True)
class Sweep:
    due: int
    seconds: float
    peak_rss: int
    first_batch_ms: float
    last_batch_ms: float
    batches: int
    plans: tuple[list[str], list[str]]
    all_due_ms: float
    in_process_s: float


def sweep_dry_run(env: dict[str, str], work: Path, runs: int) -> Sweep:
    """``taspa retention run --dry-run`` as an operator runs it; then the batch queries'
    plans from the same sweep run in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from taspa.retention.transfer import sweep

    times, peaks, summary = [], [], ""
    for run in range(runs):
        out = work / f"sweep-{run}.txt"
        started = time.perf_counter()
        with out.open("w") as stdout:
            process = subprocess.Popen(
                [sys.executable, "-m", "taspa", "retention", "run", "--dry-run"],
                env=env, stdout=stdout, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            _, status, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - started)
        process.returncode = os.waitstatus_to_exitcode(status)
        peaks.append(usage.ru_maxrss * 1024)
        summary = out.read_text().splitlines()[-1]
    due = int(re.search(r"(\d+) recording", summary).group(1))
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        sweep(dry_run=True)
    in_process = time.perf_counter() - started
    batches = [q for q in captured.captured_queries if "retention_recordingretention" in q["sql"]]
    return Sweep(
        due=due,
        seconds=statistics.median(times),
        peak_rss=max(peaks),
        first_batch_ms=float(batches[0]["time"]) * 1e3,
        last_batch_ms=float(batches[-2 if len(batches) > 1 else -1]["time"]) * 1e3,
        batches=len(batches),
        plans=(explain(batches[0]["sql"]), explain(batches[-2 if len(batches) > 1 else -1]["sql"])),
        all_due_ms=sql_ms(ALL_DUE, runs=3),
        in_process_s=in_process,
    )


def _ms(seconds: float, timeout: float = 10.0) -> str:
    return f"> {timeout:.0f} s" if seconds == float("inf") else f"{seconds * 1e3:.1f} ms"


def api_row(rows: int, label: str, m: Measured, raw_ms: float | None) -> str:
    load = m.load
    p50 = load.percentile(50)
    ratio = f"{p50 * 1e3 / raw_ms:.1f}×" if raw_ms and p50 != float("inf") else "—"
    return (
        f"| {rows:,} | {label} | {_ms(p50)} | {_ms(load.percentile(95))} | "
        f"{_ms(load.percentile(99))} | {load.errors}/{len(load.latencies)} | "
        f"{m.peak_rss / MiB:.0f} MiB, {m.peak_threads} threads, {m.peak_connections} | "
        f"{f'{raw_ms:.1f} ms' if raw_ms else '— (no SQL)'} | "
        f"{ratio} | {m.wrk} |"
    )


def sweep_row(rows: int, s: Sweep, runs: int) -> str:
    return (
        f"| {rows:,} | `taspa retention run --dry-run`: {s.due:,} due, median of {runs} "
        f"| {s.seconds:.2f} s (the sweep alone, in process: {s.in_process_s:.2f} s) | — | — | — "
        f"| {s.peak_rss / MiB:.0f} MiB | "
        f"{s.all_due_ms:.0f} ms (one SELECT of every due row) | "
        f"{s.seconds * 1e3 / s.all_due_ms:.0f}× | — |"
    )


def bench_scale(rows, env, work, token, court, rate, seconds, runs) -> tuple[list[str], list]:
    queries = api_queries(court)
    # (label, path, which user, which captured query)
    endpoints = [
        ("`GET /login/`: a trivial Django page, no database (the floor)", "/login/", None, None),
        ("`GET /api/v1/hearings?limit=50`, secretary (1 court)",
         "/api/v1/hearings?limit=50", "secretary", "hearings"),
        ("`GET /api/v1/hearings?limit=50`, regional head (3 courts)",
         "/api/v1/hearings?limit=50", "head", "regional"),
        ("`GET /api/v1/recordings?court=…&limit=100`, secretary",
         f"/api/v1/recordings?court={court}&limit=100", "secretary", "recordings"),
        ("… its next page (`&after=` the cursor)",
         f"/api/v1/recordings?court={court}&limit=100&after={queries['next'][1]}", "secretary",
         "next"),
    ]  # fmt: skip
    lines, notes = [], []
    busy = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    notes.append((f"{rows:,} recordings: load average {busy:.1f} on {os.cpu_count()} cores", []))
    for label, path, who, key in endpoints:
        print(f"  {rows:,}: {path}", file=sys.stderr, flush=True)
        measured = measure(env, path, token.get(who), rate, seconds)
        raw = sql_ms(queries[key][0]) if key else None
        lines.append(api_row(rows, label, measured, raw))
        if key:
            notes.append((f"{rows:,} recordings, {label}", explain(queries[key][0])))
    print(f"  {rows:,}: retention sweep", file=sys.stderr, flush=True)
    swept = sweep_dry_run(env, work, runs)
    lines.append(sweep_row(rows, swept, runs))
    print(f"  {rows:,}: fixity pass", file=sys.stderr, flush=True)
    seconds, first_ms, spilled = fixity_pass()
    lines.append(
        f"| {rows:,} | fixity pass (`run_fixity`, every 10 min in `taspa serve`): its queue "
        f"query, re-hash stubbed | {f'{seconds:.1f} s' if seconds else '> 120 s (cancelled)'} "
        f"| — | — | — | — (temp files {spilled / 2**30:.1f} GiB) | {first_ms:.0f} ms (the same "
        f"queue, first 100 rows, plain SELECT) | "
        f"{f'{seconds * 1e3 / first_ms:.0f}×' if seconds else '—'} | — |"
    )
    notes.append((
        f"{rows:,} recordings, retention sweep: sweep(dry_run=True) in this process "
        f"{swept.in_process_s:.2f} s, {swept.batches} batch queries of 200, first "
        f"{swept.first_batch_ms:.1f} ms, last full {swept.last_batch_ms:.1f} ms; first batch",
        swept.plans[0],
    ))  # fmt: skip
    notes.append((f"{rows:,} recordings, retention sweep, last full batch", swept.plans[1]))
    return lines, notes


def database_size(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return f"{size / 2**30:.1f} GiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3, help="retention dry runs per scale")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="taspa-bench-scale-"))
    postgres = Postgres()
    try:
        postgres.start()
        env = _env(work / "home", postgres.url)
        (work / "home").mkdir()
        taspa(env, "migrate", "-v", "0")
        setup_django(work / "home", postgres.url)
        table, notes, have, court = [], [], 0, ""
        tokens: dict[str, str] = {}
        for rows in sorted(args.rows):
            print(f"loading {rows:,} recordings …", file=sys.stderr, flush=True)
            seconds = load(postgres.url, have, rows)
            notes.append((f"{rows:,} recordings: loaded {rows - have:,} in {seconds:.0f} s; "
                          f"database {database_size(postgres.url)}", []))  # fmt: skip
            have = rows
            quiet_periodic_jobs()
            if not tokens:
                court = "abai-1"
                tokens = {
                    "secretary": taspa(env, "token", "create", "--user", f"sec-{court}-1").strip(),
                    "head": taspa(env, "token", "create", "--user", "head-1").strip(),
                }
            lines, more = bench_scale(
                rows, env, work, tokens, court, args.rate, args.seconds, args.runs
            )
            table += lines
            notes += more
        print(
            f"| recordings | measure ({args.rate:g} req/s for {args.seconds:g} s, open loop) "
            "| Taspa p50 | p95 | p99 | errors | server peaks: RSS, threads, PostgreSQL "
            "connections | raw: slowest SQL alone "
            "(psycopg, median of 5) | p50 ÷ raw | `wrk` closed loop, 4 connections |"
        )
        print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        print("\n".join(table))
        print()
        print(f"PostgreSQL {postgres.bin.parent.name} with " + ", ".join(Postgres.SETTINGS))
        for title, plan in notes:
            print(title)
            for line in plan:
                print("    " + line)
    finally:
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
