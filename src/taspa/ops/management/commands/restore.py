"""``taspa restore DIR --keys KEYDIR``: a backup made by ``taspa backup`` into a fresh
TASPA_HOME (the embedded default)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from taspa.ops.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a `taspa backup` directory into a fresh TASPA_HOME; secrets from --keys."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("dir", type=Path, help="the backup directory")
        parser.add_argument("--keys", type=Path, help="the keys directory `taspa backup` wrote")

    def handle(self, *args, dir: Path, keys: Path | None, **options):
        try:
            summary = restore(dir, keys=keys)
        except BackupError as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(f"restored {summary.files} files, {summary.bytes} bytes, from {dir}")
        if not summary.keys_written:
            self.stderr.write("no --keys: put the KEK and audit key back before serving")
        self.stdout.write("next: `taspa migrate`, then `taspa audit verify`")
