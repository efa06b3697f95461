"""``taspa evidence build [--date D]`` and ``taspa evidence renew`` (CONTRACT.md, RFC 4998)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from taspa.evidence.actions import EvidenceUnavailable, build_day, renew_due


class Command(BaseCommand):
    help = "Build the day's evidence records (RFC 4998), or renew the existing ones."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        build = verbs.add_parser("build", help="the records of the recordings sealed on a day")
        build.add_argument("--date", type=date.fromisoformat, help="YYYY-MM-DD (default today)")
        verbs.add_parser("renew", help="renew archive timestamps and hash trees that are due")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["verb"] == "build":
                day = options["date"] or timezone.localdate()
                run = build_day(actor=None, day=day)
                self.stdout.write(f"{day.isoformat()}: {run}")
                for tree in run.trees:
                    self.stdout.write(f"  court {tree.court_id}: root {tree.root}")
            else:
                self.stdout.write(str(renew_due(actor=None)))
        except EvidenceUnavailable as error:
            raise CommandError(str(error), returncode=1) from None
