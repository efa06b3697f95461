"""Periodic jobs register here (from their app's ``ready``): a name, a schedule, a function.

The function takes no arguments and returns a short text for the job's status; it must be
idempotent, because a crash between running and recording the outcome runs it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from taspa.jobs.policy import Schedule


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    schedule: Schedule
    run: Callable[[], str]


PERIODIC: dict[str, PeriodicJob] = {}


def register_periodic(name: str, schedule: Schedule, run: Callable[[], str]) -> None:
    PERIODIC[name] = PeriodicJob(name, schedule, run)
