"""The evidence jobs (registered in apps.py): thin wrappers over the actions."""

from __future__ import annotations

from taspa.evidence.actions import EvidenceUnavailable, alert_overdue, build_due, renew_due


def build_job() -> str:
    try:
        done = str(build_due())
    except EvidenceUnavailable as error:
        done = str(error)
    alerts = alert_overdue()  # a TSA down for days: one incident per overdue recording
    return f"{done}; {alerts} incidents for overdue evidence records" if alerts else done


def renew_job() -> str:
    return str(renew_due())
