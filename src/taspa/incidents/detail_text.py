"""An incident's detail as a reader sees it (R9, R16, R17), in their language or a document's.

A person's reason (typed into the console or the API) is shown as they wrote it. The texts the
system writes itself when it opens an incident (a capture that could not start, a failed
equipment check, a recording that could not be signed or failed its integrity check) are kept
in English with the program's own words in them, for the audit trail and the staff; here they
become a sentence of the interface's catalogue, and the program's words their named reason.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import override

from taspa.incidents.preflight_text import check_detail, check_label, failure_reason

_CAPTURE = re.compile(r"^Capture could not start: (?P<why>.*)$", re.DOTALL)
_PREFLIGHT = re.compile(r"^Equipment check failed \(R8\): (?P<checks>.*)$", re.DOTALL)
_UNSIGNED = re.compile(r"^The recording could not be signed \(R14\)", re.DOTALL)
_FIXITY = re.compile(r"^Stored recording (?P<file>\S+) failed fixity", re.DOTALL)
_REVOKED = re.compile(r"^The signer's certificate was revoked before it signed", re.DOTALL)


def _failed_checks(text: str) -> str:
    parts = []
    for item in text.split("; "):
        name, _sep, detail = item.partition(": ")
        check = {"name": name.strip(), "ok": False, "detail": detail}
        parts.append(f"{check_label(check['name'])} — {check_detail(check)}")
    return "; ".join(parts)


def incident_text(detail: str) -> str:
    """``detail`` in the active language when the system wrote it; else as it was typed."""
    text = str(detail or "")
    if found := _CAPTURE.match(text):
        return _("Capture could not start: %(reason)s.") % {"reason": failure_reason(found["why"])}
    if found := _PREFLIGHT.match(text):
        return _("The equipment check failed: %(checks)s.") % {
            "checks": _failed_checks(found["checks"])
        }
    if _UNSIGNED.match(text):
        return _("The recording could not be signed.")
    if found := _FIXITY.match(text):
        return _("The stored recording %(file)s failed its integrity check.") % {
            "file": found["file"]
        }
    if _REVOKED.match(text):
        return _("The signer's certificate was revoked before it signed the recording.")
    return text


def detail_in(detail: str, language: str) -> str:
    """``incident_text`` in ``language`` (an act's kk or ru version), whatever the reader's is."""
    with override(language):
        return incident_text(detail)
