"""Reads of incidents, acts and the inbox: a hearing's detail (GET /hearings/{id}), the act's
document context, and a person's notices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

from taspa.courts.models import Hearing, User
from taspa.incidents import texts
from taspa.incidents.detail_text import detail_in
from taspa.incidents.models import Act, Incident, MinutesDecision, Notification
from taspa.incidents.policy import ACT_KINDS, IncidentKind, announcement_text


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def incident_summary(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "kind": incident.kind,
        "detail": incident.detail,
        "at": incident.at.isoformat(),
        "gap_start": _iso(incident.gap_start),
        "gap_end": _iso(incident.gap_end),
        "judge_told_at": _iso(incident.judge_told_at),
        "announced_at": _iso(incident.announced_at),
        "admin_notified_at": _iso(incident.admin_notified_at),
        "forwarded_at": _iso(incident.forwarded_at),
    }


def incident_detail(incident: Incident) -> dict[str, Any]:
    """An incident with the text the secretary reads to the participants (R16), in the case's
    language and in both official languages."""
    case_language = incident.hearing.case.language
    return incident_summary(incident) | {
        "hearing": incident.hearing_id,
        "forward_note": incident.forward_note,
        "announcement": announcement_text(case_language),
        "announcement_texts": {lang: announcement_text(lang) for lang in ("kk", "ru")},
        "acts": [act.pk for act in incident.acts.all()],
        # R9: what the minutes say about it, in both official languages
        "minutes_text": (
            minutes_context(incident.hearing)["paragraphs"]
            if incident.kind in {k.value for k in ACT_KINDS}
            else None
        ),
    }


def signers_of(act: Act) -> list[dict[str, Any]]:
    """Every required signer role in order, with who signed it and when (null while missing)."""
    signed = {s.role: s for s in act.signatures.select_related("user")}
    return [
        {
            "role": role,
            "user": signed[role].user.username if role in signed else None,
            "name": str(signed[role].user) if role in signed else None,
            "signed_at": _iso(signed[role].signed_at) if role in signed else None,
        }
        for role in act.required_roles
    ]


def act_summary(act: Act) -> dict[str, Any]:
    return {
        "id": act.pk,
        "number": f"{act.number}/{act.year}",
        "date": act.date.isoformat(),
        "status": act.status,
        "hearing": act.hearing_id,
        "incidents": [incident.pk for incident in act.incidents.all()],
        "signers": signers_of(act),
        "attached_to_minutes_at": _iso(act.attached_to_minutes_at),
        "pdf": {lang: f"/api/v1/acts/{act.pk}/pdf?language={lang}" for lang in ("kk", "ru")},
    }


def incidents_part(hearing: Hearing) -> dict[str, Any]:
    """The hearing's incidents and acts in GET /hearings/{id} (CONTRACT.md)."""
    decision = hearing.minutes_decisions.order_by("-decided_at", "-id").first()
    return {
        "incidents": [incident_summary(i) for i in hearing.incidents.all()],
        "acts": [act_summary(act) for act in hearing.acts.order_by("year", "number")],
        "minutes_decision": minutes_decision_summary(decision) if decision else None,
    }


def minutes_decision_summary(decision: MinutesDecision) -> dict[str, Any]:
    """R3.4: the judge's latest decision on the minutes."""
    return {
        "id": decision.pk,
        "keep_minutes": decision.keep_minutes,
        "note": decision.note,
        "decided_by": decision.decided_by.username,
        "decided_at": decision.decided_at.isoformat(),
    }


def _local(moment: datetime | None) -> datetime | None:
    return timezone.localtime(moment) if moment else None


def act_context(act: Act, incidents: Sequence[Incident]) -> dict[str, Any]:
    """What the act states (R17), laid out by ``incidents/act.html`` in each language."""
    from taspa.incidents.actions import session_secretary_of

    hearing = act.hearing
    case = hearing.case
    recording = getattr(hearing, "recording", None)
    secretary = str(session_secretary_of(hearing))  # R7: whoever recorded, a stand-in too
    not_recorded = any(i.kind == IncidentKind.NOT_RECORDED for i in incidents)
    langs = ("kk", "ru")
    return {
        "t": {lang: texts.ACT_LABELS[lang] for lang in langs},
        "act_number": f"{act.number}/{act.year}",
        "act_date": act.date,
        "court_name": case.court.name,
        "case_number": case.number,
        "hearing_at": _local(hearing.scheduled_at),
        "instance": {lang: texts.instance_title(hearing.instance, lang) for lang in langs},
        "judge": str(hearing.judge),
        "secretary": secretary,
        "recording_file": recording.file_name if recording and recording.file_name else None,
        "not_recorded": not_recorded,
        "impossible": any(i.kind != IncidentKind.NOT_RECORDED for i in incidents),
        "incidents": [
            {
                "at": _local(i.at),
                "kind": {lang: texts.kind_title(i.kind, lang) for lang in langs},
                "detail": {lang: detail_in(i.detail, lang) for lang in langs},
                "judge_told_at": _local(i.judge_told_at),
                "announced_at": _local(i.announced_at),
                "gap_start": _local(i.gap_start),
                "gap_end": _local(i.gap_end),
            }
            for i in incidents
        ],
        "signers": [
            {
                "role": {lang: texts.role_title(role, lang) for lang in langs},
                "name": secretary if role == "secretary" else "",
            }
            for role in act.required_roles
        ],
        # Read back by ``taspa verify`` to tell whether every required signer signed.
        "keywords": f"taspa-act {act.number}/{act.year}; signers={' '.join(act.required_roles)}",
    }


def notification_summary(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "subject": notification.subject,
        "body": notification.body,
        "incident": notification.incident_id,
        "created_at": notification.created_at.isoformat(),
        "read_at": _iso(notification.read_at),
        "emailed_at": _iso(notification.emailed_at),
    }


def inbox(user: User, *, unread_only: bool = False, limit: int = 100) -> dict[str, Any]:
    rows = Notification.objects.filter(recipient=user)
    unread = rows.filter(read_at__isnull=True)
    page = (unread if unread_only else rows).order_by("-created_at", "-id")[:limit]
    return {"items": [notification_summary(n) for n in page], "unread": unread.count()}


def staff_may_see(user: User, hearing: Hearing) -> bool:
    """Acts are court papers: court staff of the hearing's court and regional staff of its
    region see them; parties do not."""
    from taspa.courts.policy import Action
    from taspa.courts.selectors import may_act_in_court

    return may_act_in_court(user, Action.VIEW_HEARING, hearing.case.court)


def minutes_incidents(hearing: Hearing) -> list[Incident]:
    """The incidents whose reason the minutes must state (R9): recording impossible, not
    recorded."""
    return list(hearing.incidents.filter(kind__in=[k.value for k in ACT_KINDS]).order_by("at"))


def minutes_context(hearing: Hearing) -> dict[str, Any]:
    """What the minutes state about a hearing that could not be recorded (R9), in both official
    languages, for ``incidents/minutes_reason.html`` and for the console."""
    from taspa.incidents.actions import session_secretary_of

    incidents = list(minutes_incidents(hearing))

    def clock(moment: datetime | None) -> str:
        return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M") if moment else ""

    act = hearing.acts.filter(incidents__in=incidents).order_by("year", "number").first()
    facts = {
        "recorded": hasattr(hearing, "recording"),
        "incidents": [
            {
                "at": clock(i.at),
                "kind": i.kind,
                "detail": i.detail,
                "judge_told": clock(i.judge_told_at),
                "announced": clock(i.announced_at),
            }
            for i in incidents
        ],
        "act": f"{act.number}/{act.year}" if act else "",
        "act_date": act.date.strftime("%d.%m.%Y") if act else "",
    }
    langs = ("kk", "ru")

    def in_language(lang: str) -> dict[str, Any]:  # the system's own reasons in ``lang``
        stated = [
            {**fact, "detail": detail_in(i.detail, lang)}
            for fact, i in zip(facts["incidents"], incidents, strict=True)
        ]
        return {**facts, "incidents": stated}

    return {
        "t": {lang: texts.MINUTES_LABELS[lang] for lang in langs},
        "paragraphs": {lang: texts.minutes_paragraphs(lang, in_language(lang)) for lang in langs},
        "court_name": hearing.case.court.name,
        "case_number": hearing.case.number,
        "hearing_at": _local(hearing.scheduled_at),
        "judge": str(hearing.judge),
        "secretary": str(session_secretary_of(hearing)),
        "act": facts["act"],
    }
