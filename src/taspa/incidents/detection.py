"""R17: find hearings that were not actually recorded, and open the incident (and its act).

Run for every recording when it stops (``recording_stopped`` → a background task), and
periodically for hearings that had to be recorded but never started, and for stopped recordings
whose check was lost (a crash between stop and check). Each hearing and recording is checked
once (``RecordingCheck``), so reruns never raise the incident twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from taspa.courts.models import Hearing
from taspa.incidents.analysis import AnalysisError, media_levels
from taspa.incidents.models import Incident, MinutesDecision, RecordingCheck
from taspa.incidents.policy import (
    CoverageFacts,
    IncidentKind,
    RecordedVerdict,
    expected_seconds,
    recorded_verdict,
)
from taspa.recorder.models import Recording

log = logging.getLogger("taspa.incidents")


def coverage_tolerance_s() -> float:
    return float(getattr(settings, "TASPA_COVERAGE_TOLERANCE_S", 60))


def unrecorded_after() -> timedelta:
    """How long after its scheduled time a hearing that never started counts as over."""
    return timedelta(hours=float(getattr(settings, "TASPA_UNRECORDED_AFTER_H", 12)))


def _levels(recording: Recording) -> list:
    """The media's levels: the sealed bytes from the store (checked as they are copied), or,
    before the seal, the captured file in the spool."""
    if recording.state == Recording.State.SEALED:
        from taspa.sealing.reading import checked_copy

        with checked_copy(recording, ["media"]) as sealed:
            return media_levels(sealed.media)
    path = Path(recording.media_path) if recording.media_path else None
    return media_levels(path) if path is not None and path.is_file() else []


def coverage_facts(recording: Recording) -> tuple[CoverageFacts, dict]:
    """Measure ``recording``: expected seconds (start to stop less lawful pauses, R6), the
    seconds of audio its media holds and the loudest block on any channel."""
    stopped = recording.stopped_at or timezone.now()
    pauses = [(p.started_at, p.ended_at) for p in recording.pauses.all()]
    expected = expected_seconds(recording.started_at, stopped, pauses)
    extra: dict = {"media": recording.file_name or "spool"}
    try:
        tracks = _levels(recording)
    except AnalysisError as error:  # a refused (damaged) original raises: checked again later
        extra["error"] = str(error)
        tracks = []
    extra["tracks"] = [
        {"stream": t.stream, "channels": t.channels, "seconds": round(t.seconds, 3),
         "loudest_dbfs": round(t.loudest_dbfs, 1)}
        for t in tracks
    ]  # fmt: skip
    covered = max((t.seconds for t in tracks), default=0.0)
    loudest = max((t.loudest_dbfs for t in tracks), default=None)
    return CoverageFacts(expected, covered, loudest), extra


def check_recorded(*, hearing_id: int) -> RecordingCheck | None:
    """R17 for one hearing: check its recording (or its lack of one) once; on a failed check
    open a ``not_recorded`` incident and draw up its act. ``None`` while still capturing."""
    hearing = Hearing.objects.select_related("case__court").get(pk=hearing_id)
    recording = Recording.objects.filter(hearing=hearing).first()
    if recording is not None and recording.state == Recording.State.CAPTURING:
        return None
    done = RecordingCheck.objects.filter(hearing=hearing, recording=recording).first()
    if done is not None:
        return done
    if recording is None:
        facts, extra = None, {}
    else:
        facts, extra = coverage_facts(recording)
    verdict = recorded_verdict(facts, tolerance_s=coverage_tolerance_s())
    return _conclude(hearing, recording, verdict, facts, extra)


def _conclude(
    hearing: Hearing,
    recording: Recording | None,
    verdict: RecordedVerdict,
    facts: CoverageFacts | None,
    extra: dict,
) -> RecordingCheck:
    from taspa.incidents.actions import notify_court_admins, open_incident
    from taspa.incidents.acts import draft_pending_act

    stored = extra | (
        {"expected_s": round(facts.expected_s, 3), "covered_s": round(facts.covered_s, 3),
         "loudest_dbfs": facts.loudest_dbfs}
        if facts else {}
    )  # fmt: skip
    try:
        with transaction.atomic():
            check = RecordingCheck.objects.create(
                hearing=hearing,
                recording=recording,
                checked_at=timezone.now(),
                ok=verdict.ok,
                reason=verdict.reason.value if verdict.reason else "",
                facts=stored,
            )
            if not verdict.ok and not _already_known(hearing, recording):
                incident = open_incident(
                    actor=None,
                    hearing=hearing,
                    kind=IncidentKind.NOT_RECORDED,
                    detail=f"R17: {verdict.detail}",
                )
                check.incident = incident
                check.save(update_fields=["incident"])
                notify_court_admins(hearing=hearing)
            # R17: the act is drawn up at once — on the new incident and on any report of
            # recording impossible (R9) this hearing had; its signers are told in their inbox.
            draft_pending_act(hearing=hearing)
    except IntegrityError:  # checked concurrently by the task and the periodic job
        return RecordingCheck.objects.get(hearing=hearing, recording=recording)
    if not verdict.ok:
        log.warning("hearing %s was not recorded: %s", hearing.pk, verdict.detail)
    return check


def _already_known(hearing: Hearing, recording: Recording | None) -> bool:
    """A hearing that never had a recording because the secretary reported recording impossible
    (R9) already has its incident; R17 adds none (its act is drawn up on that one)."""
    return (
        recording is None
        and hearing.incidents.filter(kind=IncidentKind.RECORDING_IMPOSSIBLE).exists()
    )


def draft_overdue_acts(cutoff: datetime) -> int:
    """R17: hearings that are over with a report of recording impossible no act covers yet
    (the secretary never pressed "inform the administrator"): draw the act up now."""
    from taspa.incidents.acts import draft_pending_act

    over = Hearing.objects.filter(state__in=[Hearing.State.STOPPED, Hearing.State.SEALED]) | (
        Hearing.objects.filter(scheduled_at__lte=cutoff)
    )
    pending = Incident.objects.filter(
        kind=IncidentKind.RECORDING_IMPOSSIBLE, acts__isnull=True, hearing__in=over
    )
    drawn = 0
    for hearing in Hearing.objects.filter(pk__in=pending.values("hearing_id")):
        drawn += draft_pending_act(hearing=hearing) is not None
    return drawn


def must_be_recorded() -> QuerySet[Hearing]:
    """Hearings that had to be recorded: the Rules require it (R3, R4), or the judge, where the
    Rules leave it to them (R3.4), decided that minutes are kept (their latest decision)."""
    latest = MinutesDecision.objects.filter(hearing=OuterRef("pk")).order_by("-decided_at", "-id")
    return Hearing.objects.annotate(judge_keeps=Subquery(latest.values("keep_minutes")[:1])).filter(
        Q(recording_required="required") | Q(recording_required="judge_decides", judge_keeps=True)
    )


def check_overdue(now: datetime | None = None) -> str:
    """The periodic R17 job: hearings that had to be recorded and never started, and stopped
    recordings whose check is missing; then R9 notices for incidents of hearings now over."""
    from taspa.incidents.actions import notify_court_admins

    now = now or timezone.now()
    cutoff = now - unrecorded_after()
    never_started = must_be_recorded().filter(
        scheduled_at__lte=cutoff,
        recording__isnull=True,
        recording_checks__isnull=True,
    )
    unchecked = Hearing.objects.filter(
        recording__state__in=[Recording.State.STOPPED, Recording.State.SEALED],
        recording_checks__isnull=True,
    )
    failed = 0
    for hearing_id in {
        *never_started.values_list("pk", flat=True),
        *unchecked.values_list("pk", flat=True),
    }:
        check = check_recorded(hearing_id=hearing_id)
        failed += bool(check is not None and check.incident_id)
    quiet = Incident.objects.filter(admin_notified_at__isnull=True).filter(
        hearing__state__in=[Hearing.State.STOPPED, Hearing.State.SEALED]
    ) | Incident.objects.filter(admin_notified_at__isnull=True, hearing__scheduled_at__lte=cutoff)
    hearings = Hearing.objects.filter(pk__in=quiet.values("hearing_id"))
    notified = sum(len(notify_court_admins(hearing=hearing)) for hearing in hearings)
    acts = draft_overdue_acts(cutoff)
    return f"{failed} not recorded; {notified} notices; {acts} acts drawn up"
