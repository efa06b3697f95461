"""A guard for tests that capture: they leave no ffmpeg behind. A capture process that
outlives its test would hold devices and CPU in the next one and hide a watchdog or stop()
that forgot to reap it. Conftests opt in with ``from ffmpeg_guard import no_ffmpeg_left_behind``."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from taspa.recorder.proc import descendant_processes


def leftover_ffmpeg(grace_s: float = 3.0) -> dict[int, str]:
    """ffmpeg processes still running below this one after ``grace_s`` seconds."""
    deadline = time.monotonic() + grace_s
    while True:
        left = {
            pid: name
            for pid, name in descendant_processes(os.getpid()).items()
            if name.startswith("ffmpeg")
        }
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


@pytest.fixture(autouse=True)
def no_ffmpeg_left_behind() -> Iterator[None]:
    """Fails the test after which a child (or grandchild) ffmpeg still runs."""
    yield
    left = leftover_ffmpeg()
    assert not left, f"ffmpeg processes left running after the test: {left}"
