"""The equipment check (R8) as the console shows it, in the secretary's language.

A check is kept as the recorder said it (``{"name", "ok", "detail"}``, in English, with the
words of ffmpeg or of the operating system in it, e.g. "Protocol not found"): that stays in the
audit trail and the API for the staff who look into a failure. The console shows each check's
name as words and its detail as a sentence of the interface's catalogue; a program's own words
are shown as their named reason (``failure_reason``), never themselves.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The check's name -> its name as words ("source:<name>" and "agent:<name>" are handled apart).
LABELS = {
    "disk_space": gettext_lazy("Free disk space"),
    "clock": gettext_lazy("Clock"),
    "server_reachable": gettext_lazy("Connection to the court's server"),
    "agent_reachable": gettext_lazy("Connection to the courtroom computer"),
    "signing_key": gettext_lazy("Signing key"),
    "sources": gettext_lazy("Sound and video sources"),
    "checks": gettext_lazy("Checks of the courtroom computer"),
}

# What ffmpeg or the operating system said (case-insensitive), and its meaning.
_REASONS: tuple[tuple[str, Any], ...] = (
    (
        r"protocol not found|unknown input format|no such filter|unrecognized option",
        gettext_lazy("the source's address or format is not supported"),
    ),
    (
        r"no such file or directory|no such device|cannot open|could not open|not found",
        gettext_lazy("the device is not there"),
    ),
    (
        r"device or resource busy|resource busy",
        gettext_lazy("the device is used by another program"),
    ),
    (r"permission denied|not permitted", gettext_lazy("access to the device is not allowed")),
    (
        r"connection refused|timed? ?out|network is unreachable|no route|connection reset"
        r"|name or service|temporary failure|unreachable",
        gettext_lazy("the source does not answer"),
    ),
    (
        r"invalid data|invalid argument|end of file|eof",
        gettext_lazy("the source sends no usable stream"),
    ),
    (r"input/output error|i/o error", gettext_lazy("the device cannot be read")),
    (r"no space left", gettext_lazy("the disk is full")),
)
_COMPILED = tuple((re.compile(p, re.IGNORECASE), text) for p, text in _REASONS)


def failure_reason(text: str) -> str:
    """A program's failure text (ffmpeg, the OS) as its meaning in the active language."""
    for pattern, meaning in _COMPILED:
        if pattern.search(text or ""):
            return str(meaning)
    return _("the source could not be opened")


_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_DETAILS: tuple[tuple[re.Pattern[str], Any], ...] = tuple(
    (re.compile(pattern, re.DOTALL), sentence)
    for pattern, sentence in (
        (rf"^signal: peak (?P<peak>{_NUMBER}) dBFS$", gettext_lazy("Sound: peak %(peak)s dBFS.")),
        (
            rf"^silent: (?P<samples>\d+) samples, peak (?P<peak>{_NUMBER}) dBFS$",
            gettext_lazy("Silence: peak %(peak)s dBFS."),
        ),
        (
            r"^no audio within the time allowed:(?P<why>.*)$",
            gettext_lazy("No sound within the time allowed: %(why)s."),
        ),
        (r"^video frame received$", gettext_lazy("A video frame was received.")),
        (
            rf"^no video frame within (?P<seconds>{_NUMBER}) s:(?P<why>.*)$",
            gettext_lazy("No video frame within %(seconds)s s: %(why)s."),
        ),
        (
            rf"^(?P<need>{_NUMBER}) GB needed for (?P<hours>{_NUMBER}) h, "
            rf"(?P<free>{_NUMBER}) GB free$",
            gettext_lazy("%(need)s GB needed for %(hours)s h, %(free)s GB free."),
        ),
        (r"^server clock: this machine$", gettext_lazy("The server's own clock.")),
        (
            rf"^database server clock (?P<offset>{_NUMBER}) s \(± (?P<rtt>{_NUMBER}) s\)$",
            gettext_lazy("%(offset)s s against the database server (± %(rtt)s s)."),
        ),
        (
            rf"^(?P<offset>{_NUMBER}) s against the server \(± (?P<rtt>{_NUMBER}) s\)$",
            gettext_lazy("%(offset)s s against the court's server (± %(rtt)s s)."),
        ),
        (r"^last heard (?P<when>\S+)$", gettext_lazy("Last heard from at %(when)s.")),
        (r"^never heard from$", gettext_lazy("Never heard from.")),
        (r"^none reported yet$", gettext_lazy("None reported yet.")),
    )
)
_WHY = "why"


def check_label(name: str) -> str:
    """A check's name as words: "source:mic-1" is the source mic-1 (its name is the court's)."""
    prefix, _sep, rest = name.partition(":")
    if prefix == "agent" and rest:
        return check_label(rest)
    if prefix == "source" and rest:
        return _("Source %(name)s") % {"name": rest}
    return str(LABELS.get(name, _("Other check")))


def check_detail(check: dict[str, Any]) -> str:
    """A check's detail as a sentence of the active language."""
    name = str(check.get("name") or "")
    detail = str(check.get("detail") or "").strip()
    if name.endswith("signing_key"):
        # the signer's name when it passes (the court's data); a refusal is the action's own
        # words, already in the reader's language when the check was made in it
        return detail if check.get("ok") else _("The signing key cannot be used.")
    if name.endswith("server_reachable"):
        return _("Connected.") if check.get("ok") else failure_reason(detail)
    for pattern, sentence in _DETAILS:
        found = pattern.match(detail)
        if found:
            values = found.groupdict()
            if _WHY in values:
                values[_WHY] = failure_reason(values[_WHY])
            return str(sentence) % values
    if check.get("ok"):
        return _("Passed.")
    return failure_reason(detail)


def check_rows(checks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Each check of an equipment check as the console shows it (``technical``: the recorder's
    own words, for the staff who look into a failure)."""
    return [
        {
            "ok": bool(check.get("ok")),
            "label": check_label(str(check.get("name") or "")),
            "detail": check_detail(check),
            "technical": str(check.get("detail") or ""),
        }
        for check in checks or []
    ]
