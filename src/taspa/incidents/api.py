"""Incidents in the API: POST /hearings/{id}/incidents (R9, R16, R17)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from taspa.courts.api import visible_hearing
from taspa.incidents.actions import report_incident

router = Router(tags=["incidents"])


class IncidentIn(Schema):
    kind: str
    detail: str = Field(min_length=1)


@router.post("/hearings/{hearing_id}/incidents", response={201: dict})
def create_incident(request: HttpRequest, hearing_id: int, payload: IncidentIn):
    incident = report_incident(
        actor=request.user,
        hearing=visible_hearing(request, hearing_id),
        kind=payload.kind,
        detail=payload.detail,
    )
    return Status(201, {"id": incident.pk})
