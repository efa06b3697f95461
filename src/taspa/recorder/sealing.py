"""Sealing a stopped recording (R13, R14): manifest, EDS signatures, the hearing marked sealed.

The bytes were hashed while they were captured, so sealing signs the known digest and moves
the file into place: its cost does not grow with the hearing's length.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from taspa.audit.actions import record
from taspa.courts.models import Hearing
from taspa.incidents.actions import open_incident
from taspa.incidents.policy import IncidentKind
from taspa.recorder.models import Recording
from taspa.recorder.signals import recording_sealed
from taspa.sealing.actions import SigningUnavailable, signer_for
from taspa.sealing.layout import SealedFiles, recording_file_name
from taspa.sealing.manifest import build_manifest, certificate_summary
from taspa.sealing.seal import seal_recording
from taspa.sealing.timestamp_queue import queue_missing_timestamps
from taspa.sealing.timestamps import configured_timestamper
from taspa.storage.store import get_store

log = logging.getLogger("taspa.recorder")
CONTAINER_EXTENSIONS = {"mpegts": "ts", "matroska": "mkv", "mp4": "mp4"}


def sealed_dir(hearing: Hearing) -> Path:
    return Path(settings.TASPA_HOME) / "recordings" / hearing.case.court.code


def effective_marks(recording: Recording) -> list[dict[str, Any]]:
    """The marks as they stand: a superseded mark gives way to its correction (R12)."""
    return [
        {
            "speaker": m.speaker,
            "role": m.role,
            "offset_s": round(m.offset_s, 3),
            "at": m.at,
            "id": m.pk,
            "supersedes": m.supersedes_id,
        }
        for m in recording.marks.filter(superseded_by__isnull=True).order_by("offset_s", "id")
    ]


def pause_list(recording: Recording) -> list[dict[str, Any]]:
    return [
        {
            "reason": p.reason,
            "announced_at": p.announced_at,
            "started_at": p.started_at,
            "ended_at": p.ended_at,
        }
        for p in recording.pauses.order_by("started_at")
    ]


def incident_list(hearing: Hearing) -> list[dict[str, Any]]:
    return [
        {
            "id": i.pk,
            "kind": i.kind,
            "detail": i.detail,
            "at": i.at,
            "gap_start": i.gap_start,
            "gap_end": i.gap_end,
        }
        for i in hearing.incidents.order_by("at", "id")
    ]


def _manifest(recording: Recording, file_name: str, certificate: Any) -> dict[str, Any]:
    hearing = recording.hearing
    case = hearing.case
    gaps = [
        {"start": i["gap_start"], "end": i["gap_end"], "cause": i["detail"]}
        for i in incident_list(hearing)
        if i["kind"] == IncidentKind.CAPTURE_GAP
    ]
    return build_manifest(
        file_name=file_name,
        result=_result(recording) | {"gaps": gaps},
        hearing={
            "id": hearing.pk,
            "court_code": case.court.code,
            "court_name": case.court.name,
            "case_number": case.number,
            "case_kind": case.kind,
            "instance": hearing.instance,
            "closed": hearing.closed,
            "scheduled_at": hearing.scheduled_at,
        },
        secretary={
            "name": str(hearing.secretary),
            "username": hearing.secretary.username,
            "certificate": certificate_summary(certificate),
        },
        stopped_at=recording.stopped_at,
        marks=effective_marks(recording),
        pauses=pause_list(recording),
        incidents=incident_list(hearing),
    )


def _result(recording: Recording) -> dict[str, Any]:
    return {
        "media_path": recording.media_path,
        "sha256": recording.sha256,
        "bytes": recording.bytes,
        "duration_s": recording.duration_s,
        "chain_head": recording.chain_head,
        "pieces": recording.pieces,
        "started_at": recording.started_at,
        "container": recording.container,
    }


def seal_hearing_recording(recording: Recording) -> Recording:
    """Sign and file a stopped recording; idempotent, so a crash mid-way is mended by rerunning.

    Without a usable EDS key (R14 cannot be done automatically) the recording stays stopped,
    intact in the spool, and an incident says why; ``seal_pending`` retries later.
    """
    hearing = Hearing.objects.select_related("case__court", "secretary").get(
        pk=recording.hearing_id
    )
    if recording.state == Recording.State.SEALED:
        return recording
    try:
        signer = signer_for(hearing.secretary)
    except SigningUnavailable as error:
        open_incident(
            actor=None,
            hearing=hearing,
            kind=IncidentKind.SIGNING_FAILED,
            detail=f"The recording could not be signed (R14): {error.detail}",
        )
        return recording
    extension = CONTAINER_EXTENSIONS.get(recording.container, "bin")
    file_name = recording_file_name(
        hearing.case.court.code,
        hearing.case.number,
        timezone.localtime(recording.started_at).date(),
        hearing.pk,
        extension,
    )
    manifest = _manifest(recording, file_name, signer.certificate)
    journal = Path(recording.spool_dir) / "journal.jsonl"
    files = seal_recording(
        result_like=_result(recording),
        manifest=manifest,
        signer=signer,
        out_dir=sealed_dir(hearing),
        journal_path=journal if journal.exists() else None,
        timestamper=configured_timestamper(),  # RFC 3161 when TASPA_TSA_URL is set
    )
    return _mark_sealed(recording, hearing, files, signer)


def _store(files: SealedFiles, media_sha256: str) -> dict[str, str]:
    """Take the sealed files into the blob store (R14: saved on the server). The media's digest
    is known from capture, so the file backend links it in place of copying it."""
    store = get_store()
    store.adopt(files.media, sha256=media_sha256)
    digests = {}
    for name in ("signature", "manifest", "manifest_signature"):
        path = getattr(files, name)
        digests[name] = store.adopt(
            path, sha256=hashlib.sha256(path.read_bytes()).hexdigest()
        ).digest
    return digests


def _mark_sealed(recording: Recording, hearing: Hearing, files: SealedFiles, signer) -> Recording:
    digests = _store(files, recording.sha256)
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(pk=recording.pk)
        if recording.state == Recording.State.SEALED:
            return recording  # a concurrent or earlier run got here first: one seal event
        recording.file_name = files.media.name
        recording.media_path = str(files.media)
        recording.signature_digest = digests["signature"]
        recording.manifest_digest = digests["manifest"]
        recording.manifest_signature_digest = digests["manifest_signature"]
        recording.signed_by = hearing.secretary
        recording.signer_subject = signer.certificate.subject.rfc4514_string()
        recording.sealed_at = recording.stored_at = timezone.now()
        recording.state = Recording.State.SEALED
        recording.save()
        Hearing.objects.filter(pk=hearing.pk).update(state=Hearing.State.SEALED)
        transaction.on_commit(lambda: recording_sealed.send(sender=Recording, recording=recording))
        record(
            actor=None,
            action="recording.seal",
            target=recording,
            payload={
                "file_name": recording.file_name,
                "sha256": recording.sha256,
                "signer": recording.signer_subject,
            },
        )
        queue_missing_timestamps(recording, files)  # the TSA was down: added later
    return recording


def seal_pending() -> list[Recording]:
    """Retry sealing every stopped recording (after a key was registered, or after a crash)."""
    return [
        seal_hearing_recording(recording)
        for recording in Recording.objects.filter(state=Recording.State.STOPPED)
    ]
