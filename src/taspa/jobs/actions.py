"""Claiming due periodic jobs and recording their outcome (STYLE 6: the database is the queue)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from taspa.jobs.models import ScheduledJob
from taspa.jobs.registry import PERIODIC

log = logging.getLogger("taspa.jobs")


def _ensure_rows(now: datetime) -> None:
    known = set(ScheduledJob.objects.values_list("name", flat=True))
    for name, job in PERIODIC.items():
        if name not in known:
            ScheduledJob.objects.get_or_create(
                name=name, defaults={"next_run_at": job.schedule.next_after(now)}
            )


def claim_due(now: datetime | None = None) -> list[str]:
    """Move every due job's next run forward under a row lock and return their names: two
    schedulers never claim the same run (``skip_locked``)."""
    now = now or timezone.now()
    _ensure_rows(now)
    claimed = []
    with transaction.atomic():
        due = (
            ScheduledJob.objects.select_for_update(skip_locked=True)
            .filter(next_run_at__lte=now, name__in=list(PERIODIC))
            .order_by("next_run_at")
        )
        for row in due:
            row.next_run_at = PERIODIC[row.name].schedule.next_after(now)
            row.save(update_fields=["next_run_at"])
            claimed.append(row.name)
    return claimed


def enqueue_due(now: datetime | None = None) -> list[str]:
    from taspa.jobs.tasks import run_periodic

    names = claim_due(now)
    for name in names:
        run_periodic.enqueue(name)
    return names


def run_job(name: str) -> str:
    """Run one periodic job now and record how it went."""
    job = PERIODIC[name]
    started = timezone.now()
    ScheduledJob.objects.filter(name=name).update(last_started_at=started, last_status="running")
    try:
        detail = job.run() or ""
    except Exception as error:
        log.exception("job %s failed", name)
        ScheduledJob.objects.filter(name=name).update(
            last_finished_at=timezone.now(), last_status="failed", last_detail=str(error)[:2000]
        )
        raise
    ScheduledJob.objects.filter(name=name).update(
        last_finished_at=timezone.now(), last_status="ok", last_detail=detail[:2000]
    )
    return detail
