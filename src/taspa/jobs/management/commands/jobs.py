from django.core.management.base import BaseCommand, CommandError

from taspa.jobs.actions import run_job
from taspa.jobs.models import ScheduledJob
from taspa.jobs.registry import PERIODIC


class Command(BaseCommand):
    help = "Periodic jobs: `taspa jobs list`, `taspa jobs run NAME` (runs it now, in this process)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("list", help="every periodic job with its next and last run")
        run = sub.add_parser("run", help="run one job now")
        run.add_argument("name")

    def handle(self, *args, verb: str, **options):
        if verb == "list":
            rows = {row.name: row for row in ScheduledJob.objects.all()}
            for name in sorted(PERIODIC):
                row = rows.get(name)
                when = f"next {row.next_run_at:%Y-%m-%d %H:%M}Z" if row else "not yet scheduled"
                last = f"last {row.last_status}" if row and row.last_status else ""
                self.stdout.write(f"{name:<28} {when} {last}")
            return
        if options["name"] not in PERIODIC:
            raise CommandError(f"No job {options['name']!r}; see `taspa jobs list`.")
        self.stdout.write(run_job(options["name"]) or "done")
