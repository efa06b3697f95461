"""The court server's API for ``taspa recorder`` agents (ADR 0004), under /api/v1/agent/.

Agents authenticate with their own bearer token (``tsa_…``, from ``taspa recorder register``
or ``POST /courtrooms/{id}/recorder-agent``), valid for their one courtroom. Thin: the rules
live in ``recorder.remote`` and ``recorder.uploads``.
"""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from ninja.security import HttpBearer
from pydantic import Field

from taspa.api.types import MAX_ID, Cursor, Id
from taspa.courts.models import Courtroom, Hearing
from taspa.errors import NotFound
from taspa.recorder import remote, uploads
from taspa.recorder.models import AgentRegistration


class AgentToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        agent = remote.agent_for_token(token)
        if agent is not None:
            request.agent = agent
        return agent


router = Router(tags=["recorder agent"], auth=AgentToken())
admin_router = Router(tags=["recorder agent"])


class EventIn(Schema):
    seq: int = Field(ge=1, le=MAX_ID)
    kind: str = Field(min_length=1, max_length=32)
    at: float = Field(ge=0, lt=253402300800, allow_inf_nan=False)  # Unix time, < year 10000
    hearing: Id | None = None
    data: dict[str, Any] = {}


class EventsIn(Schema):
    events: list[EventIn] = Field(max_length=1000)


class LevelsIn(Schema):
    hearing: Id | None = None
    channels: list[dict[str, Any]] = Field(max_length=64)


def _agent(request: HttpRequest, courtroom_id: int) -> AgentRegistration:
    agent: AgentRegistration = request.agent
    if agent.courtroom_id != courtroom_id:
        raise NotFound(
            _("This agent does not serve courtroom %(courtroom_id)s."),
            params={"courtroom_id": courtroom_id},
        )
    return agent


def _hearing(agent: AgentRegistration, hearing_id: int) -> Hearing:
    hearing = Hearing.objects.filter(pk=hearing_id, courtroom_id=agent.courtroom_id).first()
    if hearing is None:
        raise NotFound(
            _("No hearing %(hearing_id)s in this courtroom."), params={"hearing_id": hearing_id}
        )
    return hearing


@router.get("/agent/time")
def server_time(request: HttpRequest):
    """The server's clock, for the agent's NTP-style offset measurement (R8)."""
    return {"now": time.time()}


@router.get("/agent/courtrooms/{courtroom_id}/config")
def config(request: HttpRequest, courtroom_id: Id):
    agent = _agent(request, courtroom_id)
    remote.seen(agent)
    return {"courtroom": courtroom_id, "sources": agent.courtroom.sources, "now": time.time()}


@router.get("/agent/courtrooms/{courtroom_id}/commands")
def commands(request: HttpRequest, courtroom_id: Id, after: Cursor = 0):
    """Commands queued for the agent after its cursor ``after`` (short polling)."""
    agent = _agent(request, courtroom_id)
    remote.seen(agent)
    return {"commands": remote.commands_after(agent, after), "now": time.time()}


@router.post("/agent/courtrooms/{courtroom_id}/events")
def events(request: HttpRequest, courtroom_id: Id, payload: EventsIn):
    agent = _agent(request, courtroom_id)
    acked = remote.apply_events(agent, [e.dict() for e in payload.events])
    return {"acked": acked}


@router.post("/agent/courtrooms/{courtroom_id}/levels")
def levels(request: HttpRequest, courtroom_id: Id, payload: LevelsIn):
    remote.store_levels(_agent(request, courtroom_id), payload.hearing, payload.channels)
    return {"ok": True}


@router.get("/agent/courtrooms/{courtroom_id}/uploads/{hearing_id}")
def upload_state(request: HttpRequest, courtroom_id: Id, hearing_id: Id):
    hearing = _hearing(_agent(request, courtroom_id), hearing_id)
    return uploads.upload_state(hearing).as_dict()


@router.put("/agent/courtrooms/{courtroom_id}/uploads/{hearing_id}/files/{which}")
def upload_chunk(request: HttpRequest, courtroom_id: Id, hearing_id: Id, which: str):
    """Append one chunk at the offset the server holds (``Content-Range``); 409 otherwise."""
    hearing = _hearing(_agent(request, courtroom_id), hearing_id)
    data = request.body
    start = uploads.parse_content_range(request.headers.get("Content-Range"), len(data))
    return {"offset": uploads.append_chunk(hearing, which, start, data)}


@router.post("/agent/courtrooms/{courtroom_id}/uploads/{hearing_id}/complete")
def complete(request: HttpRequest, courtroom_id: Id, hearing_id: Id):
    """Re-verify the uploaded spool and seal it (R14); idempotent."""
    hearing = _hearing(_agent(request, courtroom_id), hearing_id)
    recording = uploads.complete_upload(hearing)
    return {"recording": recording.pk, "state": recording.state, "sha256": recording.sha256}


@admin_router.post("/courtrooms/{courtroom_id}/recorder-agent", response={201: dict})
def register(request: HttpRequest, courtroom_id: Id):
    """A court administrator makes a courtroom capture on its own PC; the token is shown once."""
    courtroom = Courtroom.objects.filter(pk=courtroom_id).first()
    if courtroom is None:
        raise NotFound(_("No courtroom %(courtroom_id)s."), params={"courtroom_id": courtroom_id})
    token = remote.register_agent(actor=request.user, courtroom=courtroom)
    return Status(201, {"courtroom": courtroom_id, "token": token})
