"""Fixity: re-hash stored recordings on a rolling schedule and raise an incident on any
mismatch (R19: no edit goes unnoticed; R20: storage is protected and checked).

Each run takes the recordings looked at longest ago, up to a byte budget, so the whole store
is covered over days without loading the server; a recording never checked comes first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from taspa.audit.actions import record
from taspa.incidents.actions import open_incident
from taspa.incidents.policy import IncidentKind
from taspa.recorder.models import Recording
from taspa.sealing.layout import SealedRecording
from taspa.storage.store import BlobStore, FixityResult, get_store

log = logging.getLogger("taspa.sealing")
DEFAULT_BYTES_PER_RUN = 4 << 30
BATCH = 100  # recordings a queue query reads


@dataclass(frozen=True)
class FixityRun:
    checked: int
    failed: int
    bytes: int

    def __str__(self) -> str:
        return f"{self.checked} recordings checked ({self.bytes} bytes), {self.failed} failed"


def check_recording(recording: Recording, store: BlobStore | None = None) -> list[FixityResult]:
    """Re-hash every stored blob of one recording; an incident for each one that is wrong."""
    store = store or get_store()
    blobs = SealedRecording.of(recording).blobs()
    results = {name: store.verify(digest) for name, digest in blobs.items()}
    bad = {name: result for name, result in results.items() if not result.ok}
    with transaction.atomic():
        Recording.objects.filter(pk=recording.pk).update(
            fixity_checked_at=timezone.now(), fixity_ok=not bad
        )
        if bad:
            _report(
                recording,
                {name: r.status.value for name, r in bad.items()},
                "; ".join(
                    f"{name}: {r.status.value} {r.detail}".strip() for name, r in bad.items()
                ),
            )
    return list(results.values())


def _report(recording: Recording, blobs: dict[str, str], detail: str) -> None:
    record(
        actor=None,
        action="recording.fixity_failed",
        target=recording,
        payload={"blobs": blobs},
    )
    open_incident(
        actor=None,
        hearing=recording.hearing,
        kind=IncidentKind.FIXITY_FAILED,
        detail=f"Stored recording {recording.file_name} failed fixity: {detail}",
    )


def record_failure(recording: Recording, kind: str, status: str, detail: str) -> bool:
    """A reader found the stored bytes of ``kind`` wrong (``status``: corrupt or missing) while
    serving or copying them (R19, R20): the recording is marked failed, so it is refused from
    now on, with one audit event and one incident for the discovery. Returns whether this call
    was the discovery (False: it was already marked failed)."""
    with transaction.atomic():
        found = (
            Recording.objects.filter(pk=recording.pk)
            .exclude(fixity_ok=False)
            .update(fixity_checked_at=timezone.now(), fixity_ok=False)
        )
        if found:
            _report(recording, {kind: status}, f"{kind}: {status} {detail}".strip())
    if found:
        log.error("recording %s: stored %s %s: %s", recording.pk, kind, status, detail)
    return bool(found)


def _queue() -> QuerySet[Recording]:
    """Stored sealed recordings still on this server, in the order of the
    ``recording_fixity_queue`` index, so a batch is read from it and never sorted."""
    return (
        Recording.objects.filter(state=Recording.State.SEALED, stored_at__isnull=False)
        .exclude(retention__deleted_at__isnull=False)  # R27: moved to the archive, checked there
        .select_related("hearing")
        .order_by("fixity_checked_at", "pk")
    )


def _in_turn(started: datetime) -> Iterator[Recording]:
    """The never checked by id, then the longest unchecked; ``BATCH`` rows a query, each query
    starting where the last one stopped (an index range scan from the cursor). What this pass
    checks itself is not met again."""
    never, last = _queue().filter(fixity_checked_at__isnull=True), 0
    while batch := list(never.filter(pk__gt=last)[:BATCH]):
        yield from batch
        last = batch[-1].pk
    checked, after = _queue().filter(fixity_checked_at__lt=started), Q()
    while batch := list(checked.filter(after)[:BATCH]):
        yield from batch
        at, pk = batch[-1].fixity_checked_at, batch[-1].pk
        # The AND-ed lower bound lets PostgreSQL start the range at the cursor; the OR alone
        # would be a filter over every row before it.
        after = Q(fixity_checked_at__gte=at) & (Q(fixity_checked_at__gt=at) | Q(pk__gt=pk))


def run_fixity(bytes_budget: int | None = None) -> FixityRun:
    """One rolling pass: oldest-checked sealed recordings first, until the byte budget is spent."""
    budget = bytes_budget or getattr(settings, "TASPA_FIXITY_BYTES_PER_RUN", DEFAULT_BYTES_PER_RUN)
    store, checked, failed, spent = get_store(), 0, 0, 0
    for recording in _in_turn(timezone.now()):
        if checked and spent + (recording.bytes or 0) > budget:
            break
        results = check_recording(recording, store)
        checked += 1
        failed += any(not r.ok for r in results)
        spent += recording.bytes or 0
    run = FixityRun(checked, failed, spent)
    log.info("fixity: %s", run)
    return run


def fixity_job() -> str:
    return str(run_fixity())
