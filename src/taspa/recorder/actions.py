"""Every write of the recorder: preflight, start, lawful pause, resume, marks, stop (R6–R14).

The one module that writes a hearing's state and its recording's state and fields: every change
goes through ``policy.lifecycle_step``, whether the secretary asked this server (``origin`` is
``"server"``) or a courtroom agent reports what it did (``"courtroom"``, ADR 0004), so R6/R19
refusals and audit events are the same for both. Each action checks R7 (only the hearing's
secretary or stand-in operates the recorder), moves the state, drives the capture engine and
appends its audit event in one transaction.

Capture in a server process is owned by one process at a time (``recorder.lease``). A command
for a hearing another live process owns is queued for that owner and answered with its outcome;
a hearing whose owner died is recovered from its spool here first (``recover_capture``).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taspa.audit.actions import record
from taspa.courts.actions import require
from taspa.courts.models import Hearing, User
from taspa.courts.policy import Action
from taspa.errors import Conflict, DomainError, InvalidInput, RuleRefusal
from taspa.incidents.actions import open_incident
from taspa.incidents.policy import IncidentKind
from taspa.recorder import lease, policy, runtime, selectors
from taspa.recorder.engine import CaptureEngine, EngineError, EngineEvent, preflight
from taspa.recorder.journal import JOURNAL_NAME, MEDIA_NAME, Journal
from taspa.recorder.models import AgentCommand, AgentRegistration, Mark, Pause, Preflight, Recording
from taspa.recorder.policy import (
    LIVE_HEARING_STATES,
    NO_RECORDING,
    PAUSE_REASONS,
    Step,
    already_there,
    lifecycle_step,
    pause_reason_allowed,
)
from taspa.recorder.signals import recording_stopped
from taspa.sealing.layout import SealedRecording

log = logging.getLogger("taspa.recorder")
State = Hearing.State
SERVER, COURTROOM = "server", "courtroom"
RELAY_WAIT_S = {"pause": 15.0, "resume": 15.0, "mark": 15.0, "stop": 120.0}


class OwnerUnavailable(DomainError):
    """The process that owns the hearing's capture did not carry the command out in time."""

    status = 503


# --- the lifecycle: the one writer of hearing and recording state ------------------------------


def _locked(hearing: Hearing) -> Hearing:
    """Re-read the hearing under a row lock: two clicks on 'start' queue, not race."""
    return (
        Hearing.objects.select_for_update()
        .select_related("case__court", "courtroom")
        .get(pk=hearing.pk)
    )


def _recording_state(hearing: Hearing) -> str:
    state = Recording.objects.filter(hearing_id=hearing.pk).values_list("state", flat=True).first()
    return state or NO_RECORDING


def _step(hearing: Hearing, event: str) -> Step:
    """The lifecycle's answer for ``event`` now; a refusal becomes 409 with its code."""
    step = lifecycle_step(hearing.state, _recording_state(hearing), event)
    if not step.allowed:
        raise Conflict(step.refusal, step.detail)
    return step


def _move(hearing: Hearing, step: Step, recording: Recording | None = None) -> None:
    """Write the states ``step`` leads to (the hearing's, and the recording's when given)."""
    if hearing.state != step.hearing:
        hearing.state = step.hearing
        hearing.save(update_fields=["state"])
    if recording is not None and recording.state != step.recording:
        recording.state = step.recording
        recording.save(update_fields=["state"])


def _via(origin: str, at: datetime | None) -> dict[str, Any]:
    """The audit payload's note that a courtroom agent did it, with the time it happened."""
    if origin != COURTROOM:
        return {}
    return {"via": "agent", "origin": COURTROOM, "at": (at or timezone.now()).isoformat()}


def _audit(actor: User | None, action: str, target: Any, origin: str, at=None, **payload) -> None:
    record(actor=actor, action=action, target=target, payload=payload | _via(origin, at))


# --- the agent's command queue (a courtroom that records on its own PC) ------------------------


def queue_agent_command(
    agent: AgentRegistration, hearing: Hearing, verb: str, **args: Any
) -> AgentCommand:
    """Called inside the secretary's action: the command commits with the state change."""
    return AgentCommand.objects.create(agent=agent, hearing=hearing, verb=verb, args=args)


def _remote_offset(recording: Recording, at: datetime) -> float:
    """R12 on a remote recorder: the media timeline is wall time since the first sample, whose
    time the agent reported when capture started."""
    return max(0.0, (at - recording.started_at).total_seconds())


# --- ownership of in-server capture ------------------------------------------------------------


class _Elsewhere(Exception):
    """Another live server process owns this hearing's capture."""


_recovering = threading.Lock()


def _capture_for(hearing: Hearing) -> CaptureEngine | None:
    """Outside any transaction: for a live hearing captured by a server process, this process's
    engine, recovered here first when its owner is gone. ``None`` for an agent's courtroom or a
    hearing that is not live (the action's own state check then answers). Raises ``_Elsewhere``
    when another live process owns it: the command goes to that owner."""
    # The state as it is now, not as the caller's instance last saw it (a page, a thread).
    hearing.refresh_from_db(fields=["state"])
    if hearing.state not in LIVE_HEARING_STATES or selectors.agent_of(hearing) is not None:
        return None
    engine = runtime.engine_for(hearing.pk)
    if engine is not None:
        return engine
    if lease.held_elsewhere(hearing.pk):
        raise _Elsewhere
    engine = recover_capture(hearing.pk)
    if engine is None and lease.held_elsewhere(hearing.pk):
        raise _Elsewhere
    return engine


def _engine(engine: CaptureEngine | None) -> CaptureEngine:
    if engine is None:
        raise Conflict("capture_unavailable", _("No capture runs for this hearing in the server."))
    return engine


def _relay(actor: User, hearing: Hearing, verb: str, **args: Any) -> int:
    """Queue the command for the owning process and wait (bounded) for its outcome: the id of
    what it made (pause, mark, recording), or its refusal raised here as the owner raised it."""
    command = lease.queue(hearing.pk, verb, actor.pk, args)
    deadline = time.monotonic() + RELAY_WAIT_S[verb]
    while True:
        command.refresh_from_db(fields=["done_at", "outcome", "taken_by"])
        if command.done_at is not None:
            break
        if time.monotonic() > deadline and (lease.give_up(command) or not command.taken_by):
            raise OwnerUnavailable(
                "capture_owner_unavailable",
                _(
                    "The server process that records this hearing did not answer within "
                    "%(seconds)s s; nothing was done, try again."
                ),
                params={"seconds": f"{RELAY_WAIT_S[verb]:.0f}"},
                technical=verb,
            )
        time.sleep(0.05)
    outcome = command.outcome
    if "error" in outcome:
        status = int(outcome.get("status", 409))
        kind = {409: Conflict, 503: OwnerUnavailable}.get(status, DomainError)
        error = kind(outcome["error"], outcome.get("detail", ""))
        error.status = status  # as the owner answered: 422 refusal, 403, 404 ...
        raise error
    return int(outcome["id"])


def run_command(command: Any) -> dict[str, Any]:
    """The owner carries out a command another process queued for it (``recorder.keeper``)."""
    actor = User.objects.get(pk=command.actor_id)
    hearing = Hearing.objects.get(pk=command.hearing_id)
    args = command.args
    try:
        if command.verb == "pause":
            made: Any = pause_recording(
                actor=actor,
                hearing=hearing,
                reason=args["reason"],
                announced_at=_moment(args.get("announced_at")),
            )
        elif command.verb == "resume":
            made = resume_recording(actor=actor, hearing=hearing)
        elif command.verb == "mark":
            made = add_mark(
                actor=actor,
                hearing=hearing,
                speaker=args["speaker"],
                role=args["role"],
                at=_moment(args["at"]),
            )
        elif command.verb == "stop":
            made = stop_recording(actor=actor, hearing=hearing)
        else:
            raise InvalidInput(
                "unknown_command",
                _("No capture command %(verb)s."),
                params={"verb": f"{command.verb!r}"},
            )
    except DomainError as error:
        return {"error": error.code, "detail": error.detail, "status": error.status}
    except Exception as error:  # the requester gets an answer, never a hang or a 500
        log.exception("capture command %s failed", command.pk)
        return {"error": "capture_failed", "detail": str(error), "status": 409}
    return {"id": made.pk}


def _moment(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(float(value), UTC)


def recover_capture(hearing_id: int) -> CaptureEngine | None:
    """Take over a live hearing whose capture has no living owner: salvage its spool and go on
    capturing (or stay paused), the break a ``capture_gap`` incident with its measured length.
    A stop the dead process had written to the journal but not to the database is finished
    instead (and sealed). ``None`` when there is nothing to run here, or another process won."""
    with _recovering:
        engine = runtime.engine_for(hearing_id)
        if engine is not None:
            return engine
        hearing = Hearing.objects.select_related("courtroom").get(pk=hearing_id)
        recording = Recording.objects.filter(hearing=hearing).first()
        live = hearing.state in LIVE_HEARING_STATES
        if not live or recording is None or recording.state != Recording.State.CAPTURING:
            return None
        if selectors.agent_of(hearing) is not None or not lease.take_over(hearing_id):
            return None
        spool = Path(recording.spool_dir)
        try:
            engine = CaptureEngine.recover(
                spool, on_event=lambda event: handle_engine_event(hearing_id, event)
            )
        except EngineError as error:
            stop = _journal_stop(spool)
            if stop is not None:
                _finish_interrupted_stop(hearing, recording, spool)
                return None
            lease.release(hearing_id)
            raise Conflict(
                "capture_unrecoverable",
                _("The hearing's capture cannot be recovered."),
                technical=error,
            ) from error
        # The database holds the hearing's state: a pause or resume the crash cut short (the
        # engine had done it, the transaction had not committed) is undone.
        if hearing.state == State.RECORDING and engine.state == policy.PAUSED:
            engine.resume()
        elif hearing.state == State.PAUSED and engine.state == policy.RECORDING:
            engine.pause()
        runtime.adopt(hearing_id, engine)
    record(
        actor=None,
        action="recorder.recover",
        target=hearing,
        payload={"owner": lease.me(), "state": hearing.state},
    )
    log.warning("hearing %s: capture recovered by %s", hearing_id, lease.me())
    return engine


def _journal_stop(spool: Path) -> dict[str, Any] | None:
    path = spool / JOURNAL_NAME
    records = Journal.read(path) if path.exists() else []
    return next((r for r in reversed(records) if r.get("type") == "stop"), None)


def _finish_interrupted_stop(hearing: Hearing, recording: Recording, spool: Path) -> Recording:
    """The engine had stopped (its journal ends with the stop record) when the process died:
    the database catches up from the journal, and the recording is sealed."""
    with transaction.atomic():
        hearing = _locked(hearing)
        if hearing.state in LIVE_HEARING_STATES:
            _move(hearing, _step(hearing, "stop"))
            recording = _fill_from_journal(
                recording.pk, hearing, spool / MEDIA_NAME, spool / JOURNAL_NAME
            )
            recording.pauses.filter(ended_at__isnull=True).update(ended_at=recording.stopped_at)
            record(
                actor=None,
                action="recorder.stop",
                target=hearing,
                payload={"sha256": recording.sha256, "bytes": recording.bytes, "recovered": True},
            )
    sealed = _seal(Recording.objects.get(pk=recording.pk))
    lease.release(hearing.pk)
    return sealed


def recover_orphans() -> list[int]:
    """Every live hearing captured in a server process without a living owner is taken over;
    a stop interrupted mid-seal is sealed. Returns the hearings this process took over. Run at
    start-up and every few seconds by ``recorder.keeper``."""
    candidates = list(
        Hearing.objects.filter(
            state__in=LIVE_HEARING_STATES, recording__state=Recording.State.CAPTURING
        )
        .exclude(
            courtroom_id__in=AgentRegistration.objects.filter(revoked_at__isnull=True).values(
                "courtroom_id"
            )
        )
        .values_list("pk", flat=True)
    )
    taken = []
    for hearing_id in lease.orphaned([h for h in candidates if runtime.engine_for(h) is None]):
        try:
            if recover_capture(hearing_id) is not None:
                taken.append(hearing_id)
        except DomainError as error:
            log.error("hearing %s: %s", hearing_id, error.detail)
    stopped = list(
        Recording.objects.filter(
            state=Recording.State.STOPPED, hearing__capture_lease__isnull=False
        ).values_list("hearing_id", flat=True)
    )
    for hearing_id in lease.orphaned(stopped):
        if runtime.engine_for(hearing_id) is None and lease.take_over(hearing_id):
            _seal(Recording.objects.get(hearing_id=hearing_id))
            lease.release(hearing_id)
    return taken


# --- the secretary's operations ----------------------------------------------------------------


def run_preflight(*, actor: User, hearing: Hearing) -> Preflight:
    """R8: check the equipment before the hearing. A failure opens an incident but never blocks
    the hearing (R10); the UI then shows the announcement to read (R16)."""
    require(actor, Action.OPERATE_RECORDER, hearing)
    agent = selectors.agent_of(hearing)
    if agent is None:
        sources, spool = runtime.sources_of(hearing.courtroom), runtime.spool_dir_for(hearing.pk)
        checks = [c.__dict__ for c in preflight(sources, spool)]
    else:  # the courtroom PC checks its own sources; here: is it in touch, what did it find
        checks = selectors.agent_checks(agent)
    checks.append(_signing_key_check(_operator(actor, hearing)))
    checks.append(selectors.database_clock_check())
    ok = all(check["ok"] for check in checks)
    with transaction.atomic():
        hearing = _locked(hearing)
        result = Preflight.objects.create(
            hearing=hearing, at=timezone.now(), ok=ok, checks=checks, run_by=actor
        )
        step = lifecycle_step(hearing.state, _recording_state(hearing), "preflight")
        if step.allowed:  # a check during the hearing is only a check, not a transition
            _move(hearing, step)
        record(
            actor=actor,
            action="recorder.preflight",
            target=hearing,
            payload={"ok": ok, "checks": checks},
        )
        if not ok:
            failed = "; ".join(f"{c['name']}: {c['detail']}" for c in checks if not c["ok"])
            open_incident(
                actor=None,
                hearing=hearing,
                kind=IncidentKind.PREFLIGHT_FAILED,
                detail=f"Equipment check failed (R8): {failed}",
            )
    return result


def _operator(actor: User, hearing: Hearing) -> User:
    """Whose EDS will sign (R7, R14): the one checking the equipment when they are the hearing's
    secretary or its stand-in, else the stand-in assigned, else the secretary."""
    if actor.pk in (hearing.secretary_id, hearing.stand_in_id):
        return actor
    return hearing.stand_in or hearing.secretary


def _signing_key_check(secretary: User) -> dict:
    """R14 needs the secretary's EDS key at the end of the hearing: find out now."""
    from taspa.sealing.actions import SigningUnavailable, signer_for

    try:
        signer = signer_for(secretary)
    except SigningUnavailable as error:
        return {"name": "signing_key", "ok": False, "detail": error.detail}
    subject = signer.certificate.subject.rfc4514_string()
    return {"name": "signing_key", "ok": True, "detail": subject}


def _set_aside(spool: Path) -> None:
    """A spool left by a start that never committed (the process died in it): kept beside, never
    thrown away, so the new start begins an empty spool."""
    journal = spool / JOURNAL_NAME
    if journal.exists() and journal.stat().st_size:
        spool.rename(spool.with_name(f"{spool.name}.abandoned-{time.time_ns()}"))


def start_recording(*, actor: User, hearing: Hearing, override_reason: str = "") -> Recording:
    """Start recording the hearing — after a passing equipment check of its courtroom (R8), or,
    without one, on the operator's audited decision with ``override_reason``."""
    require(actor, Action.OPERATE_RECORDER, hearing)
    try:
        with transaction.atomic():
            hearing = _locked(hearing)
            step = _step(hearing, "start")
            _require_preflight(actor, hearing, override_reason)
            agent = selectors.agent_of(hearing)
            if agent is None:
                spool = runtime.spool_dir_for(hearing.pk)
                _set_aside(spool)
                lease.claim(hearing.pk)  # commits with the recording: this process owns it
                runtime.new_engine(hearing, handle_engine_event).start()
            else:  # the courtroom PC records; it collects the command (ADR 0004)
                queue_agent_command(agent, hearing, "start")
                spool = runtime.upload_dir(hearing.pk)
            recording = Recording.objects.create(
                hearing=hearing, spool_dir=str(spool), started_at=timezone.now(), operated_by=actor
            )
            _move(hearing, step, recording)
            record(
                actor=actor,
                action="recorder.start",
                target=hearing,
                payload={"recording": recording.pk},
            )
    except EngineError as error:
        _discard_engine(hearing.pk)
        # R9: recording is impossible; the reason goes to the minutes, the hearing goes on (R10).
        open_incident(
            actor=None,
            hearing=hearing,
            kind=IncidentKind.RECORDING_IMPOSSIBLE,
            detail=f"Capture could not start: {error}",
        )
        raise InvalidInput(
            "capture_failed",
            _("Capture could not start: the sound or video source cannot be opened."),
            technical=error,
        ) from error
    return recording


def _require_preflight(actor: User, hearing: Hearing, override_reason: str) -> None:
    """R8: a passing check of the courtroom within TASPA_PREFLIGHT_MAX_AGE_MIN before the start;
    an override is the operator's decision, with its reason, in the audit trail."""
    from django.conf import settings

    from taspa.recorder.policy import preflight_gate

    now = timezone.now()
    last = (
        Preflight.objects.filter(hearing__courtroom_id=hearing.courtroom_id, ok=True)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    max_age = int(getattr(settings, "TASPA_PREFLIGHT_MAX_AGE_MIN", 120))
    gate = preflight_gate(last, now, max_age)
    if gate.ok:
        return
    reason = override_reason.strip()
    if not reason:
        if last is None:  # the gate's words, in the caller's language
            raise Conflict(gate.refusal, _("Check the equipment of this courtroom first."))
        raise Conflict(
            gate.refusal,
            _(
                "The last passing equipment check was %(age)s min ago; the court requires one "
                "within %(limit)s min before the start."
            ),
            {"age": f"{(now - last).total_seconds() / 60:.0f}", "limit": max_age},
        )
    record(
        actor=actor,
        action="recorder.preflight_override",
        target=hearing,
        payload={"reason": reason[:2000], "why_needed": gate.detail},
    )


def check_read_purpose(purpose: str | None) -> tuple[str, bool]:
    """(purpose, stated?) of a staff read (R2), or 422 ``unknown_purpose`` before any byte is
    read for a purpose п.2 does not name."""
    from taspa.recorder.policy import STAFF_PURPOSES, staff_purpose

    found = staff_purpose(purpose)
    if found is None:
        raise InvalidInput(
            "unknown_purpose",
            _("State the purpose: proceedings, facts or disciplinary (R2)."),
            technical=", ".join(STAFF_PURPOSES),
        )
    return found


def audit_recording_read(
    *,
    actor: User,
    recording: Recording,
    channel: str,
    purpose: str | None,
    read: str = "media",
    range_header: str = "",
) -> None:
    """R2: every playback and download of a recording's sealed bytes by court staff is on
    record with its purpose, as a participant's access is; the one place that rule is kept
    (API media, signature, manifest, evidence record; the web playback page). ``read`` names
    what was read. A player's later Range requests (seeking inside one playback) are not
    counted again: only a read from the start, or without a Range."""
    purpose, stated = check_read_purpose(purpose)
    if range_header and not range_header.replace(" ", "").startswith("bytes=0-"):
        return
    record(
        actor=actor,
        action="recording.read",
        target=recording,
        payload={"channel": channel, "read": read, "purpose": purpose, "purpose_stated": stated},
    )


def agent_started(*, hearing: Hearing, at: datetime, anchor: datetime) -> Recording | None:
    """A start the server asked for is confirmed with the first sample's time; a start made at
    the courtroom while the server was out of reach is entered now (R6: it did record)."""
    with transaction.atomic():
        hearing = _locked(hearing)
        recording = Recording.objects.filter(hearing=hearing).first()
        if recording is not None:
            recording.started_at = anchor
            recording.save(update_fields=["started_at"])
            return recording
        step = _step(hearing, "start")
        recording = Recording.objects.create(
            hearing=hearing, spool_dir=str(runtime.upload_dir(hearing.pk)), started_at=anchor
        )
        _move(hearing, step, recording)
        _audit(None, "recorder.start", hearing, COURTROOM, at, recording=recording.pk)
    return recording


def _discard_engine(hearing_id: int) -> None:
    engine = runtime.engine_for(hearing_id)
    if engine is not None and engine.running:
        engine.stop()
    runtime.forget(hearing_id)


def pause_recording(
    *,
    actor: User | None,
    hearing: Hearing,
    reason: str,
    announced_at: datetime | None = None,
    origin: str = SERVER,
    at: datetime | None = None,
) -> Pause | None:
    """R6: stopping is lawful only from the announcement of an adjournment, a recess or the
    court's retiring to deliberate. Any other reason is refused and the attempt is audited (R19),
    whether the secretary asked here or a courtroom agent reports a pause it made."""
    if origin == SERVER:
        require(actor, Action.OPERATE_RECORDER, hearing)
    if not pause_reason_allowed(reason):
        _audit(actor, "recorder.pause_refused", hearing, origin, at, reason=reason)
        raise RuleRefusal(
            "pause_reason_not_allowed",
            _("Recording may stop only for a reason the Rules name (R6, R19), not for %(reason)s."),
            params={"reason": f"{reason!r}"},
            technical=", ".join(PAUSE_REASONS),
        )
    now = at or timezone.now()
    announced_at = announced_at or now
    engine = None
    if origin == SERVER:
        try:
            engine = _capture_for(hearing)
        except _Elsewhere:
            made = _relay(
                actor, hearing, "pause", reason=reason, announced_at=announced_at.timestamp()
            )
            return Pause.objects.get(pk=made)
    with transaction.atomic():
        hearing = _locked(hearing)
        if origin == COURTROOM and already_there(hearing.state, "pause"):
            return None  # the server asked for this pause and holds it already
        step = _step(hearing, "pause")
        if origin == SERVER:
            agent = selectors.agent_of(hearing)
            if agent is None:
                _engine(engine).pause()
            else:
                queue_agent_command(
                    agent, hearing, "pause", reason=reason, announced_at=announced_at.timestamp()
                )
        pause = Pause.objects.create(
            recording=hearing.recording,
            reason=reason,
            announced_at=announced_at,
            started_at=now,
            requested_by=actor or hearing.secretary,
        )
        _move(hearing, step)
        _audit(
            actor,
            "recorder.pause",
            hearing,
            origin,
            at,
            reason=reason,
            announced_at=pause.announced_at.isoformat(),
        )
    return pause


def resume_recording(
    *, actor: User | None, hearing: Hearing, origin: str = SERVER, at: datetime | None = None
) -> Recording | None:
    if origin == SERVER:
        require(actor, Action.OPERATE_RECORDER, hearing)
        try:
            engine = _capture_for(hearing)
        except _Elsewhere:
            return Recording.objects.get(pk=_relay(actor, hearing, "resume"))
    with transaction.atomic():
        hearing = _locked(hearing)
        if origin == COURTROOM and already_there(hearing.state, "resume"):
            return None
        step = _step(hearing, "resume")
        if origin == SERVER:
            agent = selectors.agent_of(hearing)
            if agent is None:
                _engine(engine).resume()
            else:
                queue_agent_command(agent, hearing, "resume")
        pause = hearing.recording.pauses.filter(ended_at__isnull=True).first()
        if pause is not None:
            pause.ended_at = at or timezone.now()
            pause.save(update_fields=["ended_at"])
        _move(hearing, step)
        _audit(actor, "recorder.resume", hearing, origin, at, pause=pause.pk if pause else None)
    return hearing.recording


def add_mark(
    *,
    actor: User | None,
    hearing: Hearing,
    speaker: str,
    role: str,
    at: datetime | None = None,
    origin: str = SERVER,
    offset_s: float | None = None,
) -> Mark | None:
    """R12: mark a participant's speech at the moment it starts (``at``, default now). A mark
    from a courtroom agent comes with the offset its own engine computed."""
    if origin == SERVER:
        require(actor, Action.OPERATE_RECORDER, hearing)
        if not speaker.strip() or not role.strip():
            raise InvalidInput("mark_incomplete", _("A mark needs the speaker and their role."))
    at = at or timezone.now()
    engine = None
    if origin == SERVER:
        try:
            engine = _capture_for(hearing)
        except _Elsewhere:
            made = _relay(actor, hearing, "mark", speaker=speaker, role=role, at=at.timestamp())
            return Mark.objects.get(pk=made)
    with transaction.atomic():
        hearing = _locked(hearing)
        if origin == COURTROOM:
            # Marked on the courtroom PC while it recorded: it counts while its media is still
            # arriving, whatever the server's state has moved on to since.
            if lifecycle_step(hearing.state, _recording_state(hearing), "mark_reported").refusal:
                return None
            offset = float(offset_s or 0.0)
        else:
            _step(hearing, "mark")
            agent = selectors.agent_of(hearing)
            if agent is None:
                offset = _engine(engine).media_offset(at)
            else:  # remote capture: the agent reported the wall time of the first sample
                offset = _remote_offset(hearing.recording, at)
        mark = Mark.objects.create(
            recording=hearing.recording,
            speaker=speaker,
            role=role,
            offset_s=offset,
            at=at,
            created_by=actor or hearing.secretary,
        )
        payload = {"mark": mark.pk, "speaker": speaker, "role": role, "offset_s": offset}
        when = at if origin == COURTROOM else None
        _audit(actor, "recorder.mark", hearing, origin, when, **payload)
    return mark


def correct_mark(*, actor: User, mark: Mark, speaker: str, role: str) -> Mark:
    """A correction is a new mark that supersedes the old one; nothing is edited (R19)."""
    hearing = mark.recording.hearing
    require(actor, Action.OPERATE_RECORDER, hearing)
    with transaction.atomic():
        if Mark.objects.filter(supersedes=mark).exists():
            raise Conflict("mark_already_corrected", _("Correct the newest version of this mark."))
        if hearing.recording.state == Recording.State.SEALED:
            raise Conflict("recording_sealed", _("A sealed recording's marks cannot change (R19)."))
        fixed = Mark.objects.create(
            recording=mark.recording,
            speaker=speaker,
            role=role,
            offset_s=mark.offset_s,
            at=mark.at,
            created_by=actor,
            supersedes=mark,
        )
        record(
            actor=actor,
            action="recorder.mark_correct",
            target=hearing,
            payload={"mark": fixed.pk, "supersedes": mark.pk, "speaker": speaker},
        )
    return fixed


def stop_recording(*, actor: User, hearing: Hearing) -> Recording:
    """End capture and seal (R14). If sealing cannot be done now (no valid EDS key), the
    recording stays stopped and intact, an incident is opened, and sealing is retried later."""
    require(actor, Action.OPERATE_RECORDER, hearing)
    try:
        engine = _capture_for(hearing)
    except _Elsewhere:
        return Recording.objects.get(pk=_relay(actor, hearing, "stop"))
    with transaction.atomic():
        hearing = _locked(hearing)
        step = _step(hearing, "stop")
        agent = selectors.agent_of(hearing)
        if agent is not None:
            return _stop_remote(actor, hearing, agent, step)
        result = _engine(engine).stop()
        now = timezone.now()
        recording = hearing.recording
        recording.pauses.filter(ended_at__isnull=True).update(ended_at=now)
        recording.stopped_at = now
        recording.container = result.container
        recording.command = list(result.command)
        recording.sha256 = result.sha256
        recording.bytes = result.bytes
        recording.duration_s = result.duration_s
        recording.chain_head = result.chain_head
        recording.pieces = result.pieces
        recording.media_path = str(result.media_path)
        recording.operated_by = actor  # R14: who ends the recording signs it
        recording.save()
        _move(hearing, step)
        _move(hearing, _step(hearing, "capture_end"), recording)
        record(
            actor=actor,
            action="recorder.stop",
            target=hearing,
            payload={
                "sha256": result.sha256,
                "bytes": result.bytes,
                "duration_s": result.duration_s,
                "chain_head": result.chain_head,
            },
        )
    runtime.forget(hearing.pk)
    sealed = _seal(recording)
    lease.release(hearing.pk)
    return sealed


def _stop_remote(actor: User, hearing: Hearing, agent, step: Step) -> Recording:
    """Queue the stop for the courtroom PC; the recording is sealed once its agent has uploaded
    every byte and the server has re-verified them (``uploads.complete_upload``, R14)."""
    queue_agent_command(agent, hearing, "stop")
    now = timezone.now()
    recording = hearing.recording
    recording.pauses.filter(ended_at__isnull=True).update(ended_at=now)
    recording.stopped_at = now
    recording.operated_by = actor  # R14: who ends the recording signs it
    recording.save(update_fields=["stopped_at", "operated_by"])
    _move(hearing, step)
    record(actor=actor, action="recorder.stop", target=hearing, payload={"remote": True})
    return recording


def agent_stopped(*, hearing: Hearing, at: datetime, sha256: str, size: int | None) -> None:
    """The agent's final digest; sealing waits until every byte is uploaded and re-verified."""
    with transaction.atomic():
        hearing = _locked(hearing)
        recording = hearing.recording
        recording.pauses.filter(ended_at__isnull=True).update(ended_at=at)
        if recording.stopped_at is None:
            recording.stopped_at = at
        recording.sha256 = sha256
        recording.bytes = size
        recording.save(update_fields=["stopped_at", "sha256", "bytes"])
        if already_there(hearing.state, "stop"):
            return
        _move(hearing, _step(hearing, "stop"))
        _audit(None, "recorder.stop", hearing, COURTROOM, at, sha256=recording.sha256)


def _fill_from_journal(
    recording_id: int, hearing: Hearing, media: Path, journal: Path
) -> Recording:
    """The recording's fields from a spool's journal and its stop record (an agent's verified
    upload, or a stop a crashed process had finished): the media is complete here."""
    records = Journal.read(journal)
    stop = next(r for r in reversed(records) if r.get("type") == "stop")
    runs = [r for r in records if r.get("type") == "run"]
    recording = Recording.objects.select_for_update().get(pk=recording_id)
    if recording.stopped_at is None:
        recording.stopped_at = datetime.fromtimestamp(stop["at"], UTC)
    recording.container = records[0].get("container", "mpegts")
    recording.command = runs[0]["command"] if runs else []
    recording.sha256 = stop["sha256"]
    recording.bytes = stop["bytes"]
    recording.duration_s = stop.get("duration_s")
    recording.chain_head = stop["chain_head"]
    recording.pieces = sum(1 for r in records if r.get("type") == "piece")
    recording.media_path = str(media)
    recording.spool_dir = str(media.parent)
    recording.save()
    _move(hearing, _step(hearing, "capture_end"), recording)
    return recording


def upload_verified(*, hearing: Hearing, media: Path, journal: Path, check: str) -> Recording:
    """An agent's upload re-verified against its journal (``uploads.complete_upload``): the
    recording is complete here, and sealed (R14)."""
    with transaction.atomic():
        hearing = _locked(hearing)
        recording = _fill_from_journal(hearing.recording.pk, hearing, media, journal)
        record(
            actor=None,
            action="recorder.upload_verified",
            target=hearing,
            payload={"sha256": recording.sha256, "bytes": recording.bytes, "check": check},
        )
    return seal_recording(recording)


def seal_recording(recording: Recording) -> Recording:
    """Seal a stopped recording (idempotent: a sealed one is answered as it stands)."""
    recording = Recording.objects.get(pk=recording.pk)
    if recording.state == Recording.State.SEALED:
        return recording
    return _seal(recording)


def _seal(recording: Recording) -> Recording:
    sealed = seal_stopped(recording)
    recording_stopped.send(sender=Recording, recording=sealed)
    return sealed


# --- what the capture engines report ------------------------------------------------------------


def handle_engine_event(hearing_id: int, event: EngineEvent) -> None:
    """Called from the engine's watchdog and reader threads: every break and failure becomes an
    incident, so a gap in the record is never silent (R6, R16, R17)."""
    try:
        _incident_for(hearing_id, event)
    finally:
        # The engine's threads are not request threads: nothing closes their connection, and
        # each would hold one open for the whole hearing (PostgreSQL counts them). Inside a
        # transaction (stop() runs in one) closing would roll it back, so only outside.
        if not connection.in_atomic_block:
            connection.close()


def _incident_for(hearing_id: int, event: EngineEvent) -> None:
    kinds = {
        "gap": IncidentKind.CAPTURE_GAP,
        "source_lost": IncidentKind.SOURCE_LOST,
        "disk_full": IncidentKind.DISK_FULL,
        "timestamps": IncidentKind.TIMESTAMP_FAULT,
    }
    kind = kinds.get(event.kind)
    if kind is None:
        log.warning("hearing %s: %s: %s", hearing_id, event.kind, event.detail)
        return
    hearing = Hearing.objects.get(pk=hearing_id)
    if kind == IncidentKind.SOURCE_LOST and _outage_already_reported(hearing):
        return  # the watchdog retries every second: one incident per outage, not per retry
    open_incident(
        actor=None,
        hearing=hearing,
        kind=kind,
        detail=event.detail,
        gap_start=event.gap.start if event.gap else None,
        gap_end=event.gap.end if event.gap else None,
    )


def _outage_already_reported(hearing: Hearing) -> bool:
    """True while the latest capture incident is an unclosed 'source lost' (no gap after it)."""
    latest = (
        hearing.incidents.filter(kind__in=[IncidentKind.SOURCE_LOST, IncidentKind.CAPTURE_GAP])
        .order_by("-at", "-id")
        .first()
    )
    return latest is not None and latest.kind == IncidentKind.SOURCE_LOST


# --- sealing ---
def seal_stopped(recording: Recording) -> Recording:
    """Seal a stopped recording (R14) and record it sealed; idempotent, so the resume job mends
    a crash at any step by running it again.

    Without a usable EDS key (R14 cannot be done automatically) the recording stays stopped,
    intact in the spool, and an incident says why; ``sealing.resume`` retries later.
    """
    from taspa.sealing.actions import SigningUnavailable, release_spool_media, seal

    recording = Recording.objects.select_related("hearing__case__court", "hearing__secretary").get(
        pk=recording.pk
    )
    if recording.state == Recording.State.SEALED:
        return recording
    try:
        sealed = seal(recording)
    except SigningUnavailable as error:
        open_incident(
            actor=None,
            hearing=recording.hearing,
            kind=IncidentKind.SIGNING_FAILED,
            detail=f"The recording could not be signed (R14): {error.detail}",
        )
        return recording
    recording = mark_sealed(recording, sealed)
    release_spool_media(recording)
    return recording


def mark_sealed(recording: Recording, sealed: SealedRecording) -> Recording:
    """Record ``sealed`` (its blobs already in the store) as the recording's seal, the hearing
    sealed, and one ``recording.seal`` audit event; a second call changes nothing."""
    from taspa.recorder.signals import recording_sealed
    from taspa.sealing.timestamp_queue import queue_missing_timestamps

    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(pk=recording.pk)
        if recording.state == Recording.State.SEALED:
            return recording  # a concurrent or earlier run got here first: one seal event
        hearing = _locked(recording.hearing)
        step = _step(hearing, "sealed")  # stopped → sealed, by the one lifecycle table
        recording.file_name = sealed.file_name
        recording.signature_digest = sealed.signature
        recording.manifest_digest = sealed.manifest
        recording.manifest_signature_digest = sealed.manifest_signature
        recording.journal_digest = sealed.journal
        recording.signed_by = selectors.session_secretary(recording)
        recording.signer_subject = sealed.signer_subject
        recording.sealed_at = recording.stored_at = timezone.now()
        recording.save()
        _move(hearing, step, recording)
        transaction.on_commit(lambda: recording_sealed.send(sender=Recording, recording=recording))
        record(
            actor=None,
            action="recording.seal",
            target=recording,
            payload={
                "file_name": recording.file_name,
                "sha256": recording.sha256,
                "signer": recording.signer_subject,
            },
        )
        queue_missing_timestamps(recording, sealed)  # the TSA was down: added later
    return recording
