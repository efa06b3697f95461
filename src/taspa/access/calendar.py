"""Kazakhstan's working-day calendar for R34: the ``holidays`` package (KZ) underneath, and the
``DayOverride`` table of days off the government's decrees move, which administrators keep."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.utils import timezone

from taspa.access.models import DayOverride
from taspa.access.policy import WorkCalendar

DEADLINE_ZONE = "Asia/Almaty"  # R34: days are counted in the court's local calendar


def calendar_for(first: date, last: date) -> WorkCalendar:
    """The calendar for the days from ``first`` to ``last`` (both included, any span)."""
    years = list(range(first.year, last.year + 2))  # a term may cross New Year
    statutory = holidays.KZ(years=years)
    overrides = DayOverride.objects.filter(day__year__in=years)
    return WorkCalendar.of(
        holidays=statutory.keys(),
        extra_days_off=[o.day for o in overrides if o.kind == DayOverride.Kind.DAY_OFF],
        working_days=[
            *statutory.weekend_workdays,
            *(o.day for o in overrides if o.kind == DayOverride.Kind.WORKING_DAY),
        ],
    )


def court_zone() -> ZoneInfo:
    return ZoneInfo(getattr(settings, "TASPA_DEADLINE_TIME_ZONE", DEADLINE_ZONE))


def local_today(moment: datetime | None = None) -> date:
    """Today in the court's calendar (Asia/Almaty unless TASPA_DEADLINE_TIME_ZONE says)."""
    return (moment or timezone.now()).astimezone(court_zone()).date()
