"""The panels of each role's dashboard, read through the areas' own models and selectors.

Areas that land later (acts, custody, replication, petitions) are read when their modules are
installed; until then their panel says so instead of failing. Which panels a person sees
follows their roles (``courts.policy.Role``); what rows they see follows the same court scoping
as everything else (``visible_hearings``, the areas' ``visible_*`` selectors).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from taspa.courts.models import Court, Hearing, HearingParticipant, User
from taspa.courts.policy import COURT_STAFF_ROLES, PARTY_ROLES, REGIONAL_ROLES, Action, Role
from taspa.courts.selectors import assignments_of, court_scope, visible_hearings
from taspa.incidents.detail_text import incident_text
from taspa.incidents.models import Incident
from taspa.web.labels import rule_clause

ROWS = 50


@dataclass(frozen=True)
class Cell:
    text: str
    href: str = ""
    tone: str = ""  # "" | "bad" | "ok"


@dataclass
class Panel:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    unavailable: bool = False  # the area is not installed on this server yet
    link: Cell | None = None  # where the panel's work is done


def optional(module: str) -> ModuleType | None:
    """An area's module, or None while that area is not part of this installation."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def roles_of(user: User) -> set[str]:
    return {a.role for a in assignments_of(user)}


def panels_for(user: User) -> list[Panel]:
    """The dashboard of ``user``: one panel per concern of their roles."""
    roles = roles_of(user)
    staff = bool(roles & (COURT_STAFF_ROLES | REGIONAL_ROLES | {Role.SYSTEM_ADMIN}))
    panels: list[Panel] = []
    if roles & ({Role.JUDGE, Role.COURT_ADMIN, Role.SYSTEM_ADMIN} | REGIONAL_ROLES):
        panels += [incidents_panel(user), acts_panel(user), not_recorded_panel(user)]
    if Role.JUDGE in roles:  # R3.4, R9: what waits for the judge's own decision
        from taspa.web.judge_dashboard import decisions_panel

        panels.insert(0, decisions_panel(user))
    if roles & (REGIONAL_ROLES | {Role.SYSTEM_ADMIN}):
        panels.append(replication_panel(user))
    if roles & {Role.ARCHIVIST, Role.COURT_ADMIN}:
        panels.append(custody_panel(user))
    if staff and Court.objects.filter(court_scope(user, Action.HANDLE_PETITIONS)).exists():
        panels.append(petitions_panel(user, mine=False))
    if roles & PARTY_ROLES:
        panels += [my_hearings_panel(user), petitions_panel(user, mine=True)]
    if roles & {Role.COURT_ADMIN, Role.SYSTEM_ADMIN}:
        panels.append(administration_panel(user))
    return panels


def administration_panel(user: User) -> Panel:
    """Issue 16: the courts whose rooms and people the administrator manages, with how many
    rooms have no capture source (nothing can be recorded there)."""
    courts = (
        Court.objects.filter(court_scope(user, Action.MANAGE_USERS))
        .annotate(
            rooms=Count("courtrooms", distinct=True),
            people=Count("role_assignments__user", distinct=True),
        )
        .order_by("code")[:ROWS]
    )
    empty = {
        c: n
        for c, n in Court.objects.filter(pk__in=[c.pk for c in courts])
        .filter(courtrooms__sources=[])
        .annotate(n=Count("courtrooms"))
        .values_list("pk", "n")
    }
    return Panel(
        key="administration",
        title=_("Courtrooms and people"),
        link=Cell(_("People and roles"), reverse("web:people")),
        columns=[_("Court"), _("Rooms"), _("Rooms without a source"), _("People")],
        rows=[
            [
                Cell(f"{c.code} — {c.name}"),
                Cell(str(c.rooms), reverse("web:courtrooms")),
                Cell(str(empty.get(c.pk, 0)), tone="bad" if empty.get(c.pk) else ""),
                Cell(str(c.people), reverse("web:people")),
            ]
            for c in courts
        ],
    )


def _hearing_cell(hearing: Hearing) -> Cell:
    return Cell(hearing.case.number, reverse("web:console", args=[hearing.pk]))


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def incidents_panel(user: User) -> Panel:
    """R9, R16, R17: failures and breaks in the record in the user's courts, newest first."""
    from taspa.web.labels import incident_kind

    rows = (
        Incident.objects.filter(hearing__in=visible_hearings(user))
        .select_related("hearing__case__court")
        .order_by("-at")[:ROWS]
    )
    return Panel(
        key="incidents",
        title=_("Incidents"),
        link=Cell(_("Incidents and acts"), reverse("web:incidents")),
        columns=[_("Reported at"), _("Court"), _("Case"), _("Kind"), _("Reason")],
        rows=[
            [
                Cell(_when(i.at)),
                Cell(i.hearing.case.court.code),
                _hearing_cell(i.hearing),
                Cell(incident_kind(i.kind), tone="bad"),
                Cell(incident_text(i.detail)),
            ]
            for i in rows
        ],
    )


def acts_panel(user: User) -> Panel:
    """R17, R18: acts that still lack a required signature."""
    panel = Panel(
        key="acts",
        title=_("Acts waiting for signatures"),
        link=Cell(_("Incidents and acts"), reverse("web:incidents")),
        columns=[_("Act"), _("Case"), _("Date"), _("Signed"), _("Document")],
    )
    models = optional("taspa.incidents.models")
    act_model = getattr(models, "Act", None)
    if act_model is None:
        panel.unavailable = True
        return panel
    acts = (
        act_model.objects.filter(hearing__in=visible_hearings(user))
        .exclude(status="complete")
        .annotate(signed=Count("signatures"))
        .select_related("hearing__case")
        .order_by("date")[:ROWS]
    )
    panel.rows = [
        [
            Cell(f"№ {act.number}/{act.year}"),
            _hearing_cell(act.hearing),
            Cell(str(act.date)),
            Cell(f"{act.signed} / {len(act.required_roles)}", tone="bad"),
            Cell("PDF", f"/api/v1/acts/{act.pk}/pdf"),
        ]
        for act in acts
    ]
    return panel


def not_recorded_panel(user: User) -> Panel:
    """R3, R17: hearings that had to be recorded, whose time has passed, with no recording."""
    rows = (
        visible_hearings(user)
        .filter(
            recording_required="required",
            scheduled_at__lt=timezone.now(),
            state__in=[Hearing.State.IDLE, Hearing.State.PREFLIGHT],
        )
        .order_by("-scheduled_at")[:ROWS]
    )
    return Panel(
        key="not_recorded",
        title=_("Hearings not recorded"),
        columns=[_("Scheduled at"), _("Court"), _("Case"), _("Rule")],
        rows=[
            [
                Cell(_when(h.scheduled_at)),
                Cell(h.case.court.code),
                _hearing_cell(h),
                Cell(rule_clause(h.recording_rule), tone="bad"),
            ]
            for h in rows
        ],
    )


def replication_panel(user: User) -> Panel:
    """R23: each court of the region: when its server last reported, what the centre holds."""
    panel = Panel(
        key="replication",
        title=_("Replication to the regional server"),
        link=Cell(_("Replication status"), reverse("web:regional_replication")),
        columns=[_("Court"), _("Last seen"), _("Last acknowledged"), _("Recordings held")],
    )
    models = optional("taspa.replication.models")
    if models is None or not hasattr(models, "Peer"):
        panel.unavailable = True
        return panel
    courts = Court.objects.filter(court_scope(user, Action.VIEW_HEARING)).annotate(
        held=Count("replicas", filter=Q(replicas__state="acknowledged"))
    )
    peers = {p.court_id: p for p in models.Peer.objects.filter(court__in=courts)}
    for court in courts:
        peer = peers.get(court.pk)
        seen = peer.last_seen_at if peer else None
        stale = seen is None or timezone.now() - seen > timezone.timedelta(days=1)
        panel.rows.append(
            [
                Cell(f"{court.code} — {court.name}"),
                Cell(_when(seen) or _("never"), tone="bad" if stale else "ok"),
                Cell(_when(peer.last_acknowledged_at) if peer else ""),
                Cell(str(court.held)),
            ]
        )
    return panel


def custody_panel(user: User) -> Panel:
    """R21, R22, R26: media in the archivist's custody (the custody area, when installed)."""
    panel = Panel(
        key="custody",
        title=_("Media in custody"),
        columns=[_("Case"), _("Medium"), _("Custodian"), _("State")],
    )
    models = optional("taspa.custody.models")
    medium = getattr(models, "Medium", None)
    if medium is None:
        panel.unavailable = True
        return panel
    from taspa.web.labels import medium_state

    panel.link = Cell(_("Case-file media"), reverse("web:media"))
    held = (
        medium.objects.filter(case__court__in=_courts(user))
        .exclude(state__in=["writing", "failed", "destroyed"])
        .select_related("case", "holder")
        .order_by("-id")[:ROWS]
    )
    for item in held:
        panel.rows.append(
            [
                Cell(str(item.case)),
                Cell(f"M-{item.pk}", reverse("web:medium", args=[item.pk])),
                # R21: who answers for the medium now (the holder), never an empty cell.
                Cell(str(item.holder) if item.holder else "—"),
                Cell(medium_state(item.state)),
            ]
        )
    return panel


def _courts(user: User) -> Any:
    return Court.objects.filter(court_scope(user, Action.VIEW_HEARING))


def petitions_panel(user: User, *, mine: bool) -> Panel:
    """R28–R35: petitions with their deadlines (R34), the overdue ones marked."""
    panel = Panel(
        key="my_petitions" if mine else "petitions",
        title=_("My petitions") if mine else _("Petitions and deadlines"),
        columns=[_("Received"), _("Case"), _("Kind"), _("Applicant"), _("Due"), _("State")],
    )
    selectors = optional("taspa.access.selectors")
    if selectors is None or not hasattr(selectors, "visible_petitions"):
        panel.unavailable = True
        return panel
    rows = selectors.visible_petitions(user)
    rows = rows.filter(applicant_user=user) if mine else rows
    if mine:
        panel.link = Cell(_("Petition for a recording"), reverse("access:portal"))
    else:
        panel.link = Cell(_("Petitions for recordings"), reverse("access:petitions"))
    today = timezone.localdate()
    panel.rows = [_petition_row(p, today, selectors) for p in rows.order_by("due_date")[:ROWS]]
    return panel


def _petition_row(petition: Any, today: Any, selectors: ModuleType) -> list[Cell]:
    overdue = petition.state == "open" and selectors.is_overdue(petition, today)
    copy = getattr(petition, "copy", None) if petition.state != "open" else None
    state = Cell(petition.get_state_display())
    if copy is not None:
        state = Cell(_("Download the copy"), f"/api/v1/copies/{copy.pk}/download", "ok")
    return [
        Cell(str(petition.received_at)),
        Cell(petition.hearing.case.number),
        Cell(_("copy") if petition.kind == "copy" else _("review in court")),
        Cell(petition.applicant_name),
        Cell(str(petition.due_date or ""), tone="bad" if overdue else ""),
        state,
    ]


def my_hearings_panel(user: User) -> Panel:
    """A participant's hearings. Recordings reach participants by petition only: a review in
    court or a copy (R28, R30–R32), never by playing them here."""
    hearings = (
        visible_hearings(user)
        .filter(pk__in=HearingParticipant.objects.filter(user=user).values("hearing_id"))
        .order_by("-scheduled_at", "-id")[:ROWS]
    )
    rows = [
        [
            Cell(_when(hearing.scheduled_at)),
            Cell(hearing.case.court.name),
            Cell(hearing.case.number),
            Cell(hearing.get_state_display()),
        ]
        for hearing in hearings
    ]
    return Panel(
        key="my_hearings",
        title=_("My hearings"),
        columns=[_("Scheduled at"), _("Court"), _("Case"), _("State")],
        rows=rows,
    )
