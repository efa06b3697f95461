"""Issuing a copy (R31–R33) and handing it out: the package, the download link, the medium.

Actions in the STYLE sense, split from ``actions.py`` because they drive ffmpeg, bagit and
the blob store. The copy is signed with the EDS key of the hearing's secretary, who signed
the original (R14) and keeps the recording while the case is heard (R21); docs/adr/0007.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taspa.access.models import Copy, Petition
from taspa.access.package import BuiltPackage, Progress, build_copy_package
from taspa.access.policy import Delivery, Media, PetitionKind, acknowledgement_refusal
from taspa.audit.actions import record
from taspa.courts.actions import require
from taspa.courts.models import User
from taspa.courts.permissions import allowed
from taspa.courts.policy import Action
from taspa.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, RuleRefusal
from taspa.files import fsync_path
from taspa.recorder.models import Recording
from taspa.sealing.actions import SigningUnavailable, signer_for
from taspa.sealing.layout import SealedFiles, SealedRecording, safe_part
from taspa.sealing.reading import StreamedMedia, checked_copy, streamed_media
from taspa.storage.store import BlobStore, get_store

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
    built = package_sealed(
        recording,
        lambda sealed, streamed: _build(
            petition, actor, sealed, signer, progress, excluded, streamed
        ),
        excluded=excluded,
    )
    # hashed as it was written: the file store links it in, S3 checks the upload (#17 point 3)
    get_store().adopt(built.zip_path, sha256=built.sha256)
    return _record_copy(actor, petition, built, signer.certificate.subject.rfc4514_string())


def package_sealed(
    recording: Recording,
    build: Callable[[SealedFiles, StreamedMedia | None], BuiltPackage],
    *,
    excluded: Sequence[tuple[float, float]] = (),
    store: BlobStore | None = None,
    streamed: bool | None = None,
) -> BuiltPackage:
    """``build(sealed, streamed)`` the copy from the sealed original's bytes in the store, each
    hashed as it is read and compared with its sealed digest: a mismatch (a blob swapped or
    truncated behind Taspa's back) refuses the copy (``SealedBytesRefused``: 409
    fixity_failed, the recording marked failed, an incident) and leaves no package, nothing
    signed (R19, R20, R31).

    Without a cut the media is streamed (``reading.StreamedMedia``): read once from the store
    into ffmpeg's stdin while it is hashed; its last chunk is held back until the digest
    matched and ``build_copy_package`` raises before signing when it did not. A cut of closed
    portions (``excluded``) needs ffprobe and ffmpeg to seek in the original, so the media is
    first copied, checked, into a private temporary file (``checked_copy``), as every copy was
    before (#17 point 3). The small signed files always come through ``checked_copy``.
    ``streamed`` forces one way or the other (the benchmark measures both)."""
    store = store or get_store()
    if streamed is None:
        streamed = not excluded
    if not streamed:
        with checked_copy(recording, SEALED_KINDS, store) as sealed:
            return build(sealed, None)
    source = streamed_media(recording, store)
    small = tuple(kind for kind in SEALED_KINDS if kind != "media")
    with checked_copy(recording, small, store) as sealed, source.refusing():
        return build(sealed, source)


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


def _build(petition: Petition, actor: User, sealed, signer, progress, excluded=(), streamed=None):
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
        streamed=streamed,
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


_MEDIUM_ERRORS = {
    "device_path_not_allowed": _(
        "%(device)s is not a removable device under %(roots)s: nothing was formatted."
    ),
    "not_a_block_device": _("%(device)s is not a block device: nothing was formatted."),
    "device_in_use": _(
        "%(device)s holds a file system mounted elsewhere (%(where)s): nothing was formatted."
    ),
    "format_not_confirmed": _(
        "Formatting erases everything on %(device)s. To confirm, type exactly: %(expected)s"
    ),
    "device_unreadable": _("%(device)s cannot be read: nothing was formatted."),
    "medium_not_found": _("The folder %(mount)s for the medium does not exist."),
    "medium_path_not_allowed": _(
        "%(mount)s is not under the folders where media are mounted (%(roots)s)."
    ),
    "medium_format_failed": _("Formatting %(device)s failed: %(why)s"),
    "medium_not_writable": _("The medium cannot be written."),
    "medium_not_empty": _("The medium is not empty after formatting."),
    "medium_full": _("The copy does not fit on the medium."),
    "medium_write_failed": _("Writing the copy onto the medium failed."),
    "copy_already_on_medium": _("The copy is already on record as written onto a medium."),
}


def _medium_error(error: DomainError, **facts: object) -> DomainError:
    """The same refusal (class and code) with its explanation in the user's language."""
    text = _MEDIUM_ERRORS.get(error.code)
    if text is None:
        return error
    values = {"device": "", "mount": "", "roots": "", "where": "", "expected": "", "why": ""}
    values |= {key: str(value) for key, value in facts.items()}
    if error.code == "device_in_use":
        values["where"] = error.english.partition(" mounted at ")[2].partition(":")[0]
    if error.code == "medium_format_failed":
        values["why"] = error.english
    translated = type(error).__new__(type(error))
    DomainError.__init__(translated, error.code, str(text) % values)
    translated.status = error.status
    return translated


def device_roots() -> list[str]:
    """Where the block devices Taspa may format live (TASPA_MEDIUM_DEVICE_ROOTS, default /dev)."""
    return list(getattr(settings, "TASPA_MEDIUM_DEVICE_ROOTS", ["/dev"]))


def _require_device_path(device: str) -> str:
    roots = device_roots()
    refused = InvalidInput("device_path_not_allowed", "")
    if not device.startswith("/") or "\x00" in device:
        raise _medium_error(refused, device=device, roots=", ".join(roots))
    real = Path(os.path.realpath(device))
    if not any(real.is_relative_to(Path(root)) and real != Path(root) for root in roots):
        raise _medium_error(refused, device=device, roots=", ".join(roots))
    return device


def record_medium_written(
    *, actor: User, copy: Copy, device: str, mount: Path | str, confirmation: str
) -> Copy:
    """R33: court staff format the applicant's own medium (the block device ``device``, mounted
    back at ``mount``) with the case-file medium's formatting (``custody.medium.format_device``:
    only after ``confirmation`` names the device, its size and its label; never a device
    mounted anywhere else), then write the copy's package onto it and read it back. Only with
    the applicant's consent to the formatting, given on the application form. Each step is on
    record (audit trail, ``Copy.medium_record``); a refusal changes nothing."""
    from taspa.custody import medium as io
    from taspa.custody.actions import medium_filesystem, medium_roots

    petition = copy.petition
    require(actor, Action.HANDLE_PETITIONS, petition.hearing.case.court)
    if petition.delivery != Delivery.MEDIUM:
        raise Conflict("not_medium_delivery", "This copy is delivered online.")
    if not petition.medium_formatting_consent:
        raise RuleRefusal(
            "medium_formatting_consent_missing",
            "The applicant has not agreed that the medium will be formatted (R33).",
        )
    if copy.medium_formatted_at is not None:
        raise _medium_error(Conflict("copy_already_on_medium", ""))
    mount = Path(mount)
    facts = {"device": device, "mount": mount, "roots": ", ".join(medium_roots())}
    try:
        _require_device_path(device)
        if "\x00" in str(mount):
            raise io.MediumError("medium_path_not_allowed", "")
        mount = io.require_medium_path(
            mount, roots=medium_roots(), mount_point=False, home=Path(settings.TASPA_HOME)
        )
        package = copies_dir() / copy.file_name
        if not package.is_file():
            package = _restore(copy, package)  # before anything is erased
        done = io.format_device(device, mount, medium_filesystem(), confirmation)
    except DomainError as error:
        if error.code == "format_not_confirmed":
            facts["expected"] = io.describe_device(device).confirmation
        # mkfs ran but the new file system could not be mounted back: the medium is erased.
        failed = error.code == "medium_format_failed"
        action = "access.medium_format_failed" if failed else "access.medium_refused"
        raise _medium_refused(actor, copy, error, facts, action) from None
    formatted = done.as_dict() | {"at": timezone.now().isoformat()}
    # R33: on record at once, whatever happens to the write that follows.
    record(actor=actor, action="access.medium_format", target=copy, payload=formatted)
    try:
        written = _write_package(io, package, mount, copy)
    except DomainError as error:
        raise _medium_refused(actor, copy, error, facts, "access.medium_write_failed") from None
    with transaction.atomic():
        copy = Copy.objects.select_for_update().get(pk=copy.pk)
        if copy.medium_formatted_at is not None:  # a concurrent write was first
            raise _medium_error(Conflict("copy_already_on_medium", ""))
        copy.medium_formatted_at, copy.medium_formatted_by = timezone.now(), actor
        copy.medium_record = {"format": formatted, "written": written}
        copy.save(update_fields=["medium_formatted_at", "medium_formatted_by", "medium_record"])
        record(actor=actor, action="access.medium_written", target=copy, payload=copy.medium_record)
    return copy


def _write_package(io, package: Path, mount: Path, copy: Copy) -> dict[str, object]:
    """Empty the fresh file system, copy the package on, sync it and read it back."""
    import hashlib

    io.probe_writable(mount)
    io.wipe(mount)
    io.require_space(mount, package.stat().st_size)
    target = mount / copy.file_name
    try:
        io.copy_synced(package, target)
        fsync_path(mount)
        digest = hashlib.sha256()
        with open(target, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError as error:
        target.unlink(missing_ok=True)
        raise io.MediumError("medium_write_failed", str(error)) from None
    if digest.hexdigest() != copy.digest:
        target.unlink(missing_ok=True)
        raise io.MediumError("medium_write_failed", "the copy read back differs")
    return {
        "mount": str(mount),
        "file": copy.file_name,
        "bytes": target.stat().st_size,
        "sha256": digest.hexdigest(),
    }


def _medium_refused(
    actor: User,
    copy: Copy,
    error: DomainError,
    facts: dict[str, object],
    action: str = "access.medium_refused",
) -> DomainError:
    with transaction.atomic():
        record(
            actor=actor,
            action=action,
            target=copy,
            payload={"error": error.code, "detail": error.detail[:500]},
        )
    return _medium_error(error, **facts)


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
