"""The database's figures behind ``/metrics`` (read at scrape time, a handful of counts)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Min, Sum
from django.utils import timezone


@dataclass(frozen=True)
class Figures:
    recordings_in_progress: int
    captured_seconds: float
    capture_gaps: int
    seal_failures: int
    fixity_failures: int
    replication_backlog: int
    replication_backlog_age_s: float
    replication_last_success_age_s: float
    jobs_running: int
    job_queue_depth: dict[str, int] = field(default_factory=dict)


def figures() -> Figures:
    from django_tasks_db.models import DBTaskResult

    from taspa.incidents.models import Incident
    from taspa.incidents.policy import IncidentKind
    from taspa.recorder.models import Recording
    from taspa.replication.models import Outgoing, ReplicationRun

    now = timezone.now()
    incidents = dict.fromkeys(
        (IncidentKind.CAPTURE_GAP, IncidentKind.SIGNING_FAILED, IncidentKind.FIXITY_FAILED), 0
    )
    for kind in incidents:
        incidents[kind] = Incident.objects.filter(kind=kind).count()
    pending = Outgoing.objects.filter(pending=True)
    oldest = pending.aggregate(oldest=Min("updated_at"))["oldest"]
    last_ok = (
        ReplicationRun.objects.filter(finished_at__isnull=False, failed=0)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    depth = {
        row["queue_name"]: row["n"]
        for row in DBTaskResult.objects.ready().values("queue_name").annotate(n=Count("id"))
    }
    return Figures(
        recordings_in_progress=Recording.objects.filter(state=Recording.State.CAPTURING).count(),
        captured_seconds=float(
            Recording.objects.aggregate(total=Sum("duration_s"))["total"] or 0.0
        ),
        capture_gaps=incidents[IncidentKind.CAPTURE_GAP],
        seal_failures=incidents[IncidentKind.SIGNING_FAILED],
        fixity_failures=incidents[IncidentKind.FIXITY_FAILED],
        replication_backlog=pending.count(),
        replication_backlog_age_s=(now - oldest).total_seconds() if oldest else 0.0,
        replication_last_success_age_s=(now - last_ok).total_seconds() if last_ok else -1.0,
        jobs_running=DBTaskResult.objects.running().count(),
        job_queue_depth=depth or {"default": 0},
    )
