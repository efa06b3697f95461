"""Remote capture, the server's side: agents, their command queue and the events they report.

A courtroom with an :class:`AgentRegistration` records on its own PC (``taspa recorder``).
The server stays the source of truth for the hearing's state while the agent can reach it: the
secretary's start/pause/resume/stop become queued commands. What the agent did while the link
was down (a local start, marks, a pause, a stop, gaps) arrives later as events stamped with the
time they happened and is applied here once each (ADR 0004; R6–R8, R11, R12, R19). This module
is the protocol only: every state change is a call of ``recorder.actions`` with
``origin="courtroom"``, so an agent's unlawful pause is refused and audited like the
secretary's.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taspa.audit.actions import record
from taspa.courts.actions import require
from taspa.courts.models import Courtroom, Hearing, User
from taspa.courts.policy import Action
from taspa.errors import DomainError, InvalidInput
from taspa.incidents.actions import open_incident
from taspa.incidents.policy import IncidentKind
from taspa.recorder import actions
from taspa.recorder.events import EngineEvent, Gap
from taspa.recorder.models import AgentEvent, AgentRegistration

# Read helpers the agent's other readers (web, monitor) know by these names.
from taspa.recorder.runtime import upload_dir as upload_dir
from taspa.recorder.selectors import agent_of as agent_of
from taspa.recorder.selectors import remote_levels as remote_levels

log = logging.getLogger("taspa.recorder")
AGENT_TOKEN_PREFIX = "tsa_"  # noqa: S105 — a visible marker, not a secret
State = Hearing.State


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(float(epoch), UTC)


def register_agent(*, actor: User | None, courtroom: Courtroom) -> str:
    """Make ``courtroom`` a remote-capture courtroom and return its agent's bearer token (shown
    once; only its digest is kept). Registering again replaces the previous token."""
    if actor is not None:
        require(actor, Action.MANAGE_COURTROOMS, courtroom)
    token = AGENT_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        AgentRegistration.objects.update_or_create(
            courtroom=courtroom,
            defaults={
                "token_digest": _digest(token),
                "token_prefix": token[:12],
                "revoked_at": None,
            },
        )
        record(
            actor=actor,
            action="recorder.agent_register",
            target=courtroom,
            payload={"prefix": token[:12]},
        )
    return token


def agent_for_token(token: str) -> AgentRegistration | None:
    return (
        AgentRegistration.objects.select_related("courtroom")
        .filter(token_digest=_digest(token), revoked_at__isnull=True)
        .first()
    )


def seen(agent: AgentRegistration) -> None:
    AgentRegistration.objects.filter(pk=agent.pk).update(last_seen_at=timezone.now())


def commands_after(agent: AgentRegistration, after: int) -> list[dict[str, Any]]:
    return [
        {
            "seq": c.pk,
            "verb": c.verb,
            "hearing": c.hearing_id,
            "args": c.args,
            "at": c.created_at.timestamp(),
        }
        for c in agent.commands.filter(pk__gt=after).order_by("pk")[:100]
    ]


def store_levels(agent: AgentRegistration, hearing_id: int | None, channels: list) -> None:
    """R11: the latest levels the agent measured, for the secretary's meter."""
    AgentRegistration.objects.filter(pk=agent.pk).update(
        levels={"hearing": hearing_id, "channels": channels},
        levels_at=timezone.now(),
        last_seen_at=timezone.now(),
    )


# --- events from the agent ---------------------------------------------------------------------


def apply_events(agent: AgentRegistration, events: list[dict[str, Any]]) -> int:
    """Apply each event once, in order; returns the highest sequence number now held."""
    for event in sorted(events, key=lambda e: int(e["seq"])):
        _apply_once(agent, event)
    seen(agent)
    last = agent.events.order_by("-seq").values_list("seq", flat=True).first()
    return int(last or 0)


def _apply_once(agent: AgentRegistration, event: dict[str, Any]) -> None:
    hearing = None
    if event.get("hearing") is not None:
        hearing = Hearing.objects.filter(
            pk=event["hearing"], courtroom_id=agent.courtroom_id
        ).first()
        if hearing is None:
            raise InvalidInput(
                "unknown_hearing",
                _("No hearing %(event)s in this room."),
                params={"event": event["hearing"]},
            )
    try:
        with transaction.atomic():
            AgentEvent.objects.create(
                agent=agent,
                seq=int(event["seq"]),
                hearing=hearing,
                kind=str(event["kind"]),
                at=_when(event["at"]),
                data=event.get("data") or {},
            )
            _apply(agent, hearing, event["kind"], _when(event["at"]), event.get("data") or {})
    except IntegrityError:
        return  # a resend of an event already applied


def _apply(
    agent: AgentRegistration, hearing: Hearing | None, kind: str, at: datetime, data: dict
) -> None:
    if kind == "preflight":
        AgentRegistration.objects.filter(pk=agent.pk).update(
            preflight=data.get("checks", []),
            preflight_at=at,
            clock_offset_s=data.get("clock_offset_s"),
        )
        return
    if hearing is None:
        return
    handler = _HANDLERS.get(kind)
    if handler is not None:
        try:  # no savepoint: a refusal's audit event is kept with the event itself
            handler(Hearing.objects.get(pk=hearing.pk), at, data)
        except DomainError as refusal:
            # Refused by the same rules as the secretary's own commands (R6, R19), audited
            # there; the event is kept as received, and the agent is told it arrived.
            log.warning("agent %s: %s refused: %s", agent.pk, kind, refusal.detail)
    elif kind in ("gap", "source_lost", "disk_full"):
        _engine_event(hearing.pk, kind, at, data)  # in this transaction: once with the event
    else:
        log.info("agent %s: %s at %s: %s", agent.pk, kind, at, data)


def _engine_event(hearing_id: int, kind: str, at: datetime, data: dict) -> None:
    """The agent's gaps and source losses become incidents exactly as local ones do (R6, R19)."""
    gap = None
    if kind == "gap":
        gap = Gap(_when(data["gap_start"]), _when(data["gap_end"]), data.get("cause", ""))
    actions.handle_engine_event(hearing_id, EngineEvent(kind, at, data.get("detail", kind), gap))


def _on_started(hearing: Hearing, at: datetime, data: dict) -> None:
    anchor = _when(data.get("anchor") or at.timestamp())
    actions.agent_started(hearing=hearing, at=at, anchor=anchor)


def _on_paused(hearing: Hearing, at: datetime, data: dict) -> None:
    announced = _when(data["announced_at"]) if data.get("announced_at") else at
    actions.pause_recording(
        actor=None,
        hearing=hearing,
        reason=str(data.get("reason", "")),
        announced_at=announced,
        origin=actions.COURTROOM,
        at=at,
    )


def _on_resumed(hearing: Hearing, at: datetime, data: dict) -> None:
    actions.resume_recording(actor=None, hearing=hearing, origin=actions.COURTROOM, at=at)


def _on_stopped(hearing: Hearing, at: datetime, data: dict) -> None:
    """The agent's final digest; sealing waits until every byte is uploaded and re-verified."""
    actions.agent_stopped(
        hearing=hearing, at=at, sha256=str(data.get("sha256", "")), size=data.get("bytes")
    )


def _on_mark(hearing: Hearing, at: datetime, data: dict) -> None:
    """R12: a mark placed at the courtroom PC, with the offset its engine computed."""
    actions.add_mark(
        actor=None,
        hearing=hearing,
        speaker=str(data.get("speaker", ""))[:255] or "?",
        role=str(data.get("role", ""))[:64] or "?",
        at=at,
        origin=actions.COURTROOM,
        offset_s=float(data.get("offset_s", 0.0)),
    )


def _on_refused(hearing: Hearing, at: datetime, data: dict) -> None:
    """The agent could not do what was asked (R9: capture impossible): an incident says why."""
    detail = f"The courtroom recorder could not {data.get('verb', 'act')}: {data.get('detail')}"
    open_incident(
        actor=None, hearing=hearing, kind=IncidentKind.RECORDING_IMPOSSIBLE, detail=detail
    )


_HANDLERS = {
    "started": _on_started,
    "paused": _on_paused,
    "resumed": _on_resumed,
    "stopped": _on_stopped,
    "mark": _on_mark,
    "refused": _on_refused,
}
