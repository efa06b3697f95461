"""The regional judicial administration's work in the browser (R9, R18, R23).

Its staff and head see every court of their region. Here they find the notices forwarded to
them (R9) and mark them read, the appeal acts waiting for their signature (R18) — signed through
the incidents page's own ``sign`` view, which this page links to — and the state of the daily
replication from the region's courts to the regional server (R23). Thin: the notices and acts
are read as the API reads them and written by ``incidents.actions``/``incidents.acts``; the
replication state is ``replication.selectors``' (the API's ``GET /replication/status``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from taspa.courts.models import Court, User
from taspa.courts.policy import REGIONAL_ROLES, Role
from taspa.courts.selectors import assignments_of, visible_hearings
from taspa.errors import Forbidden
from taspa.incidents import actions
from taspa.incidents.detail_text import incident_text
from taspa.incidents.models import Act, Notification
from taspa.incidents.policy import ACT_SIGNERS
from taspa.recorder.models import Recording
from taspa.replication import selectors as replication
from taspa.web import labels
from taspa.web.verify_report import CHECK_LABELS
from taspa.web.views.court_admin import _act_row

ROWS = 100
# R18: the instances whose acts the regional administration signs (the appeal).
REGIONAL_SIGNED = [i for i, roles in ACT_SIGNERS.items() if set(roles) & REGIONAL_ROLES]


def _regional_roles(user: User) -> set[str]:
    return {a.role for a in assignments_of(user) if a.role in REGIONAL_ROLES}


def _require_regional(user: User) -> set[str]:
    """The regional pages are the regional administration's (and the system administrator's
    for replication); everyone else gets a 404, as for another court's page."""
    roles = _regional_roles(user)
    if not roles:
        raise Http404
    return roles


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M") if moment else ""


@login_required
@require_GET
def regional(request: HttpRequest) -> HttpResponse:
    """R9 and R18: the notices forwarded to me, and the appeal acts of my region."""
    _require_regional(request.user)
    acts = _acts(request.user)
    context = {
        "notices": _notices(request.user),
        "unread": Notification.objects.filter(recipient=request.user, read_at=None).count(),
        "to_sign": [row for row in acts if row["may_sign"]],
        "waiting": [row for row in acts if not row["may_sign"] and not row["complete"]],
        "complete": [row for row in acts if row["complete"]],
    }
    return render(request, "web/regional.html", context)


def _notices(user: User) -> list[dict[str, Any]]:
    rows = (
        Notification.objects.filter(recipient=user)
        .select_related("incident__hearing__case__court")
        .order_by("-created_at", "-id")[:ROWS]
    )
    return [
        {
            "notice": n,
            "at": _when(n.created_at),
            "read_at": _when(n.read_at),
            "court": n.incident.hearing.case.court.name if n.incident else "",
            "case": n.incident.hearing.case.number if n.incident else "",
        }
        for n in rows
    ]


def _acts(user: User) -> list[dict[str, Any]]:
    """Acts of the region's hearings of an instance the regional administration signs."""
    found = (
        Act.objects.filter(
            hearing__in=visible_hearings(user, as_party=False),
            hearing__instance__in=REGIONAL_SIGNED,
        )
        .select_related("hearing__case__court")
        .prefetch_related("signatures__user", "incidents")
        .order_by("status", "-year", "-number")[:ROWS]
    )
    rows = []
    for act in found:
        row = _act_row(user, act)
        row["court"] = act.hearing.case.court.name
        row["reasons"] = [
            f"{labels.incident_kind(i.kind)}: {incident_text(i.detail)}"
            for i in act.incidents.all()
        ]
        rows.append(row)
    return rows


@login_required
@require_POST
def notice_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one of my own notices read (as ``POST /inbox/{id}/read``)."""
    notice = Notification.objects.filter(pk=notification_id, recipient=request.user).first()
    if notice is None:
        raise Http404  # someone else's notice is not there for me
    try:
        actions.mark_read(actor=request.user, notification=notice)
    except Forbidden:
        raise Http404 from None
    messages.success(request, _("The notice is marked as read."))
    if _regional_roles(request.user):
        return redirect(reverse("web:regional") + f"#notice-{notice.pk}")
    return redirect("web:incidents")


# --- replication (R23) ---------------------------------------------------------------------------

# What a court server's failed transfer means (``CentralError``'s code), in words.
TRANSFER_REASONS = {
    "transfer_broken": gettext_lazy(
        "The connection to the regional server broke during the transfer; the next run "
        "continues from where it stopped."
    ),
    "replica_not_verified": gettext_lazy(
        "The regional server did not accept the recording: its own check of the files failed."
    ),
    "fixity_failed": gettext_lazy(
        "The stored copy of the recording does not match its seal; it is not sent."
    ),
    "offset_mismatch": gettext_lazy("Part of a file arrived damaged; it will be sent again."),
    "chunk_incomplete": gettext_lazy("Part of a file arrived damaged; it will be sent again."),
    "chunk_digest_mismatch": gettext_lazy("Part of a file arrived damaged; it will be sent again."),
    "not_configured": gettext_lazy("Replication is not set up on this court's server."),
    "bad_central_url": gettext_lazy("Replication is not set up on this court's server."),
    "not_a_court": gettext_lazy("Replication is not set up on this court's server."),
}
# The regional server's alarms about a court (``AlarmKind``), in words.
ALARMS = {
    "silent": gettext_lazy("No replication for more than 26 hours (last contact: %(since)s)."),
    "refused": gettext_lazy("The regional server refused %(file)s: its check failed (%(checks)s)."),
    "rewound": gettext_lazy(
        "The court's audit trail went back or differs from what the regional server witnessed."
    ),
}
# The centre's checks of a received replica that ``verify_report`` does not name.
DECLARED = gettext_lazy("File as the court declared it")
_ERROR = re.compile(r"^(\d+) ([a-z0-9_]+): ")


def transfer_reason(error: str) -> str:
    """A court-side failure (``"STATUS CODE: detail"``) as a sentence of the user's language."""
    match = _ERROR.match(error or "")
    if not match:
        return _("The transfer failed; it is tried again at the next run.") if error else ""
    status, code = int(match.group(1)), match.group(2)
    if code in TRANSFER_REASONS:
        return str(TRANSFER_REASONS[code])
    if status in (401, 403):
        return _("The regional server did not accept this court's credentials.")
    if status >= 500 or status == 0:
        return _("The regional server could not be reached or answered with an error.")
    return _("The regional server refused the recording.")


def _check_names(failed: str) -> str:
    """``"name: detail; name: detail"`` (the centre's refusal) as the checks' names in words."""
    names = []
    for part in failed.split("; "):
        name = part.partition(":")[0].strip()
        label = DECLARED if name.startswith("declared_") else CHECK_LABELS.get(name)
        if label is not None and str(label) not in names:
            names.append(str(label))
    return ", ".join(names) or _("verification")


def alarm_reason(kind: str, detail: str, since: Any = None) -> str:
    """An alarm of the regional server as a sentence of the user's language."""
    if kind == "silent":
        return str(ALARMS["silent"]) % {"since": _when(since) or _("never")}
    if kind == "refused":
        file_name, _sep, failed = detail.partition(": ")
        return str(ALARMS["refused"]) % {"file": file_name, "checks": _check_names(failed)}
    return str(ALARMS.get(kind, ALARMS["rewound"]))


@login_required
@require_GET
def replication_status(request: HttpRequest) -> HttpResponse:
    """R23: last replicated, what is pending and what failed, with the reasons in words."""
    roles = _regional_roles(request.user)
    admin = any(a.role == Role.SYSTEM_ADMIN for a in assignments_of(request.user))
    if not roles and not admin:
        raise Http404
    courts = replication.visible_courts(request.user)
    # The same branch as ``GET /replication/status``: the centre, or this court's server.
    context = _central(courts) if settings.TASPA_ROLE == "central" else _court(request.user)
    return render(request, "web/regional_replication.html", context)


def _iso_local(value: str | None) -> str:
    return _when(datetime.fromisoformat(value)) if value else ""


def _central(courts: Any) -> dict[str, Any]:
    """At the regional server: each court of the region, enrolled or not."""
    from taspa.replication.models import Peer, Replica

    status = replication.central_status(courts)
    by_code = {row["court"]: row for row in status["courts"]}
    seen = {p.court_id: p for p in Peer.objects.filter(court__in=courts)}
    rows = []
    for court in courts.order_by("code"):
        row = by_code.get(court.code)
        peer = seen.get(court.pk)
        if row is None:
            rows.append({"court": court, "connected": False})
            continue
        since = peer.last_seen_at or peer.enrolled_at
        rows.append(
            {
                "court": court,
                "connected": True,
                "last_replicated": _iso_local(row["last_replicated_at"]) or _("never"),
                "last_seen": _iso_local(row["last_seen_at"]) or _("never"),
                "silent": row["silent"],
                "in_flight": row["in_flight"],
                "failed": row["failed"],
                "held": row["held"],
                "alarms": [
                    {
                        "at": _iso_local(a["raised_at"]),
                        "reason": alarm_reason(a["kind"], a["detail"], since),
                    }
                    for a in row["alarms"]
                ],
            }
        )
    refused = (
        Replica.objects.filter(court__in=courts, state="refused")
        .select_related("court")
        .order_by("-updated_at")[:ROWS]
    )
    return {
        "central": True,
        "rows": rows,
        "refused": [
            {
                "court": r.court.name,
                "file": r.file_name,
                "at": _when(r.updated_at),
                "reason": alarm_reason("refused", f"{r.file_name}: {r.error}"),
            }
            for r in refused
        ],
    }


def _court(user: User) -> dict[str, Any]:
    """At a court server: what it has sent to the regional server, and what waits or failed
    (only the recordings of hearings the user sees)."""
    status = replication.court_status()
    mine = set(
        Recording.objects.filter(
            pk__in=[item["recording"] for item in status["items"]],
            hearing__in=visible_hearings(user, as_party=False),
        ).values_list("pk", flat=True)
    )
    recordings = Recording.objects.filter(pk__in=mine).select_related("hearing__case__court")
    hearing_of = {r.pk: r.hearing for r in recordings}
    states = {
        "pending": _("waiting for the next run"),
        "in_flight": _("being sent"),
        "failed": _("failed"),
        "acknowledged": _("held by the regional server"),
    }
    items = [
        {
            "file": item["file_name"],
            "hearing": hearing_of[item["recording"]],
            "recording": item["recording"],
            "state": states.get(item["state"], item["state"]),
            "failed": item["state"] == "failed",
            "attempts": item["attempts"],
            "reason": transfer_reason(item["error"]),
            "at": _iso_local(item["updated_at"]),
        }
        for item in status["items"]
        if item["recording"] in mine
    ]
    run = status["last_run"]
    court = Court.objects.filter(code=status["court"]).first() if status["court"] else None
    return {
        "central": False,
        "court": court,
        "configured": bool(status["court"] and status["central"]),
        "schedule": status["schedule"],
        "pending": status["pending"],
        "in_flight": status["in_flight"],
        "failed": status["failed"],
        "last_acknowledged": _iso_local(status["last_acknowledged_at"]) or _("never"),
        "last_run": None
        if run is None
        else {
            "at": _iso_local(run["started_at"]),
            "finished": bool(run["finished_at"]),
            "sent": run["sent"],
            "failed": run["failed"],
        },
        "items": items,
    }
