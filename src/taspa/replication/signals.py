"""Wiring (R23): what makes a recording pending again, and the periodic jobs.

A seal, a mark or its correction, an incident, the case's judgment date or legal hold: each
bumps the recording's ``Outgoing.version`` so the next run sends the change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models.signals import post_save


def _sealed(sender: Any, recording: Any, **kwargs: Any) -> None:
    from taspa.recorder.models import Recording
    from taspa.replication.court import mark_changed

    mark_changed(Recording.objects.filter(pk=recording.pk))


def _mark_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    from taspa.recorder.models import Recording
    from taspa.replication.court import mark_changed

    mark_changed(Recording.objects.filter(pk=instance.recording_id))


def _incident_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    from taspa.recorder.models import Recording
    from taspa.replication.court import mark_changed

    mark_changed(Recording.objects.filter(hearing_id=instance.hearing_id))


def _case_changed(sender: Any, instance: Any = None, case: Any = None, **kwargs: Any) -> None:
    from taspa.recorder.models import Recording
    from taspa.replication.court import mark_changed

    case = case or instance
    if kwargs.get("created"):
        return  # a new case has no recordings yet
    mark_changed(Recording.objects.filter(hearing__case_id=case.pk))


def connect() -> None:
    from taspa.courts.models import Case
    from taspa.incidents.models import Incident
    from taspa.jobs.policy import Schedule
    from taspa.jobs.registry import register_periodic
    from taspa.recorder.models import Mark
    from taspa.recorder.signals import recording_sealed
    from taspa.replication.central import raise_silence_alarms
    from taspa.replication.court import replicate_daily
    from taspa.retention.signals import retention_changed

    recording_sealed.connect(_sealed, dispatch_uid="replication.sealed")
    post_save.connect(_mark_saved, sender=Mark, dispatch_uid="replication.mark")
    post_save.connect(_incident_saved, sender=Incident, dispatch_uid="replication.incident")
    post_save.connect(_case_changed, sender=Case, dispatch_uid="replication.case")
    retention_changed.connect(_case_changed, dispatch_uid="replication.retention")
    register_periodic(
        "replication.daily",
        Schedule(daily_at=tuple(settings.TASPA_REPLICATION_TIME)),
        replicate_daily,
    )
    register_periodic(
        "replication.silence", Schedule(every=timedelta(hours=1)), raise_silence_alarms
    )
