"""Proofs a seal still waits for — a signature timestamp (TSA down), revocation evidence (OCSP
responder and CRL down) — made visible: counted for ``/metrics`` and, once one has waited
``TASPA_PROOF_ALERT_AFTER_HOURS`` (default 24), an incident on the hearing (R14). Sealing
never waits for them; the ``timestamps`` and ``revocation`` jobs keep asking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from taspa.sealing.models import PendingRevocation, PendingTimestamp

DEFAULT_ALERT_AFTER_HOURS = 24.0
# The opening words of the incident each kind of overdue proof opens (one per recording).
ALERT_TEXT = {
    "timestamp": "The signature timestamp is overdue (the TSA has not answered)",
    "revocation": "The signer certificate's revocation evidence is overdue "
    "(the OCSP responder and the CRL have not answered)",
}
QUEUES = {"timestamp": PendingTimestamp, "revocation": PendingRevocation}


def alert_after() -> timedelta:
    """``TASPA_PROOF_ALERT_AFTER_HOURS`` (default 24), checked at start-up (taspa.settings)."""
    hours = getattr(settings, "TASPA_PROOF_ALERT_AFTER_HOURS", None) or DEFAULT_ALERT_AFTER_HOURS
    return timedelta(hours=float(hours))


@dataclass(frozen=True)
class Missing:
    kind: str
    waiting: int
    overdue: int


def missing_proofs(now: datetime | None = None) -> list[Missing]:
    """How many sealed recordings wait for each kind of proof, and how many longer than the
    alert delay (the ``/metrics`` gauges)."""
    now = now or timezone.now()
    cutoff = now - alert_after()
    out = []
    for kind, model in QUEUES.items():
        rows = model.objects.filter(done_at__isnull=True)
        out.append(Missing(kind, rows.count(), rows.filter(queued_at__lt=cutoff).count()))
    return out


def alert_overdue(now: datetime | None = None) -> int:
    """Open one incident per recording whose proof has waited past the delay; returns how
    many were opened (a rerun opens none twice)."""
    from taspa.incidents.actions import open_incident
    from taspa.incidents.models import Incident
    from taspa.incidents.policy import IncidentKind

    now = now or timezone.now()
    cutoff, opened = now - alert_after(), 0
    for kind, model in QUEUES.items():
        rows = model.objects.filter(done_at__isnull=True, queued_at__lt=cutoff).select_related(
            "recording__hearing"
        )
        for row in rows:
            hearing = row.recording.hearing
            text = ALERT_TEXT[kind]
            if Incident.objects.filter(
                hearing=hearing, kind=IncidentKind.SIGNING_FAILED, detail__startswith=text
            ).exists():
                continue
            open_incident(
                actor=None,
                hearing=hearing,
                kind=IncidentKind.SIGNING_FAILED,
                detail=f"{text} since {row.queued_at:%Y-%m-%d %H:%M} UTC, {row.attempts} "
                f"attempts; the recording is sealed and safe. Last error: "
                f"{row.last_error or 'none yet'}",
            )
            opened += 1
    return opened


def overdue_job() -> str:
    return f"{alert_overdue()} incidents opened for overdue proofs"
