"""When a periodic job runs next (pure): every N seconds, or daily at a local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Schedule:
    every: timedelta | None = None
    daily_at: tuple[int, int] | None = None  # local HH:MM in ``zone``
    zone: str = "Asia/Almaty"

    def __post_init__(self) -> None:
        if (self.every is None) == (self.daily_at is None):
            raise ValueError("a schedule is either every=… or daily_at=…")

    def next_after(self, moment: datetime) -> datetime:
        """The first run strictly after ``moment`` (aware, any zone; the answer is UTC-aware)."""
        if self.every is not None:
            return moment + self.every
        zone = ZoneInfo(self.zone)
        local = moment.astimezone(zone)
        hour, minute = self.daily_at
        candidate = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
        if candidate <= local:
            candidate = datetime.combine(
                local.date() + timedelta(days=1), time(hour, minute), tzinfo=zone
            )
        return candidate.astimezone(ZoneInfo("UTC"))
