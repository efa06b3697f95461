"""Background work inside ``taspa serve``: a job worker and the scheduler, each on a thread.
At scale, run ``taspa serve --no-worker`` web processes and ``taspa worker`` processes; the
scheduler runs in every one of them and is safe there, because a due run is claimed under a
row lock (``taspa.jobs.actions.claim_due``) and so is every job (``taspa.jobs.worker``)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

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


def start_scheduler() -> threading.Event:
    """The scheduler on a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=_scheduler, args=(stop,), name="taspa-scheduler", daemon=True).start()
    return stop


@dataclass
class Background:
    scheduler: threading.Event
    worker: object | None = None
    thread: threading.Thread | None = None

    def set(self) -> None:
        """Stop claiming and scheduling, without waiting (the demo's Ctrl-C)."""
        self.scheduler.set()
        if self.worker is not None:
            self.worker.stop()

    def stop(self, grace_s: float = 30.0) -> None:
        """Stop claiming; give the running job ``grace_s`` seconds, then release it."""
        from taspa.jobs.worker import release

        self.scheduler.set()
        if self.worker is None or self.thread is None:
            return
        self.worker.stop()
        self.thread.join(grace_s)
        current = self.worker.current
        if self.thread.is_alive() and current is not None:
            release(current.pk, why="the server stopped before the job finished")


def start_background(*, worker: bool = True) -> Background:
    """The scheduler and, unless ``worker`` is false, a job worker thread."""
    from django.conf import settings

    from taspa.jobs.worker import Worker

    background = Background(scheduler=start_scheduler())
    # The immediate backend (tests) runs tasks inline: nothing to poll.
    if worker and settings.TASKS["default"]["BACKEND"].startswith("django_tasks_db"):
        background.worker = Worker(kind="serve")
        background.thread = threading.Thread(
            target=background.worker.run, name="taspa-worker", daemon=True
        )
        background.thread.start()
    return background
