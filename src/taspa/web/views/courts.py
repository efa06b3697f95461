"""Courts and courtrooms in the browser (issue 16): the system administrator creates and edits
courts; the system administrator and the court administrator (in their own court) create rooms
and set their capture sources, the ffmpeg inputs the recorder reads (R20: administrators
only). Thin: the forms parse with the API's limits, ``courts.actions`` decides and writes,
exactly as ``POST /courts`` and ``POST /courtrooms`` call it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from taspa.courts import actions
from taspa.courts.models import Court, Courtroom, User
from taspa.courts.policy import Action
from taspa.courts.selectors import court_scope, is_system_admin
from taspa.errors import DomainError
from taspa.web.people_forms import (
    SOURCE_KIND_LABELS,
    CourtEditForm,
    CourtForm,
    CourtroomEditForm,
    CourtroomForm,
    level_label,
    source_formset,
)
from taspa.web.views.people import refusal_text

# The action's refusal codes that belong to one field of the form.
FIELD_OF_CODE = {"court_exists": "code", "courtroom_exists": "name", "invalid_sources": None}


def _system_admin(user: User) -> None:
    if not is_system_admin(user):
        raise Http404  # courts are the system administrator's; nobody else sees the page


def room_courts(user: User) -> Any:
    """The courts whose rooms ``user`` manages (MANAGE_COURTROOMS)."""
    return Court.objects.filter(court_scope(user, Action.MANAGE_COURTROOMS))


@login_required
@require_http_methods(["GET", "POST"])
def courts(request: HttpRequest) -> HttpResponse:
    _system_admin(request.user)
    form = CourtForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            court = actions.create_court(actor=request.user, **form.cleaned_data)
        except DomainError as refusal:
            form.add_error(FIELD_OF_CODE.get(refusal.code), refusal_text(refusal))
        else:
            messages.success(request, _("The court %(code)s is created.") % {"code": court.code})
            return redirect("web:courts")
    rows = Court.objects.annotate(rooms=Count("courtrooms", distinct=True)).order_by("code")
    context = {
        "form": form,
        "rows": [{"court": c, "level": level_label(c.level), "rooms": c.rooms} for c in rows],
    }
    return render(request, "web/courts.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def court_edit(request: HttpRequest, court_id: int) -> HttpResponse:
    _system_admin(request.user)
    court = Court.objects.filter(pk=court_id).first()
    if court is None:
        raise Http404
    initial = {"name": court.name, "region": court.region}
    form = CourtEditForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.edit_court(actor=request.user, court=court, **form.cleaned_data)
        except DomainError as refusal:
            form.add_error(None, refusal_text(refusal))
        else:
            messages.success(request, _("The changes are saved."))
            return redirect("web:courts")
    context = {"form": form, "court": court, "level": level_label(court.level)}
    return render(request, "web/court_edit.html", context)


def _sources_text(sources: list[dict[str, Any]]) -> list[str]:
    """Each source as a reader knows it: sound or picture, and its label on the console."""
    return [
        " — ".join(
            filter(None, [str(SOURCE_KIND_LABELS.get(s.get("kind"), "")), s.get("label", "")])
        )
        for s in sources
    ]


@login_required
@require_http_methods(["GET", "POST"])
def courtrooms(request: HttpRequest) -> HttpResponse:
    scope = room_courts(request.user)
    if not scope.exists():
        raise Http404
    bound = request.POST if request.method == "POST" else None
    form = CourtroomForm(bound, courts=scope, initial={"court": scope.first()})
    sources = source_formset(bound)
    if request.method == "POST" and form.is_valid() & sources.is_valid():
        try:
            room = actions.create_courtroom(
                actor=request.user,
                court=form.cleaned_data["court"],
                name=form.cleaned_data["name"],
                sources=sources.sources(),
            )
        except DomainError as refusal:
            form.add_error(FIELD_OF_CODE.get(refusal.code), refusal_text(refusal))
        else:
            messages.success(request, _("The room %(name)s is created.") % {"name": room.name})
            return redirect("web:courtrooms")
    rooms = Courtroom.objects.filter(court__in=scope).select_related("court")
    context = {
        "form": form,
        "sources": sources,
        "rows": [{"room": r, "sources": _sources_text(r.sources or [])} for r in rooms],
    }
    return render(request, "web/courtrooms.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def courtroom_edit(request: HttpRequest, room_id: int) -> HttpResponse:
    room = (
        Courtroom.objects.filter(pk=room_id, court__in=room_courts(request.user))
        .select_related("court")
        .first()
    )
    if room is None:
        raise Http404  # another court's room is not shown, not merely refused
    bound = request.POST if request.method == "POST" else None
    form = CourtroomEditForm(bound, initial={"name": room.name})
    sources = source_formset(bound, room.sources or [])
    if request.method == "POST" and form.is_valid() & sources.is_valid():
        try:
            actions.edit_courtroom(
                actor=request.user,
                courtroom=room,
                name=form.cleaned_data["name"],
                sources=sources.sources(),
            )
        except DomainError as refusal:
            form.add_error(FIELD_OF_CODE.get(refusal.code), refusal_text(refusal))
        else:
            messages.success(request, _("The changes are saved."))
            return redirect("web:courtrooms")
    return render(
        request, "web/courtroom_edit.html", {"form": form, "sources": sources, "room": room}
    )
