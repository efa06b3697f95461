"""Helpers to run ``taspa`` as an operator does: real processes over a fresh TASPA_HOME."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent


def operator_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment an operator has: none of the test suite's own settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # R8's start guard is proven in process (tests/recorder/test_r8_preflight_guard.py)
    fixed = {"TASPA_FAST_PASSWORD_HASHER": "true", "TASPA_PREFLIGHT_MAX_AGE_MIN": "0"}
    return env | {"TASPA_HOME": str(home)} | fixed | extra


def taspa(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "taspa", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen:
    """A long-running ``taspa`` process in its own process group, output to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "taspa", *args],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_http(url: str, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 - loopback http
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
