"""The background-job worker (``taspa worker``, and a thread of ``taspa serve``): django-tasks'
database backend as the queue (STYLE 6), with Taspa's rules for stopping and crashing.

- A job is claimed under a row lock (``SKIP LOCKED`` on PostgreSQL, an exclusive transaction
  on SQLite), so any number of workers on any machines run each job once.
- SIGTERM (or SIGINT) stops claiming. The running job gets ``grace_s`` seconds to finish; if it
  has not, it is interrupted (its transaction rolls back) and *released*: put back in the queue
  for another worker. Jobs are idempotent, so a released job that is run again gives one outcome.
- A worker killed outright leaves its job "running". Every worker writes a heartbeat every
  ``HEARTBEAT_S``; any worker, on any machine, releases a running job whose worker has been
  silent for ``SILENT_AFTER_S`` (and, at once, one whose process on this machine is gone).
- A lost database connection is retried with a back-off instead of ending the worker.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
)

log = logging.getLogger("taspa.jobs")
RECONNECT_MAX_S = 30.0
HEARTBEAT_S = 5.0
SILENT_AFTER_S = 60.0  # well past a heartbeat missed under load or a database restart
ORPHAN_SCAN_S = 15.0


class JobReleased(BaseException):
    """Raised in the job's thread when its grace period after SIGTERM is over."""


def worker_id(kind: str = "worker") -> str:
    """``host:pid:kind:random``: unique, and says which process on which machine holds a job."""
    return f"{socket.gethostname()}:{os.getpid()}:{kind}:{secrets.token_hex(3)}"[:64]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release(result_id: Any, *, why: str) -> bool:
    """Put a running job back in the queue (only if it is still running)."""
    from django_tasks_db.models import DBTaskResult, TaskResultStatus

    released = DBTaskResult.objects.filter(pk=result_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.READY, started_at=None
    )
    if released:
        log.warning("job %s released back to the queue: %s", result_id, why)
    return bool(released)


def beat(worker: str) -> None:
    """This worker is alive now."""
    from django.utils import timezone

    from taspa.jobs.models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(worker_id=worker, defaults={"beat_at": timezone.now()})


def forget(worker: str) -> None:
    from taspa.jobs.models import WorkerHeartbeat

    WorkerHeartbeat.objects.filter(worker_id=worker).delete()


def _silent(worker: str, started_at: Any, now: Any) -> bool:
    """No heartbeat from ``worker`` for ``SILENT_AFTER_S``. A worker beats before it claims,
    so one with no heartbeat at all (its row cleaned away, or an older release's) is judged by
    how long its job has been running."""
    from taspa.jobs.models import WorkerHeartbeat

    beat_at = (
        WorkerHeartbeat.objects.filter(worker_id=worker).values_list("beat_at", flat=True).first()
    )
    last_sign = beat_at or started_at
    return last_sign is not None and (now - last_sign).total_seconds() > SILENT_AFTER_S


def release_orphans() -> list[str]:
    """Release the running jobs whose worker is gone: its process on this machine no longer
    exists, or it has not beaten its heartbeat for ``SILENT_AFTER_S`` (on any machine)."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from taspa.jobs.models import WorkerHeartbeat

    host, now = socket.gethostname(), timezone.now()
    released = []
    for row in DBTaskResult.objects.running().only("id", "worker_ids", "started_at"):
        worker = (row.worker_ids or [""])[-1]
        last = worker.split(":")
        gone_here = (
            len(last) >= 2
            and last[0] == host
            and last[1].isdigit()
            and int(last[1]) != os.getpid()
            and not _pid_alive(int(last[1]))
        )
        silent = not gone_here and _silent(worker, row.started_at, now)
        why = "worker gone" if gone_here else "worker silent" if silent else ""
        if why and release(row.pk, why=why):
            released.append(str(row.pk))
    stale = now - timedelta(seconds=SILENT_AFTER_S * 10)
    WorkerHeartbeat.objects.filter(beat_at__lt=stale).delete()  # workers long gone
    return released


class Worker:
    """Claims and runs jobs until stopped; see the module's docstring for the rules."""

    def __init__(
        self,
        *,
        interval_s: float = 1.0,
        grace_s: float = 30.0,
        backend_name: str = "default",
        kind: str = "worker",
        max_jobs: int | None = None,
    ) -> None:
        self.interval_s = interval_s
        self.grace_s = grace_s
        self.backend_name = backend_name
        self.worker_id = worker_id(kind)
        self.max_jobs = max_jobs
        self.stopping = threading.Event()
        self.current: Any = None
        self.jobs_run = 0
        self._unrecorded: tuple[Any, Outcome] | None = None

    # -- stopping ------------------------------------------------------------------------------
    def install_signals(self) -> None:
        """SIGTERM/SIGINT: stop claiming; interrupt and release the job after ``grace_s``."""
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGALRM, self._on_grace_over)

    def _on_stop_signal(self, signum: int, frame: Any) -> None:
        if self.stopping.is_set():
            if self.current is not None:
                raise JobReleased(f"second {signal.strsignal(signum)}")
            return
        log.info(
            "worker %s: %s, stopping (%s)",
            self.worker_id,
            signal.strsignal(signum),
            "finishing its job" if self.current is not None else "idle",
        )
        self.stopping.set()
        if self.current is not None:
            signal.setitimer(signal.ITIMER_REAL, max(self.grace_s, 0.001))

    def _on_grace_over(self, signum: int, frame: Any) -> None:
        if self.current is not None:
            raise JobReleased(f"not finished {self.grace_s:g} s after the stop signal")

    def stop(self) -> None:
        """Stop from another thread (``taspa serve``): no new claims; the job finishes."""
        self.stopping.set()

    # -- the loop ------------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        """A thread of its own: a job that runs for minutes must not look like a dead worker."""
        while not self.stopping.wait(HEARTBEAT_S):
            try:
                beat(self.worker_id)
            except DatabaseError as error:
                log.warning("worker %s: heartbeat failed: %s", self.worker_id, error)
            finally:
                connections.close_all()

    def run(self) -> None:
        log.info("worker %s started", self.worker_id)
        backoff = 1.0
        self._safely(lambda: beat(self.worker_id))
        threading.Thread(target=self._heartbeat, name="worker-heartbeat", daemon=True).start()
        self._safely(release_orphans)
        scanned = time.monotonic()
        while not self.stopping.is_set():
            if time.monotonic() - scanned > ORPHAN_SCAN_S:
                self._safely(release_orphans)
                scanned = time.monotonic()
            if self.max_jobs is not None and self.jobs_run >= self.max_jobs:
                break
            try:
                close_old_connections()
                self._record()  # an outcome the database could not take before
                result = self._claim()
                backoff = 1.0
            except (OperationalError, InterfaceError) as error:
                # The database went away (restart, failover): reconnect after a pause.
                log.warning("worker %s: database unavailable (%s); retrying", self.worker_id, error)
                connections.close_all()
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, RECONNECT_MAX_S)
                continue
            if result is None:
                self.stopping.wait(self.interval_s)
                continue
            try:
                self._run(result)
            except (OperationalError, InterfaceError) as error:
                # Lost the database while recording the outcome: written once it answers.
                log.warning(
                    "worker %s: database lost after job %s (%s)", self.worker_id, result.pk, error
                )
        self._safely(self._record)  # the last outcome, if the database refused it before
        self._safely(lambda: forget(self.worker_id))
        log.info("worker %s stopped after %d jobs", self.worker_id, self.jobs_run)

    def _safely(self, function) -> None:
        try:
            function()
        except DatabaseError as error:
            log.warning("worker %s: %s failed: %s", self.worker_id, function.__name__, error)

    def _claim(self) -> Any:
        from django_tasks_db.models import DBTaskResult
        from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

        ready = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        try:
            with exclusive_transaction(ready.db):
                result = ready.get_locked()
                if result is not None:
                    result.claim(self.worker_id)
                return result
        except OperationalError as error:
            if is_locked_database_exception(error):
                return None  # SQLite is busy with another claim: try again next round
            raise

    def _run(self, db_result: Any) -> None:
        from django_tasks_db.compat import task_started

        self.current = db_result
        try:
            try:
                task = db_result.task
                task_started.send(
                    sender=type(task.get_backend()), task_result=db_result.task_result
                )
                args, kwargs = db_result.task_result.args, db_result.task_result.kwargs
                value = task.call(*args, **kwargs)
            finally:
                # The job's own work is over: nothing may interrupt the bookkeeping below.
                self.current = None
                if _main_thread():
                    signal.setitimer(signal.ITIMER_REAL, 0)
        except JobReleased as why:
            close_old_connections()
            release(db_result.pk, why=str(why))
            self.stopping.set()
            return
        except (OperationalError, InterfaceError) as error:
            # The database went away under the job: not the job's fault; run it again later.
            outcome = Outcome("release", error)
        except Exception as error:
            log.warning("job %s failed: %s", db_result.pk, error)
            outcome = Outcome("failed", error)
        else:
            outcome = Outcome("successful", value)
        finally:
            self.jobs_run += 1
        self._unrecorded = (db_result, outcome)
        self._record()

    def _record(self) -> None:
        """Write the finished job's outcome; if the database is gone, this is retried once it
        answers again (the job is not run a second time for a lost connection)."""
        from django_tasks_db.compat import task_finished

        if self._unrecorded is None:
            return
        db_result, outcome = self._unrecorded
        if outcome.kind == "release":
            release(db_result.pk, why=f"the database was lost during the job: {outcome.value}")
            self._unrecorded = None
            return
        if outcome.kind == "successful":
            db_result.set_successful(outcome.value)
        else:
            db_result.set_failed(outcome.value)
        self._unrecorded = None
        try:
            sender = type(db_result.task.get_backend())
        except Exception:  # the job's code cannot even be imported: its failure is recorded
            log.exception("job %s: task %s cannot be loaded", db_result.pk, db_result.task_path)
            return
        task_finished.send(sender=sender, task_result=db_result.task_result)


@dataclass(frozen=True)
class Outcome:
    kind: str  # successful | failed | release
    value: Any


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
