"""Scheduling and editing hearings in the browser (court administrator, secretary, judge), with
the answer of R3–R5 — recording required or not, and why — shown before anything is saved.
Thin: the form parses, ``courts.actions.schedule_hearing`` / ``edit_hearing`` decide and write,
exactly as the API calls them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from taspa.courts import actions
from taspa.courts.models import Case, Court, Courtroom, Hearing, User
from taspa.courts.policy import (
    Action,
    CaseKind,
    Instance,
    RecordingDecision,
    Role,
    recording_requirement,
)
from taspa.courts.selectors import court_scope
from taspa.errors import DomainError, Forbidden
from taspa.web import labels
from taspa.web.forms import HearingForm

# The action's refusal codes that belong to one field of the form.
FIELD_OF_CODE = {
    "date_out_of_range": "scheduled_at",
    "courtroom_of_another_court": "courtroom",
    "instance_not_heard_here": "instance",
    "not_a_secretary_of_court": "secretary",
    "not_a_judge_of_court": "judge",
    "judge_is_secretary": "secretary",
    "participant_as_judge": "judge",
    "participant_as_secretary": "secretary",
    "text_too_long": "participants",
    "nul_character": "participants",
    "invalid_participant": "participants",
    "too_many_participants": "participants",
}


def _courts(user: User) -> Any:
    return Court.objects.filter(court_scope(user, Action.SCHEDULE_HEARING))


def _people(courts: Any, role: Role) -> Any:
    return (
        User.objects.filter(
            is_active=True, role_assignments__role=role, role_assignments__court__in=courts
        )
        .distinct()
        .order_by("full_name", "username")
    )


def _form(request: HttpRequest, courts: Any, **kwargs: Any) -> HearingForm:
    return HearingForm(
        request.POST if request.method == "POST" else None,
        cases=Case.objects.filter(court__in=courts).select_related("court").order_by("-id"),
        rooms=Courtroom.objects.filter(court__in=courts).select_related("court"),
        judges=_people(courts, Role.JUDGE),
        secretaries=_people(courts, Role.SECRETARY),
        **kwargs,
    )


def _decision(form: HearingForm, case: Case | None) -> RecordingDecision | None:
    """R3–R5 on what the form holds so far (the pure rule: nothing is written)."""
    data = form.data if form.is_bound else form.initial
    case = case or Case.objects.filter(pk=str(data.get("case", "")).strip() or None).first()
    try:
        instance = Instance(data.get("instance") or Instance.FIRST)
    except ValueError:
        return None
    if case is None:
        return None
    chosen = (
        data.getlist("circumstances") if hasattr(data, "getlist") else data.get("circumstances", [])
    )
    facts = {name: True for name in chosen}
    return recording_requirement(instance=instance, kind=CaseKind(case.kind), circumstances=facts)


def _context(form: HearingForm, decision: RecordingDecision | None, **extra: Any) -> dict:
    explanation = ""
    if decision is not None:
        explanation = decision.explanation(labels.language())
    return {
        "form": form,
        "decision": decision,
        "requirement": labels.REQUIREMENTS.get(decision.requirement, "") if decision else "",
        "explanation": explanation,
        **extra,
    }


def _save(request: HttpRequest, form: HearingForm, hearing: Hearing | None) -> Hearing | None:
    """Call the action; a refusal goes next to its field (or above the form)."""
    try:
        if hearing is None:
            return actions.schedule_hearing(
                actor=request.user, case=form.cleaned_data["case"], **form.action_arguments()
            )
        return actions.edit_hearing(actor=request.user, hearing=hearing, **form.action_arguments())
    except Forbidden as refusal:
        raise PermissionDenied(refusal.detail) from None
    except DomainError as refusal:
        form.add_error(FIELD_OF_CODE.get(refusal.code), _(refusal.detail))
        return None


@login_required
@require_http_methods(["GET", "POST"])
def schedule(request: HttpRequest) -> HttpResponse:
    """A new hearing. ``preview`` (or a change of a field, through htmx) answers R3–R5 only."""
    courts = _courts(request.user)
    if not courts.exists():
        raise Http404
    form = _form(request, courts, initial={"scheduled_at": _next_hour()})
    if request.method == "POST" and "preview" not in request.POST and form.is_valid():
        hearing = _save(request, form, None)
        if hearing is not None:
            messages.success(request, _("The hearing is scheduled."))
            return redirect("web:hearing_edit", hearing_id=hearing.pk)
    upcoming = (
        Hearing.objects.filter(case__court__in=courts, state=Hearing.State.IDLE)
        .select_related("case", "courtroom")
        .order_by("-scheduled_at", "-id")[:20]
    )
    context = _context(form, _decision(form, None), upcoming=upcoming)
    return render(request, "web/schedule.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, hearing_id: int) -> HttpResponse:
    courts = _courts(request.user)
    hearing = (
        Hearing.objects.filter(pk=hearing_id, case__court__in=courts)
        .select_related("case__court", "courtroom", "judge", "secretary")
        .first()
    )
    if hearing is None:
        raise Http404
    form = _form(request, courts, initial=_initial(hearing))
    form.fields["case"].disabled = True  # a hearing stays in its case
    editable = hearing.state == Hearing.State.IDLE
    saving = request.method == "POST" and editable and "preview" not in request.POST
    if saving and form.is_valid() and _save(request, form, hearing) is not None:
        messages.success(request, _("The hearing is changed."))
        return redirect("web:hearing_edit", hearing_id=hearing.pk)
    context = _context(form, _decision(form, hearing.case), hearing=hearing, editable=editable)
    return render(request, "web/schedule.html", context)


def _initial(hearing: Hearing) -> dict[str, Any]:
    return {
        "case": hearing.case_id,
        "courtroom": hearing.courtroom_id,
        "instance": hearing.instance,
        "scheduled_at": timezone.localtime(hearing.scheduled_at).replace(tzinfo=None),
        "judge": hearing.judge_id,
        "secretary": hearing.secretary_id,
        "closed": hearing.closed,
        "participants": "\n".join(f"{p.name}, {p.role}" for p in hearing.participants.all()),
        "circumstances": [k for k, v in hearing.circumstances.items() if v],
    }


def _next_hour() -> Any:
    now = timezone.localtime()
    return (now + timezone.timedelta(hours=1)).replace(
        minute=0, second=0, microsecond=0, tzinfo=None
    )
