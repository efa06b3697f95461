"""``taspa medium write --recording ID --mount PATH [--device DEV [--confirm TEXT]] [--user U]``:
write the case-file medium (R12, R33); ``taspa medium label --medium ID --out DIR``: its
envelope label (R15) as two PDFs, Kazakh and Russian."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from taspa.errors import DomainError


class Command(BaseCommand):
    help = "Write a recording's case-file medium, or print its envelope label."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        write = verbs.add_parser("write", help="empty the medium and write the BagIt copy")
        write.add_argument("--recording", type=int, required=True)
        write.add_argument("--mount", required=True, help="where the medium is mounted")
        write.add_argument(
            "--device",
            help="format this block device first (R33): erases it; asks unless --confirm",
        )
        write.add_argument(
            "--confirm",
            default="",
            help="confirm formatting --device: its name, size and label, e.g. "
            '"/dev/sdb 14.9 GiB OLDSTICK" (printed when missing or wrong)',
        )
        write.add_argument("--kind", default="usb", choices=["usb", "disc"])
        write.add_argument("--user", help="who writes it (default: the hearing's secretary)")
        label = verbs.add_parser("label", help="the envelope label (R15) as PDFs")
        label.add_argument("--medium", type=int, required=True)
        label.add_argument("--out", default=".", help="directory for the two PDFs")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["verb"] == "write":
                self._write(options)
            else:
                self._label(options)
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.detail}", returncode=1) from None

    def _write(self, options: dict[str, Any]) -> None:
        from taspa.courts.selectors import user_by_ref
        from taspa.custody.actions import write_medium
        from taspa.recorder.models import Recording

        recording = (
            Recording.objects.select_related("hearing__secretary")
            .filter(pk=options["recording"])
            .first()
        )
        if recording is None:
            raise CommandError(f"no recording {options['recording']}", returncode=2)
        actor = user_by_ref(options["user"]) if options["user"] else recording.hearing.secretary
        if actor is None:
            raise CommandError(f"no user {options['user']!r}", returncode=2)
        confirmation = options["confirm"]
        if options["device"] and not confirmation:
            confirmation = self._confirm(options["device"])
        medium = write_medium(
            actor=actor,
            recording=recording,
            mount=options["mount"],
            device=options["device"],
            confirmation=confirmation,
            kind=options["kind"],
        )
        self.stdout.write(
            f"medium M-{medium.pk}: {Path(options['mount']) / medium.bag_name} "
            f"({medium.payload_oxum} bytes.files), valid, held by {medium.holder.username}"
        )

    def _confirm(self, device: str) -> str:
        """R33: formatting erases the device; the operator is shown its size and label and
        types them to go on."""
        from taspa.custody.medium import describe_device

        facts = describe_device(device)
        if not sys.stdin.isatty():
            return ""
        self.stdout.write(
            f"Formatting erases {device}: {facts.size_bytes} bytes, label "
            f"{facts.label or '(no label)'}, file system {facts.fstype or '(none)'}."
        )
        return input(f"Type {facts.confirmation!r} to go on: ").strip()

    def _label(self, options: dict[str, Any]) -> None:
        from taspa.custody.models import Medium
        from taspa.custody.selectors import label_context
        from taspa.documents.render import issue_bilingual

        medium = Medium.objects.filter(pk=options["medium"], valid=True).first()
        if medium is None:
            raise CommandError(f"no valid medium {options['medium']}", returncode=2)
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        for document in issue_bilingual("custody/label.html", label_context(medium)):
            path = out / f"label-M{medium.pk}-{document.language}.pdf"
            path.write_bytes(document.pdf)
            self.stdout.write(str(path))
