"""Reads of the recorder: levels, preflight answers, recordings, their marks, pauses, incidents."""

from __future__ import annotations

import math
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taspa.access.policy import Interval, merge_intervals
from taspa.courts.models import Hearing, User
from taspa.courts.selectors import court_by_ref, visible_courts
from taspa.incidents.policy import announcement_text
from taspa.recorder.models import AgentRegistration, ClosedPortion, Preflight, Recording
from taspa.recorder.policy import LIVE_HEARING_STATES

FLOOR_DBFS = -120.0  # JSON has no -inf: silence reads as the meter's floor


def _db(value: float) -> float:
    return (
        FLOOR_DBFS if math.isinf(value) or math.isnan(value) else max(round(value, 1), FLOOR_DBFS)
    )


LEVELS_FRESH_S = 3.0  # older than this, a reading says nothing about the room now (R11)


def levels_answer(hearing_id: int) -> dict[str, Any]:
    """R11: the meters of a live hearing wherever its capture runs: this process's engine, the
    courtroom agent's last report, or the owning server process's last reading (``source``);
    ``link`` says whether fresh levels are arriving at all."""
    from taspa.recorder import lease, runtime  # the engine loads only where capture happens

    engine = runtime.engine_for(hearing_id)
    if engine is not None:
        return {
            "recording": engine.running,
            "source": "server",
            "link": "up",
            "channels": [
                {
                    "name": c.name,
                    "rms_dbfs": _db(c.rms_dbfs),
                    "peak_dbfs": _db(c.peak_dbfs),
                    "silent": c.silent,
                    "clipping": c.clipping,
                }
                for c in engine.levels()
            ],
        }
    hearing = Hearing.objects.filter(pk=hearing_id).first()
    if hearing is not None and agent_of(hearing) is not None:
        far = remote_levels(hearing, LEVELS_FRESH_S)
        if far is None:
            far = {"recording": False, "channels": []}
        return far | {"source": "agent", "link": "up" if far["recording"] else "down"}
    shared = lease.owner_levels(hearing_id, LEVELS_FRESH_S)
    if shared is not None:
        return shared | {"source": "owner"}
    live = hearing is not None and hearing.state in LIVE_HEARING_STATES
    link = "down" if live else "up"
    return {"recording": False, "source": "server", "link": link, "channels": []}


def hearing_is_live(hearing_id: int) -> bool:
    """Recording or paused: the hearing's meters and monitor have something to show."""
    state = Hearing.objects.filter(pk=hearing_id).values_list("state", flat=True).first()
    return state in LIVE_HEARING_STATES


def preflight_answer(result: Preflight, language: str) -> dict[str, Any]:
    answer = {"ok": result.ok, "checks": result.checks, "at": result.at.isoformat()}
    if not result.ok:
        # R16: what the secretary reads to the participants when recording is impossible.
        answer["announcement"] = announcement_text(language)
    return answer


def effective_marks(recording: Recording) -> list[dict[str, Any]]:
    """The marks as they stand: a superseded mark gives way to its correction (R12)."""
    return [
        {
            "speaker": m.speaker,
            "role": m.role,
            "offset_s": round(m.offset_s, 3),
            "at": m.at,
            "id": m.pk,
            "supersedes": m.supersedes_id,
        }
        for m in recording.marks.filter(superseded_by__isnull=True).order_by("offset_s", "id")
    ]


def pause_list(recording: Recording) -> list[dict[str, Any]]:
    return [
        {
            "reason": p.reason,
            "announced_at": p.announced_at,
            "started_at": p.started_at,
            "ended_at": p.ended_at,
        }
        for p in recording.pauses.order_by("started_at")
    ]


def incident_list(hearing: Hearing) -> list[dict[str, Any]]:
    return [
        {
            "id": i.pk,
            "kind": i.kind,
            "detail": i.detail,
            "at": i.at,
            "gap_start": i.gap_start,
            "gap_end": i.gap_end,
        }
        for i in hearing.incidents.order_by("at", "id")
    ]


def recording_summary(recording: Recording) -> dict[str, Any]:
    hearing = recording.hearing
    return {
        "id": recording.pk,
        "file_name": recording.file_name,
        "sha256": recording.sha256,
        "court": hearing.case.court.code,
        "case": hearing.case_id,
        "case_number": hearing.case.number,
        "hearing": hearing.pk,
        "state": recording.state,
    }


def recordings_page(
    user: User, *, court: str | None, case: int | None, after: int, limit: int
) -> dict[str, Any]:
    """Keyset pagination by id: stable while new recordings arrive.

    Raw recordings are staff matters (``visible_hearings(user, as_party=False)``): the same
    court scope, tested on each row's court, so PostgreSQL walks the primary key from ``after``
    and stops at the page's end instead of collecting every visible hearing first.
    """
    rows = Recording.objects.filter(hearing__case__court__in=visible_courts(user), pk__gt=after)
    if court:
        found = court_by_ref(court)
        rows = rows.filter(hearing__case__court=found) if found else rows.none()
    if case:
        rows = rows.filter(hearing__case_id=case)
    page = list(rows.select_related("hearing__case__court").order_by("pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "items": [recording_summary(r) for r in page],
        "next": page[-1].pk if more else None,
    }


def recording_detail(recording: Recording) -> dict[str, Any]:
    base = f"/api/v1/recordings/{recording.pk}"
    return recording_summary(recording) | {
        "bytes": recording.bytes,
        "duration_s": recording.duration_s,
        "container": recording.container,
        "chain_head": recording.chain_head,
        "signed_by": recording.signer_subject or None,
        "signed_by_user": recording.signed_by.username if recording.signed_by else None,
        "sealed_at": recording.sealed_at.isoformat() if recording.sealed_at else None,
        "marks": _jsonable(effective_marks(recording)),
        "pauses": _jsonable(pause_list(recording)),
        "incidents": _jsonable(incident_list(recording.hearing)),
        # R32 for part of a hearing: what copies and online playback leave out
        "closed_portions": portion_list(recording),
        "media_url": f"{base}/media",
        "signature_url": f"{base}/signature",
        "manifest_url": f"{base}/manifest",
    }


def _jsonable(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in item.items()}
        for item in items
    ]


def recording_part(hearing: Hearing) -> dict[str, Any]:
    """The hearing's recording in GET /hearings/{id}."""
    recording = Recording.objects.filter(hearing=hearing).first()
    if recording is None:
        return {"recording": None}
    return {"recording": recording_summary(recording) | {"sealed_at": recording.sealed_at}}


PAUSE_REASON_LABELS = {
    "adjournment": _("adjournment of the hearing"),
    "recess": _("recess"),
    "deliberation": _("the court retired to deliberate"),
}


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def protocol_extract_context(recording: Recording) -> dict[str, Any]:
    """What the brief protocol states about the recording (R13), for the PDF extract."""
    hearing = recording.hearing
    return {
        "court_name": hearing.case.court.name,
        "case_number": hearing.case.number,
        "hearing_date": timezone.localtime(hearing.scheduled_at),
        "started_at": timezone.localtime(recording.started_at),
        "stopped_at": timezone.localtime(recording.stopped_at) if recording.stopped_at else None,
        "file_name": recording.file_name,
        "sha256": recording.sha256,
        "duration": _clock(recording.duration_s or 0),
        "signer": recording.signer_subject,
        "marks": [m | {"offset": _clock(m["offset_s"])} for m in effective_marks(recording)],
        "pauses": [
            p | {"reason_text": PAUSE_REASON_LABELS.get(p["reason"], p["reason"])}
            for p in pause_list(recording)
        ],
        "incidents": incident_list(hearing),
    }


def database_clock_check() -> dict[str, Any]:
    """R8: this machine's clock against the database server's (PostgreSQL ``now()``, measured
    NTP-style). The embedded SQLite database has no clock of its own: the server is this
    machine."""
    import time

    from django.db import connection

    from taspa.recorder.policy import clock_sample

    if connection.vendor != "postgresql":
        return {"name": "clock", "ok": True, "detail": "server clock: this machine"}
    with connection.cursor() as cursor:
        sent = time.time()
        cursor.execute("SELECT extract(epoch FROM clock_timestamp())")
        other = float(cursor.fetchone()[0])
        received = time.time()
    sample = clock_sample(sent, other, received)
    detail = f"database server clock {sample.offset:+.3f} s (± {sample.rtt / 2:.3f} s)"
    return {"name": "clock", "ok": sample.ok, "detail": detail}


def agent_checks(agent: Any, *, now: Any = None, reachable_s: float = 15.0) -> list[dict]:
    """R8 for a courtroom recorded by an agent: it is in touch, and its own last checks
    (sources, disk, clock against this server) as it reported them."""
    now = now or timezone.now()
    seen = agent.last_seen_at
    in_touch = seen is not None and (now - seen).total_seconds() <= reachable_s
    detail = f"last heard {seen.isoformat()}" if seen else "never heard from"
    checks = [{"name": "agent_reachable", "ok": in_touch, "detail": detail}]
    if agent.preflight_at is None:
        checks.append({"name": "agent:checks", "ok": False, "detail": "none reported yet"})
    for check in agent.preflight or []:
        checks.append({**check, "name": f"agent:{check.get('name', '?')}"})
    return checks


# --- the lifecycle's reads: who captures a hearing ---------------------------------------------


def agent_of(hearing: Hearing) -> AgentRegistration | None:
    """The agent that captures ``hearing``'s courtroom, or None for capture in a server process."""
    return AgentRegistration.objects.filter(
        courtroom_id=hearing.courtroom_id, revoked_at__isnull=True
    ).first()


def remote_levels(hearing: Hearing, max_age_s: float = 3.0) -> dict[str, Any] | None:
    """R11: the latest levels a courtroom agent measured, while they are fresh."""
    agent = agent_of(hearing)
    if agent is None or agent.levels_at is None or agent.levels.get("hearing") != hearing.pk:
        return None
    fresh = (timezone.now() - agent.levels_at).total_seconds() <= max_age_s
    return {"recording": fresh, "channels": agent.levels.get("channels", []) if fresh else []}


def capture_owner(hearing: Hearing) -> dict[str, Any] | None:
    """Which server process owns the hearing's capture, and when it last said so."""
    from taspa.recorder.models import CaptureLease

    lease = CaptureLease.objects.filter(hearing=hearing).first()
    if lease is None:
        return None
    return {"owner": lease.owner, "heartbeat_at": lease.heartbeat_at.isoformat()}


def session_secretary(recording: Recording) -> User:
    """R7, R14: the secretary of the hearing as it was recorded — whoever operated the recorder
    (the assigned stand-in when they did), else the stand-in assigned, else the secretary. Their
    EDS signs the recording; a copy does not need it (``access.copies``)."""
    hearing = recording.hearing
    return recording.operated_by or hearing.stand_in or hearing.secretary


# --- closed portions (R32 for part of a hearing) ---------------------------------------------


def current_portions(hearing: Hearing) -> list[ClosedPortion]:
    """The hearing's closed portions as they stand: a corrected one gives way to its correction."""
    return list(
        ClosedPortion.objects.filter(hearing=hearing, superseded_by__isnull=True).order_by(
            "start_s", "id"
        )
    )


def recorded_extent(recording: Recording, now_offset: float | None) -> float | None:
    """How far the recording reaches on its media timeline: its duration once stopped, what has
    been captured so far (``now_offset``) while it records."""
    if recording.state != Recording.State.CAPTURING:
        if recording.duration_s is not None:
            return recording.duration_s
        if recording.stopped_at is not None:
            return (recording.stopped_at - recording.started_at).total_seconds()
    return now_offset


def closed_intervals(recording: Recording) -> list[Interval]:
    """R32 for part of a hearing: what a copy and a participant's online playback leave out, in
    media seconds (as marks' ``offset_s``), open-ended portions clamped to the recording's
    duration, merged and sorted. Empty for a recording without closed portions."""
    duration = recorded_extent(recording, None)
    if duration is None:
        duration = (timezone.now() - recording.started_at).total_seconds()
    portions = current_portions(recording.hearing)
    return merge_intervals([(p.start_s, p.end_s) for p in portions], duration)


def portion_answer(portion: ClosedPortion) -> dict[str, Any]:
    """One closed portion as the API and the manifest give it."""
    return {
        "id": portion.pk,
        "start": portion.start_at.isoformat(),
        "end": portion.end_at.isoformat() if portion.end_at else None,
        "start_s": round(portion.start_s, 3),
        "end_s": None if portion.end_s is None else round(portion.end_s, 3),
        "source": portion.source,
        "reason": portion.reason,
        "by": portion.created_by.username,
        "at": portion.created_at.isoformat(),
        "supersedes": portion.supersedes_id,
    }


def portion_list(recording: Recording) -> list[dict[str, Any]]:
    """The closed portions of a recording's hearing as they stand (manifest, API)."""
    return [portion_answer(p) for p in current_portions(recording.hearing)]


def running_portion(hearing: Hearing) -> ClosedPortion | None:
    """The closed session going on now (begun, not yet ended), if any."""
    return (
        ClosedPortion.objects.filter(
            hearing=hearing, superseded_by__isnull=True, end_s__isnull=True
        )
        .order_by("-start_s")
        .first()
    )
