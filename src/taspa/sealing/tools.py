"""The sealing area's one subprocess wrapper (STYLE 7): openssl for checks and benchmarks."""

from __future__ import annotations

import logging
import shlex
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolRun:
    """What a tool run did; ``command`` is the exact argument list, kept as provenance."""

    command: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_tool(argv: Sequence[str], *, timeout: float = 600) -> ToolRun:
    """Run ``argv`` (a list, never a shell string) with a timeout and log it."""
    command = tuple(str(part) for part in argv)
    logger.debug("running %s", shlex.join(command))
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.perf_counter() - started
    if done.returncode:
        logger.info("%s exited %s: %s", command[0], done.returncode, done.stderr.strip()[:500])
    return ToolRun(command, done.returncode, done.stdout, done.stderr, seconds)
