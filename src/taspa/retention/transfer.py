"""R27: move recordings past their retention to the electronic archive, then delete them from
the recording server — each step idempotent and recorded (see ``actions.py``)."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from taspa.audit.actions import record
from taspa.recorder.models import Recording
from taspa.retention import archive
from taspa.retention.models import RecordingRetention
from taspa.retention.policy import Disposition
from taspa.sealing.layout import SealedRecording
from taspa.sealing.reading import SealedBytesRefused
from taspa.storage.store import BlobNotFound, StorageError, get_store

log = logging.getLogger("taspa.retention")
BATCH = 200


class ArchiveFailed(Exception):
    """The archive copy could not be written or did not verify: nothing was deleted."""


class AwaitingCentre(Exception):
    """R23, R27: a court that replicates keeps its copy until the centre acknowledged it."""


def replicates_to_centre() -> bool:
    """A court server that sends its recordings to the centre (R23): there the recordings are
    kept, archived and deleted (п.23, п.27); the court's own copy is only released."""
    return getattr(settings, "TASPA_ROLE", "court") == "court" and bool(
        getattr(settings, "TASPA_CENTRAL_URL", "")
    )


def _release(row: RecordingRetention, recording: Recording) -> RecordingRetention:
    """R23, R24, R27 at a court that replicates: once its own retention is over and the centre
    has acknowledged the replica (verified, stored), the court's copy leaves the court's store.
    The centre keeps the recording and moves it to the electronic archive on its own clock."""
    from taspa.replication.models import Outgoing

    sent = Outgoing.objects.filter(recording=recording, acknowledged_at__isnull=False).first()
    if sent is None:
        raise AwaitingCentre("kept: the centre has not acknowledged this recording yet")
    centre = settings.TASPA_CENTRAL_URL.rstrip("/")
    reason = f"R27: released; the centre {centre} holds it (acknowledged {sent.acknowledged_at})"
    _delete_from_server(recording, reason)
    with transaction.atomic():
        row = RecordingRetention.objects.select_for_update().get(pk=row.pk)
        if row.disposition == Disposition.DELETED:
            return row
        row.disposition, row.deleted_at = Disposition.DELETED, timezone.now()
        row.archive_url, row.archive_digest = centre, recording.sha256
        row.save()
        Recording.objects.filter(pk=recording.pk).update(stored_at=None)
        record(
            actor=None,
            action="retention.release",
            target=recording,
            payload={
                "certificate": "release of the court's copy after replication (R23, R27)",
                "file_name": recording.file_name,
                "sha256": recording.sha256,
                "retention_until": row.retention_until.isoformat(),
                "centre": centre,
                "centre_replica": sent.remote_id,
                "acknowledged_at": sent.acknowledged_at.isoformat(),
                "deleted_at": row.deleted_at.isoformat(),
            },
        )
    return row


def due(today: date) -> QuerySet[RecordingRetention]:
    """R27: past ``retention_until`` (strictly), no legal hold, not yet deleted — one range
    scan of the partial index ``retention_due``."""
    return (
        RecordingRetention.objects.filter(hold=False, retention_until__lt=today)
        .exclude(disposition=Disposition.DELETED)
        .order_by("retention_until", "id")
    )


def _archive(row: RecordingRetention, recording: Recording) -> RecordingRetention:
    """Package, write to the archive, verify it there, and only then record it archived."""
    store = archive.archive_store()
    with tempfile.TemporaryDirectory(prefix="taspa-archive-") as staging:
        try:
            package = archive.build_package(recording, Path(staging))
        except SealedBytesRefused as error:
            raise ArchiveFailed(f"not archived: {error.detail}") from error
        try:
            store.put_file(package.path, expected_sha256=package.sha256)
        except StorageError as error:
            raise ArchiveFailed(f"archive write failed: {error}") from error
    checks = archive.verify_archived(store, package.sha256, recording.file_name)
    failed = [c for c in checks if not c.ok]
    if failed:
        raise ArchiveFailed("; ".join(f"{c.name}: {c.detail}" for c in failed))
    with transaction.atomic():
        row = RecordingRetention.objects.select_for_update().get(pk=row.pk)
        row.disposition = Disposition.ARCHIVED
        row.archive_url, row.archive_digest = archive.archive_url(), package.sha256
        row.archived_at = timezone.now()
        row.save()
        record(
            actor=None,
            action="retention.archive",
            target=recording,
            payload={
                "archive": row.archive_location,
                "package_sha256": package.sha256,
                "package_bytes": package.bytes,
                "checks": [c.name for c in checks],
            },
        )
    return row


def _delete_from_server(recording: Recording, reason: str) -> list[str]:
    """Remove the recording's blobs; what is already gone is skipped (a rerun)."""
    store, removed = get_store(), []
    for digest in SealedRecording.of(recording).blobs().values():
        try:
            store.delete(digest, reason=reason)
            removed.append(digest)
        except BlobNotFound:
            continue
    return removed


def _delete(row: RecordingRetention, recording: Recording) -> RecordingRetention:
    """Delete from the recording server once the archive holds the verified copy, and write
    the deletion certificate (what, when, where it lives now, hashes) into the audit chain."""
    if not archive.archive_store().exists(row.archive_digest):
        raise ArchiveFailed(f"the archive no longer holds sha256:{row.archive_digest}")
    reason = f"R27: moved to the electronic archive {row.archive_location}"
    _delete_from_server(recording, reason)
    with transaction.atomic():
        row = RecordingRetention.objects.select_for_update().get(pk=row.pk)
        if row.disposition == Disposition.DELETED:
            return row
        row.disposition, row.deleted_at = Disposition.DELETED, timezone.now()
        row.save()
        # No longer in this server's store: out of the fixity queue's index (sealing.fixity).
        Recording.objects.filter(pk=recording.pk).update(stored_at=None)
        record(
            actor=None,
            action="retention.delete",
            target=recording,
            payload={
                "certificate": "deletion from the recording server (R27)",
                "file_name": recording.file_name,
                "sha256": recording.sha256,
                "bytes": recording.bytes,
                "signature_sha256": recording.signature_digest,
                "manifest_sha256": recording.manifest_digest,
                "manifest_signature_sha256": recording.manifest_signature_digest,
                "retention_until": row.retention_until.isoformat(),
                "archive": row.archive_location,
                "deleted_at": row.deleted_at.isoformat(),
            },
        )
    return row


def transfer(row: RecordingRetention) -> RecordingRetention:
    """Move one recording (R27): whatever step it stopped at, continue from there."""
    recording = Recording.objects.select_related("hearing__case__court").get(pk=row.recording_id)
    if row.disposition == Disposition.ON_SERVER and replicates_to_centre():
        return _release(row, recording)
    if row.disposition == Disposition.ON_SERVER:
        row = _archive(row, recording)
    if row.disposition == Disposition.ARCHIVED:
        row = _delete(row, recording)
    return row


@dataclass(frozen=True)
class SweepItem:
    recording: int
    file_name: str
    retention_until: str
    outcome: str


@dataclass
class SweepResult:
    """What a retention run did (or, in a dry run, would do)."""

    dry_run: bool
    items: list[SweepItem] = field(default_factory=list)

    @property
    def moved(self) -> int:
        return sum(1 for i in self.items if i.outcome == "moved")

    @property
    def failed(self) -> int:
        return sum(1 for i in self.items if i.outcome.startswith("failed"))

    def summary(self) -> str:
        if self.dry_run:
            return f"dry run: {len(self.items)} recording(s) would move to the archive"
        return f"{self.moved} moved to the archive, {self.failed} failed"


def sweep(
    *,
    today: date | None = None,
    dry_run: bool = False,
    limit: int | None = None,
    progress: Callable[[SweepItem], None] | None = None,
) -> SweepResult:
    """R27: the daily move of every recording past its retention; ``dry_run`` only lists."""
    today = today or timezone.localdate()
    result, after = SweepResult(dry_run), Q()
    while limit is None or len(result.items) < limit:
        batch = list(due(today).filter(after).select_related("recording")[:BATCH])
        if not batch:
            break
        for row in batch[: None if limit is None else limit - len(result.items)]:
            item = _sweep_one(row, dry_run)
            result.items.append(item)
            if progress:
                progress(item)
        last = batch[-1]  # keyset on (retention_until, id): failed rows are not retried today
        # The AND-ed lower bound is what makes each batch start at the cursor: PostgreSQL
        # cannot turn the OR alone into an index range, and would re-read every earlier row.
        after = Q(retention_until__gte=last.retention_until) & (
            Q(retention_until__gt=last.retention_until) | Q(id__gt=last.pk)
        )
    return result


def _sweep_one(row: RecordingRetention, dry_run: bool) -> SweepItem:
    outcome = "would move"
    if not dry_run:
        try:
            transfer(row)
            outcome = "moved"
        except AwaitingCentre as waiting:
            outcome = str(waiting)  # not a failure: tomorrow's sweep tries again
        except (ArchiveFailed, StorageError) as error:
            outcome = f"failed: {error}"
            log.error("R27 transfer of recording %s: %s", row.recording_id, error)
    return SweepItem(
        row.recording_id, row.recording.file_name, row.retention_until.isoformat(), outcome
    )


def sweep_daily() -> str:
    """The periodic job (R27)."""
    return sweep().summary()
