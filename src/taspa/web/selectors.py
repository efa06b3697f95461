"""Reads the web pages make: today's hearings, the console's buttons and the timeline.

Rules stay in their apps: who may operate the recorder is ``courts.permissions.allowed``; the
marks as they stand are ``recorder.selectors.effective_marks``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from taspa.courts.models import Hearing, User
from taspa.courts.permissions import allowed
from taspa.courts.policy import COURT_STAFF_ROLES, REGIONAL_ROLES, Action, Role
from taspa.courts.selectors import assignments_of, visible_hearings
from taspa.incidents.detail_text import incident_text
from taspa.recorder.models import Recording
from taspa.recorder.policy import PAUSE_REASONS

MAX_MARK_KEYS = 9


@dataclass(frozen=True)
class MarkButton:
    key: str
    speaker: str
    role: str


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # mark | pause | resume | incident
    text: str
    offset_s: float | None = None
    mark: dict[str, Any] | None = None  # a mark's id, speaker and role (the console corrects it)


def visible_hearing(user: User, hearing_id: int) -> Hearing | None:
    return visible_hearings(user).filter(pk=hearing_id).first()


def todays_hearings(user: User) -> QuerySet[Hearing]:
    """The hearings of today (local time) the user sees, the ones they operate first."""
    today = timezone.localdate()
    start = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    end = start + timezone.timedelta(days=1)
    return (
        visible_hearings(user)
        .filter(scheduled_at__gte=start, scheduled_at__lt=end)
        .order_by("scheduled_at", "id")
    )


def operated_by(user: User) -> Q:
    return Q(secretary=user) | Q(stand_in=user)


def may_play(user: User) -> bool:
    """Court and regional staff play recordings here; parties get them by petition (R28–R32)."""
    staff = COURT_STAFF_ROLES | REGIONAL_ROLES | {Role.SYSTEM_ADMIN}
    return any(a.role in staff for a in assignments_of(user))


def playable_recording(user: User, recording_id: int) -> Recording | None:
    """A sealed recording of a hearing the user sees as staff, if the user plays recordings
    here; None otherwise (R28, R30–R32: parties reach a recording by petition — review in
    court, or a copy). The one rule of the playback and closed-portion pages."""
    if not may_play(user):
        return None
    return (
        Recording.objects.select_related("hearing__case__court", "hearing__courtroom", "signed_by")
        .filter(
            pk=recording_id,
            state=Recording.State.SEALED,
            hearing__in=visible_hearings(user, as_party=False),
        )
        .first()
    )


def may_operate(user: User, hearing: Hearing) -> bool:
    return allowed(user, Action.OPERATE_RECORDER, hearing)


def may_monitor(user: User, hearing: Hearing) -> bool:
    """R11: the secretary who operates the recorder listens to it; the hearing's own judge may
    listen too. Nobody else hears a hearing live through Taspa."""
    if allowed(user, Action.OPERATE_RECORDER, hearing):
        return True
    return user.pk == hearing.judge_id and allowed(user, Action.VIEW_HEARING, hearing)


@dataclass(frozen=True)
class AgentStatus:
    """A courtroom recorded by its ``taspa recorder`` agent, as the server sees it (ADR 0004)."""

    seen_at: datetime | None
    online: bool
    phase: str  # waiting | recording | uploading | verifying | sealed
    uploaded_bytes: int
    total_bytes: int | None  # the agent's final size, once it stopped

    @property
    def percent(self) -> int | None:
        if not self.total_bytes:
            return None
        return min(100, int(100 * self.uploaded_bytes / self.total_bytes))


# The agent asks the server for commands every 0.2 s while it can reach it, sends levels every
# second while recording, and each uploaded chunk (1 MiB) lands in its upload folder: heard from
# none of them for this long, the courtroom computer is "not connected". The console polls the
# panel every second, so the panel says so at most 5 s after the agent's last sign of life.
AGENT_ONLINE_S = 4


def agent_status(hearing: Hearing) -> AgentStatus | None:
    """None for a courtroom this server records itself."""
    from taspa.recorder import remote
    from taspa.recorder.journal import JOURNAL_NAME, MEDIA_NAME

    agent = remote.agent_of(hearing)
    if agent is None:
        return None
    folder = remote.upload_dir(hearing.pk)
    media = folder / MEDIA_NAME
    uploaded = media.stat().st_size if media.exists() else 0
    seen = agent.last_seen_at
    for upload in (media, folder / JOURNAL_NAME):  # a long upload is a sign of life too
        if upload.exists():
            written = datetime.fromtimestamp(upload.stat().st_mtime, tz=UTC)
            seen = written if seen is None else max(seen, written)
    online = seen is not None and (timezone.now() - seen).total_seconds() <= AGENT_ONLINE_S
    recording = recording_of(hearing)
    return AgentStatus(
        seen_at=seen,
        online=online,
        phase=_agent_phase(hearing, recording),
        uploaded_bytes=uploaded,
        total_bytes=recording.bytes if recording is not None else None,
    )


def _agent_phase(hearing: Hearing, recording: Recording | None) -> str:
    if recording is None:
        return "waiting"
    if recording.state == Recording.State.SEALED:
        return "sealed"
    if hearing.state in (Hearing.State.RECORDING, Hearing.State.PAUSED):
        return "recording"
    if recording.state == Recording.State.CAPTURING:
        return "uploading"
    return "verifying"


def mark_buttons(hearing: Hearing) -> list[MarkButton]:
    """R12: one button per person who speaks — the judge, then the participants — keyed 1–9."""
    people = [(str(hearing.judge), _("judge"))]
    people += [(p.name, p.role) for p in hearing.participants.all()]
    return [
        MarkButton(key=str(n), speaker=name, role=role)
        for n, (name, role) in enumerate(people[:MAX_MARK_KEYS], start=1)
    ]


def pause_reasons() -> list[str]:
    """R6: the only lawful reasons; the console offers one button for each and nothing else."""
    return list(PAUSE_REASONS)


def recording_of(hearing: Hearing) -> Recording | None:
    return Recording.objects.filter(hearing=hearing).first()


def timeline(hearing: Hearing) -> list[TimelineEntry]:
    """Marks, pauses, resumptions and incidents in the order they happened; an incident as its
    act's title and its detail in the reader's language."""
    from taspa.recorder.selectors import effective_marks
    from taspa.web.labels import incident_kind

    entries = [
        TimelineEntry(
            at=i.at, kind="incident", text=f"{incident_kind(i.kind)}: {incident_text(i.detail)}"
        )
        for i in hearing.incidents.all()
    ]
    recording = recording_of(hearing)
    if recording is not None:
        entries += [
            TimelineEntry(
                at=m["at"], kind="mark", text=mark_label(m), offset_s=m["offset_s"], mark=m
            )
            for m in effective_marks(recording)
        ]
        entries += _pause_entries(recording)
    return sorted(entries, key=lambda entry: entry.at)


def mark_label(mark: dict[str, Any]) -> str:
    return f"{mark['speaker']} ({mark['role']})"


def _pause_entries(recording: Recording) -> list[TimelineEntry]:
    labels = pause_labels()
    entries = []
    for pause in recording.pauses.all():
        entries.append(TimelineEntry(at=pause.started_at, kind="pause", text=labels[pause.reason]))
        if pause.ended_at:
            entries.append(TimelineEntry(at=pause.ended_at, kind="resume", text=_("resumed")))
    return entries


def pause_labels() -> dict[str, str]:
    return {
        "adjournment": _("Adjournment"),
        "recess": _("Recess"),
        "deliberation": _("Deliberation"),
    }


def latest_preflight(hearing: Hearing) -> Any:
    return hearing.preflights.order_by("-at").first()
