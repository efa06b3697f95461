"""The scheduler: daily and interval schedules, exactly-once claims, outcomes recorded."""

from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest

from taspa.jobs import actions
from taspa.jobs.models import ScheduledJob
from taspa.jobs.policy import Schedule
from taspa.jobs.registry import PERIODIC, register_periodic


def test_daily_schedule_runs_at_local_time_next_day_when_passed():
    schedule = Schedule(daily_at=(2, 0), zone="Asia/Almaty")  # UTC+5
    before = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)  # 01:00 local on the 28th
    assert schedule.next_after(before) == datetime(2026, 11, 27, 21, 0, tzinfo=UTC)
    after = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)
    assert schedule.next_after(after) == datetime(2026, 11, 28, 21, 0, tzinfo=UTC)


def test_schedule_is_either_interval_or_daily():
    with pytest.raises(ValueError):
        Schedule()
    with pytest.raises(ValueError):
        Schedule(every=timedelta(hours=1), daily_at=(1, 0))


@pytest.fixture(autouse=True)
def only_test_jobs():
    """The apps register their own periodic jobs; these tests schedule only their own."""
    with patch.dict(PERIODIC, clear=True):
        yield


@pytest.fixture
def counting_job():
    runs = []
    register_periodic(
        "test-count", Schedule(every=timedelta(minutes=5)), lambda: runs.append(1) or "counted"
    )
    yield runs
    PERIODIC.pop("test-count", None)


def test_due_job_is_claimed_once_and_its_outcome_recorded(db, counting_job):
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert actions.enqueue_due(now) == []  # first sight: scheduled 5 minutes ahead
    later = now + timedelta(minutes=6)
    assert actions.enqueue_due(later) == ["test-count"]
    assert actions.enqueue_due(later) == []  # already claimed for this run
    assert counting_job == [1]
    row = ScheduledJob.objects.get(name="test-count")
    assert (row.last_status, row.last_detail) == ("ok", "counted")
    assert row.next_run_at == later + timedelta(minutes=5)


def test_failed_job_is_recorded_as_failed(db):
    def broken():
        raise RuntimeError("peer unreachable")

    register_periodic("test-broken", Schedule(every=timedelta(minutes=1)), broken)
    try:
        ScheduledJob.objects.create(
            name="test-broken", next_run_at=datetime(2026, 1, 1, tzinfo=UTC)
        )
        with pytest.raises(RuntimeError):
            actions.run_job("test-broken")
        row = ScheduledJob.objects.get(name="test-broken")
        assert row.last_status == "failed" and "peer unreachable" in row.last_detail
    finally:
        PERIODIC.pop("test-broken", None)
