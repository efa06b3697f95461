"""Pages of the access area: the staff list of petitions due and overdue (R34) with the button
that fulfils one, and the participant's portal — the online petition, its deadline, the copy's
download and the receipt (R28–R35). Thin: every rule is in ``policy.py``, every write in
``actions.py``, called exactly as the API calls them."""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from taspa.access import actions, online, selectors
from taspa.access.calendar import local_today
from taspa.access.forms import MediumWriteForm, PetitionForm, undertakings_texts
from taspa.access.models import Copy, Petition
from taspa.access.policy import Delivery, PetitionKind
from taspa.api.ranges import ranged_file_response
from taspa.courts.permissions import Action, allowed
from taspa.errors import DomainError

WINDOWS = ("overdue", "today", "tomorrow", "week", "all")


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Court staff go to the petitions they fulfil; a participant to their own portal."""
    if selectors.may_handle_petitions(request.user):
        return redirect("access:petitions")
    return redirect("access:portal")


@login_required
@require_GET
def petitions(request: HttpRequest) -> HttpResponse:
    """Open petitions by deadline, for the court staff who fulfil them (R34)."""
    due = request.GET.get("due", "all")
    due = due if due in WINDOWS else "all"
    today = local_today()
    rows = [
        selectors.petition_answer(p, today)
        for p in selectors.petitions_due(request.user, due, today)[:500]
    ]
    context = {
        "rows": rows,
        "due": due,
        "windows": WINDOWS,
        "today": today,
        "reviews": selectors.reviews_in_progress(request.user),
        "to_write": _copies_to_write(request.user),
    }
    return render(request, "access/petitions.html", context)


@login_required
@require_POST
def refuse(request: HttpRequest, petition_id: int) -> HttpResponse:
    """Staff: answer a petition that cannot be met, with its reason (R34)."""
    petition = _visible(request, petition_id)
    try:
        actions.refuse_petition(
            actor=request.user, petition=petition, reason=request.POST.get("reason", "")
        )
    except DomainError as refusal:
        messages.error(request, f"№ {petition.pk}: {_(refusal.detail)}")
    else:
        messages.success(
            request, _("Petition № %(id)s: answered with a refusal.") % {"id": petition.pk}
        )
    return redirect(f"{reverse('access:petitions')}?due={request.POST.get('due', 'all')}")


@login_required
@require_POST
def review_step(request: HttpRequest, petition_id: int) -> HttpResponse:
    """Staff: the review took place (R28), the medium is intact or not (R29), the applicant
    signed the mark on paper (R35) — each through the action the API calls, in that order."""
    petition = _visible(request, petition_id)
    step = request.POST.get("step", "")
    try:
        if step == "held":
            actions.record_review_held(actor=request.user, petition=petition)
        elif step in ("medium_intact", "medium_damaged"):
            intact = step == "medium_intact"
            actions.record_medium_check(actor=request.user, petition=petition, intact=intact)
        elif step == "receipt":
            actions.record_receipt(actor=request.user, petition=petition)
        else:
            raise Http404
    except DomainError as refusal:
        messages.error(request, f"№ {petition.pk}: {_(refusal.detail)}")
    else:
        messages.success(request, _("Petition № %(id)s: saved.") % {"id": petition.pk})
    return redirect("access:petitions")


def _copies_to_write(user) -> list[Copy]:
    """R33: copies issued for the applicant's own medium that are not on it yet."""
    petitions = selectors.visible_petitions(user).filter(delivery=Delivery.MEDIUM)
    copies = Copy.objects.filter(petition__in=petitions, medium_formatted_at__isnull=True)
    return [
        c
        for c in copies.select_related("petition__hearing__case__court")[:200]
        if allowed(user, Action.HANDLE_PETITIONS, c.petition.hearing.case.court)
    ]


# Which field a refusal of ``copies.record_medium_written`` belongs next to.
MEDIUM_FIELD = {
    "format_not_confirmed": "confirmation",
    "device_path_not_allowed": "device",
    "not_a_block_device": "device",
    "device_in_use": "device",
    "device_unreadable": "device",
    "medium_not_found": "mount",
    "medium_path_not_allowed": "mount",
}
# The action's refusals that are not worded in the user's language there (the page shows them).
MEDIUM_REFUSALS = (
    gettext_noop("This copy is delivered online."),
    gettext_noop("The applicant has not agreed that the medium will be formatted (R33)."),
)


@login_required
@require_http_methods(["GET", "POST"])
def medium_write(request: HttpRequest, petition_id: int) -> HttpResponse:
    """R33: court staff format the applicant's own medium and write the granted copy onto it,
    through ``copies.record_medium_written`` (the action the API calls). The first submit names
    the device and its folder; the action's refusal tells the exact confirmation to type."""
    from taspa.access import copies

    petition = _visible(request, petition_id)
    if not allowed(request.user, Action.HANDLE_PETITIONS, petition.hearing.case.court):
        raise Http404
    copy = Copy.objects.filter(petition=petition).first()
    if copy is None:
        raise Http404
    form = MediumWriteForm(request.POST or None)
    asks_confirmation = bool(request.POST.get("confirmation"))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            copy = copies.record_medium_written(
                actor=request.user,
                copy=copy,
                device=data["device"],
                mount=data["mount"],
                confirmation=data["confirmation"],
            )
        except DomainError as refusal:
            field = MEDIUM_FIELD.get(refusal.code)
            asks_confirmation = asks_confirmation or field == "confirmation"
            form.add_error(field, _(refusal.detail))
        else:
            messages.success(
                request,
                _("Petition № %(id)s: the copy is written onto the applicant's medium.")
                % {"id": petition.pk},
            )
            return redirect("access:petitions")
    context = {
        "petition": petition,
        "copy": copy,
        "form": form,
        "asks_confirmation": asks_confirmation,
        "online": petition.delivery != Delivery.MEDIUM,
    }
    status = 422 if form.errors else 200
    return render(request, "access/medium_write.html", context, status=status)


def _visible(request: HttpRequest, petition_id: int) -> Petition:
    petition = selectors.visible_petitions(request.user).filter(pk=petition_id).first()
    if petition is None:
        raise Http404
    return petition


@login_required
@require_POST
def fulfil(request: HttpRequest, petition_id: int) -> HttpResponse:
    """Staff: issue the copy package or book the review (``actions.fulfil_petition``)."""
    petition = _visible(request, petition_id)
    try:
        actions.fulfil_petition(actor=request.user, petition=petition)
    except DomainError as refusal:
        messages.error(request, f"№ {petition.pk}: {_(refusal.detail)}")
    else:
        done = _("copy issued") if petition.kind == PetitionKind.COPY else _("review booked")
        messages.success(request, f"№ {petition.pk}: {done}")
    return redirect(f"{reverse('access:petitions')}?due={request.POST.get('due', 'all')}")


def _register(request: HttpRequest, form: PetitionForm) -> Petition | None:
    """Submit the petition as the API does; a refusal becomes the form's error (with R32's
    offer of a review in court)."""
    data = form.cleaned_data
    hearing = data["hearing"]
    link = selectors.party_link(request.user, hearing.case)
    try:
        return actions.register_petition(
            actor=request.user,
            hearing=hearing,
            kind=data["kind"],
            applicant=actions.Applicant(
                name=data["applicant_name"],
                role=link.role if link is not None else "",
                address=data["address"],
                phone=data["phone"],
            ),
            delivery=data["delivery"],
            personal_data_warning_acknowledged=data["personal_data_warning_acknowledged"],
            medium_formatting_consent=data["medium_formatting_consent"],
        )
    except actions.PetitionRefused as refusal:
        form.add_error(None, _(refusal.detail))
        form.offer = refusal.offer.value if refusal.offer else None
    except DomainError as refusal:
        form.add_error(None, _(refusal.detail))
    return None


@login_required
@require_http_methods(["GET", "POST"])
def portal(request: HttpRequest) -> HttpResponse:
    """A participant's petitions: submit one online, follow its deadline (R34), download the
    copy while the link lives (R31) and confirm receiving it (R35)."""
    hearings = selectors.hearings_of_party(request.user)
    initial = {"applicant_name": str(request.user)}  # the account's full name
    form = PetitionForm(request.POST or None, hearings=hearings, initial=initial)
    if request.method == "POST" and form.is_valid():
        petition = _register(request, form)
        if petition is not None:
            messages.success(
                request, _("Petition № %(id)s reached the court.") % {"id": petition.pk}
            )
            return redirect("access:portal")
    context = {
        "form": form,
        "hearings": hearings,
        "undertakings": undertakings_texts(hearings.select_related("case")),
        "petitions": selectors.petitions_of_applicant(request.user),
        "today": local_today(),
        "now": timezone.now(),
    }
    return render(request, "access/portal.html", context)


@login_required
@require_POST
def receipt(request: HttpRequest, petition_id: int) -> HttpResponse:
    """R35: the applicant confirms online that they received the copy or had the review."""
    petition = _visible(request, petition_id)
    try:
        actions.record_receipt(actor=request.user, petition=petition)
    except DomainError as refusal:
        messages.error(request, _(refusal.detail))
    else:
        messages.success(
            request, _("Your receipt mark is on petition № %(id)s.") % {"id": petition.pk}
        )
    return redirect("access:portal")


def _playable(request: HttpRequest, copy_id: int):
    try:
        return online.playable_copy(request.user, copy_id)
    except DomainError:  # not theirs, or its link expired: nothing to tell apart
        raise Http404 from None


@login_required
@require_GET
def copy_play(request: HttpRequest, copy_id: int) -> HttpResponse:
    """R31, R32 for part of a hearing: the applicant plays their copy online — waveform, marks,
    no download — from the copy's cut media; a closed portion plays as silence, never its sound."""
    copy = _playable(request, copy_id)
    try:
        shown = online.open_playback(actor=request.user, copy=copy)
    except DomainError as refusal:
        messages.error(request, _(refusal.detail))
        return redirect("access:portal")
    closed_label = _("Closed session: not part of the copy")
    context = {
        "copy": copy,
        "hearing": copy.petition.hearing,
        "shown": shown,
        # on the page in whole seconds, rounded outward: the whole closed part is inside
        "closed_spans": [(math.floor(a), math.ceil(b)) for a, b in shown["excluded"]],
        "timeline": {
            "marks": [{"time": m["offset_s"], "label": m["speaker"]} for m in shown["marks"]],
            # the closed portions as segments of the waveform (peaks.js draws them like pauses)
            "pauses": [{"label": closed_label, "start": a, "end": b} for a, b in shown["excluded"]],
        },
    }
    return render(request, "access/copy_play.html", context)


ONLINE_FILES = {"mix.webm": "audio/webm", "peaks.json": "application/json"}


@login_required
@require_GET
def copy_file(request: HttpRequest, copy_id: int, name: str) -> HttpResponse:
    """The online playback's files, the rendition with HTTP Range (players seek anywhere)."""
    if name not in ONLINE_FILES:
        raise Http404
    copy = _playable(request, copy_id)
    try:
        files = online.prepare(copy)
    except DomainError as refusal:  # theirs, but not playable now: say why (the download works)
        return HttpResponse(_(refusal.detail), status=refusal.status, content_type="text/plain")
    path = files.root / name
    if name == "peaks.json":
        return FileResponse(path.open("rb"), content_type=ONLINE_FILES[name])
    return ranged_file_response(request, path, ONLINE_FILES[name])
