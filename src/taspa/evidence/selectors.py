"""Reads of the evidence area."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from taspa.evidence.models import EvidenceRecord
from taspa.evidence.policy import day_bounds, local_day
from taspa.recorder.models import Recording
from taspa.storage.store import get_store


def record_bytes(recording: Recording) -> bytes | None:
    """The recording's current DER EvidenceRecord, or ``None`` until its day is built."""
    row = EvidenceRecord.objects.filter(recording=recording).first()
    if row is None:
        return None
    with get_store().open(row.digest) as stream:
        return stream.read()


def uncovered_recordings() -> int:
    """Sealed recordings of past days that no evidence record covers yet (the build waits for
    the TSA, or has not run): a /metrics gauge."""
    today, _ = day_bounds(local_day(timezone.now(), settings.TIME_ZONE), settings.TIME_ZONE)
    return Recording.objects.filter(
        state=Recording.State.SEALED, evidence__isnull=True, sealed_at__lt=today
    ).count()
