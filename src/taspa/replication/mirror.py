"""At the centre: a replica as Court/Case/Hearing/Recording rows (R23), so the centre's
``GET /recordings?court=CODE`` lists what it holds. Keyed by the court's own ids and numbers;
people are inactive placeholder users named ``<court code>~<username>``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from taspa.courts.models import Case, Court, Courtroom, Hearing, User
from taspa.recorder.models import Recording
from taspa.sealing.layout import SealedFiles


def _when(text: str | None) -> datetime | None:
    return parse_datetime(text) if text else None


def _person(court: Court, person: dict[str, Any] | None) -> User:
    person = person or {}
    username = f"{court.code}~{person.get('username') or 'unknown'}"[:150]
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"full_name": person.get("name", ""), "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def mirror_case(court: Court, case: dict[str, Any]) -> Case:
    """The centre's copy of the court's case, with its judgment date (R24) kept current."""
    mirrored, _ = Case.objects.get_or_create(
        court=court,
        number=case["number"],
        defaults={"kind": case["kind"], "language": case.get("language") or "kk"},
    )
    effective = (
        parse_date(case["judgment_effective_on"]) if case.get("judgment_effective_on") else None
    )
    if mirrored.judgment_effective_on != effective:
        mirrored.judgment_effective_on = effective
        mirrored.save(update_fields=["judgment_effective_on"])
    return mirrored


def _hearing(court: Court, case: Case, hearing: dict[str, Any]) -> Hearing:
    room, _ = Courtroom.objects.get_or_create(
        court=court, name=f"{hearing.get('courtroom') or 'courtroom'} (replica)"[:255]
    )
    return Hearing.objects.create(
        case=case,
        courtroom=room,
        instance=hearing["instance"],
        closed=bool(hearing.get("closed")),
        judge=_person(court, hearing.get("judge")),
        secretary=_person(court, hearing.get("secretary")),
        scheduled_at=_when(hearing.get("scheduled_at")) or timezone.now(),
        circumstances=hearing.get("circumstances") or {},
        state=Hearing.State.SEALED,
        recording_required=hearing.get("recording_required") or "required",
        recording_rule=(hearing.get("rule") or "")[:8],
        recording_explanation_ru=hearing.get("explanation_ru") or "",
        recording_explanation_en=hearing.get("explanation_en") or "",
    )


def mirror_recording(
    court: Court, metadata: dict[str, Any], files: SealedFiles, digests: dict[str, str]
) -> Recording:
    """A sealed Recording row for a verified replica whose blobs are in the store as
    ``digests`` (kind -> digest); the centre serves them from there like a court does."""
    case = mirror_case(court, metadata["case"])
    hearing = _hearing(court, case, metadata["hearing"])
    rec = metadata["recording"]
    return Recording.objects.create(
        hearing=hearing,
        state=Recording.State.SEALED,
        spool_dir="",
        started_at=_when(rec.get("started_at")) or timezone.now(),
        stopped_at=_when(rec.get("stopped_at")),
        container=rec.get("container") or "",
        file_name=files.media.name,
        sha256=rec["sha256"],
        bytes=rec["bytes"],
        duration_s=rec.get("duration_s"),
        chain_head=rec.get("chain_head") or "",
        pieces=rec.get("pieces"),
        signature_digest=digests.get("signature", ""),
        manifest_digest=digests.get("manifest", ""),
        manifest_signature_digest=digests.get("manifest_signature", ""),
        journal_digest=digests.get("journal", ""),
        signer_subject=rec.get("signer_subject") or "",
        sealed_at=_when(rec.get("sealed_at")),
        stored_at=timezone.now(),
    )
