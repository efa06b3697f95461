"""Periodic work of the access area: the day-before reminders of R34 deadlines."""

from __future__ import annotations

from taspa.jobs.policy import Schedule
from taspa.jobs.registry import register_periodic


def remind_due_petitions() -> str:
    """R34: remind staff of petitions due tomorrow (idempotent: one reminder per petition)."""
    from taspa.access.actions import send_reminders

    return f"{send_reminders()} reminder(s) sent"


def register() -> None:
    register_periodic("access.reminders", Schedule(daily_at=(8, 0)), remind_due_petitions)
