"""Signature timestamps that the TSA could not give at sealing time, added later (R14, R19).

Sealing never waits for the TSA: when it is down the recording is sealed without a token and a
``PendingTimestamp`` row is written in the same transaction that marks it sealed. The periodic
``timestamps`` job takes those rows (``select_for_update(skip_locked=True)``), asks the TSA for
a token over each signature value and files the new ``.p7s`` files:

* the media and the manifest never change, nor do the signed attributes or signature values:
  only the unsigned ``signatureTimeStampToken`` attribute is added (``timestamps.py``);
* the new ``.p7s`` is a new blob in the content-addressed store, so the old one stays there
  under its own digest (the audit event names both); there is no file beside the media to
  replace: every reader takes the signature from the store by the recording's digest;
* the recording's digests, the row's ``done_at`` and the ``recording.timestamp`` audit event
  commit together. A crash before that commit leaves the row pending and, at most, an unused
  blob; the rerun asks the TSA again and files one outcome.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import timezone

from taspa.audit.actions import record
from taspa.recorder.models import Recording
from taspa.sealing.layout import SealedRecording
from taspa.sealing.models import PendingTimestamp
from taspa.sealing.proof_queue import (
    read_blob,
    refile_signatures,
    run_queue,
    signatures_changed_on_commit,
)
from taspa.sealing.timestamps import (
    TimeStamper,
    TimestampUnavailable,
    add_timestamp,
    configured_timestamper,
    configured_tsa_url,
    has_timestamp,
)
from taspa.storage.store import BlobStore, get_store

log = logging.getLogger("taspa.sealing")
BATCH = 20


def queue_missing_timestamps(
    recording: Recording, sealed: SealedRecording, store: BlobStore | None = None
) -> PendingTimestamp | None:
    """Inside the sealing transaction: queue the recording when a TSA is configured and a
    signature went out without its token (the TSA was down); and the revocation evidence when
    the CA did not answer (``revocation_queue``): every proof a seal may still lack."""
    from taspa.sealing.revocation_queue import queue_missing_revocation

    store = store or get_store()
    queue_missing_revocation(recording, sealed, store)
    if not configured_tsa_url():
        return None
    signatures = (sealed.signature, sealed.manifest_signature)
    if all(has_timestamp(read_blob(store, digest)) for digest in signatures):
        return None
    row, _ = PendingTimestamp.objects.get_or_create(recording=recording)
    return row


@dataclass(frozen=True)
class TimestampRun:
    done: int
    failed: int

    def __str__(self) -> str:
        return f"{self.done} recordings timestamped, {self.failed} still waiting for the TSA"


def _stamped(old: bytes, timestamper: TimeStamper) -> bytes:
    """The timestamped form of the stored signature ``old`` (itself when it has its token)."""
    if has_timestamp(old):
        return old
    return add_timestamp(old, timestamper)


def timestamp_recording(row: PendingTimestamp, timestamper: TimeStamper) -> bool:
    """Add the missing tokens of one queued recording; ``False`` (row kept, error noted) when
    the TSA fails. Call inside a transaction holding the row's lock."""
    recording = Recording.objects.select_for_update().get(pk=row.recording_id)
    store = get_store()
    row.attempts += 1
    row.last_attempt_at = timezone.now()
    try:
        changes = refile_signatures(store, recording, lambda old: _stamped(old, timestamper))
    except TimestampUnavailable as error:
        row.last_error = str(error)[:2000]
        row.save(update_fields=["attempts", "last_attempt_at", "last_error"])
        return False
    row.done_at, row.last_error = timezone.now(), ""
    row.save()
    record(
        actor=None,
        action="recording.timestamp",
        target=recording,
        payload={"tsa": configured_tsa_url() or "", "signatures": changes},
    )
    signatures_changed_on_commit(recording.pk)
    return True


def run_timestamps(timestamper: TimeStamper | None = None, batch: int = BATCH) -> TimestampRun:
    """One pass over the queue: each row in its own transaction (its lock held while the TSA
    answers, so two workers never stamp the same recording); stops at the first TSA failure,
    since the next row would wait for the same dead TSA."""
    timestamper = timestamper or configured_timestamper()
    if timestamper is None:
        return TimestampRun(0, PendingTimestamp.objects.filter(done_at__isnull=True).count())
    run = TimestampRun(
        *run_queue(PendingTimestamp, lambda row: timestamp_recording(row, timestamper), batch)
    )
    log.info("timestamps: %s", run)
    return run


def timestamps_job() -> str:
    return str(run_timestamps())
