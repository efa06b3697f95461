"""R8: recording starts only after a passing equipment check of the courtroom, at most
TASPA_PREFLIGHT_MAX_AGE_MIN minutes before; without one, only the operator's decision with a
reason starts it, and that decision is in the audit trail (R10: the hearing itself goes on)."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from taspa.audit.models import AuditEvent
from taspa.recorder import runtime
from taspa.recorder.models import Preflight, Recording
from taspa.recorder.policy import preflight_gate


@pytest.mark.parametrize(
    ("minutes_ago", "window", "ok"),
    [(None, 120, False), (130, 120, False), (119, 120, True), (0, 120, True), (None, 0, True)],
)
def test_r8_gate_needs_a_passing_check_within_the_window(minutes_ago, window, ok):
    now = datetime(2026, 3, 2, 9, 0)
    last = None if minutes_ago is None else now - timedelta(minutes=minutes_ago)
    gate = preflight_gate(last, now, window)
    assert gate.ok is ok and (ok or gate.refusal == "preflight_required")


def _stop(api, hearing) -> None:
    api.post(f"/hearings/{hearing.pk}/stop")
    runtime.forget(hearing.pk)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r8_start_is_refused_without_a_recent_passing_check_and_overridden_on_record(
    world, api_as, settings
):
    settings.TASPA_PREFLIGHT_MAX_AGE_MIN = 60
    secretary = world.person("secretary")
    api = api_as(secretary)
    hearing = world.hearing(court="a", kind="criminal")

    refused = api.post(f"/hearings/{hearing.pk}/start")
    assert refused.status_code == 409 and refused.json()["error"] == "preflight_required"
    assert not Recording.objects.filter(hearing=hearing).exists()
    # A check that passed, but hours ago, is not a check before this hearing.
    earlier = world.hearing(court="a", kind="criminal")  # same courtroom
    Preflight.objects.create(
        hearing=earlier,
        at=timezone.now() - timedelta(hours=3),
        ok=True,
        checks=[],
        run_by=secretary,
    )
    stale = api.post(f"/hearings/{hearing.pk}/start")
    assert stale.status_code == 409 and "within 60 min" in stale.json()["detail"]
    # A failed check is no passing check either.
    Preflight.objects.create(
        hearing=hearing, at=timezone.now(), ok=False, checks=[], run_by=secretary
    )
    assert api.post(f"/hearings/{hearing.pk}/start").status_code == 409

    # The operator decides to record anyway: the reason is kept.
    overridden = api.post(
        f"/hearings/{hearing.pk}/start", {"override_reason": "Проверка не прошла: ключ ЭЦП истёк"}
    )
    try:
        assert overridden.status_code == 200, overridden.content
        event = AuditEvent.objects.get(action="recorder.preflight_override")
        assert event.payload["reason"] == "Проверка не прошла: ключ ЭЦП истёк"
        assert event.actor_id == secretary.pk
    finally:
        _stop(api, hearing)

    # A passing check of the courtroom minutes ago (for any of its hearings) lets it start.
    third = world.hearing(court="a", kind="criminal")
    Preflight.objects.create(
        hearing=earlier, at=timezone.now() - timedelta(minutes=5), ok=True, checks=[],
        run_by=secretary,
    )  # fmt: skip
    started = api.post(f"/hearings/{third.pk}/start")
    try:
        assert started.status_code == 200, started.content
    finally:
        _stop(api, third)
    assert AuditEvent.objects.filter(action="recorder.preflight_override").count() == 1
