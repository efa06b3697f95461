"""The court side without a centre (R23): configuration, the schedule, what becomes pending."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from taspa.incidents.actions import open_incident
from taspa.incidents.policy import IncidentKind
from taspa.jobs.registry import PERIODIC
from taspa.replication.client import HttpCentral
from taspa.replication.court import plan, replicate
from taspa.replication.models import Outgoing


def test_r23_daily_job_at_the_configured_time(settings):
    job = PERIODIC["replication.daily"]
    assert job.schedule.daily_at == tuple(settings.TASPA_REPLICATION_TIME)
    assert PERIODIC["replication.silence"].schedule.every is not None


def test_r23_replicate_needs_the_centre_configured(settings, db):
    settings.TASPA_CENTRAL_URL = None
    with pytest.raises(CommandError, match="TASPA_CENTRAL_URL"):
        call_command("replicate")


def test_r23_sealed_and_changed_recordings_are_pending(
    make_sealed, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # recording_sealed: after commit
        recording = make_sealed(size=50_000)
    row = Outgoing.objects.get(recording=recording)  # the seal made it pending
    assert row.pending and row.version == 1
    Outgoing.objects.filter(pk=row.pk).update(pending=False, acked_version=1, state="acknowledged")
    assert plan() == []
    # Marks are frozen by the seal (R19); an incident reported afterwards is a change.
    open_incident(
        actor=world.person("secretary"),
        hearing=recording.hearing,
        kind=IncidentKind.RECORDING_IMPOSSIBLE,
        detail="the hearing was in fact not fully recorded",
    )
    row.refresh_from_db()
    assert row.pending and row.version > 1 and [o.pk for o in plan()] == [row.pk]


def test_r23_an_unreachable_centre_fails_the_run_and_keeps_it_pending(make_sealed):
    make_sealed(size=50_000)
    result = replicate(central=HttpCentral("http://127.0.0.1:9", "tsp_x", timeout=2))
    assert result.broken and result.failed == 1
    row = Outgoing.objects.get()
    assert row.pending and row.state == "failed" and row.last_error
    assert plan() == [row]  # the next run picks it up again
