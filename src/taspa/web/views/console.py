"""The secretary's console (R6–R12, R16): thin views over ``taspa.recorder.actions`` and
``taspa.incidents.actions`` — the same actions the API calls, so every rule lives once.

Buttons post with htmx; each answer is the re-rendered control panel, and the header
``HX-Trigger: timeline-changed`` makes the timeline fetch itself again.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from taspa.courts.models import Hearing
from taspa.errors import DomainError
from taspa.incidents.actions import report_incident
from taspa.incidents.policy import REPORTABLE_KINDS, announcement_text
from taspa.recorder import actions, monitor
from taspa.web import selectors


def _hearing(request: HttpRequest, hearing_id: int) -> Hearing:
    hearing = selectors.visible_hearing(request.user, hearing_id)
    if hearing is None:
        raise Http404
    return hearing


def _context(request: HttpRequest, hearing: Hearing, **extra) -> dict:
    hearing.refresh_from_db(fields=["state"])
    preflight = selectors.latest_preflight(hearing)
    return {
        "hearing": hearing,
        "operator": selectors.may_operate(request.user, hearing),
        "recording": selectors.recording_of(hearing),
        "preflight": preflight,
        "announcement": announcement_text(get_language() or "kk"),
        "pause_reasons": selectors.pause_labels(),
        "mark_buttons": selectors.mark_buttons(hearing),
        "incident_kinds": [k.value for k in REPORTABLE_KINDS],
        "live": hearing.state in (Hearing.State.RECORDING, Hearing.State.PAUSED),
        "may_monitor": selectors.may_monitor(request.user, hearing),
        "agent": selectors.agent_status(hearing),
    } | extra


@login_required
@require_GET
def console(request: HttpRequest, hearing_id: int) -> HttpResponse:
    hearing = _hearing(request, hearing_id)
    return render(request, "web/console.html", _context(request, hearing))


@login_required
@require_GET
def timeline(request: HttpRequest, hearing_id: int) -> HttpResponse:
    hearing = _hearing(request, hearing_id)
    entries = selectors.timeline(hearing)
    return render(request, "web/_timeline.html", {"entries": entries, "hearing": hearing})


@login_required
@require_GET
def agent(request: HttpRequest, hearing_id: int) -> HttpResponse:
    """The courtroom computer's state for a hearing its agent records (refreshed by htmx)."""
    hearing = _hearing(request, hearing_id)
    context = {"hearing": hearing, "agent": selectors.agent_status(hearing)}
    return render(request, "web/_agent.html", context)


@login_required
@require_GET
def listen(request: HttpRequest, hearing_id: int) -> HttpResponse:
    """R11: the live capture as MP3 for the secretary's headphones (``recorder.monitor``)."""
    hearing = _hearing(request, hearing_id)
    if not selectors.may_monitor(request.user, hearing):
        return HttpResponse(_("Only the hearing's secretary and judge listen live."), status=403)
    live = monitor.live_media(hearing)
    if live is None:
        return HttpResponse(_("The hearing is not being recorded."), status=409)
    if monitor.listeners(hearing.pk) >= monitor.MAX_LISTENERS:
        return HttpResponse(_("Too many listeners to this hearing."), status=503)
    response = StreamingHttpResponse(monitor.listen(live), content_type="audio/mpeg")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response


def _preflight(request: HttpRequest, hearing: Hearing) -> str:
    result = actions.run_preflight(actor=request.user, hearing=hearing)
    return _("Equipment check passed.") if result.ok else _("Equipment check failed.")


def _start(request: HttpRequest, hearing: Hearing) -> str:
    actions.start_recording(actor=request.user, hearing=hearing)
    return _("Recording started.")


def _pause(request: HttpRequest, hearing: Hearing) -> str:
    # R6: the reason comes from one of the lawful buttons; the action refuses any other.
    reason = request.POST.get("reason", "")
    actions.pause_recording(actor=request.user, hearing=hearing, reason=reason)
    return _("Recording paused.")


def _resume(request: HttpRequest, hearing: Hearing) -> str:
    actions.resume_recording(actor=request.user, hearing=hearing)
    return _("Recording resumed.")


def _stop(request: HttpRequest, hearing: Hearing) -> str:
    actions.stop_recording(actor=request.user, hearing=hearing)
    return _("Recording stopped.")


def _mark(request: HttpRequest, hearing: Hearing) -> str:
    mark = actions.add_mark(
        actor=request.user,
        hearing=hearing,
        speaker=request.POST.get("speaker", ""),
        role=request.POST.get("role", ""),
    )
    return _("Mark placed: %(speaker)s at %(offset)s") % {
        "speaker": mark.speaker,
        "offset": clock(mark.offset_s),
    }


def _incident(request: HttpRequest, hearing: Hearing) -> str:
    report_incident(
        actor=request.user,
        hearing=hearing,
        kind=request.POST.get("kind", ""),
        detail=request.POST.get("detail", ""),
    )
    return _("Incident reported. Read the announcement to the participants (R16).")


OPERATIONS: dict[str, Callable[[HttpRequest, Hearing], str]] = {
    "preflight": _preflight,
    "start": _start,
    "pause": _pause,
    "resume": _resume,
    "stop": _stop,
    "mark": _mark,
    "incident": _incident,
}


@login_required
@require_POST
def operate(request: HttpRequest, hearing_id: int, operation: str) -> HttpResponse:
    """Run one console operation and answer with the control panel as it now stands."""
    hearing = _hearing(request, hearing_id)
    handler = OPERATIONS.get(operation)
    if handler is None:
        raise Http404
    try:
        message, error = handler(request, hearing), None
    except DomainError as refusal:
        message, error = None, refusal.detail
    context = _context(request, hearing, message=message, error=error, operation=operation)
    response = render(request, "web/_controls.html", context)
    response["HX-Trigger"] = "timeline-changed"
    return response


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
