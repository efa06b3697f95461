"""The judge's decisions in the browser (issue 16), each through the action the API calls:

* whether minutes — and so the recording — are kept where the Rules leave it to the judge
  (R3.4, ``incidents.actions.decide_minutes``), beside what the minutes state about a hearing
  that could not be (fully) recorded (R9, the minutes-reason document);
* the parts of a sealed recording closed by the judge's decision (R32 for part of a hearing,
  ``recorder.portions``, the one writer): added, ended, corrected by a new portion, as hh:mm:ss
  offsets into the recording. It changes who receives what, never the recording (R19).

Court staff who see the hearing see the decisions; only the hearing's judge takes them (the
actions refuse anyone else). Participants see none of these pages (R28, R32).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from taspa.courts.models import Hearing
from taspa.courts.policy import CaseKind, Instance, recording_requirement
from taspa.courts.selectors import visible_hearings
from taspa.errors import DomainError, Forbidden
from taspa.incidents import actions as incidents
from taspa.incidents import selectors as incident_selectors
from taspa.recorder import portions
from taspa.recorder.actions import audit_recording_read
from taspa.recorder.models import ClosedPortion, Recording
from taspa.recorder.selectors import current_portions, recorded_extent
from taspa.web import labels
from taspa.web.judge_forms import MinutesDecisionForm, PortionEndForm, PortionForm
from taspa.web.playback import PlaybackFiles, read_json
from taspa.web.selectors import may_play, playable_recording

# The portions' refusal codes (access.policy.PORTION_RULES) that belong to one field.
PORTION_FIELD = {
    "closed_portion_ends_before_start": "end",
    "closed_portion_overlaps": "start",
    "closed_portion_decision_missing": "reason",
    "text_too_long": "reason",
    "nul_character": "reason",
}


# --- R3.4, R9: the minutes -------------------------------------------------------------------


def _staff_hearing(request: HttpRequest, hearing_id: int) -> Hearing:
    """A hearing of the user's courts (staff only: the minutes and acts are court papers)."""
    hearing = visible_hearings(request.user, as_party=False).filter(pk=hearing_id).first()
    if hearing is None or not may_play(request.user):
        raise Http404
    return hearing


def _rules_say(hearing: Hearing) -> str:
    """What clauses 3–5 say of this hearing, in the reader's language."""
    try:
        decision = recording_requirement(
            instance=Instance(hearing.instance),
            kind=CaseKind(hearing.case.kind),
            circumstances=hearing.circumstances or {},
        )
    except ValueError:
        return ""
    return decision.explanation(labels.language())


def _minutes_text(hearing: Hearing) -> dict[str, Any]:
    """R9: what the minutes state about the recording, in the reader's official language."""
    if not incident_selectors.minutes_incidents(hearing):
        return {"paragraphs": [], "documents": []}
    context = incident_selectors.minutes_context(hearing)
    language = "ru" if labels.language() == "ru" else "kk"
    url = f"/api/v1/hearings/{hearing.pk}/minutes-reason?language="
    return {
        "paragraphs": context["paragraphs"][language],
        "documents": [(url + "kk", _("in Kazakh")), (url + "ru", _("in Russian"))],
    }


def _minutes_refusal(refusal: DomainError) -> tuple[str | None, str]:
    """The action's refusal as the page says it: the field it concerns, and no rule id."""
    if refusal.code in ("text_too_long", "nul_character"):
        return "note", refusal.detail
    if refusal.code == "not_for_the_judge":  # the hearing was changed meanwhile
        return None, _(
            "The Rules decide whether this hearing is recorded: no decision of the judge is asked."
        )
    return None, refusal.detail


@login_required
@require_http_methods(["GET", "POST"])
def minutes(request: HttpRequest, hearing_id: int) -> HttpResponse:
    """R3.4: the judge decides whether minutes are kept; R9: what they state on the recording."""
    hearing = _staff_hearing(request, hearing_id)
    if request.method == "POST" and request.user.pk != hearing.judge_id:
        raise PermissionDenied  # (the action refuses anyone else too, R3.4)
    form = MinutesDecisionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            incidents.decide_minutes(
                actor=request.user,
                hearing=hearing,
                keep_minutes=form.cleaned_data["keep_minutes"] == "yes",
                note=form.cleaned_data["note"],
            )
        except Forbidden as refusal:
            raise PermissionDenied(refusal.detail) from None
        except DomainError as refusal:
            form.add_error(*_minutes_refusal(refusal))
        else:
            messages.success(request, _("The decision on the minutes is recorded."))
            return redirect("web:minutes_decision", hearing_id=hearing.pk)
    decisions = list(
        hearing.minutes_decisions.select_related("decided_by").order_by("-decided_at", "-id")
    )
    context = {
        "hearing": hearing,
        "requirement": labels.REQUIREMENTS.get(hearing.recording_required, ""),
        "rules_say": _rules_say(hearing),
        "clause": labels.rule_clause(hearing.recording_rule),
        "judge_decides": hearing.recording_required == "judge_decides",
        "is_judge": request.user.pk == hearing.judge_id,
        "form": form,
        "latest": decisions[0] if decisions else None,
        "earlier": decisions[1:],
        "minutes": _minutes_text(hearing),
        "recording": Recording.objects.filter(
            hearing=hearing, state=Recording.State.SEALED
        ).first(),
    }
    return render(request, "web/minutes_decision.html", context)


# --- R32 for part of a hearing: closed portions of a sealed recording ------------------------


def _sealed(request: HttpRequest, recording_id: int) -> Recording:
    """A sealed recording the user plays as staff (the playback page's rule)."""
    recording = playable_recording(request.user, recording_id)
    if recording is None:
        raise Http404
    return recording


def _moment(recording: Recording, offset: float | None):
    """An offset into a sealed recording as the moment the actions take: media time is wall
    time since the first sample once capture has stopped (``recorder.portions._offset``)."""
    return None if offset is None else recording.started_at + timedelta(seconds=offset)


def _field(code: str, start: float | None, recording: Recording) -> str | None:
    if code == "closed_portion_outside_recording":
        extent = recorded_extent(recording, None) or 0.0
        return "start" if start is None or start >= extent else "end"
    return PORTION_FIELD.get(code)


def _refused(form: PortionForm, refusal: DomainError, recording: Recording) -> None:
    """A refusal next to its field, in the user's language; nothing was stored."""
    if isinstance(refusal, Forbidden):
        raise PermissionDenied(refusal.detail)
    form.add_error(_field(refusal.code, form.cleaned_data.get("start"), recording), refusal.detail)


def _judge_only(request: HttpRequest, recording: Recording) -> None:
    """After sealing only the hearing's judge closes a part (``recorder.portions`` refuses
    anyone else too); others are refused before their input is even read."""
    if request.user.pk != recording.hearing.judge_id:
        raise PermissionDenied


def _portion(recording: Recording, portion_id: int) -> ClosedPortion:
    portion = (
        ClosedPortion.objects.select_related("hearing", "created_by")
        .filter(pk=portion_id, recording=recording)
        .first()
    )
    if portion is None:
        raise Http404
    return portion


def _rows(recording: Recording) -> list[dict[str, Any]]:
    rows = []
    for portion in current_portions(recording.hearing):
        earlier = getattr(portion, "supersedes", None)
        rows.append({"portion": portion, "earlier": earlier})
    return rows


def _page(
    request: HttpRequest,
    recording: Recording,
    *,
    form: PortionForm | None = None,
    correcting: ClosedPortion | None = None,
    end_form: PortionEndForm | None = None,
    ending: ClosedPortion | None = None,
    status: int = 200,
) -> HttpResponse:
    hearing = recording.hearing
    is_judge = request.user.pk == hearing.judge_id
    if is_judge and request.method == "GET":
        # R2: the judge listens to find the part; a playback is on record with its purpose.
        audit_recording_read(
            actor=request.user,
            recording=recording,
            channel="web",
            purpose="proceedings",
            read="playback",
        )
    if correcting is None and request.method == "GET" and request.GET.get("correct"):
        try:
            correcting = _portion(recording, int(request.GET["correct"]))
        except (ValueError, Http404):
            correcting = None
    if form is None:
        initial = {}
        if correcting is not None:
            initial = {"start": correcting.start_s, "end": correcting.end_s}
        form = PortionForm(initial=initial, correcting=correcting is not None)
    files = PlaybackFiles.of(recording.pk)
    context = {
        "recording": recording,
        "hearing": hearing,
        "rows": _rows(recording),
        "is_judge": is_judge,
        "form": form,
        "correcting": correcting,
        "end_form": end_form or PortionEndForm(),
        "ending": ending,
        "player": is_judge and read_json(files.info) is not None,
        "closed_whole": hearing.closed,
    }
    return render(request, "web/closed_portions.html", context, status=status)


def _store(
    request: HttpRequest,
    recording: Recording,
    form: PortionForm,
    store: Callable[..., object],
    done: str,
    correcting: ClosedPortion | None = None,
) -> HttpResponse:
    """Adding a closed part and correcting one are the same handler around their action
    (``store``, given the moments and the decision): a refusal stands next to its field and
    nothing is stored; a stored part goes back to the list with ``done`` (R32)."""
    if form.is_valid():
        data = form.cleaned_data
        try:
            store(
                start=_moment(recording, data["start"]),
                end=_moment(recording, data["end"]),
                reason=data["reason"],
            )
        except DomainError as refusal:
            _refused(form, refusal, recording)
        else:
            messages.success(request, done)
            return redirect(_back(recording))
    return _page(request, recording, form=form, correcting=correcting)


@login_required
@require_http_methods(["GET", "POST"])
def closed_portions(request: HttpRequest, recording_id: int) -> HttpResponse:
    """The closed parts of a sealed recording (hh:mm:ss); the judge adds one by decision."""
    recording = _sealed(request, recording_id)
    if request.method == "GET":
        return _page(request, recording)
    _judge_only(request, recording)
    add = partial(portions.add_portion, actor=request.user, hearing=recording.hearing)
    return _store(
        request, recording, PortionForm(request.POST), add, _("The closed part is recorded.")
    )


@login_required
@require_POST
def correct_portion(request: HttpRequest, recording_id: int, portion_id: int) -> HttpResponse:
    """A correction is a new portion that supersedes the old one (nothing is edited)."""
    recording = _sealed(request, recording_id)
    _judge_only(request, recording)
    portion = _portion(recording, portion_id)
    correct = partial(portions.correct_portion, actor=request.user, portion=portion)
    form = PortionForm(request.POST, correcting=True)
    return _store(
        request, recording, form, correct, _("The closed part is corrected."), correcting=portion
    )


@login_required
@require_POST
def end_portion(request: HttpRequest, recording_id: int, portion_id: int) -> HttpResponse:
    """A closed part left open (to the end of the recording) ends at a moment of it."""
    recording = _sealed(request, recording_id)
    _judge_only(request, recording)
    portion = _portion(recording, portion_id)
    form = PortionEndForm(request.POST)
    if form.is_valid():
        try:
            portions.end_portion(
                actor=request.user,
                portion=portion,
                at=_moment(recording, form.cleaned_data["end"]),
            )
        except DomainError as refusal:
            if isinstance(refusal, Forbidden):
                raise PermissionDenied(refusal.detail) from None
            whole = ("closed_portion_superseded", "closed_portion_already_ended")
            form.add_error(None if refusal.code in whole else "end", refusal.detail)
        else:
            messages.success(request, _("The closed part is recorded."))
            return redirect(_back(recording))
    return _page(request, recording, end_form=form, ending=portion)


def _back(recording: Recording) -> str:
    return reverse("web:closed_portions", args=[recording.pk]) + "#portions"
