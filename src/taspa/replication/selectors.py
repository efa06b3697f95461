"""Reads of replication (R23): what is pending, in flight, failed, and when each court last
replicated — for the API and the status screens at the court and at the centre."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from taspa.courts.models import Court, User
from taspa.courts.policy import Action
from taspa.courts.selectors import court_scope
from taspa.replication.models import Alarm, Outgoing, Peer, ReplicationRun
from taspa.replication.policy import OutgoingState, ReplicaState, is_silent


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def court_status() -> dict[str, Any]:
    """At a court server: counts by state, the last run, and the rows needing attention."""
    counts = Outgoing.objects.filter(pending=True).aggregate(
        pending=Count("pk", filter=Q(state=OutgoingState.PENDING)),
        in_flight=Count("pk", filter=Q(state=OutgoingState.IN_FLIGHT)),
        failed=Count("pk", filter=Q(state=OutgoingState.FAILED)),
    )
    last_ack = Outgoing.objects.aggregate(at=Max("acknowledged_at"))["at"]
    run = ReplicationRun.objects.order_by("-started_at").first()
    attention = (
        Outgoing.objects.filter(pending=True)
        .select_related("recording")
        .order_by("-updated_at")[:50]
    )
    return {
        "role": "court",
        "court": settings.TASPA_COURT,
        "central": settings.TASPA_CENTRAL_URL,
        "schedule": "{:02d}:{:02d}".format(*settings.TASPA_REPLICATION_TIME),
        **counts,
        "last_acknowledged_at": _iso(last_ack),
        "last_run": None
        if run is None
        else {
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "sent": run.sent,
            "failed": run.failed,
            "bytes": run.bytes,
            "outcome": run.outcome,
        },
        "items": [
            {
                "recording": row.recording_id,
                "file_name": row.recording.file_name,
                "state": row.state,
                "attempts": row.attempts,
                "error": row.last_error,
                "updated_at": _iso(row.updated_at),
            }
            for row in attention
        ],
    }


def visible_courts(user: User) -> QuerySet[Court]:
    return Court.objects.filter(court_scope(user, Action.VIEW_HEARING))


def central_status(courts: QuerySet[Court]) -> dict[str, Any]:
    """At the centre: each enrolled court of ``courts``, with its replicas by state, when it
    last replicated, whether it is silent (> 26 h) and its open alarms."""
    now = timezone.now()
    peers = (
        Peer.objects.filter(court__in=courts)
        .select_related("court")
        .annotate(
            receiving=Count(
                "court__replicas", filter=Q(court__replicas__state=ReplicaState.RECEIVING)
            ),
            refused=Count("court__replicas", filter=Q(court__replicas__state=ReplicaState.REFUSED)),
            held=Count(
                "court__replicas", filter=Q(court__replicas__state=ReplicaState.ACKNOWLEDGED)
            ),
        )
        .order_by("court__code")
    )
    open_alarms = alarms(courts, open_only=True)
    return {
        "role": "central",
        "courts": [
            {
                "court": peer.court.code,
                "enrolled_at": _iso(peer.enrolled_at),
                "last_seen_at": _iso(peer.last_seen_at),
                "last_replicated_at": _iso(peer.last_acknowledged_at),
                "silent": is_silent(peer.last_seen_at, peer.enrolled_at, now),
                "in_flight": peer.receiving,
                "failed": peer.refused,
                "held": peer.held,
                "alarms": [a for a in open_alarms if a["court"] == peer.court.code],
            }
            for peer in peers
        ],
    }


def alarms(courts: QuerySet[Court], *, open_only: bool = False) -> list[dict[str, Any]]:
    rows = Alarm.objects.filter(court__in=courts).select_related("court")
    if open_only:
        rows = rows.filter(cleared_at=None)
    return [
        {
            "id": a.pk,
            "court": a.court.code,
            "kind": a.kind,
            "detail": a.detail,
            "raised_at": _iso(a.raised_at),
            "cleared_at": _iso(a.cleared_at),
        }
        for a in rows[:200]
    ]
