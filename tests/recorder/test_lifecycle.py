"""One recording lifecycle (issue 13): the hearing x recording state table every transition goes
through, the same R6/R19 refusals and audit events for the secretary and for a courtroom agent,
the capture lease (one owner at a time), commands carried out by the owner, and recovery of a
capture whose process died (R6, R12, R19)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from django.test import Client

from taspa.audit.models import AuditEvent
from taspa.courts.models import Hearing
from taspa.errors import Conflict
from taspa.recorder import actions, lease, policy, remote, runtime
from taspa.recorder.models import CaptureCommand, CaptureLease, Pause, Recording
from taspa.recorder.policy import NO_RECORDING, lifecycle_step

# --- the state table (pure) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hearing", "recording", "event", "after"),
    [
        ("idle", NO_RECORDING, "preflight", ("preflight", NO_RECORDING)),
        ("idle", NO_RECORDING, "start", ("recording", "capturing")),
        ("preflight", NO_RECORDING, "start", ("recording", "capturing")),
        ("recording", "capturing", "pause", ("paused", "capturing")),
        ("paused", "capturing", "resume", ("recording", "capturing")),
        ("recording", "capturing", "mark", ("recording", "capturing")),
        ("recording", "capturing", "halted", ("recording", "capturing")),
        ("recording", "capturing", "stop", ("stopped", "capturing")),
        ("paused", "capturing", "stop", ("stopped", "capturing")),
        ("stopped", "capturing", "capture_end", ("stopped", "stopped")),
        ("paused", "capturing", "capture_end", ("stopped", "stopped")),
        ("stopped", "stopped", "sealed", ("sealed", "sealed")),
        ("stopped", "capturing", "mark_reported", ("stopped", "capturing")),
    ],
)
def test_r6_the_lifecycle_table_allows(hearing, recording, event, after) -> None:
    step = lifecycle_step(hearing, recording, event)
    assert step.allowed and (step.hearing, step.recording) == after


@pytest.mark.parametrize(
    ("hearing", "recording", "event", "code"),
    [
        ("recording", "capturing", "start", "already_started"),
        ("sealed", "sealed", "start", "already_started"),
        ("idle", NO_RECORDING, "pause", "not_recording"),
        ("paused", "capturing", "pause", "not_recording"),
        ("recording", "capturing", "resume", "not_paused"),
        ("paused", "capturing", "mark", "not_recording"),
        ("idle", NO_RECORDING, "mark", "not_recording"),
        ("stopped", "capturing", "stop", "not_recording"),
        ("sealed", "sealed", "stop", "not_recording"),
        ("idle", NO_RECORDING, "stop", "not_recording"),
        ("stopped", "stopped", "capture_end", "not_capturing"),
        ("recording", "capturing", "sealed", "not_stopped"),
        ("sealed", "sealed", "mark_reported", "not_capturing"),
    ],
)
def test_r6_r19_the_lifecycle_table_refuses_with_a_code(hearing, recording, event, code) -> None:
    step = lifecycle_step(hearing, recording, event)
    assert not step.allowed and step.refusal == code
    assert (step.hearing, step.recording) == (hearing, recording)  # a refusal changes nothing
    assert hearing in step.detail


def test_the_lifecycle_table_knows_its_events_and_states() -> None:
    with pytest.raises(ValueError, match="unknown lifecycle event"):
        lifecycle_step("idle", NO_RECORDING, "explode")
    for (hearing, recording, event), (next_h, next_r) in policy.LIFECYCLE.items():
        assert hearing in policy.HEARING_STATES and recording in policy.RECORDING_STATES
        assert next_h in (None, *policy.HEARING_STATES)
        assert next_r in (None, *policy.RECORDING_STATES)
        assert event in policy.REFUSALS


def test_an_agent_confirming_the_servers_command_is_not_a_second_transition() -> None:
    assert policy.already_there("paused", "pause")
    assert policy.already_there("recording", "resume")
    assert not policy.already_there("recording", "pause")


# --- the agent's path: the same rules, the same audit ------------------------------------------


def agent_events(token: str, courtroom: int, *events: dict):
    return Client().post(
        f"/api/v1/agent/courtrooms/{courtroom}/events",
        {"events": list(events)},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_r6_r19_an_unlawful_pause_reported_by_an_agent_is_refused_and_audited(
    world, api_as
) -> None:
    room = world.rooms["a"]
    token = remote.register_agent(actor=None, courtroom=room)
    hearing = world.hearing(court="a")
    t0 = time.time() - 30
    started = {"seq": 1, "kind": "started", "at": t0, "hearing": hearing.pk, "data": {}}
    lunch = {"seq": 2, "kind": "paused", "at": t0 + 10, "hearing": hearing.pk,
             "data": {"reason": "lunch"}}  # fmt: skip
    assert agent_events(token, room.pk, started, lunch).json() == {"acked": 2}
    hearing.refresh_from_db()
    assert hearing.state == "recording"  # R6: a lunch is no lawful pause
    assert not Pause.objects.filter(recording__hearing=hearing).exists()
    refused = AuditEvent.objects.get(action="recorder.pause_refused")
    assert refused.payload["reason"] == "lunch" and refused.payload["via"] == "agent"
    # The secretary asking the same gets the same refusal and the same audit event.
    answer = api_as(world.person("secretary")).post(
        f"/hearings/{hearing.pk}/pause", {"reason": "lunch"}
    )
    assert answer.status_code == 422 and answer.json()["error"] == "pause_reason_not_allowed"
    both = AuditEvent.objects.filter(action="recorder.pause_refused").order_by("id")
    assert [e.payload["reason"] for e in both] == ["lunch", "lunch"]
    assert both[1].payload.get("via") is None and both[1].actor_id == world.person("secretary").pk


def test_r6_an_agents_lawful_pause_is_entered_once_and_its_confirmation_changes_nothing(
    world, api_as
) -> None:
    room = world.rooms["a"]
    token = remote.register_agent(actor=None, courtroom=room)
    hearing = world.hearing(court="a")
    secretary = api_as(world.person("secretary"))
    assert secretary.post(f"/hearings/{hearing.pk}/start").status_code == 200
    assert secretary.post(f"/hearings/{hearing.pk}/pause", {"reason": "recess"}).status_code == 200
    t0 = time.time()
    confirm = {"seq": 1, "kind": "paused", "at": t0, "hearing": hearing.pk,
               "data": {"reason": "recess"}}  # fmt: skip
    resumed = {"seq": 2, "kind": "resumed", "at": t0 + 5, "hearing": hearing.pk}
    again = {"seq": 3, "kind": "paused", "at": t0 + 9, "hearing": hearing.pk,
             "data": {"reason": "deliberation"}}  # fmt: skip
    assert agent_events(token, room.pk, confirm, resumed, again).json() == {"acked": 3}
    pauses = list(Pause.objects.filter(recording__hearing=hearing).order_by("started_at"))
    assert [p.reason for p in pauses] == ["recess", "deliberation"]
    assert pauses[0].ended_at.timestamp() == pytest.approx(t0 + 5)
    assert Hearing.objects.get(pk=hearing.pk).state == "paused"
    by_agent = AuditEvent.objects.filter(action="recorder.pause", payload__via="agent")
    assert by_agent.count() == 1  # the confirmation was not a second pause


# --- the lease ---------------------------------------------------------------------------------


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_r19_a_lease_is_taken_over_only_when_its_owner_is_gone(world, monkeypatch) -> None:
    hearing = world.hearing(court="a")
    here = lease.me().split(":")
    lease.claim(hearing.pk)
    monkeypatch.setattr(lease, "_owner", (0, "unused"))  # a second process of this host
    monkeypatch.setattr(lease, "me", lambda: f"{here[0]}:{dead_pid()}:{here[2]}")
    assert lease.held_elsewhere(hearing.pk)  # the first owner still runs (this test process)
    assert not lease.take_over(hearing.pk)
    # The owner dies (its pid is gone): taken over at once, no waiting for the heartbeat.
    CaptureLease.objects.filter(hearing=hearing).update(owner=f"{here[0]}:{dead_pid()}:{here[2]}")
    assert lease.take_over(hearing.pk)
    # On another machine only the heartbeat tells: fresh is held, expired is free.
    CaptureLease.objects.filter(hearing=hearing).update(owner="other-host:1:boot")
    assert lease.held_elsewhere(hearing.pk) and not lease.take_over(hearing.pk)
    CaptureLease.objects.filter(hearing=hearing).update(
        heartbeat_at=CaptureLease.objects.get(hearing=hearing).heartbeat_at - lease.LEASE_TTL * 2
    )
    assert lease.take_over(hearing.pk)


def test_r19_two_processes_racing_for_one_lease_get_one_winner(world, monkeypatch) -> None:
    hearing = world.hearing(court="a")
    CaptureLease.objects.create(
        hearing=hearing, owner="gone:1:x", acquired_at=_long_ago(), heartbeat_at=_long_ago()
    )
    seen = CaptureLease.objects.get(hearing=hearing)  # both read the row as it was
    monkeypatch.setattr(lease, "lease_of", lambda hearing_id: seen)
    wins = []
    for name in ("host-a:1:x", "host-b:2:x"):
        monkeypatch.setattr(lease, "me", lambda name=name: name)
        wins.append(lease.take_over(hearing.pk))
    assert wins == [True, False]
    assert CaptureLease.objects.get(hearing=hearing).owner == "host-a:1:x"


def _long_ago():
    from django.utils import timezone

    return timezone.now() - lease.LEASE_TTL * 10


# --- commands for the owner --------------------------------------------------------------------


def recording_hearing(world) -> Hearing:
    """A hearing recording in 'another process': a recording row and a fresh foreign lease."""
    hearing = world.hearing(court="a")
    Recording.objects.create(hearing=hearing, spool_dir="/nonexistent", started_at=_long_ago())
    Hearing.objects.filter(pk=hearing.pk).update(state="recording")
    from django.utils import timezone

    CaptureLease.objects.create(
        hearing=hearing, owner="other-host:1:boot", acquired_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )  # fmt: skip
    hearing.refresh_from_db()
    return hearing


@pytest.mark.django_db(transaction=True)
def test_r19_a_command_for_a_hearing_another_process_owns_is_answered_by_that_owner(
    world,
) -> None:
    hearing = recording_hearing(world)
    secretary = world.person("secretary")

    def owner() -> None:  # what the owner's keeper does: take the command, answer it
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            taken = lease.take_commands([hearing.pk])
            for command in taken:
                lease.finish(command, {"error": "not_paused", "detail": "It records.",
                                       "status": 409})  # fmt: skip
                return
            time.sleep(0.05)

    thread = threading.Thread(target=owner)
    thread.start()
    with pytest.raises(Conflict) as refused:
        actions.resume_recording(actor=secretary, hearing=hearing)
    thread.join()
    assert refused.value.code == "not_paused" and refused.value.status == 409
    command = CaptureCommand.objects.get()
    assert command.verb == "resume" and command.done_at is not None


@pytest.mark.django_db(transaction=True)
def test_r19_an_owner_that_does_not_answer_gives_503_in_the_contracts_shape(
    world, api_as, monkeypatch
) -> None:
    hearing = recording_hearing(world)
    monkeypatch.setitem(actions.RELAY_WAIT_S, "pause", 0.5)
    answer = api_as(world.person("secretary")).post(
        f"/hearings/{hearing.pk}/pause", {"reason": "recess"}
    )
    assert answer.status_code == 503, answer.content
    assert answer.json()["error"] == "capture_owner_unavailable" and answer.json()["detail"]
    assert CaptureCommand.objects.get().outcome == {"error": "expired"}  # it will never run
    assert Hearing.objects.get(pk=hearing.pk).state == "recording"


# --- recovery in this process ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r6_r19_a_capture_whose_process_died_is_recovered_with_a_measured_gap(
    world, api_as, settings, tmp_path
) -> None:
    settings.TASPA_SPOOL = str(tmp_path / "spool")
    hearing = world.hearing(court="a")
    secretary = api_as(world.person("secretary"))
    try:
        assert secretary.post(f"/hearings/{hearing.pk}/start").status_code == 200
        time.sleep(1.5)
        engine = runtime.engine_for(hearing.pk)
        engine.detach()  # the spool as a crash leaves it
        runtime.forget(hearing.pk)
        here = lease.me().split(":")
        CaptureLease.objects.filter(hearing=hearing).update(
            owner=f"{here[0]}:{dead_pid()}:{here[2]}"
        )
        time.sleep(1.0)
        # Before: engine_for was None and these answered 500. Now the first command recovers.
        mark = secretary.post(f"/hearings/{hearing.pk}/marks", {"speaker": "A", "role": "judge"})
        assert mark.status_code == 201, mark.content
        assert 2.0 < mark.json()["offset_s"] < 6.0  # wall time since the first sample
        recovered = runtime.engine_for(hearing.pk)
        assert recovered is not None and recovered.running
        assert CaptureLease.objects.get(hearing=hearing).owner == lease.me()
        deadline = time.monotonic() + 5
        while not hearing.incidents.filter(kind="capture_gap").exists():
            assert time.monotonic() < deadline, "no capture_gap incident after the recovery"
            time.sleep(0.05)
        gap = hearing.incidents.get(kind="capture_gap")
        assert 0.8 < (gap.gap_end - gap.gap_start).total_seconds() < 5.0
        assert (
            secretary.post(f"/hearings/{hearing.pk}/pause", {"reason": "recess"}).status_code == 200
        )
        answer = secretary.post(f"/hearings/{hearing.pk}/stop")
        assert answer.status_code == 200 and answer.json()["state"] in ("stopped", "sealed")
        recording = Recording.objects.get(hearing=hearing)
        assert recording.duration_s > 2.5 and recording.sha256
        assert not CaptureLease.objects.filter(hearing=hearing).exists()
        assert runtime.engine_for(hearing.pk) is None
    finally:  # a failed assertion leaves no capture running
        left = runtime.engine_for(hearing.pk)
        if left is not None and left.state in ("recording", "paused"):
            left.stop()
        runtime.forget(hearing.pk)
