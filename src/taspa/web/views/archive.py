"""Case-file media in the browser (R12, R15, R21, R22, R24–R26, R29): writing a sealed
recording onto a medium, its envelope label, the handover to the archivist and its acceptance,
visual checks, the case inventory, the judgment date that starts the retention period, and the
destruction act of media whose period is over. Thin: ``custody.actions`` and
``retention.actions`` decide and write, exactly as the API calls them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from taspa.courts.models import Case, Court, User
from taspa.courts.policy import Action, Role
from taspa.courts.selectors import court_scope, has_role, visible_courts
from taspa.custody import actions, selectors
from taspa.custody.models import DestructionAct, Medium
from taspa.custody.policy import HELD_STATES, MediumState
from taspa.errors import DomainError, Forbidden
from taspa.recorder.models import Recording
from taspa.web import labels
from taspa.web.forms import HandoverForm, JudgmentForm, MountForm, VisualCheckForm

ROWS = 100


def _courts(user: User) -> Any:
    """Courts whose media the user sees (as the API: court staff, their region's staff); a
    party or a person without a court gets a 404."""
    courts = visible_courts(user)
    if not courts.exists():
        raise Http404
    return courts


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M") if moment else ""


def _medium_row(medium: Medium) -> dict[str, Any]:
    entry = getattr(medium, "inventory_entry", None)
    return {
        "medium": medium,
        "name": f"M-{medium.pk}",
        "state": labels.medium_state(medium.state),
        "holder": str(medium.holder) if medium.holder else "—",
        "since": _when(medium.holder_since),
        "inventory": entry.number if entry else "",
        "until": selectors.retention_until_of(medium),
    }


@login_required
@require_GET
def media(request: HttpRequest) -> HttpResponse:
    courts = _courts(request.user)
    found = (
        Medium.objects.filter(case__court__in=courts)
        .exclude(state=MediumState.WRITING)
        .select_related("case__court", "holder", "inventory_entry")
        .order_by("-id")[:ROWS]
    )
    held = Medium.objects.filter(state__in=HELD_STATES).values("recording_id")
    writable = (
        Recording.objects.filter(state=Recording.State.SEALED, hearing__case__court__in=courts)
        .exclude(pk__in=held)
        .select_related("hearing__case")
        .order_by("-id")[:ROWS]
    )
    today = timezone.localdate()
    due = [
        {"court": court, "items": selectors.due_media(court, today)}
        for court in courts
        if has_role(request.user, Role.ARCHIVIST, court)
        or has_role(request.user, Role.COURT_ADMIN, court)
    ]
    context = {
        "rows": [_medium_row(m) for m in found],
        "writable": writable,
        "mount_form": MountForm(),
        "due": [d for d in due if d["items"]],
        "destruction_acts": _destruction_acts(request.user, courts),
    }
    return render(request, "web/media.html", context)


@login_required
@require_POST
def write(request: HttpRequest, recording_id: int) -> HttpResponse:
    """R12, R33: empty the mounted medium and write the sealed recording onto it."""
    courts = _courts(request.user)
    recording = Recording.objects.filter(pk=recording_id, hearing__case__court__in=courts).first()
    if recording is None:
        raise Http404
    form = MountForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["mount"]))
        return redirect("web:media")
    try:
        medium = actions.write_medium(
            actor=request.user, recording=recording, mount=form.cleaned_data["mount"]
        )
    except Forbidden as refusal:
        raise PermissionDenied(refusal.detail) from None  # 403, as the API answers
    except DomainError as refusal:
        messages.error(request, _(refusal.detail))
        return redirect("web:media")
    messages.success(request, _("Medium M-%(id)s is written and checked.") % {"id": medium.pk})
    return redirect("web:medium", medium_id=medium.pk)


def _medium(request: HttpRequest, medium_id: int) -> Medium:
    medium = (
        Medium.objects.filter(pk=medium_id, case__court__in=_courts(request.user))
        .select_related("case__court", "recording__hearing", "holder")
        .first()
    )
    if medium is None:
        raise Http404
    return medium


def _archivists(court: Court) -> Any:
    return User.objects.filter(
        is_active=True, role_assignments__role=Role.ARCHIVIST, role_assignments__court=court
    ).order_by("full_name")


@login_required
@require_GET
def medium(request: HttpRequest, medium_id: int) -> HttpResponse:
    found = _medium(request, medium_id)
    return render(request, "web/medium.html", _medium_context(request.user, found))


def _medium_context(user: User, medium: Medium, **forms_: Any) -> dict[str, Any]:
    court = medium.case.court
    pending = medium.handovers.filter(accepted_at__isnull=True).order_by("-handed_at").first()
    holder_or_admin = user.pk == medium.holder_id or has_role(user, Role.COURT_ADMIN, court)
    return {
        "row": _medium_row(medium),
        "hearing": medium.recording.hearing,
        "handovers": medium.handovers.select_related("from_user", "to_user"),
        "checks": medium.visual_checks.select_related("checked_by"),
        "may_hand_over": medium.state == MediumState.WITH_SECRETARY and holder_or_admin,
        "may_accept": medium.state == MediumState.HANDED_OVER
        and pending is not None
        and pending.to_user_id == user.pk,
        "may_check": medium.state in HELD_STATES,
        "handover_form": forms_.get("handover") or HandoverForm(archivists=_archivists(court)),
        "accept_form": forms_.get("accept") or MountForm(),
        "check_form": forms_.get("check") or VisualCheckForm(),
    }


@login_required
@require_POST
def medium_step(request: HttpRequest, medium_id: int, step: str) -> HttpResponse:
    """R21 handover, R22 acceptance, R29 visual check — each the action the API calls."""
    found = _medium(request, medium_id)
    court = found.case.court
    if step == "handover":
        form: forms.Form = HandoverForm(request.POST, archivists=_archivists(court))
        call = lambda data: actions.hand_over(actor=request.user, medium=found, to=data["to"])  # noqa: E731
        done, key = _("The medium is handed over."), "handover"
    elif step == "accept":
        form = MountForm(request.POST)
        call = lambda data: actions.accept_medium(  # noqa: E731
            actor=request.user, medium=found, mount=data["mount"]
        )
        done, key = _("The medium is accepted into the archive."), "accept"
    elif step == "visual-check":
        form = VisualCheckForm(request.POST)
        call = lambda data: actions.record_visual_check(  # noqa: E731
            actor=request.user, medium=found, intact=data["intact"], note=data["note"]
        )
        done, key = _("The visual check is recorded."), "check"
    else:
        raise Http404
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except Forbidden as refusal:
            raise PermissionDenied(refusal.detail) from None  # 403, as the API answers
        except DomainError as refusal:
            messages.error(request, _(refusal.detail))
        else:
            messages.success(request, done)
        return redirect("web:medium", medium_id=found.pk)
    found.refresh_from_db()
    context = _medium_context(request.user, found, **{key: form})
    return render(request, "web/medium.html", context, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def inventory(request: HttpRequest, case_id: int) -> HttpResponse:
    """R12: the case inventory's media entries; R24: the date the judgment took effect."""
    case = Case.objects.filter(pk=case_id, court__in=_courts(request.user)).first()
    if case is None:
        raise Http404
    form = JudgmentForm(request.POST or None, initial={"effective_on": case.judgment_effective_on})
    if request.method == "POST" and form.is_valid():
        from taspa.retention.actions import set_judgment_effective

        try:
            set_judgment_effective(
                actor=request.user, case=case, effective_on=form.cleaned_data["effective_on"].date()
            )
        except Forbidden as refusal:
            raise PermissionDenied(refusal.detail) from None  # 403, as the API answers
        except DomainError as refusal:
            form.add_error("effective_on", _(refusal.detail))
        else:
            messages.success(request, _("The date is recorded."))
            return redirect("web:inventory", case_id=case.pk)
    language = labels.language()
    entries = [
        {
            "number": e.number,
            # The entry is kept in Russian; its Kazakh wording follows from the same facts.
            "after": selectors.inventory_texts(e.medium)["after_kk"]
            if language == "kk"
            else e.after_document,
            "title": e.title_kk if language == "kk" else e.title_ru,
            "medium": e.medium,
            "state": labels.medium_state(e.medium.state),
        }
        for e in case.inventory.select_related("medium__recording__hearing")
    ]
    may_set = Court.objects.filter(
        court_scope(request.user, Action.MANAGE_RETENTION), pk=case.court_id
    ).exists()
    context = {
        "case": case,
        "entries": entries,
        "form": form,
        "may_set": may_set,
        "may_accept": has_role(request.user, Role.ARCHIVIST, case.court),
        "acceptance": case.archive_acceptances.order_by("-accepted_at", "-id").first(),
    }
    return render(request, "web/inventory.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def destruction(request: HttpRequest, court_id: int) -> HttpResponse:
    """R25, R26: the destruction act for the chosen media whose retention period is over."""
    court = _courts(request.user).filter(pk=court_id).first()
    if court is None:
        raise Http404
    ids = [i for i in request.POST.getlist("medium") if i.isascii() and i.isdigit()]
    chosen = list(Medium.objects.filter(pk__in=ids, case__court=court))
    try:
        act = actions.draw_up_destruction_act(actor=request.user, court=court, media=chosen)
    except Forbidden as refusal:
        raise PermissionDenied(refusal.detail) from None  # 403, as the API answers
    except DomainError as refusal:
        messages.error(request, _(refusal.detail))
        return redirect("web:media")
    messages.success(
        request,
        _("Destruction act № %(number)s/%(year)s is drawn up.")
        % {"number": act.number, "year": act.year},
    )
    return redirect(f"{reverse('web:media')}#destroyed")


def _destruction_acts(user: User, courts: Any) -> list[dict[str, Any]]:
    """R26: the destruction acts with who signed and who still has to (nothing is destroyed
    before the last signature)."""
    found = (
        DestructionAct.objects.filter(court__in=courts)
        .prefetch_related("signatures__user", "media")
        .order_by("-year", "-number")[:ROWS]
    )
    rows = []
    for act in found:
        signed = {s.role: s for s in act.signatures.all()}
        signers = [
            {
                "role": labels.signer_role(role),
                "name": str(signed[role].user) if role in signed else "",
                "at": _when(signed[role].signed_at) if role in signed else "",
            }
            for role in act.required_roles
        ]
        mine = [r for r in act.required_roles if r not in signed and has_role(user, r, act.court)]
        rows.append(
            {
                "act": act,
                "number": f"№ {act.number}/{act.year}",
                "media": [f"M-{m.pk}" for m in act.media.all()],
                "complete": act.status == "complete",
                "status": labels.act_status(act.status),
                "signers": signers,
                "may_sign": bool(mine) and not any(s.user_id == user.pk for s in signed.values()),
            }
        )
    return rows


@login_required
@require_POST
def destruction_sign(request: HttpRequest, act_id: int) -> HttpResponse:
    """R26: sign the destruction act with the signer's own key; the last signature destroys."""
    act = DestructionAct.objects.filter(pk=act_id, court__in=_courts(request.user)).first()
    if act is None:
        raise Http404
    try:
        act = actions.sign_destruction_act(actor=request.user, act=act)
    except Forbidden as refusal:
        raise PermissionDenied(refusal.detail) from None
    except DomainError as refusal:
        messages.error(request, _(refusal.detail))
    else:
        messages.success(
            request, _("You signed destruction act № %(number)s.") % {"number": act.number}
        )
    return redirect(f"{reverse('web:media')}#destruction-acts")


@login_required
@require_POST
def accept_case(request: HttpRequest, case_id: int) -> HttpResponse:
    """R22: the archivist accepts the case; a recorded hearing without its medium is flagged."""
    case = Case.objects.filter(pk=case_id, court__in=_courts(request.user)).first()
    if case is None:
        raise Http404
    try:
        acceptance = actions.accept_case(actor=request.user, case=case)
    except Forbidden as refusal:
        raise PermissionDenied(refusal.detail) from None
    except DomainError as refusal:
        messages.error(request, _(refusal.detail))
    else:
        if acceptance.missing:
            messages.error(
                request,
                _("The case is accepted, but %(count)d recorded hearing(s) came without a medium.")
                % {"count": len(acceptance.missing)},
            )
        else:
            messages.success(
                request, _("The case is accepted into the archive; every medium is there.")
            )
    return redirect("web:inventory", case_id=case.pk)
