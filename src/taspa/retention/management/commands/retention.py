"""``taspa retention run [--dry-run] [--limit N]``: move recordings past their retention to
the electronic archive and delete them from the recording server (R24, R27), with progress."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from taspa.retention.transfer import SweepItem, sweep


class Command(BaseCommand):
    help = "Retention (R24, R27): `run` moves what is due to the archive; --dry-run lists it."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        run = sub.add_parser("run", help="archive-then-delete every recording past its date")
        run.add_argument("--dry-run", action="store_true", help="only list what would move")
        run.add_argument("--limit", type=int, default=None)

    def _progress(self, item: SweepItem) -> None:
        self.stdout.write(
            f"{item.outcome:<10} {item.file_name} (kept until {item.retention_until})"
            if not item.outcome.startswith("failed")
            else f"FAILED     {item.file_name}: {item.outcome[8:]}"
        )

    def handle(
        self, *args: Any, verb: str, dry_run: bool, limit: int | None, **options: Any
    ) -> None:
        result = sweep(dry_run=dry_run, limit=limit, progress=self._progress)
        self.stdout.write(result.summary())
        if result.failed:
            raise CommandError(result.summary(), returncode=1)
