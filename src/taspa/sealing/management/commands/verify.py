"""``taspa verify PATH [--ca FILE]``: check a sealed recording (R14, R19; CONTRACT.md).

One line per check; exit 0 when every check passes, 1 when any fails, 2 when PATH (or the CA
file) cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from taspa.sealing.verify import Check, UnreadableInput, verify_recording


def checks_for(path: Path, ca: str | None) -> list[Check]:
    """Verify what PATH names: a media file (signature, manifest, journal found beside it by
    name). Copy packages (a directory or ``.zip``) are the hook for the access area: unpack,
    check the BagIt fixity, then verify the media file inside with this same function."""
    if path.is_dir() or path.suffix.lower() == ".zip":
        if not path.exists():
            raise UnreadableInput(f"{path}: no such file or directory")
        from taspa.access.package import verify_copy_package  # R31 copy packages

        return verify_copy_package(path, trust_anchors=ca)
    if path.suffix.lower() == ".pdf":
        from taspa.incidents.verify import verify_pdf  # R18 acts: every PAdES signature

        return verify_pdf(path, ca)
    return verify_recording(path, trust_anchors=ca)


class Command(BaseCommand):
    help = "Verify a sealed recording: hashes, signatures, certificate chain, segment chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the media file (its .p7s and manifest beside it)")
        parser.add_argument(
            "--ca", help="PEM file of trusted CA certificates (default: TASPA_TRUST_ANCHORS)"
        )
        parser.add_argument(
            "--evidence", help="RFC 4998 evidence record (default: <media>.ers beside it, if any)"
        )
        parser.add_argument(
            "--as-of", help="check the evidence record as of this date (YYYY-MM-DD; default now)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            checks = checks_for(Path(options["path"]), options["ca"])
            from taspa.evidence.verify import cli_checks  # RFC 4998 records (issue 15)

            checks += cli_checks(
                options["path"], options["evidence"], options["as_of"], options["ca"]
            )
        except UnreadableInput as error:
            raise CommandError(f"unreadable input: {error}", returncode=2) from None
        width = max(len(check.name) for check in checks)
        for check in checks:
            status = "OK  " if check.ok else "FAIL"
            self.stdout.write(f"{status} {check.name:<{width}}  {check.detail}{_reason(check)}")
        failed = [check.name for check in checks if not check.ok]
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}", returncode=1)


def _reason(check: Any) -> str:
    """A failure a library worded (pyHanko, OpenSSL…), named as the verification report names
    it to its readers (``taspa.sealing.verify_reasons``): `` [reason: untrusted_issuer]``."""
    from taspa.sealing.verify_reasons import reason_of

    params = getattr(check, "params", None) or {}
    text = params.get("error") or params.get("problem")
    return f"  [reason: {reason_of(text)}]" if text and not check.ok else ""
