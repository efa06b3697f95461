"""Background work inside ``taspa serve``: a django-tasks database worker and the scheduler,
each on a daemon thread. At scale, run ``taspa db_worker`` processes instead; the scheduler
is safe to run in every process because claims are row-locked."""

from __future__ import annotations

import logging
import os
import threading

from django.db import close_old_connections

from taspa.jobs.actions import enqueue_due

log = logging.getLogger("taspa.jobs")
SCHEDULER_INTERVAL_S = 15.0


def _scheduler(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            close_old_connections()
            for name in enqueue_due():
                log.info("scheduled job %s enqueued", name)
        except Exception:
            log.exception("scheduler pass failed")
        stop.wait(SCHEDULER_INTERVAL_S)


def _worker(stop: threading.Event) -> None:
    from django.conf import settings
    from django_tasks_db.management.commands.db_worker import Worker

    backend = settings.TASKS["default"]["BACKEND"]
    if not backend.startswith("django_tasks_db"):
        return  # the immediate backend runs tasks inline: nothing to poll
    worker = Worker(
        queue_names=["*"],
        interval=1.0,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"serve-{os.getpid()}",
        excluded_queue_names=[],
    )
    threading.Thread(
        target=lambda: (stop.wait(), setattr(worker, "running", False)), daemon=True
    ).start()
    worker.run()


def start_background() -> threading.Event:
    """Start the worker and the scheduler; set the returned event to stop them."""
    stop = threading.Event()
    for target in (_worker, _scheduler):
        threading.Thread(
            target=target, args=(stop,), name=f"taspa-{target.__name__[1:]}", daemon=True
        ).start()
    return stop
