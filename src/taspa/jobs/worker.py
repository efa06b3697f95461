"""The background-job worker (``taspa worker``, and a thread of ``taspa serve``): django-tasks'
database backend as the queue (STYLE 6), with Taspa's rules for stopping and crashing.

- A job is claimed under a row lock (``SKIP LOCKED`` on PostgreSQL, an exclusive transaction
  on SQLite), so any number of workers on any machines run each job once.
- SIGTERM (or SIGINT) stops claiming. The running job gets ``grace_s`` seconds to finish; if it
  has not, it is interrupted (its transaction rolls back) and *released*: put back in the queue
  for another worker. Jobs are idempotent, so a released job that is run again gives one outcome.
- A worker killed outright leaves its job "running". A worker that starts on the same machine
  releases such jobs once their process is gone (worker ids carry host name and pid).
- A lost database connection is retried with a back-off instead of ending the worker.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
from dataclasses import dataclass
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


def release_orphans() -> list[str]:
    """Release the running jobs of workers on this machine whose process no longer exists."""
    from django_tasks_db.models import DBTaskResult

    host = socket.gethostname()
    released = []
    for row in DBTaskResult.objects.running().only("id", "worker_ids"):
        last = (row.worker_ids or [""])[-1].split(":")
        if len(last) >= 2 and last[0] == host and last[1].isdigit():
            pid = int(last[1])
            if pid != os.getpid() and not _pid_alive(pid) and release(row.pk, why="worker gone"):
                released.append(str(row.pk))
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
    def run(self) -> None:
        log.info("worker %s started", self.worker_id)
        backoff = 1.0
        self._safely(release_orphans)
        while not self.stopping.is_set():
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
