from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from taspa.jobs.runner import start_background
from taspa.ops.checks import UnlockedBucket, refuse_unlocked_bucket
from taspa.recorder.keeper import start_keeper
from taspa.web.serving import parse_addr, serve


class Command(BaseCommand):
    help = "Serve the web UI and the API (and, as capabilities land, the worker and scheduler)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="HOST:PORT to listen on")
        parser.add_argument(
            "--no-migrate", action="store_true", help="do not apply pending migrations first"
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="serve only: background jobs run in `taspa worker` processes",
        )

    def handle(self, *args, addr: str, no_migrate: bool, no_worker: bool = False, **options):
        try:
            host, port = parse_addr(addr)
        except ValueError as error:
            raise CommandError(str(error), returncode=2) from error
        try:
            refuse_unlocked_bucket()
        except UnlockedBucket as error:
            raise CommandError(str(error), returncode=2) from error
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        # SIGTERM: uvicorn stops accepting and finishes the requests in flight; then the worker
        # thread gets its grace period and its job, if unfinished, goes back to the queue.
        background = start_background(worker=not no_worker)
        start_keeper()  # recovers in-server capture a crash left, then keeps its leases

        def hand_over() -> None:
            background.stop(settings.TASPA_SHUTDOWN_GRACE_SECONDS)

        try:
            serve(host, port, log=self.stdout.write, after=hand_over)
        finally:
            hand_over()  # stopped otherwise than by a signal (idempotent)
