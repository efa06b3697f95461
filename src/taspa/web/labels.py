"""What the staff pages call the areas' states and kinds, in the user's language (never the
internal code)."""

from __future__ import annotations

from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from taspa.incidents.texts import kind_title, role_title

MEDIUM_STATES = {
    "writing": _("being written"),
    "failed": _("write failed"),
    "with_secretary": _("with the secretary"),
    "handed_over": _("handed over to the archive"),
    "in_archive": _("in the archive"),
    "destroyed": _("destroyed"),
}

REQUIREMENTS = {
    "required": _("Recording is required"),
    "not_required": _("Recording is not required"),
    "judge_decides": _("The judge decides whether to record"),
}

# Signers of acts that the incidents' wording does not name (R26: the archivist).
SIGNERS = {"archivist": _("Archivist")}

ACT_STATUSES = {"pending": _("waiting for signatures"), "complete": _("signed by everyone")}


def language() -> str:
    code = (get_language() or "kk")[:2]
    return code if code in ("kk", "ru", "en") else "kk"


def rule_clause(rule: str) -> str:
    """A rule id ("R3.1") as a reader knows it: clause 3.1 of the Rules (no id on a page)."""
    return gettext("clause %(clause)s of the Rules") % {"clause": rule.removeprefix("R")}


def medium_state(state: str) -> str:
    return str(MEDIUM_STATES.get(state, state))


def incident_kind(kind: str) -> str:
    return kind_title(kind, language())


def signer_role(role: str) -> str:
    if role in SIGNERS:
        return str(SIGNERS[role])
    return role_title(role, language())


def act_status(status: str) -> str:
    return str(ACT_STATUSES.get(status, status))
