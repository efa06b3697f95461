"""R24/R27 as tables: the retention date, and when a recording may move to the archive."""

from datetime import UTC, date, datetime

import pytest

from taspa.retention.policy import (
    Refusal,
    due_for_transfer,
    retention_until,
    store_retention_moment,
)


@pytest.mark.parametrize(
    ("effective", "years", "until"),
    [
        (date(2024, 3, 1), 1, date(2025, 3, 1)),  # R24: one year from the effective day
        (date(2024, 3, 1), 0, date(2025, 3, 1)),  # never below one year
        (date(2024, 3, 1), -5, date(2025, 3, 1)),
        (date(2024, 3, 1), 3, date(2027, 3, 1)),  # configurable upwards
        (date(2024, 2, 29), 1, date(2025, 3, 1)),  # a leap day rounds later, never earlier
    ],
)
def test_r24_retention_until(effective, years, until):
    assert retention_until(effective, years) == until


@pytest.mark.parametrize(
    ("today", "until", "hold", "due", "refusal"),
    [
        (date(2025, 2, 28), date(2025, 3, 1), False, False, Refusal.RETENTION_RUNNING),
        (date(2025, 3, 1), date(2025, 3, 1), False, False, Refusal.RETENTION_RUNNING),
        (date(2025, 3, 2), date(2025, 3, 1), False, True, None),  # R27: the day after
        (date(2026, 1, 1), date(2025, 3, 1), True, False, Refusal.LEGAL_HOLD),  # R24 hold
        (date(2026, 1, 1), None, False, False, Refusal.NO_JUDGMENT_DATE),
    ],
)
def test_r27_due_for_transfer(today, until, hold, due, refusal):
    verdict = due_for_transfer(today, until, hold)
    assert (verdict.due, verdict.refusal) == (due, refusal)


def test_r24_store_keeps_blobs_until_the_next_local_midnight():
    moment = store_retention_moment(date(2025, 3, 1), "Asia/Almaty")
    assert moment == datetime(2025, 3, 1, 19, 0, tzinfo=UTC)  # 2025-03-02 00:00 at UTC+5
