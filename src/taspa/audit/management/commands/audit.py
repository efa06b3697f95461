from django.core.management.base import BaseCommand, CommandError

from taspa.audit.selectors import verify_audit_chain


class Command(BaseCommand):
    help = "The audit chain: `taspa audit verify` checks every event (R19, R20)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        verify = sub.add_parser(
            "verify", help="check the whole chain; exit 1 naming the first bad event"
        )
        verify.add_argument(
            "--against-central",
            action="store_true",
            help="also against every head the regional centre witnessed (issue 15)",
        )

    def handle(self, *args, verb: str, **options):
        verdict = verify_audit_chain()
        if not verdict.ok:
            raise CommandError(
                f"audit chain BROKEN at event {verdict.first_bad_seq}: {verdict.problem} "
                f"({verdict.events_checked} events before it are intact)",
                returncode=1,
            )
        self.stdout.write(f"audit chain OK: {verdict.events_checked} events")
        if options.get("against_central"):
            from taspa.evidence.witness import against_central_line

            ok, line = against_central_line()
            if not ok:
                raise CommandError(line, returncode=1)
            self.stdout.write(line)
