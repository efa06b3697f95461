"""Resume sealing left undone (R14): a crash mid-seal, or a key registered after the stop.

A recording that is ``stopped`` but not ``sealed`` is either half-way through sealing in a
process that died, or waiting for its secretary's EDS key. ``recorder.actions.seal_stopped`` is
idempotent, so the periodic ``sealing.resume`` job simply runs it again, after a grace period
(a seal in progress elsewhere takes seconds). Recordings whose key is still missing, revoked or
expired are skipped quietly: their incident was opened at stop, and opening one every run
would bury it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from taspa.recorder.models import Recording
from taspa.sealing.actions import SigningUnavailable, signer_for

log = logging.getLogger("taspa.sealing")
GRACE = timedelta(minutes=2)


@dataclass(frozen=True)
class ResumeRun:
    sealed: int
    waiting_for_key: int
    failed: int

    def __str__(self) -> str:
        return (
            f"{self.sealed} recordings sealed, {self.waiting_for_key} waiting for an EDS key, "
            f"{self.failed} failed"
        )


def resume_sealing(now: datetime | None = None) -> ResumeRun:
    """Seal every recording stopped before ``now - GRACE`` and still unsealed."""
    from taspa.recorder.actions import seal_stopped

    due = Recording.objects.filter(
        state=Recording.State.STOPPED, stopped_at__lt=(now or timezone.now()) - GRACE
    ).select_related("hearing__secretary")
    sealed = waiting = failed = 0
    for recording in due.order_by("stopped_at", "pk"):
        try:
            signer_for(recording.hearing.secretary)
        except SigningUnavailable:
            waiting += 1
            continue
        try:
            result = seal_stopped(recording)
        except Exception:  # one bad recording must not hold up the others; it stays stopped
            log.exception("resuming the seal of recording %s failed", recording.pk)
            failed += 1
            continue
        sealed += result.state == Recording.State.SEALED
    run = ResumeRun(sealed, waiting, failed)
    log.info("sealing.resume: %s", run)
    return run


def resume_job() -> str:
    return str(resume_sealing())
