"""HTTP API of the retention area (CONTRACT.md: R24, R27); thin handlers over actions and
selectors."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from pydantic import Field

from taspa.api.types import Id
from taspa.courts.models import Case
from taspa.courts.policy import Action
from taspa.courts.selectors import court_scope
from taspa.errors import NotFound
from taspa.retention import actions, selectors, transfer

router = Router(tags=["retention"])


class JudgmentEffectiveIn(Schema):
    date: date


class HoldIn(Schema):
    reason: str = Field(default="", max_length=2000)


def _case(request: HttpRequest, case_id: int) -> Case:
    """A case of a court where the caller keeps case files; 404 for any other."""
    from taspa.courts.models import Court

    courts = Court.objects.filter(court_scope(request.user, Action.VIEW_HEARING))
    case = Case.objects.select_related("court").filter(pk=case_id, court__in=courts).first()
    if case is None:
        raise NotFound(_("No case %(case_id)s."), params={"case_id": case_id})
    return case


@router.post("/cases/{case_id}/judgment-effective")
def judgment_effective(request: HttpRequest, case_id: Id, payload: JudgmentEffectiveIn):
    """R24: the judgment took legal effect; → ``{retention_until}``."""
    kept = actions.set_judgment_effective(
        actor=request.user, case=_case(request, case_id), effective_on=payload.date
    )
    return {
        "case": case_id,
        "judgment_effective_on": payload.date.isoformat(),
        "retention_until": kept.retention_until.isoformat(),
    }


@router.get("/cases/{case_id}/retention")
def retention(request: HttpRequest, case_id: Id):
    return selectors.case_retention(_case(request, case_id))


@router.post("/cases/{case_id}/legal-hold")
def legal_hold(request: HttpRequest, case_id: Id, payload: HoldIn):
    """R24: suspend deletion of the case's recordings until the hold is lifted."""
    kept = actions.set_legal_hold(
        actor=request.user, case=_case(request, case_id), reason=payload.reason
    )
    return {"case": case_id, "hold": kept.hold, "reason": kept.hold_reason}


@router.post("/cases/{case_id}/legal-hold/lift")
def lift_hold(request: HttpRequest, case_id: Id, payload: HoldIn):
    kept = actions.lift_legal_hold(
        actor=request.user, case=_case(request, case_id), reason=payload.reason
    )
    return {"case": case_id, "hold": kept.hold}


@router.get("/retention/due")
def due(request: HttpRequest, limit: int = 100):
    """R27 dry run: what the next sweep would move to the archive (the caller's courts)."""
    from taspa.courts.models import Court

    courts = Court.objects.filter(court_scope(request.user, Action.MANAGE_RETENTION))
    rows = transfer.due(timezone.localdate()).filter(recording__hearing__case__court__in=courts)
    return {
        "items": [
            {
                "recording": row.recording_id,
                "file_name": row.recording.file_name,
                "retention_until": row.retention_until.isoformat(),
                "disposition": row.disposition,
            }
            for row in rows.select_related("recording")[: min(max(limit, 1), 500)]
        ]
    }
