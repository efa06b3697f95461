"""Real processes for the agent tests: a court server (`taspa serve`) with its own TASPA_HOME,
and a courtroom PC (`taspa recorder`) with its own spool, each in a clean environment."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taspa.recorder.agent import drop_local_command

SEED = """
import json
from taspa.api.actions import issue_token
from taspa.demo import install_demo_keys, seed_demo
from taspa.recorder.remote import register_agent
world = seed_demo()
install_demo_keys(world)
print(json.dumps({
    "courtroom": world.courtroom.pk,
    "hearing": world.hearing.pk,
    "agent_token": register_agent(actor=None, courtroom=world.courtroom),
    "secretary_token": issue_token(actor=None, user=world.secretary),
}))
"""


def clean_env(home: Path) -> dict[str, str]:
    """An operator's environment: none of the test suite's own settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    # R8's start guard is proven in process (tests/recorder/test_r8_preflight_guard.py)
    return env | {"TASPA_HOME": str(home), "TASPA_FAST_PASSWORD_HASHER": "1",
                  "TASPA_PREFLIGHT_MAX_AGE_MIN": "0"}  # fmt: skip


def taspa(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "taspa", *args],
        env=clean_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(
    what: str, check: Callable[[], Any], timeout: float, log: Callable[[], str] = str
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{log()[-3000:]}")
        time.sleep(0.1)


@dataclass
class Court:
    """The court server's home, seeded with the demo court and an agent for its courtroom."""

    home: Path
    port: int
    courtroom: int
    hearing: int
    agent_token: str
    secretary_token: str
    process: subprocess.Popen | None = None

    @classmethod
    def seed(cls, home: Path) -> Court:
        migrated = taspa(home, "migrate", "--no-input", "-v", "0")
        assert migrated.returncode == 0, migrated.stderr
        seeded = taspa(home, "shell", "-c", SEED)
        assert seeded.returncode == 0, seeded.stderr
        return cls(home=home, port=free_port(), **json.loads(seeded.stdout.splitlines()[-1]))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "taspa", "serve", "--no-migrate",
             "--addr", f"127.0.0.1:{self.port}"],
            env=clean_env(self.home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for("the court server", self._answers, 60)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/openapi.json", timeout=1) as answer:  # noqa: S310
                return answer.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None

    def api(self, path: str, method: str = "GET", body: dict | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 — http://127.0.0.1 only
            f"{self.url}/api/v1{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.secretary_token}",
                     "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            data = answer.read()
        return json.loads(data) if answer.headers.get_content_type() == "application/json" else data


@dataclass
class Agent:
    """The courtroom PC: `taspa recorder` with its own home and spool."""

    home: Path
    court: Court
    sources: list[dict[str, str]]
    process: subprocess.Popen | None = None

    @property
    def spool(self) -> Path:
        return self.home / "spool"

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "sources.json").write_text(json.dumps(self.sources))
        self.log = open(self.home / "agent.log", "wb")  # noqa: SIM115 — closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "taspa", "recorder", "--server", self.court.url,
             "--token", self.court.agent_token, "--courtroom", str(self.court.courtroom),
             "--spool", str(self.spool), "--sources", str(self.home / "sources.json")],
            env=clean_env(self.home), stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def local(self, verb: str, *args: str) -> None:
        """The courtroom operator at the PC: `taspa recorder VERB` (no network involved)."""
        done = taspa(self.home, "recorder", verb, "--spool", str(self.spool), *args)
        assert done.returncode == 0, done.stderr

    def drop(self, verb: str, **args: Any) -> None:
        """The same as ``local`` without a Python start-up: what the command writes."""
        drop_local_command(self.spool, verb, **args)

    def state(self) -> dict[str, Any]:
        path = self.spool / "agent.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def phase(self, hearing: int) -> str | None:
        return self.state().get("hearings", {}).get(str(hearing))

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
            self.process = None
            self.log.close()

    def output(self) -> str:
        return (self.home / "agent.log").read_text(errors="replace")
