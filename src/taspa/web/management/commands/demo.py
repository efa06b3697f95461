from django.core.management import call_command
from django.core.management.base import BaseCommand

from taspa.demo import DEMO_PASSWORD, seed_demo
from taspa.web.serving import serve


class Command(BaseCommand):
    help = "Main job on the embedded default: set up ./var, seed a demo court, serve the UI."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="exit after the demo job")

    def handle(self, *args, port: int, no_serve: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        world = seed_demo()
        out = self.stdout.write
        out(f"Demo court: {world.court.name} ({world.court.code})")
        out(
            f"Hearing #{world.hearing.pk}: case {world.case.number}, "
            f"recording {world.hearing.recording_required} ({world.hearing.recording_rule})"
        )
        out(
            "Sign in as admin, court_admin, secretary, judge, archivist or participant; "
            f"password '{DEMO_PASSWORD}'."
        )
        if not no_serve:
            serve("127.0.0.1", port, log=out)
