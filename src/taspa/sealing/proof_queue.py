"""What the queues of late proofs share: signature timestamps (``timestamp_queue``) and
revocation evidence (``revocation_queue``), both missing at sealing because a TSA or a CA did
not answer (R14; sealing never waits for them).

Each queue row is claimed under ``select_for_update(skip_locked=True)`` so two workers never
work on the same recording; a pass stops at the first failure, since the next row most likely
waits for the same dead server. A proof changes only the unsigned part of the two ``.p7s``
files: each new ``.p7s`` is a new blob, kept as long as the old one (which stays in the store
under its own digest), and the recording is marked changed for replication once the row's
transaction commits (R23: the centre holds the signatures too).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import TypeVar

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from taspa.recorder.models import Recording
from taspa.storage.store import BlobStore

# The recording's signature blobs: field → name in audit payloads.
SIGNATURE_FIELDS = {
    "signature_digest": "signature",
    "manifest_signature_digest": "manifest_signature",
}
Row = TypeVar("Row", bound=models.Model)


def read_blob(store: BlobStore, digest: str) -> bytes:
    with contextlib.closing(store.open(digest)) as stream:
        return stream.read()


def refile_signatures(
    store: BlobStore, recording: Recording, change: Callable[[bytes], bytes]
) -> dict[str, dict[str, str]]:
    """Apply ``change`` to both stored signatures; file each changed one as a new blob and
    point the recording at it. Returns ``{name: {"old": digest, "new": digest}}``. Whatever
    ``change`` raises leaves the recording row unsaved."""
    changes: dict[str, dict[str, str]] = {}
    for field, name in SIGNATURE_FIELDS.items():
        old_digest = getattr(recording, field)
        old = read_blob(store, old_digest)
        new = change(old)
        if new != old:
            until = store.retained_until(old_digest)
            keep = until if until is not None and until > timezone.now() else None
            new_digest = store.put(io.BytesIO(new), size_hint=len(new), retain_until=keep).digest
            changes[name] = {"old": old_digest, "new": new_digest}
            setattr(recording, field, new_digest)
    recording.save(update_fields=list(SIGNATURE_FIELDS))
    return changes


def signatures_changed_on_commit(recording_id: int) -> None:
    """R23: once the transaction commits, the recording is pending again for the centre."""

    def mark() -> None:
        from taspa.replication.court import mark_changed

        mark_changed(Recording.objects.filter(pk=recording_id))

    transaction.on_commit(mark)


def run_queue(model: type[Row], handle: Callable[[Row], bool], batch: int) -> tuple[int, int]:
    """One pass over ``model``'s open rows, each in its own transaction with its lock held
    while ``handle`` works; stops at the first ``False``. Returns (done, still waiting)."""
    done, seen = 0, set()
    for _ in range(batch):
        with transaction.atomic():
            row = (
                model.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(done_at__isnull=True, recording__state=Recording.State.SEALED)
                .exclude(recording__retention__deleted_at__isnull=False)  # R27: archived
                .exclude(pk__in=seen)
                .order_by(F("last_attempt_at").asc(nulls_first=True), "pk")
                .first()
            )
            if row is None:
                break
            seen.add(row.pk)
            ok = handle(row)
        if not ok:
            return done, model.objects.filter(done_at__isnull=True).count()
        done += 1
    return done, 0
