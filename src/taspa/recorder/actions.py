"""Every write of the recorder: preflight, start, lawful pause, resume, marks, stop (R6–R14).

Each action checks R7 (only the hearing's secretary or stand-in operates the recorder), moves the
hearing's state, drives the capture engine and appends its audit event in one transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from taspa.audit.actions import record
from taspa.courts.actions import require
from taspa.courts.models import Hearing, User
from taspa.courts.policy import Action
from taspa.errors import Conflict, InvalidInput, RuleRefusal
from taspa.incidents.actions import open_incident
from taspa.incidents.policy import IncidentKind
from taspa.recorder import remote, runtime, selectors
from taspa.recorder.engine import EngineError, EngineEvent, preflight
from taspa.recorder.models import Mark, Pause, Preflight, Recording
from taspa.recorder.policy import PAUSE_REASONS, pause_reason_allowed
from taspa.recorder.signals import recording_stopped
from taspa.sealing.layout import SealedRecording

log = logging.getLogger("taspa.recorder")
State = Hearing.State


def _locked(hearing: Hearing) -> Hearing:
    """Re-read the hearing under a row lock: two clicks on 'start' queue, not race."""
    return (
        Hearing.objects.select_for_update()
        .select_related("case__court", "courtroom")
        .get(pk=hearing.pk)
    )


def _expect_state(hearing: Hearing, *allowed: str, code: str) -> None:
    if hearing.state not in allowed:
        raise Conflict(code, f"The hearing is {hearing.state}; this needs {' or '.join(allowed)}.")


def _set_state(hearing: Hearing, state: str) -> None:
    hearing.state = state
    hearing.save(update_fields=["state"])


def run_preflight(*, actor: User, hearing: Hearing) -> Preflight:
    """R8: check the equipment before the hearing. A failure opens an incident but never blocks
    the hearing (R10); the UI then shows the announcement to read (R16)."""
    require(actor, Action.OPERATE_RECORDER, hearing)
    agent = remote.agent_of(hearing)
    if agent is None:
        sources, spool = runtime.sources_of(hearing.courtroom), runtime.spool_dir_for(hearing.pk)
        checks = [c.__dict__ for c in preflight(sources, spool)]
    else:  # the courtroom PC checks its own sources; here: is it in touch, what did it find
        checks = selectors.agent_checks(agent)
    checks.append(_signing_key_check(hearing.secretary))
    checks.append(selectors.database_clock_check())
    ok = all(check["ok"] for check in checks)
    with transaction.atomic():
        hearing = _locked(hearing)
        result = Preflight.objects.create(
            hearing=hearing, at=timezone.now(), ok=ok, checks=checks, run_by=actor
        )
        if hearing.state == State.IDLE:
            _set_state(hearing, State.PREFLIGHT)
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


def _signing_key_check(secretary: User) -> dict:
    """R14 needs the secretary's EDS key at the end of the hearing: find out now."""
    from taspa.sealing.actions import SigningUnavailable, signer_for

    try:
        signer = signer_for(secretary)
    except SigningUnavailable as error:
        return {"name": "signing_key", "ok": False, "detail": error.detail}
    subject = signer.certificate.subject.rfc4514_string()
    return {"name": "signing_key", "ok": True, "detail": subject}


def start_recording(*, actor: User, hearing: Hearing) -> Recording:
    require(actor, Action.OPERATE_RECORDER, hearing)
    try:
        with transaction.atomic():
            hearing = _locked(hearing)
            _expect_state(hearing, State.IDLE, State.PREFLIGHT, code="already_started")
            agent = remote.agent_of(hearing)
            if agent is None:
                runtime.new_engine(hearing, handle_engine_event).start()
                spool = runtime.spool_dir_for(hearing.pk)
            else:  # the courtroom PC records; it collects the command (ADR 0004)
                remote.queue_command(agent, hearing, "start")
                spool = remote.upload_dir(hearing.pk)
            recording = Recording.objects.create(
                hearing=hearing, spool_dir=str(spool), started_at=timezone.now()
            )
            _set_state(hearing, State.RECORDING)
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
        raise InvalidInput("capture_failed", f"Capture could not start: {error}") from error
    return recording


def _discard_engine(hearing_id: int) -> None:
    engine = runtime.engine_for(hearing_id)
    if engine is not None and engine.running:
        engine.stop()
    runtime.forget(hearing_id)


def pause_recording(
    *, actor: User, hearing: Hearing, reason: str, announced_at: datetime | None = None
) -> Pause:
    """R6: stopping is lawful only from the announcement of an adjournment, a recess or the
    court's retiring to deliberate. Any other reason is refused and the attempt is audited (R19)."""
    require(actor, Action.OPERATE_RECORDER, hearing)
    if not pause_reason_allowed(reason):
        record(
            actor=actor, action="recorder.pause_refused", target=hearing, payload={"reason": reason}
        )
        raise RuleRefusal(
            "pause_reason_not_allowed",
            f"R6/R19: recording may stop only for {', '.join(PAUSE_REASONS)}; not for {reason!r}.",
        )
    now = timezone.now()
    with transaction.atomic():
        hearing = _locked(hearing)
        _expect_state(hearing, State.RECORDING, code="not_recording")
        announced_at = announced_at or now
        agent = remote.agent_of(hearing)
        if agent is None:
            runtime.engine_for(hearing.pk).pause()
        else:
            remote.queue_command(
                agent, hearing, "pause", reason=reason, announced_at=announced_at.timestamp()
            )
        pause = Pause.objects.create(
            recording=hearing.recording,
            reason=reason,
            announced_at=announced_at,
            started_at=now,
            requested_by=actor,
        )
        _set_state(hearing, State.PAUSED)
        record(
            actor=actor,
            action="recorder.pause",
            target=hearing,
            payload={"reason": reason, "announced_at": pause.announced_at.isoformat()},
        )
    return pause


def resume_recording(*, actor: User, hearing: Hearing) -> Recording:
    require(actor, Action.OPERATE_RECORDER, hearing)
    with transaction.atomic():
        hearing = _locked(hearing)
        _expect_state(hearing, State.PAUSED, code="not_paused")
        agent = remote.agent_of(hearing)
        if agent is None:
            runtime.engine_for(hearing.pk).resume()
        else:
            remote.queue_command(agent, hearing, "resume")
        pause = hearing.recording.pauses.filter(ended_at__isnull=True).get()
        pause.ended_at = timezone.now()
        pause.save(update_fields=["ended_at"])
        _set_state(hearing, State.RECORDING)
        record(actor=actor, action="recorder.resume", target=hearing, payload={"pause": pause.pk})
    return hearing.recording


def add_mark(
    *, actor: User, hearing: Hearing, speaker: str, role: str, at: datetime | None = None
) -> Mark:
    """R12: mark a participant's speech at the moment it starts (``at``, default now)."""
    require(actor, Action.OPERATE_RECORDER, hearing)
    if not speaker.strip() or not role.strip():
        raise InvalidInput("mark_incomplete", "A mark needs the speaker and their role.")
    at = at or timezone.now()
    with transaction.atomic():
        hearing = _locked(hearing)
        _expect_state(hearing, State.RECORDING, code="not_recording")
        engine = runtime.engine_for(hearing.pk)
        if engine is not None:
            offset = engine.media_offset(at)
        else:  # remote capture: the agent reported the wall time of the first sample
            offset = remote.mark_offset(hearing.recording, at)
        mark = Mark.objects.create(
            recording=hearing.recording,
            speaker=speaker,
            role=role,
            offset_s=offset,
            at=at,
            created_by=actor,
        )
        record(
            actor=actor,
            action="recorder.mark",
            target=hearing,
            payload={"mark": mark.pk, "speaker": speaker, "role": role, "offset_s": offset},
        )
    return mark


def correct_mark(*, actor: User, mark: Mark, speaker: str, role: str) -> Mark:
    """A correction is a new mark that supersedes the old one; nothing is edited (R19)."""
    hearing = mark.recording.hearing
    require(actor, Action.OPERATE_RECORDER, hearing)
    with transaction.atomic():
        if Mark.objects.filter(supersedes=mark).exists():
            raise Conflict("mark_already_corrected", "Correct the newest version of this mark.")
        if hearing.recording.state == Recording.State.SEALED:
            raise Conflict("recording_sealed", "A sealed recording's marks cannot change (R19).")
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
    with transaction.atomic():
        hearing = _locked(hearing)
        _expect_state(hearing, State.RECORDING, State.PAUSED, code="not_recording")
        agent = remote.agent_of(hearing)
        if agent is not None:
            return _stop_remote(actor, hearing, agent)
        engine = runtime.engine_for(hearing.pk)
        result = engine.stop()
        now = timezone.now()
        recording = hearing.recording
        recording.pauses.filter(ended_at__isnull=True).update(ended_at=now)
        recording.state = Recording.State.STOPPED
        recording.stopped_at = now
        recording.container = result.container
        recording.command = list(result.command)
        recording.sha256 = result.sha256
        recording.bytes = result.bytes
        recording.duration_s = result.duration_s
        recording.chain_head = result.chain_head
        recording.pieces = result.pieces
        recording.media_path = str(result.media_path)
        recording.save()
        _set_state(hearing, State.STOPPED)
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
    sealed = seal_stopped(recording)
    recording_stopped.send(sender=Recording, recording=sealed)
    return sealed


def _stop_remote(actor: User, hearing: Hearing, agent) -> Recording:
    """Queue the stop for the courtroom PC; the recording is sealed once its agent has uploaded
    every byte and the server has re-verified them (``uploads.complete_upload``, R14)."""
    remote.queue_command(agent, hearing, "stop")
    now = timezone.now()
    recording = hearing.recording
    recording.pauses.filter(ended_at__isnull=True).update(ended_at=now)
    recording.stopped_at = now
    recording.save(update_fields=["stopped_at"])
    _set_state(hearing, State.STOPPED)
    record(actor=actor, action="recorder.stop", target=hearing, payload={"remote": True})
    return recording


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

    recording = Recording.objects.select_related(
        "hearing__case__court", "hearing__secretary"
    ).get(pk=recording.pk)
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
        hearing = Hearing.objects.select_related("secretary").get(pk=recording.hearing_id)
        recording.file_name = sealed.file_name
        recording.signature_digest = sealed.signature
        recording.manifest_digest = sealed.manifest
        recording.manifest_signature_digest = sealed.manifest_signature
        recording.journal_digest = sealed.journal
        recording.signed_by = hearing.secretary
        recording.signer_subject = sealed.signer_subject
        recording.sealed_at = recording.stored_at = timezone.now()
        recording.state = Recording.State.SEALED
        recording.save()
        Hearing.objects.filter(pk=hearing.pk).update(state=Hearing.State.SEALED)
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
