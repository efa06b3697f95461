"""A worker killed on another machine (issue 14): its job is not left "running" for ever — any
worker releases it once that worker's heartbeat has been silent long enough."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, TaskResultStatus

from taspa.jobs import worker
from taspa.jobs.models import WorkerHeartbeat

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def running_job(db):
    """A job claimed by a worker on another machine (worker id ``host:pid:kind:random``)."""
    import worker_probe

    with override_settings(TASKS=DB_TASKS):
        result = worker_probe.probe.enqueue(1, "/dev/null", 0.0)
    row = DBTaskResult.objects.get(pk=result.id)
    row.claim("court-web-2:4242:worker:abc123")
    return row


def _status(row) -> str:
    return DBTaskResult.objects.get(pk=row.pk).status


def test_a_silent_workers_job_is_released_on_any_machine(running_job):
    silent_for = timedelta(seconds=worker.SILENT_AFTER_S + 5)
    WorkerHeartbeat.objects.create(
        worker_id="court-web-2:4242:worker:abc123", beat_at=timezone.now() - silent_for
    )
    assert worker.release_orphans() == [str(running_job.pk)]
    assert _status(running_job) == TaskResultStatus.READY


def test_a_live_workers_job_is_left_alone(running_job):
    WorkerHeartbeat.objects.create(
        worker_id="court-web-2:4242:worker:abc123", beat_at=timezone.now()
    )
    assert worker.release_orphans() == []
    assert _status(running_job) == TaskResultStatus.RUNNING


def test_a_job_whose_worker_never_beat_waits_for_its_own_age(running_job):
    assert worker.release_orphans() == []  # just claimed: give its worker time
    DBTaskResult.objects.filter(pk=running_job.pk).update(
        started_at=timezone.now() - timedelta(seconds=worker.SILENT_AFTER_S + 5)
    )
    assert worker.release_orphans() == [str(running_job.pk)]
