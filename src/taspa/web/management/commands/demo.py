from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from taspa.demo import DEMO_PASSWORD, install_demo_keys, record_demo_hearing, seed_demo
from taspa.jobs.runner import start_background
from taspa.sealing.reading import checked_copy
from taspa.sealing.verify import verify_recording
from taspa.storage.store import get_store
from taspa.web.serving import serve


class Command(BaseCommand):
    help = (
        "Main job on the embedded default: set up ./var, seed a demo court, record and seal a "
        "short demo hearing, verify it, then serve the UI."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="exit after the demo job")
        parser.add_argument("--seconds", type=float, default=6.0, help="length of the demo hearing")

    def handle(self, *args, port: int, no_serve: bool, seconds: float, **options):
        out = self.stdout.write
        call_command("migrate", interactive=False, verbosity=0)
        world = seed_demo()
        anchors = install_demo_keys(world)
        out(f"Demo court: {world.court.name} ({world.court.code})")
        out(
            f"Hearing #{world.hearing.pk}: case {world.case.number}, "
            f"recording {world.hearing.recording_required} ({world.hearing.recording_rule})"
        )
        recording = record_demo_hearing(world, seconds=seconds, log=out)
        out(f"Recording: {recording.file_name}")
        out(f"SHA-256:   {recording.sha256}")
        out(f"Signed by: {recording.signer_subject}")
        out(f"Stored at: {get_store()!r} sha256/{recording.sha256}")
        # Verified as a user would: the files the API serves, taken from the blob store.
        with checked_copy(recording) as files:
            checks = verify_recording(files.media, trust_anchors=anchors)
        for check in checks:
            out(f"{'OK  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
        failed = [check.name for check in checks if not check.ok]
        out(
            "Sign in as admin, court_admin, secretary, judge, archivist or participant; "
            f"password '{DEMO_PASSWORD}'."
        )
        if failed:
            raise CommandError(f"the demo recording does not verify: {', '.join(failed)}")
        if not no_serve:
            stop = start_background()
            try:
                serve("127.0.0.1", port, log=out)
            finally:
                stop.set()
