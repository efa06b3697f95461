"""HTTP API of the replication area (CONTRACT.md, R23); thin handlers over actions and
selectors. The bytes travel as ``PUT`` with ``Content-Range`` to the centre, or, when the
centre's store is S3, as S3 multipart uploads to URLs the centre presigns (see ``policy.py``,
``multipart.py`` and docs/adr/0006-replication-protocol.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from ninja import Router, Schema, Status
from pydantic import Field

from taspa.api.types import MAX_ID, Id
from taspa.courts.models import Court
from taspa.courts.policy import Action
from taspa.courts.selectors import court_by_ref, court_scope
from taspa.errors import Forbidden, InvalidInput, NotFound
from taspa.replication import selectors
from taspa.replication.acknowledge import commit_replica
from taspa.replication.central import (
    ChunkResult,
    Offer,
    enrol_court,
    offer_replica,
    peer_of,
    receive_chunk,
)
from taspa.replication.multipart import open_uploads, parts_held, presign_parts
from taspa.replication.policy import Transport, parse_content_range

router = Router(tags=["replication"])

_REFUSALS = {
    "offset": ("offset_mismatch", "The chunk does not start at the verified offset."),
    "short": ("chunk_incomplete", "The chunk's body was shorter than its Content-Range."),
    "digest": ("chunk_digest_mismatch", "The chunk does not match its Content-Digest."),
    "prefix": (
        "prefix_digest_mismatch",
        "The bytes the centre held do not match the Prefix-Digest; send the file from 0.",
    ),
    "whole": (
        "repr_digest_mismatch",
        "The file received does not match its Repr-Digest; the commit refuses the replica.",
    ),
}


def chunk_answer(result: ChunkResult) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, JSON body and headers of the answer to a ``PUT`` of a file's bytes (this view
    and the streaming route in front of Django, ``upload.py``)."""
    body: dict[str, Any] = {
        "offset": result.offset,
        "total": result.total,
        "complete": result.complete,
    }
    status = 200
    if result.reason:
        code, detail = _REFUSALS[result.reason]
        body |= {"error": code, "detail": detail}
        status = 409
    headers = {"Range": f"bytes=0-{result.offset - 1}"} if result.offset else {}
    return status, body, headers


class OfferIn(Schema):
    court: str
    source_id: Id = Field(ge=1)
    file_name: str = Field(min_length=1, max_length=255)
    files: dict[str, dict[str, Any]]
    metadata: dict[str, Any]
    metadata_version: int = Field(ge=0, le=MAX_ID)
    audit_head: dict[str, Any] = Field(default_factory=dict)


class PartIn(Schema):
    number: int = Field(ge=1, le=10_000)
    sha256: str = Field(min_length=64, max_length=64)
    bytes: int = Field(ge=0)


class PresignIn(Schema):
    parts: list[PartIn]


@router.post("/courts/{court_id}/replication-token", response={201: dict})
def replication_token(request: HttpRequest, court_id: Id):
    """At the centre (system administrator): a token for the court's server to push with."""
    court = court_by_ref(court_id)
    if court is None:
        raise NotFound(f"No court {court_id}.")
    return Status(201, {"token": enrol_court(actor=request.user, court=court)})


@router.post("/replication/replicas")
def offer(request: HttpRequest, payload: OfferIn):
    replica = open_uploads(offer_replica(peer=peer_of(request.user), offer=Offer(**payload.dict())))
    files = f"/api/v1/replication/replicas/{replica.pk}/files"
    return {
        "id": replica.pk,
        "state": replica.state,
        "offsets": replica.offsets,
        "transport": Transport.S3_MULTIPART if replica.uploads else Transport.CONTENT_RANGE,
        "upload": {kind: f"{files}/{kind}" for kind in replica.files},
        "s3": {
            kind: {
                "upload_id": entry["upload_id"],
                "part_size": entry["part_size"],
                "parts": f"{files}/{kind}/parts",
            }
            for kind, entry in replica.uploads.items()
        },
    }


@router.get("/replication/replicas/{replica_id}/files/{kind}/parts")
def parts(request: HttpRequest, replica_id: Id, kind: str):
    """S3 centres: the parts S3 holds of one file (a broken upload resumes at the next)."""
    return parts_held(peer=peer_of(request.user), replica_id=replica_id, kind=kind).as_dict()


@router.post("/replication/replicas/{replica_id}/files/{kind}/parts")
def presign(request: HttpRequest, replica_id: Id, kind: str, payload: PresignIn):
    """S3 centres: presigned ``upload_part`` URLs, each bound to its part's SHA-256."""
    signed = presign_parts(
        peer=peer_of(request.user),
        replica_id=replica_id,
        kind=kind,
        parts=[part.dict() for part in payload.parts],
    )
    return {"parts": [{"number": p.number, "url": p.url, "headers": p.headers} for p in signed]}


@router.put("/replication/replicas/{replica_id}/files/{kind}")
def put_chunk(request: HttpRequest, replica_id: Id, kind: str):
    """A ``Content-Range`` chunk with its ``Content-Digest``; ``bytes */TOTAL`` asks for the
    verified offset. The answer's ``Range`` header (``bytes=0-N``) says what the centre holds."""
    span = parse_content_range(request.headers.get("Content-Range", ""))
    if span is None:
        raise InvalidInput("bad_content_range", "Content-Range: bytes START-END/TOTAL expected.")
    result = receive_chunk(
        peer=peer_of(request.user),
        replica_id=replica_id,
        kind=kind,
        span=span,
        body=request,
        digest=request.headers.get("Content-Digest", ""),
        repr_digest=request.headers.get("Repr-Digest", ""),
        prefix_digest=request.headers.get("Prefix-Digest", ""),
    )
    status, body, headers = chunk_answer(result)
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


@router.post("/replication/replicas/{replica_id}/commit")
def commit(request: HttpRequest, replica_id: Id):
    ack = commit_replica(peer=peer_of(request.user), replica_id=replica_id)
    if not ack.acknowledged:
        return JsonResponse({"error": "replica_not_verified", **ack.as_dict()}, status=422)
    return ack.as_dict()


@router.get("/replication/status")
def status(request: HttpRequest):
    """R23: pending / in flight / failed, and when each court last replicated."""
    if not Court.objects.filter(court_scope(request.user, Action.VIEW_HEARING)).exists():
        raise Forbidden("Court or regional staff only.")
    if settings.TASPA_ROLE == "central":
        return selectors.central_status(selectors.visible_courts(request.user))
    return selectors.court_status()


@router.get("/replication/alarms")
def alarms(request: HttpRequest, open: bool = False):
    return {"items": selectors.alarms(selectors.visible_courts(request.user), open_only=open)}
