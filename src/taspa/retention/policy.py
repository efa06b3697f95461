"""Pure rules of retention and the archive transfer (R24, R27). Standard library only."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINIMUM_YEARS = 1  # R24: at least one year from the day the judgment takes legal effect


class Disposition(enum.StrEnum):
    """Where a recording stands in the R27 move; each step is recorded before the next."""

    ON_SERVER = "on_server"
    ARCHIVED = "archived"  # a verified copy is in the electronic archive
    DELETED = "deleted"  # ... and it is gone from the recording server


class Refusal(enum.StrEnum):
    """Why a recording is not (yet) due for transfer."""

    NO_JUDGMENT_DATE = "no_judgment_date"
    RETENTION_RUNNING = "retention_running"
    LEGAL_HOLD = "legal_hold"


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years; 29 February goes to 1 March (later, never earlier: R24)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def retention_until(effective_on: date, years: int) -> date:
    """R24: the last day the recording must stay on the court's server."""
    return add_years(effective_on, max(int(years), MINIMUM_YEARS))


def store_retention_moment(until: date, zone: str) -> datetime:
    """The moment a blob store may release a blob kept through ``until``: the start of the
    next day in the court's time zone, the same moment the application allows it (R24)."""
    local = datetime.combine(add_years(until, 0) + timedelta(days=1), time(0, 0), ZoneInfo(zone))
    return local.astimezone(UTC)


@dataclass(frozen=True)
class Due:
    """Whether a recording may move to the archive today, and if not, why not."""

    due: bool
    refusal: Refusal | None = None


def due_for_transfer(today: date, until: date | None, hold: bool) -> Due:
    """R27: after ``retention_until`` (strictly), and only without a legal hold (R24)."""
    if until is None:
        return Due(False, Refusal.NO_JUDGMENT_DATE)
    if hold:
        return Due(False, Refusal.LEGAL_HOLD)
    if today <= until:
        return Due(False, Refusal.RETENTION_RUNNING)
    return Due(True)
