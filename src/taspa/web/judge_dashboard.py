"""The judge's panel of the dashboard (issue 16): the hearings that wait for the judge's own
decision on the minutes (R3.4), and those whose minutes must state why they were not (fully)
recorded (R9) — each with the page where the judge decides or reads it."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from taspa.courts.models import Hearing, User
from taspa.courts.selectors import visible_hearings
from taspa.incidents.models import Incident, MinutesDecision
from taspa.incidents.policy import ACT_KINDS
from taspa.web.dashboards import ROWS, Cell, Panel


def _when(hearing: Hearing) -> str:
    return timezone.localtime(hearing.scheduled_at).strftime("%Y-%m-%d %H:%M")


def decisions_panel(user: User) -> Panel:
    """The judge's own hearings that ask something of the judge."""
    decided = MinutesDecision.objects.filter(hearing=OuterRef("pk"))
    unrecorded = Incident.objects.filter(
        hearing=OuterRef("pk"), kind__in=[k.value for k in ACT_KINDS]
    )
    mine = visible_hearings(user, as_party=False).filter(judge=user)
    waiting = (
        mine.filter(recording_required="judge_decides")
        .exclude(Exists(decided))
        .order_by("-scheduled_at", "-id")[:ROWS]
    )
    stated = mine.filter(Exists(unrecorded)).order_by("-scheduled_at", "-id")[:ROWS]
    rows = [
        [
            Cell(_when(h)),
            Cell(h.case.number),
            Cell(_("Decide whether minutes are kept"), tone="bad"),
            Cell(_("Decide"), reverse("web:minutes_decision", args=[h.pk])),
        ]
        for h in waiting
    ]
    rows += [
        [
            Cell(_when(h)),
            Cell(h.case.number),
            Cell(_("Not (fully) recorded: the minutes state why")),
            Cell(_("Minutes of the hearing"), reverse("web:minutes_decision", args=[h.pk])),
        ]
        for h in stated
    ]
    return Panel(
        key="judge_decisions",
        title=_("The judge's decisions"),
        columns=[_("Scheduled at"), _("Case"), _("What is asked"), _("Page")],
        rows=rows,
    )
