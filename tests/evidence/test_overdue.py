"""Issue 15, "bad input": a TSA that is down never blocks sealing, and what it owes becomes
visible — the missing signature timestamp and the day's evidence record each open an incident
after ``TASPA_PROOF_ALERT_AFTER_HOURS`` and show on ``/metrics``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from evidence_kit import sealed_recording
from prometheus_client.parser import text_string_to_metric_families

from taspa.evidence.actions import alert_overdue, overdue_evidence, unbuilt
from taspa.evidence.tasks import build_job
from taspa.incidents.models import Incident
from taspa.recorder.models import Recording
from taspa.sealing import proofs
from taspa.sealing.timestamp_queue import run_timestamps

pytestmark = pytest.mark.django_db


def gauges(client, name: str) -> dict[str, float]:
    text = client.get("/metrics").content.decode()
    family = {f.name: f for f in text_string_to_metric_families(text)}[name]
    return {sample.labels["kind"]: sample.value for sample in family.samples}


def test_r14_tsa_down_at_sealing_the_timestamp_is_overdue_after_the_delay(
    court, tsa, settings, client
):
    settings.TASPA_PROOF_ALERT_AFTER_HOURS = 12
    tsa.stop()
    recording = sealed_recording(court.world, court.spool)
    assert recording.state == Recording.State.SEALED  # sealing did not wait
    assert gauges(client, "taspa_proofs_waiting")["timestamp"] == 1
    assert gauges(client, "taspa_proofs_overdue")["timestamp"] == 0
    assert not unbuilt().filter(pk=recording.pk).exists()  # its record waits for the token
    assert proofs.alert_overdue(timezone.now() + timedelta(hours=11)) == 0
    later = timezone.now() + timedelta(hours=13)
    assert {m.kind: m.overdue for m in proofs.missing_proofs(later)}["timestamp"] == 1
    assert proofs.alert_overdue(later) == 1 and proofs.alert_overdue(later) == 0
    incident = Incident.objects.get(hearing=recording.hearing, kind="signing_failed")
    assert incident.detail.startswith(proofs.ALERT_TEXT["timestamp"])
    tsa.start()
    assert run_timestamps().done == 1
    assert gauges(client, "taspa_proofs_waiting")["timestamp"] == 0
    assert unbuilt().filter(pk=recording.pk).exists()  # now its day's record can cover it


def test_r14_tsa_down_at_the_daily_build_the_evidence_record_is_overdue(
    court, tsa, settings, client
):
    settings.TASPA_PROOF_ALERT_AFTER_HOURS = 6
    recording = sealed_recording(court.world, court.spool)
    Recording.objects.filter(pk=recording.pk).update(
        sealed_at=timezone.now() - timedelta(days=1, hours=7)
    )
    tsa.stop()
    outcome = build_job()
    assert "the TSA failed" in outcome and "1 incidents for overdue evidence" in outcome
    assert overdue_evidence().count() == 1
    assert gauges(client, "taspa_proofs_overdue")["evidence"] == 1
    assert alert_overdue() == 0  # one incident per recording, however often the job runs
    incidents = Incident.objects.filter(hearing=recording.hearing, kind="signing_failed")
    assert incidents.count() == 1 and "evidence record is overdue" in incidents.get().detail
    tsa.start()
    assert "1 evidence trees over 1 recordings" in build_job()
    assert overdue_evidence().count() == 0
