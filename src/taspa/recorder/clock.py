"""How long a hearing has been on the record: the console's elapsed-time counter.

Recording time counts from the start to the stop (or now) less every lawful pause (R6): the
secretary reads the time the record holds, not the time since the hearing opened."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime


def recorded_seconds(
    started_at: datetime,
    stopped_at: datetime | None,
    pauses: Iterable[tuple[datetime, datetime | None]],
    now: datetime,
) -> float:
    """Seconds recorded between ``started_at`` and ``stopped_at`` (or ``now``), pauses out; an
    open pause ends at the same moment."""
    end = stopped_at or now
    total = (end - started_at).total_seconds()
    for began, ended in pauses:
        stop = min(ended or end, end)
        if stop > began:
            total -= (stop - began).total_seconds()
    return max(0.0, total)
