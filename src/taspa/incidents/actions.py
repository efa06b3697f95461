"""Opening incidents: by a person (R9) or by the recorder itself (actor=None)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from taspa.audit.actions import record
from taspa.courts.models import Hearing, User
from taspa.errors import InvalidInput
from taspa.incidents.models import Incident
from taspa.incidents.policy import REPORTABLE_KINDS, IncidentKind


def open_incident(
    *,
    actor: User | None,
    hearing: Hearing,
    kind: str,
    detail: str,
    gap_start: datetime | None = None,
    gap_end: datetime | None = None,
) -> Incident:
    """Record a failure or a break. People may report only the kinds in REPORTABLE_KINDS; the
    recorder (actor=None) reports what it detects. The hearing goes on either way (R10)."""
    try:
        kind = IncidentKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in REPORTABLE_KINDS)
        raise InvalidInput(
            "unknown_incident_kind", f"Unknown kind {kind!r}: use {allowed}."
        ) from None
    if actor is not None and kind not in REPORTABLE_KINDS:
        allowed = ", ".join(k.value for k in REPORTABLE_KINDS)
        raise InvalidInput("incident_kind_not_reportable", f"People report {allowed}.")
    if not detail.strip():
        raise InvalidInput("incident_detail_required", "Give the reason for the minutes (R9).")
    with transaction.atomic():
        incident = Incident.objects.create(
            hearing=hearing,
            kind=kind,
            detail=detail,
            at=timezone.now(),
            gap_start=gap_start,
            gap_end=gap_end,
            reported_by=actor,
        )
        record(
            actor=actor,
            action="incident.open",
            target=incident,
            payload={"hearing": hearing.pk, "kind": kind.value, "detail": detail},
        )
    return incident


def report_incident(*, actor: User, hearing: Hearing, kind: str, detail: str) -> Incident:
    """R9: the secretary operating the recorder reports that recording is impossible."""
    from taspa.courts.actions import require
    from taspa.courts.policy import Action

    require(actor, Action.OPERATE_RECORDER, hearing)
    return open_incident(actor=actor, hearing=hearing, kind=kind, detail=detail)
