"""``taspa backup DIR --keys KEYDIR``: a consistent backup of the embedded default; the KEK,
audit key and secret key go to KEYDIR, kept apart from DIR (README, "Security")."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from taspa.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database and files of the embedded default; secrets to --keys."

    def add_arguments(self, parser):
        parser.add_argument("dir", type=Path, help="a new or empty directory for the backup")
        parser.add_argument(
            "--keys", type=Path, help="a directory apart from DIR for the KEK and audit key"
        )

    def handle(self, *args, dir: Path, keys: Path | None, **options):
        try:
            summary = backup(dir, keys=keys)
        except BackupError as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(f"backed up {summary.files} files, {summary.bytes} bytes, to {dir}")
        if summary.keys_written:
            self.stdout.write(f"KEK, audit key and secret key written to {keys}: keep them apart")
        else:
            self.stderr.write(
                "no --keys: the KEK and the audit key are not in this backup; without them the "
                "restored EDS keys cannot sign and the audit chain cannot be checked"
            )
