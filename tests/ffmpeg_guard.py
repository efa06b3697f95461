"""A guard for tests that capture: they leave no ffmpeg behind. A capture process that
outlives its test would hold devices and CPU in the next one and hide a watchdog or stop()
that forgot to reap it. Conftests opt in with ``from ffmpeg_guard import no_ffmpeg_left_behind``."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Collection, Iterator

import pytest

from taspa.recorder.proc import descendant_processes


def ffmpeg_below() -> dict[int, str]:
    """ffmpeg processes running below this one (children and grandchildren)."""
    return {
        pid: name
        for pid, name in descendant_processes(os.getpid()).items()
        if name.startswith("ffmpeg")
    }


def leftover_ffmpeg(grace_s: float = 3.0, before: Collection[int] = ()) -> dict[int, str]:
    """ffmpeg processes still running below this one after ``grace_s`` seconds, leaving out
    those in ``before`` (running when the test began)."""
    deadline = time.monotonic() + grace_s
    while True:
        left = {pid: name for pid, name in ffmpeg_below().items() if pid not in before}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


_WARNED: set[int] = set()  # leaks from earlier tests already warned of, once each


@pytest.fixture(autouse=True)
def no_ffmpeg_left_behind() -> Iterator[None]:
    """Fails the test after which an ffmpeg it started (a child or grandchild) still runs.
    One already running when the test began is another test's leak: it is warned of once (in
    pytest's warnings summary), not counted against this test, or every later capture test in
    the worker would fail too (a browser test's failure that left its server recording once
    turned one failure into 83 errors)."""
    before = ffmpeg_below()
    fresh = set(before) - _WARNED
    if fresh:
        _WARNED.update(fresh)
        leak = f"ffmpeg running before this test began (another test's leak): {before}"
        warnings.warn(leak, stacklevel=2)
    yield
    left = leftover_ffmpeg(before=before)
    assert not left, f"ffmpeg processes left running after the test: {left}"
