"""``taspa replication status`` (court or centre) and, at the centre,
``taspa replication token --court CODE`` (prints a court's push token; console operator)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from taspa.courts.models import Court
from taspa.courts.selectors import court_by_ref
from taspa.errors import DomainError
from taspa.replication import selectors
from taspa.replication.central import enrol_court, raise_silence_alarms


class Command(BaseCommand):
    help = "Replication (R23): status, alarms, and court tokens at the centre."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("status", help="pending / in flight / failed; last replication per court")
        token = sub.add_parser("token", help="(centre) a push token for a court's server")
        token.add_argument("--court", required=True, help="the court's code or id")
        sub.add_parser("alarms", help="(centre) raise alarms for courts silent over 26 hours")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        try:
            if verb == "token":
                court = court_by_ref(options["court"])
                if court is None:
                    raise CommandError(f"No court {options['court']!r}.")
                self.stdout.write(enrol_court(actor=None, court=court))
            elif verb == "alarms":
                self.stdout.write(raise_silence_alarms())
            elif settings.TASPA_ROLE == "central":
                # The operator at the console sees every court.
                status = selectors.central_status(Court.objects.all())
                self.stdout.write(json.dumps(status, indent=1))
            else:
                self.stdout.write(json.dumps(selectors.court_status(), indent=1))
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.detail}") from None
