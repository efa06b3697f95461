"""Reads of the retention area (R24, R27)."""

from __future__ import annotations

from typing import Any

from taspa.courts.models import Case, Hearing
from taspa.recorder.models import Recording
from taspa.retention.models import CaseRetention, RecordingRetention


def retention_summary(recording: Recording) -> dict[str, Any] | None:
    """A recording's clock and where it lives (in replication metadata and hearing detail)."""
    row = RecordingRetention.objects.filter(recording=recording).first()
    if row is None:
        return None
    return {
        "retention_until": row.retention_until.isoformat() if row.retention_until else None,
        "hold": row.hold,
        "disposition": row.disposition,
        "archive_location": row.archive_location or None,
        "archived_at": row.archived_at.isoformat() if row.archived_at else None,
        "deleted_at": row.deleted_at.isoformat() if row.deleted_at else None,
    }


def case_retention(case: Case) -> dict[str, Any]:
    kept = CaseRetention.objects.filter(case=case).first()
    recordings = Recording.objects.filter(hearing__case=case, state=Recording.State.SEALED)
    return {
        "case": case.pk,
        "judgment_effective_on": case.judgment_effective_on.isoformat()
        if case.judgment_effective_on
        else None,
        "retention_until": kept.retention_until.isoformat()
        if kept and kept.retention_until
        else None,
        "hold": bool(kept and kept.hold),
        "hold_reason": kept.hold_reason if kept else "",
        "recordings": [
            {"id": r.pk, "file_name": r.file_name, "retention": retention_summary(r)}
            for r in recordings.order_by("pk")
        ],
    }


def hearing_retention_part(hearing: Hearing) -> dict[str, Any]:
    """GET /hearings/{id}: the recording's retention and where it lives now (R24, R27)."""
    recording = Recording.objects.filter(hearing=hearing).first()
    return {"retention": retention_summary(recording) if recording else None}
