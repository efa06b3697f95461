"""Reads of the custody area: a medium and its history, the case inventory, what is due for
destruction, and the contexts of the label, the offline page and the destruction act."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from taspa.courts.models import Case, Court, Hearing
from taspa.custody import texts
from taspa.custody.models import CaseAcceptance, DestructionAct, Medium
from taspa.custody.policy import (
    DEFAULT_RETENTION_YEARS,
    HELD_STATES,
    clock,
    due_for_destruction,
    retention_until,
)
from taspa.incidents.detail_text import detail_in
from taspa.incidents.texts import kind_title
from taspa.recorder.models import Recording
from taspa.recorder.selectors import session_secretary


def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment else None


def retention_schedule() -> dict[str, int]:
    """R25: years by case kind from the administrators' table (``RetentionPeriod``), the
    built-in defaults for a kind it lacks; TASPA_MEDIUM_RETENTION_YEARS overrides both."""
    from taspa.custody.models import RetentionPeriod

    table = dict(RetentionPeriod.objects.values_list("case_kind", "years"))
    overrides = getattr(settings, "TASPA_MEDIUM_RETENTION_YEARS", {})
    return {**DEFAULT_RETENTION_YEARS, **table, **overrides}


def retention_basis(case_kind: str) -> dict[str, Any]:
    """R25: the period a case kind's media are kept, where it comes from, and whether it is an
    assumption not yet confirmed against the official list (the interface says so)."""
    from taspa.custody.models import RetentionPeriod

    overrides = getattr(settings, "TASPA_MEDIUM_RETENTION_YEARS", {})
    if case_kind in overrides:
        return {"years": overrides[case_kind], "source": "TASPA_MEDIUM_RETENTION_YEARS",
                "assumption": False}  # fmt: skip
    row = RetentionPeriod.objects.filter(case_kind=case_kind).first()
    if row is None:
        return {"years": DEFAULT_RETENTION_YEARS.get(case_kind), "source": "Taspa's default",
                "assumption": True}  # fmt: skip
    return {"years": row.years, "source": row.source, "assumption": row.assumption}


def retention_periods() -> list[dict[str, Any]]:
    """R25: the whole table, one row per case kind."""
    from taspa.custody.models import RetentionPeriod

    return [
        {"case_kind": r.case_kind, "years": r.years, "source": r.source,
         "assumption": r.assumption, "updated_at": _iso(r.updated_at)}
        for r in RetentionPeriod.objects.all()
    ]  # fmt: skip


def retention_until_of(medium: Medium) -> date | None:
    case = medium.case
    return retention_until(case.kind, case.judgment_effective_on, retention_schedule())


def medium_detail(medium: Medium) -> dict[str, Any]:
    entry = getattr(medium, "inventory_entry", None)
    return {
        "id": medium.pk,
        "recording": medium.recording_id,
        "case": medium.case_id,
        "kind": medium.kind,
        "state": medium.state,
        "valid": medium.valid,
        "bag": medium.bag_name,
        "payload_oxum": medium.payload_oxum,
        "files": medium.files,
        "failure": medium.failure,
        "written_at": _iso(medium.written_at),
        "holder": medium.holder.username if medium.holder else None,
        "holder_since": _iso(medium.holder_since),
        "retention_until": _iso(retention_until_of(medium)),
        "retention_basis": retention_basis(medium.case.kind),  # R25: where the period comes from
        "inventory_number": entry.number if entry else None,
        "handovers": [
            {
                "from": h.from_user.username,
                "to": h.to_user.username,
                "at": h.handed_at.isoformat(),
                "accepted_at": _iso(h.accepted_at),
                "check": h.acceptance_check,
            }
            for h in medium.handovers.select_related("from_user", "to_user")
        ],
        "visual_checks": [
            {
                "by": c.checked_by.username,
                "at": c.checked_at.isoformat(),
                "intact": c.intact,
                "note": c.note,
                "review": c.review,
            }
            for c in medium.visual_checks.select_related("checked_by")
        ],
        "destroyed_at": _iso(medium.destroyed_at),
        "destruction_act": medium.destruction_act_id,
        "destruction_act_status": medium.destruction_act.status if medium.destruction_act else None,
        "label": {
            lang: f"/api/v1/media/{medium.pk}/label?language={lang}" for lang in ("kk", "ru")
        },
    }


def media_part(hearing: Hearing) -> dict[str, Any]:
    """The hearing's case-file media in GET /hearings/{id}."""
    media = Medium.objects.filter(recording__hearing=hearing).select_related("holder")
    return {
        "media": [
            {
                "id": m.pk,
                "state": m.state,
                "valid": m.valid,
                "bag": m.bag_name,
                "holder": m.holder.username if m.holder else None,
            }
            for m in media
        ]
    }


def case_inventory(case: Case) -> dict[str, Any]:
    """R12: the case file's inventory entries for its media, in order."""
    return {
        "case": case.pk,
        "number": case.number,
        "items": [
            {
                "number": e.number,
                "after": e.after_document,
                "title_kk": e.title_kk,
                "title_ru": e.title_ru,
                "medium": e.medium_id,
                "state": e.medium.state,
                "created_at": e.created_at.isoformat(),
            }
            for e in case.inventory.select_related("medium")
        ],
        "archive_acceptance": acceptance_detail(case.archive_acceptances.order_by("-id").first()),
    }


def acceptance_detail(acceptance: CaseAcceptance | None) -> dict[str, Any] | None:
    """R22: the latest acceptance of the case into the archive and what it found missing."""
    if acceptance is None:
        return None
    return {
        "id": acceptance.pk,
        "case": acceptance.case_id,
        "accepted_by": acceptance.accepted_by.username,
        "accepted_at": acceptance.accepted_at.isoformat(),
        "flagged": acceptance.flagged,
        "missing": acceptance.missing,
        "present": acceptance.present,
    }


def destruction_detail(act: DestructionAct) -> dict[str, Any]:
    """R26: the act, who has signed it and who still must; media are destroyed once complete."""
    signed = {s.role: s for s in act.signatures.select_related("user")}
    return {
        "id": act.pk,
        "number": f"{act.number}/{act.year}",
        "date": act.date.isoformat(),
        "status": act.status,
        "completed_at": _iso(act.completed_at),
        "media": list(act.media.values_list("pk", flat=True)),
        "signers": [
            {
                "role": role,
                "user": signed[role].user.username if role in signed else None,
                "signed_at": _iso(signed[role].signed_at) if role in signed else None,
            }
            for role in act.required_roles
        ],
    }


def due_media(court: Court, on: date) -> list[dict[str, Any]]:
    """R26: media of ``court`` whose retention period (R25) is over on ``on``."""
    found = []
    held = Medium.objects.filter(case__court=court, state__in=HELD_STATES).select_related(
        "case", "recording"
    )
    for medium in held:
        until = retention_until_of(medium)
        if due_for_destruction(until, on):
            found.append(
                {"id": medium.pk, "case": medium.case.number, "kind": medium.case.kind,
                 "retention_until": until.isoformat(), "file": medium.recording.file_name}
            )  # fmt: skip
    return found


def _hearing_date(recording: Recording) -> date:
    return timezone.localtime(recording.hearing.scheduled_at).date()


def inventory_texts(medium: Medium) -> dict[str, str]:
    recording = medium.recording
    day = _hearing_date(recording).strftime("%d.%m.%Y")
    out = {}
    for lang in ("kk", "ru"):
        words = texts.INVENTORY[lang]
        kind = texts.MEDIUM_KINDS[medium.kind][lang]
        out[f"after_{lang}"] = words["after"].format(date=day)
        out[f"title_{lang}"] = words["title"].format(
            date=day, kind=kind, file=recording.file_name, sha256=recording.sha256
        )
    return out


def player_context(recording: Recording, player_file: str) -> dict[str, Any]:
    from taspa.recorder.selectors import effective_marks, incident_list, pause_list

    hearing = recording.hearing
    return {
        "t": texts.PLAYER,
        "court": hearing.case.court.name,
        "case": hearing.case.number,
        "hearing_date": _hearing_date(recording).strftime("%d.%m.%Y"),
        "file_name": recording.file_name,
        "sha256": recording.sha256,
        "signer": recording.signer_subject,
        "player_file": player_file,
        "is_video": player_file.endswith(".mp4"),
        "marks": [m | {"clock": clock(m["offset_s"])} for m in effective_marks(recording)],
        "pauses": [
            p
            | {
                "from": timezone.localtime(p["started_at"]).strftime("%H:%M:%S"),
                "to": timezone.localtime(p["ended_at"]).strftime("%H:%M:%S")
                if p["ended_at"]
                else "—",
            }
            for p in pause_list(recording)
        ],
        "incidents": [
            {
                "at": timezone.localtime(i["at"]).strftime("%H:%M:%S"),
                "kind": _both(kind_title(i["kind"], "kk"), kind_title(i["kind"], "ru")),
                "detail": _both(detail_in(i["detail"], "kk"), detail_in(i["detail"], "ru")),
            }
            for i in incident_list(hearing)
        ],
    }


def _both(kazakh: str, russian: str) -> str:
    """The player page is one page in both official languages ("kk / ru", as its headings); a
    text a person typed is the same in both and is shown once."""
    return kazakh if kazakh == russian else f"{kazakh} / {russian}"


def label_context(medium: Medium) -> dict[str, Any]:
    """R15: the envelope label — case number, hearing date, the secretary's name and signature
    line, and a QR code holding the recording's SHA-256."""
    recording = medium.recording
    hearing = recording.hearing
    return {
        "t": texts.LABEL,
        "court": hearing.case.court.name,
        "case": hearing.case.number,
        "hearing_date": _hearing_date(recording),
        "medium": f"M-{medium.pk}",
        "kind": {lang: texts.MEDIUM_KINDS[medium.kind][lang] for lang in ("kk", "ru")},
        "file_name": recording.file_name,
        "sha256": recording.sha256,
        "written": timezone.localtime(medium.written_at) if medium.written_at else None,
        "secretary": str(session_secretary(recording)),  # R15: who recorded it (R7 stand-in)
        "qr": qr_svg_uri(recording.sha256),
    }


def qr_svg_uri(payload: str) -> str:
    """A QR code as an SVG data URI (segno, pure Python): WeasyPrint draws it as vectors."""
    import segno

    return segno.make(payload, error="m", micro=False).svg_data_uri(scale=4, border=2)


def destruction_context(act: DestructionAct, media: list[Medium]) -> dict[str, Any]:
    rows = []
    for n, medium in enumerate(media, start=1):
        recording = medium.recording
        rows.append(
            {"n": n, "medium": f"M-{medium.pk}", "case": medium.case.number,
             "hearing": _hearing_date(recording), "file": recording.file_name,
             "sha256": recording.sha256, "until": retention_until_of(medium),
             "kind": {lang: texts.MEDIUM_KINDS[medium.kind][lang] for lang in ("kk", "ru")}}
        )  # fmt: skip
    return {
        "t": texts.DESTRUCTION_ACT,
        "court": act.court.name,
        "number": f"{act.number}/{act.year}",
        "date": act.date,
        "rows": rows,
    }
