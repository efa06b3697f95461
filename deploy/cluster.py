"""Taspa's reference cluster on loopback: the layout docs/operations.md describes for a court.

    deploy/cluster up DIR [--no-central]    # boots everything, prints the URLs, returns
    deploy/cluster down DIR                 # stops everything and removes PostgreSQL's data

What ``up`` starts, each process in a process group of its own (``kill -9 -PGID`` kills one
cleanly; DIR/cluster.json holds the group ids), all on 127.0.0.1 with free ports:

- nginx (Debian's) terminating TLS with a test CA and certificate made at start
  (DIR/tls/ca.pem is what clients trust), proxying to
- two ``taspa serve --no-worker`` web processes (``web1``, ``web2``): round-robin with passive
  health checks (a refused or broken connection marks a server down for 10 s and the request
  goes to the other); the recorder agents' API (``/api/v1/agent/``) is hashed on the agent's
  token to one web process, because an agent's upload is staged in that process's spool;
- two ``taspa worker`` processes (``worker1``, ``worker2``), the scheduler in each;
- PostgreSQL (Debian's binaries) on a private port and socket directory, as scripts/with-postgres
  starts it: database ``taspa`` for the court, ``taspa_central`` for the centre;
- SeaweedFS: one master (default replication ``001``: every blob on both volume servers), two
  volume servers, a filer and its S3 gateway; the buckets are made with object lock;
- a regional centre (``central``, TASPA_ROLE=central, its own database and bucket, one
  ``taspa serve`` with its worker) that the court replicates to, unless ``--no-central``.

Every Taspa process gets TASPA_HTTPS=true, its own TASPA_HOME, and the same secret key, KEK and
audit key (files under DIR/secrets, passed as ``*_FILE``). ``Cluster.env(name)`` is the
environment of a process, so ``taspa`` commands can be run as that process would run them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BUCKET = "taspa-court"
CENTRAL_BUCKET = "taspa-central"
COURT_CODE = "almaty-bostandyk"  # the court the demo seeds; the centre knows it by this code
S3_KEY, S3_SECRET, S3_REGION = "taspa-cluster", "taspa-cluster-secret", "us-east-1"
WEB = ("web1", "web2")
WORKERS = ("worker1", "worker2")
VOLUMES = ("volume1", "volume2")
CENTRAL_SEED = """
import json
from taspa.courts import actions
from taspa.replication.central import enrol_court
admin = actions.bootstrap_system_admin(username="centre-admin", full_name="Centre", password=None)
court = actions.create_court(actor=admin, code=%r, name="Court", level="district", region="Almaty")
print(json.dumps({"token": enrol_court(actor=admin, court=court)}))
"""


class ClusterError(RuntimeError):
    """A part of the cluster did not start (the message names it and quotes its log)."""


def free_ports(count: int) -> list[int]:
    """Distinct ports free on 127.0.0.1 now (all bound at once, then released)."""
    held = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            held.append(sock)
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


def tool(name: str) -> str:
    """A program from the venv beside this interpreter, or from PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise ClusterError(f"{name} not found (run scripts/setup)")
    return found


def pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        raise ClusterError("PostgreSQL is not installed (Debian package postgresql)")
    return versions[-1]


def tail(path: Path, size: int = 3000) -> str:
    return path.read_bytes()[-size:].decode("utf-8", "replace") if path.exists() else ""


@dataclass
class Cluster:
    """One cluster under ``dir``; ``up()`` boots it, ``down()`` ends it (see the module doc)."""

    dir: Path
    central: bool = True
    ports: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)  # process name -> process group id
    pg_dir: str = ""
    central_token: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    # -- state ---------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.dir / "cluster.json"

    def save(self) -> None:
        state = {
            "central": self.central,
            "ports": self.ports,
            "groups": self.groups,
            "pg_dir": self.pg_dir,
            "central_token": self.central_token,
            "timings": self.timings,
        }
        self.state_file.write_text(json.dumps(state, indent=1))

    @classmethod
    def load(cls, directory: Path | str) -> Cluster:
        directory = Path(directory).resolve()
        state = json.loads((directory / "cluster.json").read_text())
        return cls(dir=directory, **state)

    # -- addresses -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The court server as users and agents reach it: HTTPS through nginx."""
        return f"https://127.0.0.1:{self.ports['https']}"

    @property
    def ca_file(self) -> Path:
        return self.dir / "tls" / "ca.pem"

    @property
    def central_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['central']}"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def database_url(self) -> str:
        return f"postgres://taspa@127.0.0.1:{self.ports['postgres']}/taspa"

    def web_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def secret(self, name: str) -> Path:
        return self.dir / "secrets" / name

    @property
    def trust_anchors(self) -> Path:
        """The CAs EDS certificates must chain to (a court puts the national CA's roots here)."""
        return self.dir / "trust-anchors.pem"

    def env(self, name: str = "admin") -> dict[str, str]:
        """The environment of process ``name`` (``admin`` for one-off ``taspa`` commands)."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "AWS_"))}
        base.pop("DATABASE_URL", None)
        base.pop("DJANGO_SETTINGS_MODULE", None)
        base.pop("PROMETHEUS_MULTIPROC_DIR", None)
        home = self.dir / "homes" / name
        home.mkdir(parents=True, exist_ok=True)
        central = name == "central"
        env = base | {
            "TASPA_HOME": str(home),
            "TASPA_HTTPS": "true",
            "TASPA_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "TASPA_CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{self.ports['https']}",
            "TASPA_SECRET_KEY_FILE": str(self.secret("secret_key")),
            "TASPA_AUDIT_KEY_FILE": str(self.secret("audit_key")),
            "TASPA_KEY_ENCRYPTION_KEY_FILE": str(self.secret("kek")),
            "TASPA_TRUST_ANCHORS": str(self.trust_anchors),
            "TASPA_LANGUAGE": "en",
            "TASPA_SHUTDOWN_GRACE_SECONDS": "5",
            "DATABASE_URL": self.database_url,
            "TASPA_STORAGE": f"s3://{BUCKET}",
            "AWS_ENDPOINT_URL_S3": self.s3_endpoint,
            "AWS_ACCESS_KEY_ID": S3_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET,
            "AWS_DEFAULT_REGION": S3_REGION,
            "PROMETHEUS_MULTIPROC_DIR": str(self.dir / "metrics" / "court"),
            "TASPA_ROLE": "court",
            "TASPA_COURT": COURT_CODE,
        }
        if central:
            env |= {
                "TASPA_ROLE": "central",
                "TASPA_HTTPS": "false",  # the centre is reached directly on loopback here
                "DATABASE_URL": self.database_url + "_central",
                "TASPA_STORAGE": f"s3://{CENTRAL_BUCKET}",
                "PROMETHEUS_MULTIPROC_DIR": str(self.dir / "metrics" / "central"),
            }
            env.pop("TASPA_COURT")
        elif self.central_token:
            env |= {
                "TASPA_CENTRAL_URL": self.central_url,
                "TASPA_CENTRAL_TOKEN": self.central_token,
            }
        return env

    def taspa(self, *args: str, name: str = "admin", timeout: float = 180) -> str:
        """Run ``taspa ARGS`` as process ``name`` would; its standard output, or ClusterError."""
        done = subprocess.run(
            [sys.executable, "-m", "taspa", *args],
            env=self.env(name),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise ClusterError(f"taspa {' '.join(args)} ({name}): {done.stdout}{done.stderr}")
        return done.stdout

    # -- processes -----------------------------------------------------------------------------
    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> int:
        log = self.dir / "logs" / f"{name}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # its own process group: kill -9 -PGID ends all of it
            )
        self.groups[name] = process.pid
        self.save()
        return process.pid

    def alive(self, name: str) -> bool:
        group = self.groups.get(name)
        if not group:
            return False
        try:
            os.killpg(group, 0)
        except (ProcessLookupError, PermissionError):
            return False
        with contextlib.suppress(ChildProcessError):
            pid, _ = os.waitpid(group, os.WNOHANG)  # reap it if it is our child and a zombie
            if pid == group:
                return False
        return _not_zombie(group)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group of ``name`` (SIGKILL by default) and reap it."""
        group = self.groups[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, sig)
        deadline = time.monotonic() + 20
        while self.alive(name) and time.monotonic() < deadline:
            time.sleep(0.05)

    def start(self, *names: str) -> None:
        """(Re)start the processes ``names`` together and wait until each answers."""
        began = time.monotonic()
        checks = {}
        for name in names:
            if name in WEB or name == "central":
                command = [sys.executable, "-m", "taspa", "serve", "--no-migrate",
                           "--addr", f"127.0.0.1:{self.ports[name]}"]  # fmt: skip
                if name in WEB:
                    command.append("--no-worker")
                self._spawn(name, command, self.env(name))
                checks[name] = lambda n=name: self._ready(self.web_url(n))
            elif name in WORKERS:
                log = self.dir / "logs" / f"{name}.log"
                mark = log.stat().st_size if log.exists() else 0
                self._spawn(name, [sys.executable, "-m", "taspa", "worker"], self.env(name))
                checks[name] = lambda log=log, mark=mark: b"is running" in log.read_bytes()[mark:]
            elif name in VOLUMES:
                self._spawn(name, self._weed(name), self._weed_env())
                url = f"http://127.0.0.1:{self.ports[name]}/status"
                checks[name] = lambda url=url: self._answers(url)
            else:
                raise ClusterError(f"no process {name!r}")
        for name, check in checks.items():
            self._wait(name, check, 90)
            self.timings[f"start {name} s"] = round(time.monotonic() - began, 2)
        self.save()

    def _background(self, *args: str, name: str = "admin") -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "taspa", *args],
            env=self.env(name),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def _wait(self, name: str, check: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if not self.alive(name):
                raise ClusterError(f"{name} exited:\n{tail(self.dir / 'logs' / f'{name}.log')}")
            if time.monotonic() > deadline:
                raise ClusterError(f"{name} not ready after {timeout} s:\n"
                                   f"{tail(self.dir / 'logs' / f'{name}.log')}")  # fmt: skip
            time.sleep(0.1)

    @staticmethod
    def _answers(url: str, context: Any = None) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as answer:  # noqa: S310
                return answer.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def _ready(self, base: str) -> bool:
        return self._answers(f"{base}/readyz")

    # -- up and down ---------------------------------------------------------------------------
    def up(self) -> Cluster:
        began = time.monotonic()
        self.dir.mkdir(parents=True, exist_ok=True)
        for sub in ("logs", "secrets", "tls", "nginx", "weed", "homes", "metrics/court",
                    "metrics/central"):  # fmt: skip
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        names = ["https", "postgres", *WEB, "central", "master", "master_grpc"]
        names += [f"{v}{s}" for v in VOLUMES for s in ("", "_grpc")]
        names += ["filer", "filer_grpc", "s3", "s3_grpc"]
        self.ports = dict(zip(names, free_ports(len(names)), strict=True))
        self.save()
        try:
            self._secrets()
            self._tls()
            self._postgres()
            # The migrations (the longest step) run while SeaweedFS starts.
            migrations = [self._background("migrate", "--no-input", "-v", "0")]
            if self.central:
                migrations.append(self._background("migrate", "--no-input", "-v", "0",
                                                   name="central"))  # fmt: skip
            self._seaweed()
            self.timings["storage s"] = round(time.monotonic() - began, 2)
            for migration in migrations:
                out, _ = migration.communicate(timeout=300)
                if migration.returncode != 0:
                    raise ClusterError(f"migrate: {out}")
            if self.central:
                seeded = self.taspa("shell", "-c", CENTRAL_SEED % COURT_CODE, name="central")
                self.central_token = json.loads(seeded.strip().splitlines()[-1])["token"]
                self.save()
            self.timings["migrations s"] = round(time.monotonic() - began, 2)
            self.start(*WEB, *WORKERS, *(("central",) if self.central else ()))
            self._nginx()
        except BaseException:
            self.down()
            raise
        self.timings["boot s"] = round(time.monotonic() - began, 2)
        self.save()
        return self

    def down(self) -> None:
        """SIGTERM every process group, SIGKILL what is left after a few seconds."""
        for name in list(self.groups):
            if name != "postgres":
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.groups[name], signal.SIGTERM)
        deadline = time.monotonic() + 8
        while any(self.alive(n) for n in self.groups if n != "postgres"):
            if time.monotonic() > deadline:
                for name in self.groups:
                    if name != "postgres" and self.alive(name):
                        with contextlib.suppress(ProcessLookupError):
                            os.killpg(self.groups[name], signal.SIGKILL)
                deadline = time.monotonic() + 8
            time.sleep(0.1)
        if self.pg_dir and Path(self.pg_dir).exists():
            self._pg_ctl("stop", "-m", "immediate", check=False)
            shutil.rmtree(self.pg_dir, ignore_errors=True)
        self.groups = {}
        self.save()

    # -- parts ---------------------------------------------------------------------------------
    def _secrets(self) -> None:
        for name in ("secret_key", "audit_key", "kek"):
            path = self.secret(name)
            if not path.exists():
                path.write_text(secrets.token_hex(32))
                path.chmod(0o600)

    def _tls(self) -> None:
        """A throw-away CA and a certificate for 127.0.0.1 and localhost, made with openssl."""
        tls = self.dir / "tls"
        run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(tls / "ca.key"), "-out", str(tls / "ca.pem"), "-days", "2",
            "-subj", "/CN=Taspa reference cluster test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(tls / "server.key"), "-out", str(tls / "server.csr"),
            "-subj", "/CN=127.0.0.1")  # fmt: skip
        (tls / "server.ext").write_text(
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
            "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n"
        )
        run("x509", "-req", "-in", str(tls / "server.csr"), "-CA", str(tls / "ca.pem"),
            "-CAkey", str(tls / "ca.key"), "-CAcreateserial", "-days", "2",
            "-extfile", str(tls / "server.ext"), "-out", str(tls / "server.pem"))  # fmt: skip

    # PostgreSQL as scripts/with-postgres runs it: initdb with trust on loopback, a private port
    # and socket directory, the postgres user when we are root (initdb refuses root).
    def _as_postgres(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        data = Path(self.pg_dir) / "data"
        command = [*self._as_postgres(), str(pg_bin() / "pg_ctl"), "-D", str(data), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise ClusterError(f"pg_ctl {' '.join(args)}: {done.stdout}{done.stderr}\n"
                               f"{tail(Path(self.pg_dir) / 'log')}")  # fmt: skip

    def _pg_start(self) -> None:
        port = self.ports["postgres"]
        options = (f"-p {port} -k {self.pg_dir} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off -c max_connections=200")  # fmt: skip
        self._pg_ctl("-l", str(Path(self.pg_dir) / "log"), "-w", "start", "-o", options)
        pid_line = (Path(self.pg_dir) / "data" / "postmaster.pid").read_text().splitlines()[0]
        self.groups["postgres"] = int(pid_line)  # the postmaster (pg_ctl gives it a session)
        self.save()

    def _postgres(self) -> None:
        # Outside DIR: a pytest tmp_path is 0700 root, which the postgres user cannot enter.
        self.pg_dir = tempfile.mkdtemp(prefix="taspa-cluster-pg.")
        if os.geteuid() == 0:
            shutil.chown(self.pg_dir, "postgres")
        self.save()
        done = subprocess.run(
            [*self._as_postgres(), str(pg_bin() / "initdb"), "-D", f"{self.pg_dir}/data",
             "-A", "trust", "-U", "taspa", "-E", "UTF8", "--locale=C.UTF-8"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise ClusterError(f"initdb: {done.stderr}")
        self._pg_start()
        for database in ("taspa", "taspa_central"):
            subprocess.run(
                [str(pg_bin() / "createdb"), "-h", "127.0.0.1", "-p", str(self.ports["postgres"]),
                 "-U", "taspa", database],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip

    def psql(self, sql: str, database: str = "taspa") -> str:
        """Run one SQL statement with psql; its unaligned output (``a|b`` rows)."""
        done = subprocess.run(
            [str(pg_bin() / "psql"), "-h", "127.0.0.1", "-p", str(self.ports["postgres"]),
             "-U", "taspa", "-d", database, "-Atc", sql],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        if done.returncode != 0:
            raise ClusterError(f"psql: {done.stderr}")
        return done.stdout.strip()

    def restart_postgres(self) -> float:
        """An immediate stop (like a crash: no checkpoint, clients cut) and a start; seconds."""
        began = time.monotonic()
        self._pg_ctl("stop", "-m", "immediate")
        self._pg_start()
        return time.monotonic() - began

    def _weed(self, name: str) -> list[str]:
        p, weed, logdir = self.ports, self.dir / "weed", self.dir / "weed" / "log"
        master = f"127.0.0.1:{p['master']}.{p['master_grpc']}"
        common = [tool("weed"), f"-logdir={logdir}"]
        if name == "master":
            return [*common, "master", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                    f"-port={p['master']}", f"-port.grpc={p['master_grpc']}",
                    f"-mdir={weed / 'master'}", "-defaultReplication=001",
                    "-volumeSizeLimitMB=64", "-telemetry=false"]  # fmt: skip
        if name in VOLUMES:
            return [*common, "volume", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                    f"-port={p[name]}", f"-port.grpc={p[name + '_grpc']}",
                    f"-dir={weed / name}", "-max=40", f"-mserver={master}",
                    "-dataCenter=dc1", "-rack=rack1", "-preStopSeconds=0"]  # fmt: skip
        if name == "filer":
            return [*common, "filer", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                    f"-port={p['filer']}", f"-port.grpc={p['filer_grpc']}",
                    f"-master={master}", f"-defaultStoreDir={weed / 'filer'}",
                    "-defaultReplicaPlacement=001"]  # fmt: skip
        if name == "s3":
            return [*common, "s3", "-ip.bind=127.0.0.1", f"-port={p['s3']}",
                    f"-port.grpc={p['s3_grpc']}",
                    f"-filer=127.0.0.1:{p['filer']}.{p['filer_grpc']}",
                    "-port.iceberg=0", "-port.lance=0"]  # fmt: skip
        raise ClusterError(f"no SeaweedFS process {name!r}")

    @staticmethod
    def _weed_env() -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WEED_"))}
        # master.toml's volume_growth.copy_2 (default 6): fewer new volume pairs per collection.
        env["WEED_MASTER_VOLUME_GROWTH_COPY_2"] = "2"
        return env

    def _seaweed(self) -> None:
        weed = self.dir / "weed"
        for sub in ("log", "master", "filer", *VOLUMES):
            (weed / sub).mkdir(parents=True, exist_ok=True)
        env = self._weed_env()
        self._spawn("master", self._weed("master"), env)
        self._wait("master", lambda: self._answers(
            f"http://127.0.0.1:{self.ports['master']}/cluster/status"), 60)  # fmt: skip
        for name in VOLUMES:
            self._spawn(name, self._weed(name), env)
        for name in VOLUMES:
            self._wait(name, lambda n=name: self._answers(
                f"http://127.0.0.1:{self.ports[n]}/status"), 60)  # fmt: skip
        self._spawn("filer", self._weed("filer"), env)
        self._spawn("s3", self._weed("s3"), env)
        client = self.s3_client()
        deadline = time.monotonic() + 90
        while True:
            try:
                client.list_buckets()
                break
            except Exception as error:  # not listening yet, or the filer not ready
                if not self.alive("s3") or time.monotonic() > deadline:
                    log = tail(self.dir / "logs" / "s3.log")
                    raise ClusterError(f"S3 gateway not ready: {error}\n{log}") from error
                time.sleep(0.2)
        for bucket in (BUCKET, CENTRAL_BUCKET) if self.central else (BUCKET,):
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
                    break
                except client.exceptions.BucketAlreadyOwnedByYou:
                    break
                except Exception as error:  # volumes still being allocated
                    if time.monotonic() > deadline:
                        raise ClusterError(f"bucket {bucket}: {error}") from error
                    time.sleep(0.5)
        client.close()

    def s3_client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.s3_endpoint,
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
            region_name=S3_REGION,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"mode": "standard", "max_attempts": 3},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def _nginx(self) -> None:
        conf = self.dir / "nginx" / "nginx.conf"
        conf.write_text(nginx_conf(self))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        command = [nginx, "-p", str(self.dir / "nginx"), "-c", str(conf),
                   "-e", str(self.dir / "logs" / "nginx-error.log")]  # fmt: skip
        self._spawn("nginx", command)
        import ssl

        context = ssl.create_default_context(cafile=str(self.ca_file))
        self._wait("nginx", lambda: self._answers(f"{self.url}/readyz", context), 30)


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def nginx_conf(cluster: Cluster) -> str:
    """nginx in front of the two web processes; see the module docstring for the rules."""
    p = cluster.ports
    root = cluster.dir / "nginx"
    tls = cluster.dir / "tls"
    user = "user root root;\n" if os.geteuid() == 0 else ""
    # Passive health checks (open-source nginx has no active ones): a server that refuses or
    # breaks a connection, or answers 502/503, is skipped for fail_timeout and the request is
    # tried on the other one (also a POST, when the failed server never received it).
    servers = "\n".join(
        f"    server 127.0.0.1:{p[name]} max_fails=1 fail_timeout=10s;" for name in WEB
    )
    return f"""{user}worker_processes 1;
daemon off;
pid {root}/nginx.pid;
events {{ worker_connections 512; }}
http {{
  log_format upstream '$time_iso8601 $request_method $uri $status $upstream_addr '
                      '$upstream_status $request_time';
  access_log {cluster.dir}/logs/nginx-access.log upstream;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  upstream taspa {{
{servers}
    keepalive 16;
  }}
  # A recorder agent's upload is staged in one web process's spool until it is complete:
  # the same agent token always reaches the same process while it is up.
  upstream taspa_agents {{
    hash $http_authorization consistent;
{servers}
  }}
  server {{
    listen 127.0.0.1:{p["https"]} ssl;
    server_name 127.0.0.1 localhost;
    ssl_certificate {tls}/server.pem;
    ssl_certificate_key {tls}/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    client_max_body_size 16m;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-Proto https;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_connect_timeout 2s;
    proxy_read_timeout 120s;
    proxy_buffering off;
    proxy_next_upstream error timeout http_502;
    proxy_next_upstream_tries 2;
    location = /metrics {{ deny all; }}  # Prometheus scrapes each process directly
    location /api/v1/agent/ {{ proxy_pass http://taspa_agents; }}
    location / {{ proxy_pass http://taspa; }}
  }}
}}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy/cluster", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    up = sub.add_parser("up", help="boot the cluster under DIR and return")
    up.add_argument("dir", type=Path)
    up.add_argument("--no-central", action="store_true", help="no regional centre")
    for verb, text in (("status", "which processes are up"), ("down", "stop everything")):
        sub.add_parser(verb, help=text).add_argument("dir", type=Path)
    for verb, text in (("kill", "SIGKILL one process group"), ("start", "start one again")):
        one = sub.add_parser(verb, help=text)
        one.add_argument("dir", type=Path)
        one.add_argument("name", help=f"one of {', '.join(RESTARTABLE)}")
    args = parser.parse_args(argv)
    if args.verb == "up":
        cluster = Cluster(dir=args.dir.resolve(), central=not args.no_central).up()
        print(describe(cluster))
        print(f"booted in {cluster.timings['boot s']} s; `deploy/cluster down {args.dir}` stops it")
        return 0
    cluster = Cluster.load(args.dir)
    if args.verb == "status":
        print(describe(cluster))
        down = [name for name in cluster.groups if not cluster.alive(name)]
        return 1 if down else 0
    if args.verb in ("kill", "start"):
        if args.name not in RESTARTABLE:
            parser.error(f"{args.name!r}: expected one of {', '.join(RESTARTABLE)}")
        if args.verb == "kill":
            cluster.kill(args.name)
        else:
            cluster.start(args.name)
        return 0
    cluster.down()
    return 0


RESTARTABLE = (*WEB, *WORKERS, *VOLUMES, "central")


def describe(cluster: Cluster) -> str:
    lines = [f"court:    {cluster.url}/  (clients trust {cluster.ca_file})"]
    if cluster.central:
        lines.append(f"centre:   {cluster.central_url}/")
    lines.append(f"database: {cluster.database_url}")
    buckets = f"{BUCKET}, {CENTRAL_BUCKET}" if cluster.central else BUCKET
    lines.append(f"S3:       {cluster.s3_endpoint} (buckets {buckets}, object lock)")
    lines.append(f"logs:     {cluster.dir / 'logs'}")
    for name, group in cluster.groups.items():
        state = "up" if cluster.alive(name) else "DOWN"
        lines.append(f"  {name:<9} process group {group:<8} {state}")
    lines.append(f"a process's environment: Cluster.load({str(cluster.dir)!r}).env('web1')")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
