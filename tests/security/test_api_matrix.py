"""The role × action × court matrix over the whole HTTP API (R7, R20, R21, R28–R35).

Every operation of the OpenAPI document is called over HTTP, with a real bearer token, by every
actor of the scene (see conftest.py): each role of the target's own court, of a court of the
same region and of a court of another region, the system administrator, a participant the court
linked to the case, a participant of another case, an anonymous caller and two recorder agents.

The table ``EXPECTED`` below says, per operation, who may do it; it is derived from
``courts.policy.ROLES_FOR_ACTION`` where the operation is one of its actions, and otherwise
names the narrower rule the operation follows (the hearing's own secretary, the medium's
holder, the applicant…). A new endpoint fails ``test_every_api_operation_is_in_the_matrix``
until it gets a row here.

A cell that must be refused has to answer 401, 403 or 404 (404 hides that the object exists)
and leave no trace but a refusal in the audit log; a cell that is allowed must not answer any
of those. No cell may answer 5xx. List endpoints must show the target only to those who see it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from security.scene import ACTORS, HUMANS, RELATIONS, Scene
from taspa.api.api import api
from taspa.audit.models import AuditEvent
from taspa.courts.policy import (
    COURT_STAFF_ROLES,
    REGIONAL_ROLES,
    ROLES_FOR_ACTION,
    Action,
    Role,
)

REFUSED = {401, 403, 404}


def staff(action: Action) -> frozenset[str]:
    """Who ROLES_FOR_ACTION lets do ``action`` in court A: its court roles in court A, its
    regional roles anywhere in court A's region, and a system administrator if listed."""
    roles = ROLES_FOR_ACTION[action]
    actors = {"system_admin"} if Role.SYSTEM_ADMIN in roles else set()
    actors |= {f"{role}@own" for role in roles & COURT_STAFF_ROLES}
    actors |= {f"{role}@{rel}" for role in roles & REGIONAL_ROLES for rel in ("own", "region")}
    return frozenset(actors)


def staff_anywhere() -> frozenset[str]:
    """Court or regional staff of any court (and the system administrator)."""
    roles = COURT_STAFF_ROLES | REGIONAL_ROLES
    return frozenset({f"{r.value}@{rel}" for r in roles for rel in RELATIONS} | {"system_admin"})


VIEW = staff(Action.VIEW_HEARING)
PARTY = frozenset({"party"})
# R7: only the hearing's own secretary (secretary-a) operates its recorder; no administrator.
OPERATOR = frozenset({"secretary@own"})
SIGNED_IN = frozenset(HUMANS)
AGENT_OWN = frozenset({"agent@own"})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Call:
    path: str
    body: Any = None
    content_type: str = "application/json"
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class Cell:
    """Who may call the operation, the request to make, and for list endpoints who must see
    the target in the answer (``sees``, with ``shows(scene, answer)``)."""

    allowed: frozenset[str]
    call: Callable[[Scene], Call]
    sees: frozenset[str] | None = None
    shows: Callable[[Scene, Any], bool] | None = None
    # An error code that is an allowed caller's lawful answer, told apart from a refusal by its
    # code (e.g. 404 no_evidence_record before the day's record is built, for one who may see it).
    allowed_error: str | None = None


def _ids(items: list[dict], key: str = "id") -> set:
    return {item.get(key) for item in items}


def _new_user(s: Scene) -> dict:
    return {
        "username": s.unique("matrix-user"),
        "full_name": "Matrix User",
        "roles": [{"role": "secretary", "court": "court-a"}],
    }


def _hearing_body(s: Scene) -> dict:
    return {
        "case": s.case.pk,
        "courtroom": s.room.pk,
        "instance": "first",
        "judge": "judge-a",
        "secretary": "secretary-a",
        "scheduled_at": "2030-01-01T10:00:00+05:00",
    }


def _offer(s: Scene) -> dict:
    return {
        "court": "court-a",
        "source_id": s.recording.pk,
        "file_name": s.recording.file_name,
        "files": {"media": {"sha256": s.recording.sha256, "bytes": s.recording.bytes}},
        "metadata": {},
        "metadata_version": 1,
    }


def _petition(s: Scene) -> dict:
    return {
        "hearing": s.sealed_hearing.pk,
        "kind": "review",
        "applicant": {"name": "Әсел Үмбетова", "role": "participant"},
        "delivery": "online",
    }


def _multipart_p12() -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"p12": SimpleUploadedFile("key.p12", b"not a key"), "password": "x"}


def _sealed_portion(s: Scene):
    """The sealed hearing's closed portion as it stands (made at first use, already ended)."""
    from taspa.recorder.models import ClosedPortion

    hearing, recording = s.sealed_hearing, s.recording
    current = ClosedPortion.objects.filter(hearing=hearing, superseded_by__isnull=True).first()
    if current is not None:
        return current
    return ClosedPortion.objects.create(
        hearing=hearing,
        recording=recording,
        start_at=recording.started_at,
        end_at=recording.started_at + timedelta(milliseconds=100),
        start_s=0.0,
        end_s=0.1,
        source="judge_decision",
        reason="Decision",
        created_by=hearing.judge,
    )


def _sealed_portion_path(s: Scene) -> str:
    return f"/hearings/{s.sealed_hearing.pk}/closed-portions/{_sealed_portion(s).pk}"


def _portion_correction(s: Scene) -> dict:
    start = s.recording.started_at
    return {
        "start": start.isoformat(),
        "end": (start + timedelta(milliseconds=50)).isoformat(),
        "reason": "Decision, corrected",
    }


def _spare_role_path(s: Scene) -> str:
    """A role that may be taken away, of a person of court A who is none of the actors (made
    afresh whenever one took it)."""
    from taspa.courts.models import RoleAssignment, User

    person, _ = User.objects.get_or_create(username="matrix-spare", full_name="Spare")
    RoleAssignment.objects.get_or_create(user=person, role=Role.SECRETARY.value, court=s.court)
    spare, _ = RoleAssignment.objects.get_or_create(
        user=person, role=Role.REPRESENTATIVE.value, court=s.court
    )
    return f"/users/{person.pk}/roles/{spare.pk}"


H = "/hearings/{s.hearing.pk}"
R = "/recordings/{s.recording.pk}"
AG = "/agent/courtrooms/{s.room.pk}"


def c(path: str, body: Any = None, **kwargs) -> Callable[[Scene], Call]:
    """A call whose path (and body, when a function) is filled from the scene."""

    def make(s: Scene) -> Call:
        filled = body(s) if callable(body) else body
        return Call(path.format(s=s), filled, **kwargs)

    return make


EXPECTED: dict[tuple[str, str], Cell] = {
    # --- courts (MANAGE_COURTS, MANAGE_COURTROOMS, REGISTER_CASE, SCHEDULE_HEARING, VIEW) ---
    ("POST", "/courts"): Cell(
        staff(Action.MANAGE_COURTS),
        lambda s: Call(
            "/courts",
            {"code": s.unique("c"), "name": "New court", "level": "district", "region": "Almaty"},
        ),
    ),
    ("POST", "/courtrooms"): Cell(
        staff(Action.MANAGE_COURTROOMS),
        c("/courtrooms", {"court": "court-a", "name": "Room 9", "sources": []}),
    ),
    ("POST", "/cases"): Cell(
        staff(Action.REGISTER_CASE),
        lambda s: Call("/cases", {"number": s.unique("2-"), "kind": "civil", "court": "court-a"}),
    ),
    ("POST", "/hearings"): Cell(staff(Action.SCHEDULE_HEARING), c("/hearings", _hearing_body)),
    ("GET", "/hearings"): Cell(
        SIGNED_IN,
        c("/hearings?limit=500"),
        sees=VIEW | PARTY,
        shows=lambda s, a: s.hearing.pk in _ids(a["items"]),
    ),
    ("GET", "/hearings/{hearing_id}"): Cell(VIEW | PARTY, c(H)),
    # --- users and tokens (MANAGE_USERS; a token for oneself) ---
    ("POST", "/users"): Cell(staff(Action.MANAGE_USERS), c("/users", _new_user)),
    ("POST", "/users/{user_id}/token"): Cell(
        staff(Action.MANAGE_USERS) | {"archivist@own"},  # archivist-a asks for their own token
        c("/users/{s.users[archivist@own].pk}/token"),
    ),
    # --- editing courts, rooms and people (R20: system admin; court admin in their court) ---
    ("PUT", "/courts/{court_id}"): Cell(
        staff(Action.MANAGE_COURTS),
        lambda s: Call(f"/courts/{s.court.pk}", {"name": s.court.name, "region": s.court.region}),
    ),
    ("PUT", "/courtrooms/{courtroom_id}"): Cell(
        staff(Action.MANAGE_COURTROOMS),
        lambda s: Call(
            f"/courtrooms/{s.room.pk}", {"name": s.room.name, "sources": s.room.sources}
        ),
    ),
    ("POST", "/users/{user_id}/roles"): Cell(
        staff(Action.MANAGE_USERS),
        c("/users/{s.users[archivist@own].pk}/roles", {"role": "participant", "court": "court-a"}),
    ),
    ("DELETE", "/users/{user_id}/roles/{role_id}"): Cell(
        staff(Action.MANAGE_USERS), lambda s: Call(_spare_role_path(s))
    ),
    ("PUT", "/users/{user_id}/active"): Cell(
        staff(Action.MANAGE_USERS), c("/users/{s.users[archivist@own].pk}/active", {"active": True})
    ),
    ("PUT", "/users/{user_id}/password"): Cell(
        staff(Action.MANAGE_USERS),
        c("/users/{s.users[archivist@own].pk}/password", {"password": "matrix-password"}),
    ),
    # --- the recorder (R7: the hearing's secretary; VIEW for reading) ---
    ("POST", "/hearings/{hearing_id}/preflight"): Cell(OPERATOR, c(H + "/preflight")),
    ("POST", "/hearings/{hearing_id}/start"): Cell(OPERATOR, c(H + "/start")),
    ("POST", "/hearings/{hearing_id}/marks"): Cell(
        OPERATOR, c(H + "/marks", {"speaker": "Судья", "role": "judge"})
    ),
    ("POST", "/marks/{mark_id}/correct"): Cell(
        OPERATOR, c("/marks/{s.mark.pk}/correct", {"speaker": "Истец", "role": "plaintiff"})
    ),
    ("POST", "/hearings/{hearing_id}/pause"): Cell(OPERATOR, c(H + "/pause", {"reason": "recess"})),
    ("POST", "/hearings/{hearing_id}/resume"): Cell(OPERATOR, c(H + "/resume")),
    ("POST", "/hearings/{hearing_id}/stop"): Cell(OPERATOR, c(H + "/stop")),
    # R11: the live levels are the console's, court staff's (a party gets the console's 404).
    ("GET", "/hearings/{hearing_id}/levels"): Cell(VIEW, c(H + "/levels")),
    ("GET", "/hearings/{hearing_id}/levels/stream"): Cell(VIEW, c(H + "/levels/stream?seconds=0")),
    # R32 for part of a hearing: the recorder's operator or the judge marks a closed portion
    # live (the idle hearing has no recording: 422 for them); after sealing only its judge.
    ("GET", "/hearings/{hearing_id}/closed-portions"): Cell(
        VIEW | PARTY, c(H + "/closed-portions")
    ),
    ("POST", "/hearings/{hearing_id}/closed-portions"): Cell(
        OPERATOR | {"judge@own"}, c(H + "/closed-portions", {})
    ),
    ("POST", "/hearings/{hearing_id}/closed-portions/{portion_id}/end"): Cell(
        frozenset({"judge@own"}), lambda s: Call(_sealed_portion_path(s) + "/end", {})
    ),
    ("POST", "/hearings/{hearing_id}/closed-portions/{portion_id}/correct"): Cell(
        frozenset({"judge@own"}),
        lambda s: Call(_sealed_portion_path(s) + "/correct", _portion_correction(s)),
    ),
    # Raw recordings are staff matters; parties reach them only by petition (R28, R31, R32).
    ("GET", "/recordings"): Cell(
        SIGNED_IN,
        c("/recordings?limit=500"),
        sees=VIEW,
        shows=lambda s, a: s.recording.pk in _ids(a["items"]),
    ),
    ("GET", "/recordings/{recording_id}"): Cell(VIEW, c(R)),
    ("GET", "/recordings/{recording_id}/media"): Cell(VIEW, c(R + "/media")),
    ("GET", "/recordings/{recording_id}/signature"): Cell(VIEW, c(R + "/signature")),
    ("GET", "/recordings/{recording_id}/evidence"): Cell(
        VIEW, c(R + "/evidence"), allowed_error="no_evidence_record"
    ),
    ("GET", "/recordings/{recording_id}/manifest"): Cell(VIEW, c(R + "/manifest")),
    ("GET", "/recordings/{recording_id}/manifest/signature"): Cell(
        VIEW, c(R + "/manifest/signature")
    ),
    ("GET", "/recordings/{recording_id}/protocol-extract"): Cell(
        VIEW, c(R + "/protocol-extract?language=ru")
    ),
    # --- recorder agents: their own courtroom only, with their own tokens (ADR 0004) ---
    ("GET", "/agent/time"): Cell(frozenset({"agent@own", "agent@other"}), c("/agent/time")),
    ("GET", "/agent/courtrooms/{courtroom_id}/config"): Cell(AGENT_OWN, c(AG + "/config")),
    ("GET", "/agent/courtrooms/{courtroom_id}/commands"): Cell(AGENT_OWN, c(AG + "/commands")),
    ("POST", "/agent/courtrooms/{courtroom_id}/events"): Cell(
        AGENT_OWN, c(AG + "/events", {"events": []})
    ),
    ("POST", "/agent/courtrooms/{courtroom_id}/levels"): Cell(
        AGENT_OWN, c(AG + "/levels", {"channels": []})
    ),
    ("GET", "/agent/courtrooms/{courtroom_id}/uploads/{hearing_id}"): Cell(
        AGENT_OWN, c(AG + "/uploads/{s.hearing.pk}")
    ),
    ("PUT", "/agent/courtrooms/{courtroom_id}/uploads/{hearing_id}/files/{which}"): Cell(
        AGENT_OWN,
        c(
            AG + "/uploads/{s.hearing.pk}/files/journal",
            "{}\n",
            content_type="application/octet-stream",
            headers={"Content-Range": "bytes 0-2/*"},
        ),
    ),
    ("POST", "/agent/courtrooms/{courtroom_id}/uploads/{hearing_id}/complete"): Cell(
        AGENT_OWN, c(AG + "/uploads/{s.hearing.pk}/complete")
    ),
    ("POST", "/courtrooms/{courtroom_id}/recorder-agent"): Cell(
        staff(Action.MANAGE_COURTROOMS), c("/courtrooms/{s.room.pk}/recorder-agent")
    ),
    # --- EDS keys (R14, R20): the administrators of every court the key holder works in ---
    ("POST", "/users/{user_id}/signing-key"): Cell(
        staff(Action.MANAGE_USERS),
        lambda s: Call(
            f"/users/{s.users['secretary@own'].pk}/signing-key",
            _multipart_p12(),
            content_type="multipart",
        ),
    ),
    ("DELETE", "/users/{user_id}/signing-key"): Cell(
        staff(Action.MANAGE_USERS), c("/users/{s.users[secretary@own].pk}/signing-key")
    ),
    # --- incidents and acts (R9, R16–R18) ---
    ("POST", "/hearings/{hearing_id}/incidents"): Cell(
        OPERATOR, c(H + "/incidents", {"kind": "source_lost", "detail": "camera"})
    ),
    ("GET", "/incidents/{incident_id}"): Cell(VIEW | PARTY, c("/incidents/{s.incident.pk}")),
    ("POST", "/incidents/{incident_id}/judge-told"): Cell(
        OPERATOR, c("/incidents/{s.incident.pk}/judge-told", {})
    ),
    ("POST", "/incidents/{incident_id}/announced"): Cell(
        OPERATOR, c("/incidents/{s.incident.pk}/announced", {})
    ),
    ("POST", "/incidents/{incident_id}/notify"): Cell(
        OPERATOR, c("/incidents/{s.incident.pk}/notify")
    ),
    # R9: the administrator of the hearing's court forwards to the regional administration.
    ("POST", "/incidents/{incident_id}/forward"): Cell(
        frozenset({"court_admin@own"}), c("/incidents/{s.incident.pk}/forward", {"note": "x"})
    ),
    ("GET", "/inbox"): Cell(
        SIGNED_IN,
        c("/inbox?limit=500"),
        sees=frozenset({"court_admin@own"}),
        shows=lambda s, a: s.notification.pk in _ids(a["items"]),
    ),
    ("POST", "/inbox/{notification_id}/read"): Cell(
        frozenset({"court_admin@own"}), c("/inbox/{s.notification.pk}/read")
    ),
    # R18: an act is drawn up and signed by the officials who sign it: at first instance the
    # hearing's secretary and the court administrator; regional staff of the region may draw up.
    ("POST", "/hearings/{hearing_id}/acts"): Cell(
        frozenset(
            {"secretary@own", "court_admin@own"}
            | {
                f"{r}@{rel}"
                for r in ("regional_staff", "regional_head")
                for rel in ("own", "region")
            }
        ),
        lambda s: Call(f"/hearings/{s.hearing.pk}/acts", {"incidents": [s.incident.pk]}),
    ),
    ("GET", "/acts/{act_id}"): Cell(VIEW, c("/acts/{s.act.pk}")),
    ("GET", "/acts/{act_id}/pdf"): Cell(VIEW, c("/acts/{s.act.pk}/pdf?language=kk")),
    # R3.4: only the hearing's own judge decides on the minutes (409 where the Rules decide).
    ("POST", "/hearings/{hearing_id}/minutes-decision"): Cell(
        frozenset({"judge@own"}),
        c("/hearings/{s.hearing.pk}/minutes-decision", {"keep_minutes": True}),
    ),
    # R9: the minutes' text on why the hearing was not recorded — court papers, like the act.
    ("GET", "/hearings/{hearing_id}/minutes-reason"): Cell(
        VIEW, c("/hearings/{s.hearing.pk}/minutes-reason?language=ru")
    ),
    ("POST", "/acts/{act_id}/sign"): Cell(
        frozenset({"secretary@own", "court_admin@own"}), c("/acts/{s.act.pk}/sign", {})
    ),
    # --- case-file media (R12, R15, R21, R22, R25, R26, R29) ---
    ("POST", "/recordings/{recording_id}/medium"): Cell(
        frozenset({"secretary@own", "court_admin@own"}),
        c(R + "/medium", {"mount": "/nonexistent/usb", "kind": "usb"}),
    ),
    ("GET", "/media/{medium_id}"): Cell(VIEW, c("/media/{s.medium.pk}")),
    ("GET", "/media/{medium_id}/label"): Cell(VIEW, c("/media/{s.medium.pk}/label")),
    # R21: the holder (the secretary) hands over; the court administrator may too.
    ("POST", "/media/{medium_id}/handover"): Cell(
        frozenset({"secretary@own", "court_admin@own"}),
        c("/media/{s.medium.pk}/handover", {"to": "archivist-a"}),
    ),
    # R22: only the archivist it was handed to accepts it.
    ("POST", "/media/{medium_id}/accept"): Cell(
        frozenset({"archivist@own"}),
        c("/media/{s.handed_medium.pk}/accept", {"mount": "/nonexistent/usb"}),
    ),
    # R29: court staff of the court.
    ("POST", "/media/{medium_id}/visual-check"): Cell(
        frozenset({"secretary@own", "archivist@own", "court_admin@own", "judge@own"}),
        c("/media/{s.medium.pk}/visual-check", {"intact": True}),
    ),
    ("GET", "/media-due-for-destruction"): Cell(
        VIEW, c("/media-due-for-destruction?court=court-a")
    ),
    # R26: the court's archivist or administrator.
    ("POST", "/destruction-acts"): Cell(
        frozenset({"archivist@own", "court_admin@own"}),
        lambda s: Call("/destruction-acts", {"court": "court-a", "media": [s.medium.pk]}),
    ),
    ("GET", "/destruction-acts/{act_id}/pdf"): Cell(
        VIEW, c("/destruction-acts/{s.destruction_act.pk}/pdf")
    ),
    ("GET", "/destruction-acts/{act_id}"): Cell(
        VIEW, c("/destruction-acts/{s.destruction_act.pk}")
    ),
    # R26: the signers the archive rules require, in the act's court.
    ("POST", "/destruction-acts/{act_id}/sign"): Cell(
        frozenset({"archivist@own", "court_admin@own"}),
        c("/destruction-acts/{s.destruction_act.pk}/sign"),
    ),
    # R22: the court's archivist accepts a case into the archive.
    ("POST", "/cases/{case_id}/archive-acceptance"): Cell(
        frozenset({"archivist@own"}), c("/cases/{s.case.pk}/archive-acceptance")
    ),
    # R25: the retention periods by case kind — for court and regional staff of any court.
    ("GET", "/retention-periods"): Cell(staff_anywhere(), c("/retention-periods")),
    ("GET", "/cases/{case_id}/inventory"): Cell(VIEW, c("/cases/{s.case.pk}/inventory")),
    # --- replication (R23): a court server pushes; on a court server nobody receives ---
    ("POST", "/courts/{court_id}/replication-token"): Cell(
        staff(Action.MANAGE_COURTS), c("/courts/{s.court.pk}/replication-token")
    ),
    ("POST", "/replication/replicas"): Cell(NOBODY, c("/replication/replicas", _offer)),
    ("GET", "/replication/replicas/{replica_id}/files/{kind}/parts"): Cell(
        NOBODY, c("/replication/replicas/1/files/media/parts")
    ),
    ("POST", "/replication/replicas/{replica_id}/files/{kind}/parts"): Cell(
        NOBODY, c("/replication/replicas/1/files/media/parts", {"parts": []})
    ),
    ("PUT", "/replication/replicas/{replica_id}/files/{kind}"): Cell(
        NOBODY,
        c(
            "/replication/replicas/1/files/media",
            "abc",
            content_type="application/octet-stream",
            headers={"Content-Range": "bytes 0-2/3"},
        ),
    ),
    ("POST", "/replication/replicas/{replica_id}/commit"): Cell(
        NOBODY, c("/replication/replicas/1/commit")
    ),
    ("POST", "/replication/witness"): Cell(
        NOBODY, c("/replication/witness", {"seq": 1, "hash": "0" * 64, "roots": []})
    ),
    ("GET", "/replication/witness"): Cell(NOBODY, c("/replication/witness")),
    ("GET", "/replication/status"): Cell(staff_anywhere(), c("/replication/status")),
    ("GET", "/replication/alarms"): Cell(SIGNED_IN, c("/replication/alarms")),
    # --- retention (R24, R27): MANAGE_RETENTION to change, VIEW to read ---
    ("POST", "/cases/{case_id}/judgment-effective"): Cell(
        staff(Action.MANAGE_RETENTION),
        c("/cases/{s.case.pk}/judgment-effective", {"date": "2020-01-10"}),
    ),
    ("GET", "/cases/{case_id}/retention"): Cell(VIEW, c("/cases/{s.case.pk}/retention")),
    ("POST", "/cases/{case_id}/legal-hold"): Cell(
        staff(Action.MANAGE_RETENTION), c("/cases/{s.case.pk}/legal-hold", {"reason": "review"})
    ),
    ("POST", "/cases/{case_id}/legal-hold/lift"): Cell(
        staff(Action.MANAGE_RETENTION), c("/cases/{s.case.pk}/legal-hold/lift", {"reason": "ok"})
    ),
    ("GET", "/retention/due"): Cell(SIGNED_IN, c("/retention/due")),
    # --- access (R28–R35): court staff handle petitions; the linked party petitions online ---
    ("POST", "/petitions"): Cell(
        staff(Action.HANDLE_PETITIONS) | PARTY, c("/petitions", _petition)
    ),
    ("GET", "/petitions"): Cell(
        SIGNED_IN,
        c("/petitions"),
        sees=staff(Action.HANDLE_PETITIONS) | PARTY,
        shows=lambda s, a: s.review_petition.pk in _ids(a["items"]),
    ),
    ("GET", "/petitions/{petition_id}"): Cell(
        staff(Action.HANDLE_PETITIONS) | PARTY, c("/petitions/{s.review_petition.pk}")
    ),
    ("POST", "/petitions/{petition_id}/fulfil"): Cell(
        staff(Action.HANDLE_PETITIONS), c("/petitions/{s.copy_petition.pk}/fulfil", {})
    ),
    ("POST", "/petitions/{petition_id}/receipt"): Cell(
        staff(Action.HANDLE_PETITIONS) | PARTY, c("/petitions/{s.copy_petition.pk}/receipt", {})
    ),
    ("POST", "/petitions/{petition_id}/refuse"): Cell(
        staff(Action.HANDLE_PETITIONS),
        c("/petitions/{s.unanswered_petition.pk}/refuse", {"reason": "matrix"}),
    ),
    ("POST", "/petitions/{petition_id}/review-held"): Cell(
        staff(Action.HANDLE_PETITIONS),
        c("/petitions/{s.review_petition.pk}/review-held", {}),
    ),
    ("POST", "/petitions/{petition_id}/medium-check"): Cell(
        staff(Action.HANDLE_PETITIONS),
        c("/petitions/{s.review_petition.pk}/medium-check", {"intact": True}),
    ),
    ("POST", "/petitions/{petition_id}/medium-written"): Cell(
        staff(Action.HANDLE_PETITIONS),
        c(
            "/petitions/{s.copy_petition.pk}/medium-written",
            {"device": "/dev/null", "mount": "/nonexistent", "confirmation": ""},
        ),
    ),
    ("GET", "/petitions/{petition_id}/form"): Cell(
        staff(Action.HANDLE_PETITIONS) | PARTY,
        c("/petitions/{s.copy_petition.pk}/form?language=kk"),
    ),
    # R31: the applicant (until the link expires) and the court's staff.
    ("GET", "/copies/{copy_id}/download"): Cell(
        staff(Action.HANDLE_PETITIONS) | PARTY, c("/copies/{s.copy.pk}/download")
    ),
    ("POST", "/cases/{case_id}/parties"): Cell(
        staff(Action.HANDLE_PETITIONS),
        c("/cases/{s.case.pk}/parties", {"user": "other_party", "role": "participant"}),
    ),
}


def document_operations() -> set[tuple[str, str]]:
    prefix = "/api/v1"
    operations = set()
    for path, methods in api.get_openapi_schema()["paths"].items():
        for method in methods:
            operations.add((method.upper(), path.removeprefix(prefix)))
    return operations


def send(client: Client, method: str, call: Call):
    url = f"/api/v1{call.path}"
    headers = call.headers or {}
    if call.content_type == "multipart":
        return client.generic(method, url) if call.body is None else client.post(url, call.body)
    if call.body is None:
        return client.generic(method, url, headers=headers)
    data = call.body if isinstance(call.body, str) else json.dumps(call.body)
    return client.generic(method, url, data, content_type=call.content_type, headers=headers)


def test_every_api_operation_is_in_the_matrix():
    """A new endpoint must say here who may call it; a removed one leaves the table."""
    operations = document_operations()
    assert sorted(operations - set(EXPECTED)) == [], "operations without a row"
    assert sorted(set(EXPECTED) - operations) == [], "rows without an operation"


def test_matrix_names_only_known_actors():
    for cell in EXPECTED.values():
        assert cell.allowed <= set(ACTORS)
        assert cell.sees is None or cell.sees <= set(ACTORS)


def _trace(before: int) -> list[str]:
    """Audit events since ``before`` other than refusals (a refusal is kept on record)."""
    actions = AuditEvent.objects.filter(seq__gt=before).values_list("action", flat=True)
    return [action for action in actions if "refus" not in action]


def _last_seq() -> int:
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    return last or 0


@pytest.mark.parametrize("actor", ACTORS)
def test_r7_r28_api_matrix(scene: Scene, actor: str):
    """R7, R20, R21, R28–R35: one test per actor walks every operation and lists every cell
    that answers wrongly; the list must be empty."""
    client = scene.api(actor)
    wrong = []
    for (method, template), cell in EXPECTED.items():
        call = cell.call(scene)
        before = _last_seq()
        answer = send(client, method, call)
        status = answer.status_code
        where = f"{method} {template} → {status}"
        if status >= 500:
            wrong.append(f"{where}: server error")
        elif actor in cell.allowed and status in REFUSED:
            if cell.allowed_error is None or _error(answer) != cell.allowed_error:
                wrong.append(f"{where}: refused, should be allowed ({_error(answer)})")
        elif (
            actor not in cell.allowed
            and cell.allowed_error
            and _error(answer) == cell.allowed_error
        ):
            wrong.append(f"{where}: an outsider learns what only the allowed may know")
        elif actor not in cell.allowed:
            if status not in REFUSED:
                wrong.append(f"{where}: should be refused")
            elif trace := _trace(before):
                wrong.append(f"{where}: refused but left {trace}")
        if cell.sees is not None and status == 200:
            shown = cell.shows(scene, answer.json())
            if shown != (actor in cell.sees):
                wrong.append(f"{where}: target {'shown' if shown else 'hidden'} wrongly")
    assert wrong == []


def _error(answer) -> str:
    try:
        return answer.json().get("error", "")
    except ValueError:
        return ""
