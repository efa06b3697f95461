"""The court administrator's incidents in the browser (R9, R17, R18): the notices inbox, each
incident with its forwarding to the regional staff, acts drawn up from a hearing's incidents and
signed with the signer's registered key, and who still has to sign. Court and regional staff
see the page for their courts; parties never do. Thin: ``incidents.actions`` and
``incidents.acts`` decide and write, exactly as the API calls them."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from taspa.courts.models import Hearing, User
from taspa.courts.policy import Role
from taspa.courts.selectors import has_role, visible_courts, visible_hearings
from taspa.errors import DomainError, Forbidden
from taspa.incidents import actions, acts
from taspa.incidents.models import Act, Incident, Notification
from taspa.web import labels
from taspa.web.forms import ForwardForm

ROWS = 100


def _staff_hearings(user: User) -> Any:
    if not visible_courts(user).exists():
        raise Http404  # parties and people without a court see nothing of it
    return visible_hearings(user, as_party=False)


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M") if moment else ""


@login_required
@require_GET
def incidents(request: HttpRequest) -> HttpResponse:
    hearings = _staff_hearings(request.user)
    found = (
        Incident.objects.filter(hearing__in=hearings)
        .select_related("hearing__case__court")
        .prefetch_related("acts")
        .order_by("-at")[:ROWS]
    )
    by_hearing: dict[int, dict[str, Any]] = defaultdict(lambda: {"incidents": []})
    for incident in found:
        group = by_hearing[incident.hearing_id]
        group["hearing"] = incident.hearing
        group["incidents"].append(_incident_row(request.user, incident))
    for group in by_hearing.values():
        group["may_draw_up"] = any(r["free"] for r in group["incidents"]) and _may_draw_up(
            request.user, group["hearing"]
        )
    context = {
        "notices": _notices(request.user),
        "groups": list(by_hearing.values()),
        "acts": _acts(request.user, hearings),
        "forward_form": ForwardForm(),
    }
    return render(request, "web/incidents.html", context)


def _incident_row(user: User, incident: Incident) -> dict[str, Any]:
    court_admin = has_role(user, Role.COURT_ADMIN, incident.hearing.case.court)
    return {
        "incident": incident,
        "kind": labels.incident_kind(incident.kind),
        "at": _when(incident.at),
        "forwarded_at": _when(incident.forwarded_at),
        "may_forward": court_admin and incident.forwarded_at is None,
        "free": not incident.acts.all(),
        "acts": [f"№ {a.number}/{a.year}" for a in incident.acts.all()],
    }


def _may_draw_up(user: User, hearing: Hearing) -> bool:
    roles = ("secretary", "court_admin", "regional_head", "regional_staff")
    return any(acts.may_sign_as(user, role, hearing) for role in roles)


def _notices(user: User) -> list[dict[str, Any]]:
    rows = Notification.objects.filter(recipient=user).order_by("-created_at", "-id")[:ROWS]
    return [
        {"subject": n.subject, "body": n.body, "at": _when(n.created_at), "unread": not n.read_at}
        for n in rows
    ]


def _acts(user: User, hearings: Any) -> list[dict[str, Any]]:
    found = (
        Act.objects.filter(hearing__in=hearings)
        .select_related("hearing__case__court")
        .prefetch_related("signatures__user")
        .order_by("-year", "-number")[:ROWS]
    )
    return [_act_row(user, act) for act in found]


def _act_row(user: User, act: Act) -> dict[str, Any]:
    signed = {s.role: s for s in act.signatures.all()}
    signers = [
        {
            "role": labels.signer_role(role),
            "name": str(signed[role].user) if role in signed else "",
            "at": _when(signed[role].signed_at) if role in signed else "",
        }
        for role in act.required_roles
    ]
    mine = [
        r for r in act.required_roles if r not in signed and acts.may_sign_as(user, r, act.hearing)
    ]
    already = any(s.user_id == user.pk for s in signed.values())
    return {
        "act": act,
        "number": f"№ {act.number}/{act.year}",
        "status": labels.act_status(act.status),
        "complete": act.status == "complete",
        "signers": signers,
        "missing": [s["role"] for s in signers if not s["name"]],
        "may_sign": bool(mine) and not already,
    }


def _back(request: HttpRequest | None = None) -> HttpResponse:
    """Back to the incidents page, or to the page the form came from (the regional page's
    appeal acts link their signing here): a local address only."""
    back = request.POST.get("next", "") if request is not None else ""
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}):
        return redirect(back)
    return redirect("web:incidents")


@login_required
@require_POST
def forward(request: HttpRequest, incident_id: int) -> HttpResponse:
    """R9: the court administrator informs the regional judicial administration's staff."""
    incident = _incident(request, incident_id)
    form = ForwardForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["note"]))
        return _back()
    try:
        sent = actions.forward_incident(
            actor=request.user, incident=incident, note=form.cleaned_data["note"]
        )
    except Forbidden as refusal:
        raise PermissionDenied(refusal.detail) from None  # 403, as the API answers
    except DomainError as refusal:
        messages.error(request, _(refusal.detail))
    else:
        names = ", ".join(sorted({str(n.recipient) for n in sent}))
        messages.success(request, _("Forwarded to: %(names)s.") % {"names": names})
    return _back()


def _incident(request: HttpRequest, incident_id: int) -> Incident:
    incident = (
        Incident.objects.filter(pk=incident_id, hearing__in=_staff_hearings(request.user))
        .select_related("hearing__case__court")
        .first()
    )
    if incident is None:
        raise Http404
    return incident


@login_required
@require_POST
def draw_up(request: HttpRequest, hearing_id: int) -> HttpResponse:
    """R17: an act on the chosen incidents of one hearing."""
    hearing = _staff_hearings(request.user).filter(pk=hearing_id).first()
    if hearing is None:
        raise Http404
    ids = [i for i in request.POST.getlist("incident") if i.isascii() and i.isdigit()]
    chosen = list(Incident.objects.filter(pk__in=ids, hearing=hearing))
    try:
        act = acts.draw_up_act(actor=request.user, hearing=hearing, incidents=chosen)
    except Forbidden as refusal:
        raise PermissionDenied(refusal.detail) from None  # 403, as the API answers
    except DomainError as refusal:
        messages.error(request, _(refusal.detail))
    else:
        messages.success(request, _("Act %(number)s is drawn up.") % {"number": act.number})
    return _back()


@login_required
@require_POST
def sign(request: HttpRequest, act_id: int) -> HttpResponse:
    """R18: sign both language versions with the signer's own registered key."""
    act = Act.objects.filter(pk=act_id, hearing__in=_staff_hearings(request.user)).first()
    if act is None:
        raise Http404
    try:
        act = acts.sign_act(actor=request.user, act=act)
    except Forbidden as refusal:
        raise PermissionDenied(refusal.detail) from None  # 403, as the API answers
    except DomainError as refusal:
        messages.error(request, _(refusal.detail))
    else:
        messages.success(request, _("You signed act № %(number)s.") % {"number": act.number})
    return _back(request)
