"""Courts, courtrooms, cases and hearings in the API (CONTRACT.md). Thin: parse, act, answer."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from taspa import limits
from taspa.api.types import Id, Moment
from taspa.courts import actions, selectors
from taspa.courts.models import Case, Court, Courtroom, Hearing
from taspa.courts.policy import CaseKind, CourtLevel, Instance
from taspa.errors import InvalidInput, NotFound

router = Router(tags=["courts"])


class IdOut(Schema):
    id: int


class CourtIn(Schema):
    code: str = Field(min_length=2, max_length=limits.COURT_CODE, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=limits.COURT_NAME)
    level: CourtLevel
    region: str = Field(min_length=1, max_length=limits.REGION)


class CourtEditIn(Schema):
    name: str = Field(min_length=1, max_length=limits.COURT_NAME)
    region: str = Field(min_length=1, max_length=limits.REGION)


class SourceIn(Schema):
    kind: Literal["audio", "video"]
    input: str = Field(min_length=1, max_length=limits.SOURCE_INPUT)
    format: str | None = None
    label: str | None = Field(None, max_length=limits.SOURCE_LABEL)


class CourtroomIn(Schema):
    court: Id | str
    name: str = Field(min_length=1, max_length=limits.COURTROOM_NAME)
    sources: list[SourceIn] = Field(default=[], max_length=limits.SOURCES)


class CourtroomEditIn(Schema):
    name: str = Field(min_length=1, max_length=limits.COURTROOM_NAME)
    sources: list[SourceIn] = Field(default=[], max_length=limits.SOURCES)


class CaseIn(Schema):
    number: str = Field(min_length=1, max_length=64)
    kind: CaseKind
    court: Id | str
    language: Literal["kk", "ru"] = "kk"


class ParticipantIn(Schema):
    name: str = Field(min_length=1, max_length=limits.PERSON_NAME)
    role: str = Field(min_length=1, max_length=limits.PROCEDURAL_ROLE)


class Circumstances(Schema):
    """The facts R3–R4 depend on (CONTRACT.md); an unknown name is refused."""

    model_config = ConfigDict(extra="forbid")
    writ_proceedings: bool = False
    simplified_written_proceedings: bool = False
    guilt_fully_admitted: bool = False
    evidence_examination_requested: bool = False
    equipment_unavailable: bool = False
    all_participants_absent: bool = False
    no_new_evidence: bool = False
    preparation_stage: bool = False
    minutes_requested: bool = False
    decision_on_merits_at_preparation: bool = False
    first_instance_rules: bool = False
    new_evidence_examined: bool = False
    persons_questioned: bool = False
    additional_materials_examined: bool = False
    court_initiative: bool = False
    person_motion: bool = False


class HearingIn(Schema):
    case: Id
    courtroom: Id
    instance: Instance
    closed: bool = False
    judge: Id | str
    secretary: Id | str
    scheduled_at: Moment
    participants: list[ParticipantIn] = Field(default=[], max_length=limits.PARTICIPANTS)
    circumstances: Circumstances = Circumstances()


class HearingCreatedOut(Schema):
    id: int
    recording_required: str
    rule: str
    explanation: str
    explanation_ru: str
    explanation_en: str


def _court(ref: int | str):
    court = selectors.court_by_ref(ref)
    if court is None:
        raise InvalidInput("unknown_court", _("No court %(ref)s."), params={"ref": f"{ref!r}"})
    return court


def _person(ref: int | str, what: str):
    user = selectors.user_by_ref(ref)
    if user is None:
        raise InvalidInput(
            f"unknown_{what}",
            _("No user %(ref)s."),
            params={"ref": f"{ref!r}"},
        )
    return user


@router.post("/courts", response={201: IdOut})
def create_court(request: HttpRequest, payload: CourtIn):
    court = actions.create_court(actor=request.user, **payload.dict())
    return Status(201, {"id": court.pk})


@router.post("/courtrooms", response={201: IdOut})
def create_courtroom(request: HttpRequest, payload: CourtroomIn):
    sources = [source.dict(exclude_none=True) for source in payload.sources]
    room = actions.create_courtroom(
        actor=request.user, court=_court(payload.court), name=payload.name, sources=sources
    )
    return Status(201, {"id": room.pk})


@router.put("/courts/{court_id}", response=IdOut)
def edit_court(request: HttpRequest, court_id: Id, payload: CourtEditIn):
    """A court's name and region (its code and level do not change)."""
    court = Court.objects.filter(pk=court_id).first()
    if court is None:
        raise NotFound(_("No court %(ref)s."), params={"ref": court_id})
    court = actions.edit_court(
        actor=request.user, court=court, name=payload.name, region=payload.region
    )
    return {"id": court.pk}


@router.put("/courtrooms/{courtroom_id}", response=IdOut)
def edit_courtroom(request: HttpRequest, courtroom_id: Id, payload: CourtroomEditIn):
    """A room's name and its capture sources, replaced as a whole (R20: administrators)."""
    room = Courtroom.objects.select_related("court").filter(pk=courtroom_id).first()
    if room is None:
        raise NotFound(_("No courtroom %(courtroom)s."), params={"courtroom": courtroom_id})
    sources = [source.dict(exclude_none=True) for source in payload.sources]
    room = actions.edit_courtroom(
        actor=request.user, courtroom=room, name=payload.name, sources=sources
    )
    return {"id": room.pk}


@router.post("/cases", response={201: IdOut})
def create_case(request: HttpRequest, payload: CaseIn):
    case = actions.register_case(
        actor=request.user,
        court=_court(payload.court),
        number=payload.number,
        kind=payload.kind,
        language=payload.language,
    )
    return Status(201, {"id": case.pk})


@router.post("/hearings", response={201: HearingCreatedOut})
def create_hearing(request: HttpRequest, payload: HearingIn):
    case = Case.objects.select_related("court").filter(pk=payload.case).first()
    if case is None:
        raise InvalidInput("unknown_case", _("No case %(case)s."), params={"case": payload.case})
    courtroom = Courtroom.objects.select_related("court").filter(pk=payload.courtroom).first()
    if courtroom is None:
        raise InvalidInput(
            "unknown_courtroom",
            _("No courtroom %(courtroom)s."),
            params={"courtroom": payload.courtroom},
        )
    hearing = actions.schedule_hearing(
        actor=request.user,
        case=case,
        courtroom=courtroom,
        instance=payload.instance,
        closed=payload.closed,
        judge=_person(payload.judge, "judge"),
        secretary=_person(payload.secretary, "secretary"),
        scheduled_at=payload.scheduled_at,
        participants=[p.dict() for p in payload.participants],
        circumstances=payload.circumstances.dict(),
    )
    return Status(201, _decision(request, hearing))


def _decision(request: HttpRequest, hearing: Hearing) -> dict[str, Any]:
    language = getattr(request, "LANGUAGE_CODE", "en")
    return {
        "id": hearing.pk,
        "recording_required": hearing.recording_required,
        "rule": hearing.recording_rule,
        "explanation": (
            hearing.recording_explanation_en
            if language == "en"
            else hearing.recording_explanation_ru
        ),
        "explanation_ru": hearing.recording_explanation_ru,
        "explanation_en": hearing.recording_explanation_en,
    }


def visible_hearing(request: HttpRequest, hearing_id: Id) -> Hearing:
    """The hearing if the caller may see it; otherwise 404, so other courts' hearings stay
    invisible rather than merely forbidden."""
    hearing = selectors.visible_hearings(request.user).filter(pk=hearing_id).first()
    if hearing is None:
        raise NotFound(_("No hearing %(hearing_id)s."), params={"hearing_id": hearing_id})
    return hearing


@router.get("/hearings")
def list_hearings(request: HttpRequest, state: str | None = None, limit: int = 100):
    hearings = selectors.visible_hearings(request.user).order_by("-scheduled_at", "-id")
    if state:
        hearings = hearings.filter(state=state)
    return {"items": [selectors.hearing_summary(h) for h in hearings[: min(max(limit, 1), 500)]]}


@router.get("/hearings/{hearing_id}")
def get_hearing(request: HttpRequest, hearing_id: Id):
    hearing = visible_hearing(request, hearing_id)
    return selectors.hearing_detail(hearing) | _decision(request, hearing)
