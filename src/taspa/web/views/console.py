"""The secretary's console (R6–R12, R16): thin views over ``taspa.recorder.actions`` and
``taspa.incidents.actions`` — the same actions the API calls, so every rule lives once.

Buttons post with htmx; each answer is the re-rendered control panel, and the header
``HX-Trigger: timeline-changed`` makes the timeline fetch itself again.

The page asks ``state`` every 1.5 s: the answer is its heartbeat (no answer for 5 s: the page
says the connection is lost and disables the buttons), the hearing's state as the server holds
it (a change made elsewhere re-renders the controls) and the recorded time for the counter. A
request of the page that finds its session gone answers 401, never the login page: the page
tells the secretary to sign in again in another tab and keeps its controls.

The console is court staff's: a party to the hearing gets a 404 here, as for any hearing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from taspa import limits
from taspa.courts.actions import require
from taspa.courts.models import Hearing
from taspa.courts.policy import Action
from taspa.courts.selectors import visible_hearings
from taspa.errors import DomainError, InvalidInput
from taspa.incidents.actions import record_announced, record_judge_told, report_incident
from taspa.incidents.models import Incident
from taspa.incidents.policy import REPORTABLE_KINDS, announcement_text
from taspa.incidents.preflight_text import check_rows
from taspa.recorder import actions, monitor, portions
from taspa.recorder.clock import recorded_seconds
from taspa.recorder.models import Mark, Preflight, Recording
from taspa.recorder.selectors import running_portion
from taspa.web import selectors
from taspa.web.labels import incident_kind
from taspa.web.templatetags.clock import hms

NOTE_MAX = 255  # a note is a mark whose text stands where the speaker's name does


def _page_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``login_required`` for the page itself; the page's own requests (htmx, the heartbeat)
    get a 401 instead of the login page, which must never land inside the controls."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated and (
            request.headers.get("HX-Request") or request.headers.get("X-Taspa-Console")
        ):
            return JsonResponse(
                {"error": "not_signed_in", "detail": _("Your session has ended: sign in again.")},
                status=401,
            )
        return login_required(view)(request, *args, **kwargs)

    return guarded


def _hearing(request: HttpRequest, hearing_id: int) -> Hearing:
    # Staff only: a party to the hearing reaches it through the portal, never the console.
    hearing = visible_hearings(request.user, as_party=False).filter(pk=hearing_id).first()
    if hearing is None:
        raise Http404
    return hearing


def recorded_s(recording: Recording | None) -> float:
    """The counter's value now: recording time, lawful pauses out (``recorder.clock``)."""
    if recording is None:
        return 0.0
    pauses = [(p.started_at, p.ended_at) for p in recording.pauses.all()]
    return recorded_seconds(recording.started_at, recording.stopped_at, pauses, timezone.now())


def _incidents(hearing: Hearing) -> list[Incident]:
    incidents = list(hearing.incidents.order_by("at", "id"))
    for incident in incidents:
        incident.label = incident_kind(incident.kind)  # the act's title for it (R9)
    return incidents


def _context(request: HttpRequest, hearing: Hearing, **extra) -> dict:
    hearing.refresh_from_db(fields=["state"])
    preflight = selectors.latest_preflight(hearing)
    recording = selectors.recording_of(hearing)
    return {
        "hearing": hearing,
        "operator": selectors.may_operate(request.user, hearing),
        "recording": recording,
        "recorded_s": recorded_s(recording),
        "incidents": _incidents(hearing),
        "preflight": preflight,
        "preflight_rows": check_rows(preflight.checks) if preflight else [],
        "announcement": announcement_text(get_language() or "kk"),
        "pause_reasons": selectors.pause_labels(),
        "mark_buttons": selectors.mark_buttons(hearing),
        "incident_kinds": [(k.value, incident_kind(k.value)) for k in REPORTABLE_KINDS],
        "live": hearing.state in (Hearing.State.RECORDING, Hearing.State.PAUSED),
        "may_monitor": selectors.may_monitor(request.user, hearing),
        "agent": selectors.agent_status(hearing),
        "closed_portion": running_portion(hearing),  # R32 for part of a hearing
        "override_max": limits.PREFLIGHT_OVERRIDE,  # R8: the reason to start without a check
    } | extra


@_page_login_required
@require_GET
def console(request: HttpRequest, hearing_id: int) -> HttpResponse:
    hearing = _hearing(request, hearing_id)
    return render(request, "web/console.html", _context(request, hearing))


@_page_login_required
@require_GET
def timeline(request: HttpRequest, hearing_id: int) -> HttpResponse:
    hearing = _hearing(request, hearing_id)
    entries = selectors.timeline(hearing)
    context = {
        "entries": entries,
        "hearing": hearing,
        "operator": selectors.may_operate(request.user, hearing),
        # R19: marks change (by a correction appended) until the recording is sealed.
        "correctable": hearing.state
        in (Hearing.State.RECORDING, Hearing.State.PAUSED, Hearing.State.STOPPED),
    }
    return render(request, "web/_timeline.html", context)


@_page_login_required
@require_GET
def controls(request: HttpRequest, hearing_id: int) -> HttpResponse:
    """The control panel as it now stands (the page fetches it when the state moved elsewhere)."""
    hearing = _hearing(request, hearing_id)
    return render(request, "web/_controls.html", _context(request, hearing))


@_page_login_required
@require_GET
def state(request: HttpRequest, hearing_id: int) -> JsonResponse:
    """The page's heartbeat: the hearing's state and the recorded time (for the counter)."""
    hearing = _hearing(request, hearing_id)
    hearing.refresh_from_db(fields=["state"])
    recording = selectors.recording_of(hearing)
    answer = {
        "state": hearing.state,
        "recorded_s": round(recorded_s(recording), 3),
        "running": hearing.state == Hearing.State.RECORDING,
    }
    response = JsonResponse(answer)
    response["Cache-Control"] = "no-store"
    return response


@_page_login_required
@require_GET
def agent(request: HttpRequest, hearing_id: int) -> HttpResponse:
    """The courtroom computer's state for a hearing its agent records (refreshed by htmx)."""
    hearing = _hearing(request, hearing_id)
    context = {"hearing": hearing, "agent": selectors.agent_status(hearing)}
    return render(request, "web/_agent.html", context)


@_page_login_required
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
    """R8: the start follows a passing equipment check of the courtroom; without one, the
    secretary may start anyway with the reason (the same action, audited there)."""
    if not request.POST.get("without_check"):
        actions.start_recording(actor=request.user, hearing=hearing)
        return _("Recording started.")
    reason = request.POST.get("override_reason", "")
    problem = limits.text_problem(reason, limits.PREFLIGHT_OVERRIDE)
    if problem is None and not reason.strip():
        problem = _("Write why recording starts without an equipment check.")
    if problem is not None:
        raise InvalidInput(OVERRIDE_REASON_REFUSED, problem)
    actions.start_recording(actor=request.user, hearing=hearing, override_reason=reason)
    return _("Recording started without an equipment check; the reason is on record.")


OVERRIDE_REASON_REFUSED = "override_reason_refused"  # shown next to the reason field


def preflight_refusal(hearing: Hearing) -> str:
    """Why the start was refused (R8), in the secretary's language: no passing check of the
    courtroom at all, or only one older than TASPA_PREFLIGHT_MAX_AGE_MIN."""
    limit = int(getattr(settings, "TASPA_PREFLIGHT_MAX_AGE_MIN", 120))
    last = (
        Preflight.objects.filter(hearing__courtroom_id=hearing.courtroom_id, ok=True)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    if last is None:
        return _("Recording cannot start: the equipment of this courtroom has not been checked.")
    return _(
        "Recording cannot start: the last passing equipment check was %(age)d min ago; the court "
        "requires one within %(limit)d min before the start."
    ) % {"age": round((timezone.now() - last).total_seconds() / 60), "limit": limit}


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


def _note(request: HttpRequest, hearing: Hearing) -> str:
    """A free-text line in the log: a mark whose role is "note" and whose text is the note."""
    text = " ".join(request.POST.get("text", "").split())
    if not text:
        raise InvalidInput("note_empty", _("Write the note first."))
    if len(text) > NOTE_MAX:
        raise InvalidInput("note_too_long", _("A note has at most 255 characters."))
    mark = actions.add_mark(actor=request.user, hearing=hearing, speaker=text, role=_("note"))
    return _("Note added at %(offset)s") % {"offset": clock(mark.offset_s)}


def _mark_of(request: HttpRequest, hearing: Hearing) -> Mark:
    mark_id = request.POST.get("mark", "")
    mark = None
    if mark_id.isascii() and mark_id.isdigit() and len(mark_id) < 19:
        mark = Mark.objects.filter(pk=int(mark_id), recording__hearing=hearing).first()
    if mark is None:
        raise InvalidInput("no_mark", _("There is no such mark in this hearing."))
    return mark


def _correct(request: HttpRequest, hearing: Hearing) -> str:
    """R12: correct a mark in place: a new mark supersedes it (nothing is edited, R19)."""
    mark = _mark_of(request, hearing)
    speaker = request.POST.get("speaker", "").strip()
    role = request.POST.get("role", "").strip()
    if not speaker or not role:
        raise InvalidInput("mark_incomplete", _("A mark needs the speaker and their role."))
    if len(speaker) > 255 or len(role) > 64:
        raise InvalidInput("mark_too_long", _("The speaker or the role is too long."))
    fixed = actions.correct_mark(actor=request.user, mark=mark, speaker=speaker, role=role)
    return _("Mark corrected: %(speaker)s at %(offset)s") % {
        "speaker": fixed.speaker,
        "offset": clock(fixed.offset_s),
    }


def _incident_of(request: HttpRequest, hearing: Hearing) -> Incident:
    incident_id = request.POST.get("incident", "")
    incident = None
    if incident_id.isascii() and incident_id.isdigit() and len(incident_id) < 19:
        incident = hearing.incidents.filter(pk=int(incident_id)).first()
    if incident is None:
        raise InvalidInput("no_incident", _("There is no such incident in this hearing."))
    return incident


def _judge_told(request: HttpRequest, hearing: Hearing) -> str:
    """R9: the secretary told the judge that recording is impossible (the time goes on the act)."""
    record_judge_told(actor=request.user, incident=_incident_of(request, hearing))
    return _("Recorded: the judge was told.")


def _announced(request: HttpRequest, hearing: Hearing) -> str:
    """R16: the announcement was read to the participants (the time goes on the act)."""
    record_announced(actor=request.user, incident=_incident_of(request, hearing))
    return _("Recorded: the announcement was read to the participants.")


def _incident(request: HttpRequest, hearing: Hearing) -> str:
    report_incident(
        actor=request.user,
        hearing=hearing,
        kind=request.POST.get("kind", ""),
        detail=request.POST.get("detail", ""),
    )
    return _("Incident reported. Read the announcement to the participants (R16).")


def _closed_begin(request: HttpRequest, hearing: Hearing) -> str:
    """R32 for part of a hearing: the court announced that the hearing continues in closed
    session; copies and online playback leave it out, the recording keeps it. The console's
    buttons are the recorder's operator's (R7); the judge decides through the API."""
    require(request.user, Action.OPERATE_RECORDER, hearing)
    portion = portions.add_portion(
        actor=request.user, hearing=hearing, reason=request.POST.get("reason", "")[:4000]
    )
    return _("Closed session from %(offset)s.") % {"offset": clock(portion.start_s)}


def _closed_end(request: HttpRequest, hearing: Hearing) -> str:
    """The court announced that the hearing continues in open session."""
    require(request.user, Action.OPERATE_RECORDER, hearing)
    running = running_portion(hearing)
    if running is None:
        raise InvalidInput("no_closed_portion", _("No closed session is going on."))
    portion = portions.end_portion(actor=request.user, portion=running)
    return _("Open session resumes at %(offset)s.") % {"offset": clock(portion.end_s or 0.0)}


OPERATIONS: dict[str, Callable[[HttpRequest, Hearing], str]] = {
    "preflight": _preflight,
    "start": _start,
    "pause": _pause,
    "resume": _resume,
    "stop": _stop,
    "mark": _mark,
    "incident": _incident,
    "note": _note,
    "correct": _correct,
    "judge_told": _judge_told,
    "announced": _announced,
    "closed_begin": _closed_begin,
    "closed_end": _closed_end,
}


@_page_login_required
@require_POST
def operate(request: HttpRequest, hearing_id: int, operation: str) -> HttpResponse:
    """Run one console operation and answer with the control panel as it now stands."""
    hearing = _hearing(request, hearing_id)
    handler = OPERATIONS.get(operation)
    if handler is None:
        raise Http404
    override: dict = {}
    try:
        message, error = handler(request, hearing), None
    except DomainError as refusal:
        message, error = None, refusal.detail
        if refusal.code == "preflight_required":
            # R8: two ways on, the check or the start without it, with a reason.
            error, override = preflight_refusal(hearing), {"preflight_refused": True}
        elif refusal.code == OVERRIDE_REASON_REFUSED:
            error = None
            override = {
                "preflight_refused": True,
                "override_error": refusal.detail,
                "override_reason": request.POST.get("override_reason", "").replace("\x00", ""),
            }
    context = _context(
        request, hearing, message=message, error=error, operation=operation, **override
    )
    response = render(request, "web/_controls.html", context)
    response["HX-Trigger"] = "timeline-changed"
    return response


def clock(seconds: float) -> str:
    return hms(seconds)
