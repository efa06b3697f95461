"""Case-file media in the API (R12, R15, R21, R22, R25, R26, R29, R33). Thin: every rule lives
in ``custody.actions``."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import Field

from taspa import limits
from taspa.api.types import Id
from taspa.courts.models import Case
from taspa.courts.policy import Action
from taspa.courts.selectors import court_by_ref, may_act_in_court, user_by_ref, visible_hearings
from taspa.custody import actions, selectors
from taspa.custody.models import DestructionAct, Medium
from taspa.documents.render import OFFICIAL_LANGUAGES, render_pdf
from taspa.errors import InvalidInput, NotFound
from taspa.recorder.models import Recording

router = Router(tags=["custody"])


class MediumIn(Schema):
    mount: str = Field(min_length=1, max_length=limits.MOUNT_PATH)
    kind: str = "usb"


class HandoverIn(Schema):
    to: Id | str


class AcceptIn(Schema):
    mount: str = Field(min_length=1, max_length=limits.MOUNT_PATH)


class VisualCheckIn(Schema):
    intact: bool
    note: str = Field("", max_length=limits.VISUAL_CHECK_NOTE)
    review: str = Field("", max_length=limits.REVIEW)


class DestructionIn(Schema):
    court: Id | str
    media: list[Id] = Field(min_length=1)
    on: date | None = None


def _language(language: str) -> str:
    if language not in OFFICIAL_LANGUAGES:
        raise InvalidInput("unknown_language", _("Documents are issued in 'kk' or 'ru'."))
    return language


def _pdf(pdf: bytes, name: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@router.post("/recordings/{recording_id}/medium", response={201: dict})
def write_medium(request: HttpRequest, recording_id: Id, payload: MediumIn):
    """R12, R33: empty the medium mounted at ``mount`` on the court server and write the copy.
    Low-level formatting of a device is for the command line only (``taspa medium write``)."""
    recording = Recording.objects.filter(
        pk=recording_id, hearing__in=visible_hearings(request.user)
    ).first()
    if recording is None:
        raise NotFound(_("No recording %(recording_id)s."), params={"recording_id": recording_id})
    medium = actions.write_medium(
        actor=request.user, recording=recording, mount=payload.mount, kind=payload.kind
    )
    return Status(201, selectors.medium_detail(medium))


def _medium(request: HttpRequest, medium_id: int) -> Medium:
    medium = (
        Medium.objects.select_related("case__court", "recording__hearing", "holder")
        .filter(pk=medium_id)
        .first()
    )
    if medium is None or not may_act_in_court(request.user, Action.VIEW_HEARING, medium.case.court):
        raise NotFound(_("No medium %(medium_id)s."), params={"medium_id": medium_id})
    return medium


@router.get("/media/{medium_id}")
def get_medium(request: HttpRequest, medium_id: Id):
    return selectors.medium_detail(_medium(request, medium_id))


@router.get("/media/{medium_id}/label")
def label(request: HttpRequest, medium_id: Id, language: str = "kk"):
    """R15: the envelope label, one PDF per language."""
    medium = _medium(request, medium_id)
    if not medium.valid:
        raise InvalidInput("medium_not_valid", _("Only a written, validated medium gets a label."))
    pdf = render_pdf("custody/label.html", selectors.label_context(medium), _language(language))
    return _pdf(pdf, f"label-M{medium.pk}-{language}.pdf")


@router.post("/media/{medium_id}/handover")
def handover(request: HttpRequest, medium_id: Id, payload: HandoverIn):
    recipient = user_by_ref(payload.to)
    if recipient is None:
        raise InvalidInput("unknown_user", _("No user %(to)s."), params={"to": f"{payload.to!r}"})
    actions.hand_over(actor=request.user, medium=_medium(request, medium_id), to=recipient)
    return selectors.medium_detail(_medium(request, medium_id))


@router.post("/media/{medium_id}/accept")
def accept(request: HttpRequest, medium_id: Id, payload: AcceptIn):
    actions.accept_medium(
        actor=request.user, medium=_medium(request, medium_id), mount=payload.mount
    )
    return selectors.medium_detail(_medium(request, medium_id))


@router.post("/media/{medium_id}/visual-check", response={201: dict})
def visual_check(request: HttpRequest, medium_id: Id, payload: VisualCheckIn):
    check = actions.record_visual_check(
        actor=request.user,
        medium=_medium(request, medium_id),
        intact=payload.intact,
        note=payload.note,
        review=payload.review,
    )
    return Status(201, {"id": check.pk, "intact": check.intact, "at": check.checked_at.isoformat()})


def _court(request: HttpRequest, ref: int | str):
    court = court_by_ref(ref)
    if court is None or not may_act_in_court(request.user, Action.VIEW_HEARING, court):
        raise NotFound(_("No court %(ref)s."), params={"ref": f"{ref!r}"})
    return court


@router.get("/media-due-for-destruction")
def due(request: HttpRequest, court: str, on: date | None = None):
    """R25, R26: media of the court whose retention period is over."""
    from django.utils import timezone

    found = _court(request, court)
    day = on or timezone.localdate()
    return {"court": found.code, "on": day.isoformat(), "items": selectors.due_media(found, day)}


@router.post("/destruction-acts", response={201: dict})
def destruction_act(request: HttpRequest, payload: DestructionIn):
    court = _court(request, payload.court)
    media = list(Medium.objects.filter(pk__in=payload.media, case__court=court))
    missing = set(payload.media) - {m.pk for m in media}
    if missing:
        raise InvalidInput(
            "unknown_medium",
            _("No media %(ids)s in %(court_code)s."),
            params={"ids": sorted(missing), "court_code": court.code},
        )
    act = actions.draw_up_destruction_act(
        actor=request.user, court=court, media=media, on=payload.on
    )
    return Status(201, selectors.destruction_detail(act))


@router.get("/destruction-acts/{act_id}")
def get_destruction_act(request: HttpRequest, act_id: Id):
    return selectors.destruction_detail(_destruction_act(request, act_id))


@router.post("/destruction-acts/{act_id}/sign")
def sign_destruction_act(request: HttpRequest, act_id: Id):
    """R26: sign with the caller's registered EDS key; the last required signature destroys."""
    act = actions.sign_destruction_act(actor=request.user, act=_destruction_act(request, act_id))
    return selectors.destruction_detail(act)


def _destruction_act(request: HttpRequest, act_id: int) -> DestructionAct:
    act = DestructionAct.objects.filter(pk=act_id).first()
    if act is None:
        raise NotFound(_("No destruction act %(act_id)s."), params={"act_id": act_id})
    _court(request, act.court_id)
    return act


@router.post("/cases/{case_id}/archive-acceptance", response={201: dict})
def archive_acceptance(request: HttpRequest, case_id: Id):
    """R22: the archivist accepts the case into the archive; a medium missing is flagged."""
    case = Case.objects.select_related("court").filter(pk=case_id).first()
    if case is None or not may_act_in_court(request.user, Action.VIEW_HEARING, case.court):
        raise NotFound(_("No case %(case_id)s."), params={"case_id": case_id})
    acceptance = actions.accept_case(actor=request.user, case=case)
    return Status(201, selectors.acceptance_detail(acceptance))


@router.get("/destruction-acts/{act_id}/pdf")
def destruction_act_pdf(request: HttpRequest, act_id: Id, language: str = "kk"):
    act = DestructionAct.objects.filter(pk=act_id).first()
    if act is None:
        raise NotFound(_("No destruction act %(act_id)s."), params={"act_id": act_id})
    _court(request, act.court_id)
    return _pdf(act.pdf(_language(language)), f"destruction-{act.year}-{act.number}-{language}.pdf")


@router.get("/retention-periods")
def retention_periods(request: HttpRequest):
    """R25: years by case kind, each with its source and whether it is an assumption."""
    from taspa.courts.policy import COURT_STAFF_ROLES, REGIONAL_ROLES, Role
    from taspa.courts.selectors import assignments_of

    staff = COURT_STAFF_ROLES | REGIONAL_ROLES | {Role.SYSTEM_ADMIN}
    if not any(a.role in staff for a in assignments_of(request.user)):
        raise NotFound(_("No retention periods."))  # court papers: staff only
    return {"items": selectors.retention_periods()}


@router.get("/cases/{case_id}/inventory")
def inventory(request: HttpRequest, case_id: Id):
    """R12: the case file's inventory entries for its media."""
    case = Case.objects.select_related("court").filter(pk=case_id).first()
    if case is None or not may_act_in_court(request.user, Action.VIEW_HEARING, case.court):
        raise NotFound(_("No case %(case_id)s."), params={"case_id": case_id})
    return selectors.case_inventory(case)
