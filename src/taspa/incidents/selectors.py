"""Reads of incidents for a hearing's detail (GET /hearings/{id})."""

from __future__ import annotations

from taspa.courts.models import Hearing


def incident_summary(incident) -> dict:
    return {
        "id": incident.pk,
        "kind": incident.kind,
        "detail": incident.detail,
        "at": incident.at.isoformat(),
        "gap_start": incident.gap_start.isoformat() if incident.gap_start else None,
        "gap_end": incident.gap_end.isoformat() if incident.gap_end else None,
    }


def incidents_part(hearing: Hearing) -> dict:
    return {"incidents": [incident_summary(i) for i in hearing.incidents.all()]}
