"""One structured log line and one count per background job (django-tasks' signal)."""

from __future__ import annotations

import json
import logging

from django_tasks.signals import task_finished

from taspa.ops.metrics import JOBS

log = logging.getLogger("taspa.jobs")


def _on_finished(sender, task_result, **kwargs) -> None:
    task = task_result.task.name
    outcome = str(getattr(task_result.status, "value", task_result.status)).lower()
    started, finished = task_result.started_at, task_result.finished_at
    JOBS.labels(task, outcome).inc()
    log.info(
        json.dumps(
            {
                "event": "job",
                "task": task,
                "id": str(task_result.id),
                "args": task_result.args,
                "status": outcome,
                "duration_ms": round((finished - started).total_seconds() * 1000, 1)
                if started and finished
                else None,
                "worker": (task_result.worker_ids or [None])[-1],
            },
            default=str,
            ensure_ascii=False,
        )
    )


def connect() -> None:
    task_finished.connect(_on_finished, dispatch_uid="taspa.ops.job_finished")
