"""A real central server for tests: ``taspa serve`` in a subprocess with its own TASPA_HOME,
SQLite database, blob store and trust anchors, TASPA_ROLE=central, on a free loopback port."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sealed_factory import clean_env

SEED = """
import json
from taspa.api.actions import issue_token
from taspa.courts import actions
admin = actions.bootstrap_system_admin(username="centre-admin", full_name="Centre", password="pw")
courts = {}
for code, region in (("court-a", "Almaty"), ("court-b", "Almaty")):
    court = actions.create_court(actor=admin, code=code, name=code, level="district", region=region)
    courts[code] = court.pk
print(json.dumps({"token": issue_token(actor=None, user=admin), "courts": courts}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CentralServer:
    """``start()`` migrates (from a template database when given), seeds an administrator
    and courts court-a and court-b, and serves; ``stop()`` ends the process."""

    def __init__(
        self,
        home: Path,
        anchors: Path,
        template: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.home, self.anchors, self.template = home, anchors, template
        self.extra_env = extra_env or {}  # e.g. TASPA_STORAGE=s3://… and the AWS_* variables
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.admin_token = ""
        self.courts: dict[str, int] = {}

    def env(self) -> dict[str, str]:
        return clean_env(
            TASPA_HOME=str(self.home),
            TASPA_ROLE="central",
            TASPA_TRUST_ANCHORS=str(self.anchors),
            TASPA_FAST_PASSWORD_HASHER="true",
            TASPA_LANGUAGE="en",
            **self.extra_env,
        )

    def taspa(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "taspa", *args]
        result = subprocess.run(
            command, env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def start(self) -> CentralServer:
        self.home.mkdir(parents=True, exist_ok=True)
        if self.template is not None:
            for item in self.template.iterdir():
                shutil.copy2(item, self.home / item.name)
        else:
            self.taspa("migrate", "--verbosity", "0")
        seeded = json.loads(self.taspa("shell", "-c", SEED).stdout.strip().splitlines()[-1])
        self.admin_token, self.courts = seeded["token"], seeded["courts"]
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "taspa",
                "serve",
                "--no-migrate",
                "--addr",
                f"127.0.0.1:{self.port}",
            ],
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=open(self.home / "serve.log", "wb"),  # noqa: SIM115 — lives with the process
        )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.home / "serve.log").read_text()
            try:
                urllib.request.urlopen(f"{self.url}/api/v1/openapi.json", timeout=2).close()  # noqa: S310
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        raise TimeoutError("the central server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 — http on loopback
            f"{self.url}/api/v1{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {token or self.admin_token}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw

    def court_token(self, code: str = "court-a") -> str:
        status, body = self.call("POST", f"/courts/{self.courts[code]}/replication-token")
        assert status == 201, body
        return body["token"]

    def query(self, code: str) -> Any:
        """Run Python at the centre (its own database) and return what it prints as JSON."""
        result = self.taspa("shell", "-c", code)
        return json.loads(result.stdout.strip().splitlines()[-1])
