"""``taspa worker``: a background-job worker process (any number, on any machine sharing the
database), with the scheduler beside it (safe in every process: claims are row-locked)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from taspa.jobs.runner import start_scheduler
from taspa.jobs.worker import Worker
from taspa.ops.checks import UnlockedBucket, refuse_unlocked_bucket
from taspa.recorder.keeper import start_keeper


class Command(BaseCommand):
    help = (
        "Run background jobs until SIGTERM: the running job gets --grace seconds to finish, "
        "then goes back to the queue."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace",
            type=float,
            default=float(settings.TASPA_SHUTDOWN_GRACE_SECONDS),
            help="seconds a running job may take after SIGTERM (TASPA_SHUTDOWN_GRACE_SECONDS)",
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between polls of an empty queue"
        )
        parser.add_argument(
            "--no-scheduler", action="store_true", help="do not enqueue due periodic jobs here"
        )
        parser.add_argument("--max-jobs", type=int, default=None, help="exit after this many jobs")

    def handle(self, *args, grace: float, interval: float, no_scheduler: bool, **options):
        if not settings.TASKS["default"]["BACKEND"].startswith("django_tasks_db"):
            raise CommandError("TASKS uses no database backend: there is no queue to work on.")
        if grace < 0 or interval <= 0:
            raise CommandError("--grace must be ≥ 0 and --interval > 0", returncode=2)
        try:
            refuse_unlocked_bucket()
        except UnlockedBucket as error:
            raise CommandError(str(error), returncode=2) from error
        worker = Worker(interval_s=interval, grace_s=grace, max_jobs=options["max_jobs"])
        worker.install_signals()
        start_keeper()  # in-server capture a crash left is recovered here too
        stop_scheduler = None if no_scheduler else start_scheduler()
        self.stdout.write(f"Taspa worker {worker.worker_id} is running (SIGTERM stops it)")
        self.stdout.flush()
        try:
            worker.run()
        finally:
            if stop_scheduler is not None:
                stop_scheduler.set()
