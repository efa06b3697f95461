"""Reads of the evidence area."""

from __future__ import annotations

from taspa.evidence.models import EvidenceRecord
from taspa.recorder.models import Recording
from taspa.storage.store import get_store


def record_bytes(recording: Recording) -> bytes | None:
    """The recording's current DER EvidenceRecord, or ``None`` until its day is built."""
    row = EvidenceRecord.objects.filter(recording=recording).first()
    if row is None:
        return None
    with get_store().open(row.digest) as stream:
        return stream.read()
