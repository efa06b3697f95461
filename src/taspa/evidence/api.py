"""``GET /recordings/{id}/evidence`` (CONTRACT.md): the recording's RFC 4998 record."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from taspa.api.types import Id
from taspa.courts.selectors import visible_hearings
from taspa.errors import NotFound
from taspa.evidence.selectors import record_bytes
from taspa.recorder.models import Recording

router = Router(tags=["evidence"])
CONTENT_TYPE = "application/evidence-record"


@router.get("/recordings/{recording_id}/evidence")
def evidence(request: HttpRequest, recording_id: Id):
    """The DER EvidenceRecord covering the recording; 404 until the day's record is built."""
    recording = Recording.objects.filter(
        pk=recording_id, hearing__in=visible_hearings(request.user, as_party=False)
    ).first()
    if recording is None:
        raise NotFound(f"No recording {recording_id}.")
    der = record_bytes(recording)
    if der is None:
        raise NotFound(
            f"Recording {recording_id} has no evidence record yet: it is built the day after "
            "sealing (taspa evidence build).",
            code="no_evidence_record",
        )
    response = HttpResponse(der, content_type=CONTENT_TYPE)
    name = (recording.file_name or f"recording-{recording.pk}") + ".ers"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
