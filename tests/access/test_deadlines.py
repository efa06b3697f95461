"""R34 deadlines on the real calendar: the holidays package (KZ) and the decree table."""

from datetime import date

import pytest

from taspa.access.actions import save_day_override
from taspa.access.calendar import calendar_for
from taspa.access.models import DayOverride
from taspa.access.policy import due_date
from taspa.audit.models import AuditEvent
from taspa.courts.policy import CaseKind

pytestmark = pytest.mark.django_db


def _due(kind: str, received: date) -> date:
    return due_date(CaseKind(kind), received, calendar_for(received, received))


@pytest.mark.parametrize(
    ("kind", "received", "due"),
    [
        ("civil", date(2026, 3, 20), date(2026, 4, 1)),  # Nauryz 2026: 21–25 March off
        ("civil", date(2026, 5, 6), date(2026, 5, 15)),  # 7 May, 11 May (Victory Day moved)
        ("civil", date(2026, 5, 25), date(2026, 6, 2)),  # Kurban Ait 27 May (confirmed row)
        ("civil", date(2025, 12, 29), date(2026, 1, 8)),  # New Year and Christmas
        ("civil", date(2024, 12, 30), date(2025, 1, 9)),  # decree: 3 Jan off, Sun 5 Jan works
        ("administrative", date(2025, 3, 19), date(2025, 3, 31)),
        ("criminal", date(2026, 3, 20), date(2026, 3, 26)),  # calendar days; 25th off → 26th
        ("admin_offence", date(2026, 3, 20), date(2026, 3, 26)),  # 23rd off → next working
    ],
)
def test_r34_due_dates_on_the_kazakhstan_calendar(kind, received, due):
    assert _due(kind, received) == due


def test_r34_seeded_decree_rows_are_in_the_table():
    rows = {o.day: o.kind for o in DayOverride.objects.all()}
    assert rows[date(2025, 1, 3)] == "day_off" and rows[date(2025, 1, 5)] == "working_day"
    assert all(o.source for o in DayOverride.objects.all())


def test_r34_a_decreed_day_off_added_by_an_administrator_moves_the_due_date(world):
    assert _due("civil", date(2026, 5, 25)) == date(2026, 6, 2)
    save_day_override(
        actor=world.admin,
        override=DayOverride(
            day=date(2026, 6, 1), kind="day_off", reason="test decree", source="test"
        ),
    )
    assert _due("civil", date(2026, 5, 25)) == date(2026, 6, 3)
    assert AuditEvent.objects.filter(action="access.day_override").exists()


def test_r34_day_override_admin_is_for_system_administrators(world):
    from taspa.errors import Forbidden

    with pytest.raises(Forbidden):
        save_day_override(
            actor=world.person("court_admin"),
            override=DayOverride(day=date(2026, 6, 1), kind="day_off", reason="x", source="x"),
        )
