"""HTTP API of the access area (CONTRACT.md); thin handlers over actions and selectors."""

from __future__ import annotations

from datetime import UTC, date
from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import Field

from taspa.access import actions, copies, selectors
from taspa.access.calendar import local_today
from taspa.access.documents import form_pdf
from taspa.access.models import Copy, Petition
from taspa.api.ranges import ranged_file_response
from taspa.api.types import Id
from taspa.courts.models import Case, Hearing
from taspa.courts.selectors import user_by_ref
from taspa.custody.models import Medium
from taspa.errors import InvalidInput, NotFound

router = Router(tags=["access"])


class ApplicantIn(Schema):
    name: str = Field(min_length=1, max_length=255)
    role: str = Field(min_length=1, max_length=64)
    address: str = Field("", max_length=500)
    phone: str = Field("", max_length=64)


class PetitionIn(Schema):
    hearing: Id
    kind: str
    applicant: ApplicantIn
    delivery: str = "online"
    received_at: date | None = None
    personal_data_warning_acknowledged: bool = False
    medium_formatting_consent: bool = False  # R33, Appendix 1/2 (extension)
    applicant_user: Id | str | None = None  # staff: the applicant's account, for downloads


class FulfilIn(Schema):
    starts_at: str | None = None
    place: str = Field("", max_length=255)


class ReceiptIn(Schema):
    signed_by: str = Field("", max_length=255)
    note: str = Field("", max_length=500)


class MediumCheckIn(Schema):
    intact: bool


class RefuseIn(Schema):
    reason: str = Field(max_length=2000)


class ReviewHeldIn(Schema):
    medium: Id | None = None


class PartyIn(Schema):
    user: Id | str
    role: str


def _petition(request: HttpRequest, petition_id: int) -> Petition:
    petition = selectors.visible_petitions(request.user).filter(pk=petition_id).first()
    if petition is None:
        raise NotFound(
            _("No petition %(petition_id)s."),
            params={"petition_id": petition_id},
            code="petition_not_found",
        )
    return petition


@router.post("/petitions", response={201: dict, 422: dict})
def create_petition(request: HttpRequest, payload: PetitionIn):
    hearing = Hearing.objects.select_related("case__court").filter(pk=payload.hearing).first()
    if hearing is None:
        raise NotFound(
            _("No hearing %(hearing)s."),
            params={"hearing": payload.hearing},
            code="hearing_not_found",
        )
    applicant_user = user_by_ref(payload.applicant_user) if payload.applicant_user else None
    try:
        petition = actions.register_petition(
            actor=request.user,
            hearing=hearing,
            kind=payload.kind,
            applicant=actions.Applicant(**payload.applicant.dict()),
            delivery=payload.delivery,
            received_at=payload.received_at,
            personal_data_warning_acknowledged=payload.personal_data_warning_acknowledged,
            medium_formatting_consent=payload.medium_formatting_consent,
            applicant_user=applicant_user,
        )
    except actions.PetitionRefused as refusal:
        body = {"error": refusal.code, "detail": refusal.detail, "rule": refusal.rule}
        if refusal.offer:
            body["offer"] = {"kind": refusal.offer.value}  # R32: review in court instead
        return Status(422, body)
    return Status(201, selectors.petition_answer(petition, local_today()))


@router.get("/petitions")
def list_petitions(
    request: HttpRequest,
    due: Literal["overdue", "today", "tomorrow", "week", "all"] = "all",
):
    """The staff dashboard's data: open petitions by deadline (R34)."""
    today = local_today()
    rows = selectors.petitions_due(request.user, due, today)[:500]
    return {"items": [selectors.petition_answer(p, today) for p in rows], "today": str(today)}


@router.get("/petitions/{petition_id}")
def get_petition(request: HttpRequest, petition_id: Id):
    return selectors.petition_answer(_petition(request, petition_id), local_today())


@router.post("/petitions/{petition_id}/fulfil")
def fulfil(request: HttpRequest, petition_id: Id, payload: FulfilIn | None = None):
    from django.utils.dateparse import parse_datetime

    payload = payload or FulfilIn()
    starts_at = parse_datetime(payload.starts_at) if payload.starts_at else None
    if payload.starts_at and (starts_at is None or starts_at.utcoffset() is None):
        detail = "starts_at is not an ISO 8601 date and time with its UTC offset."
        raise InvalidInput("invalid_starts_at", detail)
    starts_at = starts_at.astimezone(UTC) if starts_at else None
    petition = actions.fulfil_petition(
        actor=request.user,
        petition=_petition(request, petition_id),
        starts_at=starts_at,
        place=payload.place,
    )
    answer = selectors.petition_answer(petition, local_today())
    if petition.kind == "copy":
        return {"copy": answer["copy"], "download_url": answer["download_url"]}
    return {"review_slot": answer["review_slot"]}


@router.post("/petitions/{petition_id}/receipt", response={201: dict})
def receipt(request: HttpRequest, petition_id: Id, payload: ReceiptIn):
    actions.record_receipt(
        actor=request.user,
        petition=_petition(request, petition_id),
        signed_by_name=payload.signed_by,
        note=payload.note,
    )
    petition = Petition.objects.get(pk=petition_id)
    return Status(201, selectors.petition_answer(petition, local_today()))


@router.post("/petitions/{petition_id}/refuse")
def refuse(request: HttpRequest, petition_id: Id, payload: RefuseIn):
    """Answer a petition the court cannot meet, with the reason (R34: the answer is on time)."""
    petition = actions.refuse_petition(
        actor=request.user, petition=_petition(request, petition_id), reason=payload.reason
    )
    return selectors.petition_answer(petition, local_today())


@router.post("/petitions/{petition_id}/review-held")
def review_held(request: HttpRequest, petition_id: Id, payload: ReviewHeldIn):
    """R28: the review took place (then R29's medium check, then R35's receipt)."""
    petition = _petition(request, petition_id)
    medium = None
    if payload.medium is not None:
        medium = Medium.objects.filter(pk=payload.medium).first()
        if medium is None:
            raise NotFound(
                _("No medium %(medium)s."),
                params={"medium": payload.medium},
                code="medium_not_found",
            )
    slot = actions.record_review_held(actor=request.user, petition=petition, medium=medium)
    return {"review_slot": selectors.slot_answer(slot)}


@router.post("/petitions/{petition_id}/medium-check")
def medium_check(request: HttpRequest, petition_id: Id, payload: MediumCheckIn):
    slot = actions.record_medium_check(
        actor=request.user, petition=_petition(request, petition_id), intact=payload.intact
    )
    return {"review_slot": selectors.slot_answer(slot)}


class MediumWrittenIn(Schema):
    """R33: the applicant's medium as the court server sees it (a block device, and the folder
    under the media mount roots it is mounted at), and the typed confirmation naming the device,
    its size and its label."""

    device: str = Field(min_length=1, max_length=255)
    mount: str = Field(min_length=1, max_length=1000)
    confirmation: str = Field("", max_length=500)


@router.post("/petitions/{petition_id}/medium-written")
def medium_written(request: HttpRequest, petition_id: Id, payload: MediumWrittenIn):
    """R33: format the applicant's medium (as the case-file medium is formatted) and write the
    copy onto it."""
    petition = _petition(request, petition_id)
    copy = Copy.objects.filter(petition=petition).first()
    if copy is None:
        raise NotFound(_("No copy was issued on this petition yet."), code="copy_not_issued")
    copy = copies.record_medium_written(
        actor=request.user,
        copy=copy,
        device=payload.device,
        mount=payload.mount,
        confirmation=payload.confirmation,
    )
    return {
        "copy": copy.pk,
        "medium_formatted_at": copy.medium_formatted_at.isoformat(),
        "medium": copy.medium_record,
    }


@router.get("/petitions/{petition_id}/form")
def form(request: HttpRequest, petition_id: Id, language: Literal["kk", "ru"] = "ru"):
    """Appendix 1 or 2 filled from the petition, to print and sign (R31, R35)."""
    petition = _petition(request, petition_id)
    response = HttpResponse(form_pdf(petition, language), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="petition-{petition.pk}-{language}.pdf"'
    return response


@router.get("/copies/{copy_id}/download")
def download(request: HttpRequest, copy_id: Id):
    """The copy package (zip, HTTP Range), for the applicant until the link expires."""
    copy = Copy.objects.select_related("petition__hearing__case__court").filter(pk=copy_id).first()
    if copy is None:
        raise NotFound(
            _("No copy %(copy_id)s."), params={"copy_id": copy_id}, code="copy_not_found"
        )
    path = copies.open_download(
        actor=request.user, copy=copy, byte_range=request.headers.get("Range", "")
    )
    response = ranged_file_response(request, path, "application/zip")
    response["Content-Disposition"] = f'attachment; filename="{copy.file_name}"'
    return response


@router.post("/cases/{case_id}/parties", response={201: dict})
def link_party(request: HttpRequest, case_id: Id, payload: PartyIn):
    """The court links a participant's account to a case (R28, R30)."""
    case = Case.objects.select_related("court").filter(pk=case_id).first()
    user = user_by_ref(payload.user)
    if case is None or user is None:
        raise NotFound(_("No such case or user."))
    link = actions.link_case_party(actor=request.user, case=case, user=user, role=payload.role)
    return Status(201, {"id": link.pk, "case": case.pk, "user": user.pk, "role": link.role})
