"""``taspa replicate``: send what is pending to the central server now, with progress (R23)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from taspa.replication.client import CentralError
from taspa.replication.court import Progress, replicate

MIB = 1024 * 1024


class Command(BaseCommand):
    help = "Send every recording sealed or changed since the last acknowledgement to the centre."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="at most N recordings")

    def _progress(self, step: Progress) -> None:
        percent = 100 * step.done // step.total if step.total else 100
        resumed = f" (resuming at {step.resumed_from / MIB:.1f} MiB)" if step.resumed_from else ""
        line = (
            f"{step.file_name} {step.kind}: {step.done / MIB:.1f}/{step.total / MIB:.1f} MiB "
            f"{percent:3d}%{resumed}"
        )
        if self.stdout.isatty():
            self.stdout.write(f"\r{line}", ending="")
            if step.done == step.total:
                self.stdout.write("")
        else:
            self.stdout.write(line)
        sys.stdout.flush()

    def handle(self, *args: Any, limit: int | None, **options: Any) -> None:
        try:
            result = replicate(progress=self._progress, limit=limit)
        except CentralError as error:
            raise CommandError(str(error), returncode=2) from None
        for error in result.errors:
            self.stderr.write(error)
        self.stdout.write(result.summary())
        if result.failed or result.broken:
            raise CommandError(result.summary(), returncode=1)
