"""Issuing a copy (R31–R33) and handing it out: the package, the download link, the medium.

Actions in the STYLE sense, split from ``actions.py`` because they drive ffmpeg, bagit and
the blob store. The copy is signed with the EDS key of the hearing's secretary, who signed
the original (R14) and keeps the recording while the case is heard (R21); docs/adr/0007.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from taspa.access.models import Copy, Petition
from taspa.access.package import Progress, build_copy_package
from taspa.access.policy import Delivery, Media, PetitionKind, acknowledgement_refusal
from taspa.audit.actions import record
from taspa.courts.actions import require
from taspa.courts.models import User
from taspa.courts.permissions import allowed
from taspa.courts.policy import Action
from taspa.errors import Conflict, Forbidden, NotFound, RuleRefusal
from taspa.recorder.models import Recording
from taspa.sealing.actions import SigningUnavailable, signer_for
from taspa.sealing.layout import SealedRecording, safe_part
from taspa.sealing.reading import checked_copy
from taspa.storage.store import get_store

log = logging.getLogger("taspa.access")
SEALED_KINDS = ("media", "signature", "manifest", "manifest_signature")


def copies_dir() -> Path:
    return Path(settings.TASPA_HOME) / "access" / "copies"


def link_days() -> int:
    """How long a download link lives (TASPA_COPY_LINK_DAYS, default 30)."""
    return int(getattr(settings, "TASPA_COPY_LINK_DAYS", 30))


def _sealed_recording(petition: Petition) -> Recording:
    recording = Recording.objects.filter(
        hearing=petition.hearing, state=Recording.State.SEALED
    ).first()
    if recording is None or not SealedRecording.of(recording).complete:
        raise Conflict("no_sealed_recording", "The hearing has no sealed recording to copy.")
    return recording


def _package_name(petition: Petition) -> str:
    case = petition.hearing.case
    return f"copy_{safe_part(case.court.code)}_{safe_part(case.number)}_p{petition.pk}"


def _issue(petition: Petition, actor: User) -> dict:
    return {
        "petition": petition.pk,
        "applicant": petition.applicant_name,
        "applicant_role": petition.applicant_role,
        "delivery": petition.delivery,
        "issued_by": actor.get_full_name() or str(actor),
        "issued_at": timezone.now().isoformat(),
        "court": petition.hearing.case.court.code,
        "rule": "R31",
    }


def issue_copy(
    *,
    actor: User,
    petition: Petition,
    progress: Progress = log.info,
    excluded: Sequence[tuple[float, float]] = (),
) -> Copy:
    """Make, sign, bag and store the copy for ``petition`` (R31); the same copy on a rerun.

    ``excluded``: intervals of the recording (seconds of its timeline, as marks' ``offset_s``)
    the copy leaves out, cut whole at packet boundaries (R32 for closed portions)."""
    require(actor, Action.HANDLE_PETITIONS, petition.hearing.case.court)
    existing = Copy.objects.filter(petition=petition).first()
    if existing is not None:
        return existing
    if petition.kind != PetitionKind.COPY:
        raise Conflict("not_a_copy_petition", "This petition asks for a review, not a copy.")
    acknowledged = petition.personal_data_warning_acknowledged
    refusal = acknowledgement_refusal(PetitionKind.COPY, acknowledged)
    if refusal is not None:
        raise RuleRefusal(refusal.code, refusal.explanation)
    recording = _sealed_recording(petition)
    # R32 for part of a hearing: every closed portion as it stands now is left out, whatever
    # else the caller excludes (recorder.selectors.closed_intervals, merged with ``excluded``).
    excluded = _with_closed_portions(recording, excluded)
    signer = _copy_signer(actor, recording)
    # The original's bytes come from the store, each hashed as it is copied and compared with
    # its sealed digest: a mismatch refuses the copy (409 fixity_failed, an incident) before
    # anything is signed (R19, R20, R31).
    with checked_copy(recording, SEALED_KINDS) as sealed:
        built = _build(petition, actor, sealed, signer, progress, excluded)
    # hashed as it was written: the file store links it in, S3 checks the upload (#17 point 3)
    get_store().adopt(built.zip_path, sha256=built.sha256)
    return _record_copy(actor, petition, built, signer.certificate.subject.rfc4514_string())


def _with_closed_portions(
    recording: Recording, excluded: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    from taspa.access.policy import Audience, excluded_for, merge_intervals
    from taspa.recorder.selectors import closed_intervals

    closed = excluded_for(
        Audience.COPY, closed_hearing=False, portions=closed_intervals(recording)
    )  # a hearing closed whole never gets here: its petition is refused (decide_petition)
    duration = recording.duration_s if recording.duration_s is not None else float("inf")
    return merge_intervals([*excluded, *(closed or [])], duration)


def _copy_signer(actor: User, recording: Recording):
    """R14, R31: the court staff member who issues the copy signs it with their own EDS (the
    manifest links it to the original's signature), so a copy never needs the recording
    secretary's key to still be valid; staff without a registered key fall back to the key of
    the secretary who recorded it."""
    from taspa.recorder.selectors import session_secretary

    try:
        return signer_for(actor)
    except SigningUnavailable:
        return signer_for(session_secretary(recording))


def _build(petition: Petition, actor: User, sealed, signer, progress, excluded=()):
    court = petition.hearing.case.court
    return build_copy_package(
        sealed=sealed,
        media=Media(petition.media),
        signer=signer,
        name=_package_name(petition),
        issue=_issue(petition, actor),
        bag_info={
            "Source-Organization": court.name,
            "External-Identifier": f"{court.code} petition {petition.pk}",
            "External-Description": f"Copy of the recording of case {petition.hearing.case.number}",
        },
        out_dir=copies_dir(),
        progress=progress,
        excluded=excluded,
    )


def _record_copy(actor: User, petition: Petition, built, subject: str) -> Copy:
    now = timezone.now()
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        existing = Copy.objects.filter(petition=petition).first()
        if existing is not None:  # a concurrent fulfilment won: keep the first copy
            return existing
        copy = Copy.objects.create(
            petition=petition,
            media=petition.media,
            file_name=built.zip_path.name,
            digest=built.sha256,
            bytes=built.bytes,
            media_sha256=built.media_sha256,
            signer_subject=subject,
            made_by=actor,
            made_at=now,
            expires_at=now + timedelta(days=link_days()),
        )
        petition.state, petition.fulfilled_at = Petition.State.FULFILLED, now
        petition.save(update_fields=["state", "fulfilled_at"])
        record(
            actor=actor,
            action="access.copy_issue",
            target=copy,
            payload={"petition": petition.pk, "sha256": built.sha256, "media": copy.media},
        )
    return copy


def record_medium_written(*, actor: User, copy: Copy) -> Copy:
    """R33: the copy goes onto the applicant's medium only after court staff formatted it, and
    only with the applicant's consent to that, given on the application form."""
    petition = copy.petition
    require(actor, Action.HANDLE_PETITIONS, petition.hearing.case.court)
    if petition.delivery != Delivery.MEDIUM:
        raise Conflict("not_medium_delivery", "This copy is delivered online.")
    if not petition.medium_formatting_consent:
        raise RuleRefusal(
            "medium_formatting_consent_missing",
            "The applicant has not agreed that the medium will be formatted (R33).",
        )
    with transaction.atomic():
        copy = Copy.objects.select_for_update().get(pk=copy.pk)
        if copy.medium_formatted_at is None:
            copy.medium_formatted_at, copy.medium_formatted_by = timezone.now(), actor
            copy.save(update_fields=["medium_formatted_at", "medium_formatted_by"])
            record(actor=actor, action="access.medium_written", target=copy, payload={})
    return copy


def open_download(*, actor: User, copy: Copy, byte_range: str = "") -> Path:
    """The zip's path for a permitted download, audited (every download is on record): the
    applicant until the link expires, court staff of the court at any time."""
    court = copy.petition.hearing.case.court
    staff = allowed(actor, Action.HANDLE_PETITIONS, court)
    if not staff and copy.petition.applicant_user_id != actor.pk:
        raise Forbidden("Only the applicant downloads this copy (R31).", code="not_the_applicant")
    if not staff and timezone.now() > copy.expires_at:
        raise RuleRefusal("download_link_expired", "The download link has expired (R31).")
    path = copies_dir() / copy.file_name
    if not path.is_file():
        path = _restore(copy, path)
    with transaction.atomic():
        record(
            actor=actor,
            action="access.copy_download",
            target=copy,
            payload={"range": byte_range[:64], "as": "staff" if staff else "applicant"},
        )
    return path


def _restore(copy: Copy, path: Path) -> Path:
    """Bring the zip back from the blob store when the local file is gone."""
    store = get_store()
    if not store.exists(copy.digest):
        raise NotFound("The copy's package is not in the store.", code="copy_missing")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part")
    with store.open(copy.digest) as source, partial.open("wb") as target:
        while chunk := source.read(1 << 20):
            target.write(chunk)
    partial.replace(path)
    return path
