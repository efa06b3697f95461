"""A job for the worker tests: notes its start and its end in a file (one line each)."""

from __future__ import annotations

import os
import time

from django_tasks import task


def _note(path: str, text: str) -> None:
    with open(path, "a", encoding="utf-8") as log:
        log.write(f"{text} {os.getpid()}\n")
        log.flush()
        os.fsync(log.fileno())


@task()
def probe(n: int, path: str, seconds: float = 0.0) -> int:
    _note(path, f"start {n}")
    time.sleep(seconds)
    _note(path, f"done {n}")
    return n


def enqueue(count: int, path: str, seconds: float) -> None:
    for n in range(count):
        probe.enqueue(n, path, seconds)
