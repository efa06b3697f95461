"""Incidents, notices and acts in the API (CONTRACT.md; R9, R10, R16–R18). Thin: every rule
lives in ``actions`` and ``acts``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import Field

from taspa import limits
from taspa.api.types import Id, Moment
from taspa.courts.api import visible_hearing
from taspa.courts.selectors import visible_hearings
from taspa.documents.render import OFFICIAL_LANGUAGES, render_pdf
from taspa.errors import Conflict, InvalidInput, NotFound
from taspa.incidents import actions, acts, selectors
from taspa.incidents.models import Act, Incident, Notification

router = Router(tags=["incidents"])


class IncidentIn(Schema):
    kind: str
    detail: str = Field(min_length=1)


class MomentIn(Schema):
    at: Moment | None = None


class ForwardIn(Schema):
    note: str = Field(default="", max_length=limits.FORWARD_NOTE)


class ActIn(Schema):
    incidents: list[Id] = Field(min_length=1)


class SignIn(Schema):
    role: str | None = None


class MinutesDecisionIn(Schema):
    keep_minutes: bool
    note: str = Field(default="", max_length=2000)


@router.post("/hearings/{hearing_id}/incidents", response={201: dict})
def create_incident(request: HttpRequest, hearing_id: Id, payload: IncidentIn):
    incident = actions.report_incident(
        actor=request.user,
        hearing=visible_hearing(request, hearing_id),
        kind=payload.kind,
        detail=payload.detail,
    )
    detail = selectors.incident_detail(incident)
    return Status(201, {"id": incident.pk, "announcement": detail["announcement"]})


def _incident(request: HttpRequest, incident_id: int) -> Incident:
    incident = (
        Incident.objects.select_related("hearing__case__court")
        .filter(pk=incident_id, hearing__in=visible_hearings(request.user))
        .first()
    )
    if incident is None:
        raise NotFound(_("No incident %(incident_id)s."), params={"incident_id": incident_id})
    return incident


@router.get("/incidents/{incident_id}")
def get_incident(request: HttpRequest, incident_id: Id):
    return selectors.incident_detail(_incident(request, incident_id))


@router.post("/incidents/{incident_id}/judge-told")
def judge_told(request: HttpRequest, incident_id: Id, payload: MomentIn | None = None):
    incident = actions.record_judge_told(
        actor=request.user, incident=_incident(request, incident_id), at=payload and payload.at
    )
    return selectors.incident_summary(incident)


@router.post("/incidents/{incident_id}/announced")
def announced(request: HttpRequest, incident_id: Id, payload: MomentIn | None = None):
    incident = actions.record_announced(
        actor=request.user, incident=_incident(request, incident_id), at=payload and payload.at
    )
    return selectors.incident_summary(incident)


@router.post("/incidents/{incident_id}/notify")
def notify(request: HttpRequest, incident_id: Id):
    incident = actions.inform_court_admin(
        actor=request.user, incident=_incident(request, incident_id)
    )
    return selectors.incident_summary(incident)


@router.post("/incidents/{incident_id}/forward")
def forward(request: HttpRequest, incident_id: Id, payload: ForwardIn | None = None):
    sent = actions.forward_incident(
        actor=request.user,
        incident=_incident(request, incident_id),
        note=payload.note if payload else "",
    )
    return {"forwarded_to": sorted({n.recipient.username for n in sent})}


@router.get("/inbox")
def inbox(request: HttpRequest, unread: bool = False, limit: int = 100):
    return selectors.inbox(request.user, unread_only=unread, limit=min(max(limit, 1), 500))


@router.post("/inbox/{notification_id}/read")
def read(request: HttpRequest, notification_id: Id):
    notification = Notification.objects.filter(pk=notification_id, recipient=request.user).first()
    if notification is None:
        raise NotFound(
            _("No notice %(notification_id)s in your inbox."),
            params={"notification_id": notification_id},
        )
    return selectors.notification_summary(
        actions.mark_read(actor=request.user, notification=notification)
    )


@router.post("/hearings/{hearing_id}/acts", response={201: dict})
def draw_up_act(request: HttpRequest, hearing_id: Id, payload: ActIn):
    hearing = visible_hearing(request, hearing_id)
    found = list(Incident.objects.filter(pk__in=payload.incidents, hearing=hearing))
    missing = set(payload.incidents) - {i.pk for i in found}
    if missing:
        raise InvalidInput(
            "unknown_incident",
            _("No incidents %(ids)s in hearing %(hearing_id)s."),
            params={"ids": sorted(missing), "hearing_id": hearing_id},
        )
    act = acts.draw_up_act(actor=request.user, hearing=hearing, incidents=found)
    return Status(201, selectors.act_summary(act))


def _act(request: HttpRequest, act_id: int) -> Act:
    act = (
        Act.objects.select_related("hearing__case__court")
        .filter(pk=act_id, hearing__in=visible_hearings(request.user))
        .first()
    )
    if act is None or not selectors.staff_may_see(request.user, act.hearing):
        raise NotFound(_("No act %(act_id)s."), params={"act_id": act_id})
    return act


@router.get("/acts/{act_id}")
def get_act(request: HttpRequest, act_id: Id):
    return selectors.act_summary(_act(request, act_id))


@router.get("/acts/{act_id}/pdf")
def act_pdf(request: HttpRequest, act_id: Id, language: str = "kk"):
    """The act in Kazakh or Russian: two separate documents, each carrying every signature."""
    if language not in OFFICIAL_LANGUAGES:
        raise InvalidInput("unknown_language", _("Documents are issued in 'kk' or 'ru'."))
    act = _act(request, act_id)
    response = HttpResponse(act.pdf(language), content_type="application/pdf")
    name = f"act-{act.court.code}-{act.year}-{act.number}-{language}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@router.post("/hearings/{hearing_id}/minutes-decision", response={201: dict})
def minutes_decision(request: HttpRequest, hearing_id: Id, payload: MinutesDecisionIn):
    """R3.4: the hearing's judge decides whether minutes (and the recording) are kept."""
    decision = actions.decide_minutes(
        actor=request.user,
        hearing=visible_hearing(request, hearing_id),
        keep_minutes=payload.keep_minutes,
        note=payload.note,
    )
    return Status(201, selectors.minutes_decision_summary(decision))


@router.get("/hearings/{hearing_id}/minutes-reason")
def minutes_reason(request: HttpRequest, hearing_id: Id, language: str = "kk"):
    """R9, R13: the minutes' text on why the hearing was not (fully) recorded, as a PDF in
    Kazakh or Russian — two separate documents."""
    if language not in OFFICIAL_LANGUAGES:
        raise InvalidInput("unknown_language", _("Documents are issued in 'kk' or 'ru'."))
    hearing = visible_hearing(request, hearing_id)
    if not selectors.staff_may_see(request.user, hearing):
        raise NotFound(_("No hearing %(hearing_id)s."), params={"hearing_id": hearing_id})
    if not selectors.minutes_incidents(hearing):
        raise Conflict(
            "no_reason_to_state", _("No report of recording impossible or not recorded here.")
        )
    pdf = render_pdf("incidents/minutes_reason.html", selectors.minutes_context(hearing), language)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"minutes-reason-{hearing.pk}-{language}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@router.post("/acts/{act_id}/sign")
def sign(request: HttpRequest, act_id: Id, payload: SignIn | None = None):
    act = acts.sign_act(
        actor=request.user, act=_act(request, act_id), role=payload.role if payload else None
    )
    summary = selectors.act_summary(act)
    return {"status": summary["status"], "signers": summary["signers"], "id": act.pk}
