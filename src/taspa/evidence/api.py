"""``GET /recordings/{id}/evidence`` (CONTRACT.md): the recording's RFC 4998 record; the
centre's witness of each court's audit head and evidence roots (issue 15)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from pydantic import Field

from taspa.api.types import MAX_ID, Id
from taspa.courts.selectors import visible_hearings
from taspa.errors import NotFound
from taspa.evidence.selectors import record_bytes
from taspa.evidence.witness import witness_head, witnessed
from taspa.recorder.actions import audit_recording_read, check_read_purpose
from taspa.recorder.models import Recording
from taspa.replication.central import peer_of

router = Router(tags=["evidence"])
CONTENT_TYPE = "application/evidence-record"


@router.get("/recordings/{recording_id}/evidence")
def evidence(request: HttpRequest, recording_id: Id, purpose: str | None = None):
    """The DER EvidenceRecord covering the recording; 404 until the day's record is built.
    Each download is audited with its ``purpose`` (R2), as the media is."""
    recording = Recording.objects.filter(
        pk=recording_id, hearing__in=visible_hearings(request.user, as_party=False)
    ).first()
    if recording is None:
        raise NotFound(_("No recording %(recording_id)s."), params={"recording_id": recording_id})
    check_read_purpose(purpose)
    der = record_bytes(recording)
    if der is None:
        raise NotFound(
            _(
                "Recording %(recording_id)s has no evidence record yet: it is built the day after "
                "sealing (taspa evidence build)."
            ),
            params={"recording_id": recording_id},
            code="no_evidence_record",
        )
    audit_recording_read(
        actor=request.user, recording=recording, channel="api", purpose=purpose, read="evidence"
    )
    response = HttpResponse(der, content_type=CONTENT_TYPE)
    name = (recording.file_name or f"recording-{recording.pk}") + ".ers"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class WitnessIn(Schema):
    seq: int = Field(ge=0, le=MAX_ID)
    hash: str = Field(min_length=64, max_length=64)
    roots: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)


@router.post("/replication/witness")
def witness(request: HttpRequest, payload: WitnessIn):
    """At the centre (a court's replication credential): keep the court's audit head and
    evidence roots; answer with the centre's signed receipt (issue 15)."""
    return witness_head(
        peer=peer_of(request.user), seq=payload.seq, chain_hash=payload.hash, roots=payload.roots
    )


@router.get("/replication/witness")
def witnessed_heads(request: HttpRequest):
    """At the centre: every audit head and evidence root witnessed for the caller's court."""
    return witnessed(peer_of(request.user))
