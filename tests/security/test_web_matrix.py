"""The role × action × court matrix over the web views (R7, R20, R28, R30–R32).

Every named URL of the web UI (the ``web`` and ``access`` namespaces) has a row below; a new
view fails ``test_every_web_view_is_in_the_matrix`` until it gets one. Each actor of the scene
signs in with a session and calls every view. A refused cell answers with a redirect to the
sign-in page, 403 or 404; the console's buttons, which answer with the re-rendered panel, must
in addition leave the hearing exactly as it was. An allowed cell is not refused (and a button
does what it says). The admin site is for system administrators only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from security.scene import HUMANS, RELATIONS, Scene
from security.test_api_matrix import OPERATOR, PARTY, SIGNED_IN, VIEW, staff, staff_anywhere
from taspa.access.models import Petition, Receipt, ReviewSlot
from taspa.courts import actions as court_actions
from taspa.courts.models import Hearing
from taspa.courts.policy import Action
from taspa.incidents.models import Incident, Notification
from taspa.recorder import actions as recorder
from taspa.recorder.models import ClosedPortion, Mark, Preflight
from taspa.web.playback import PlaybackFiles

WEB_ACTORS = [*HUMANS, "anonymous"]
EVERYONE = frozenset(WEB_ACTORS)
REGIONAL = frozenset(f"{r}@{rel}" for r in ("regional_staff", "regional_head") for rel in RELATIONS)


@dataclass(frozen=True)
class Page:
    allowed: frozenset[str]
    method: str
    url: Callable[[Scene], str]
    data: dict[str, Any] | Callable[[Scene], dict[str, Any]] | None = None
    sees: frozenset[str] | None = None
    shows: Callable[[Scene, Any], bool] | None = None
    # A snapshot that an allowed POST changes. Forms that answer a refusal with a redirect
    # and a message (not 403/404) are judged by it alone.
    effect: Callable[[Scene], Any] | None = None


def _verdict(s: Scene) -> bool:
    return PlaybackFiles.of(s.recording.pk).verdict.exists()


def _fulfilled(s: Scene) -> str:
    return Petition.objects.get(pk=s.open_petition.pk).state


def _receipted(s: Scene) -> bool:
    return Receipt.objects.filter(petition=s.copy_petition).exists()


def _petitions(s: Scene) -> int:
    return Petition.objects.count()


def _portions(s: Scene, *, corrected: bool = False) -> int:
    """How many closed parts the sealed hearing has (``corrected``: that gave way to a newer)."""
    portions = ClosedPortion.objects.filter(hearing=s.sealed_hearing)
    return portions.filter(superseded_by__isnull=False).count() if corrected else portions.count()


def _decided_portion(s: Scene, start: float, length: float | None = 10.0) -> ClosedPortion:
    """A closed part of the sealed recording from ``start`` as it stands (made at first use by
    the judge's decision; ``length`` None: left open to the end)."""
    current = ClosedPortion.objects.filter(
        hearing=s.sealed_hearing, start_s=start, superseded_by__isnull=True
    ).first()
    if current is not None:
        return current
    began = s.recording.started_at + timedelta(seconds=start)
    return ClosedPortion.objects.create(
        hearing=s.sealed_hearing,
        recording=s.recording,
        start_at=began,
        end_at=None if length is None else began + timedelta(seconds=length),
        start_s=start,
        end_s=None if length is None else start + length,
        source="judge_decision",
        reason="matrix",  # (the walk's forms allow the matrix's own word in either language)
        created_by=s.sealed_hearing.judge,
    )


def _portal_form(s: Scene) -> dict:
    return {
        "hearing": s.sealed_hearing.pk,
        "kind": "review",
        "delivery": "online",
        "applicant_name": "Әсел Үмбетова",
        "personal_data_warning_acknowledged": "on",
    }


# Issue 16: the administrators' pages. A court administrator manages court A's people and
# rooms (the scene's targets), a system administrator everyone's; nobody else sees the pages.
MANAGERS_ANYWHERE = frozenset({"system_admin"} | {f"court_admin@{rel}" for rel in RELATIONS})


def _rooms(s: Scene) -> Any:
    from taspa.courts.models import Courtroom

    return sorted(Courtroom.objects.values_list("name", "sources"), key=str)


def _people_count(s: Scene) -> int:
    from taspa.courts.models import User

    return User.objects.count()


def _roles_of(s: Scene, actor: str) -> list:
    return sorted(s.users[actor].role_assignments.values_list("role", flat=True))


def _participant_role(s: Scene) -> int:
    """participant@own's participant role (0, a 404, once it has been taken away)."""
    found = s.users["participant@own"].role_assignments.filter(role="participant").first()
    return found.pk if found else 0


def _room_form(name: str) -> dict[str, str]:
    return {
        "name": name,
        "src-TOTAL_FORMS": "1",
        "src-INITIAL_FORMS": "0",
        "src-0-kind": "audio",
        "src-0-format": "lavfi",
        "src-0-input": "sine=frequency=550",
        "src-0-label": "Судья",
    }


PAGES: dict[str, Page] = {
    "web:home": Page(
        SIGNED_IN,
        "get",
        lambda s: reverse("web:home"),
        sees=VIEW | PARTY,
        shows=lambda s, ctx: s.hearing in list(ctx["hearings"]),
    ),
    # A preference (the interface language), no court record: anyone may set it.
    "web:set_language": Page(
        EVERYONE, "post", lambda s: reverse("web:set_language"), {"language": "ru"}
    ),
    "web:dashboard": Page(SIGNED_IN, "get", lambda s: reverse("web:dashboard")),
    # The console is court staff's: a party to the hearing gets a 404 there (#16 point 7).
    "web:console": Page(VIEW, "get", lambda s: reverse("web:console", args=[s.hearing.pk])),
    "web:console_timeline": Page(
        VIEW, "get", lambda s: reverse("web:console_timeline", args=[s.hearing.pk])
    ),
    "web:console_agent": Page(
        VIEW, "get", lambda s: reverse("web:console_agent", args=[s.hearing.pk])
    ),
    "web:console_state": Page(
        VIEW, "get", lambda s: reverse("web:console_state", args=[s.hearing.pk])
    ),
    "web:console_controls": Page(
        VIEW, "get", lambda s: reverse("web:console_controls", args=[s.hearing.pk])
    ),
    # Search across recordings: everyone signed in, each within what they see (#16 point 3).
    "web:search": Page(
        SIGNED_IN, "get", lambda s: reverse("web:search"), {"case_number": "matrix"}
    ),
    # R11: the live sound is for the operating secretary and the hearing's own judge (409 here:
    # the hearing is not being recorded, past every permission check).
    "web:console_listen": Page(
        OPERATOR | {"judge@own"},
        "get",
        lambda s: reverse("web:console_listen", args=[s.hearing.pk]),
    ),
    # R28, R30–R32: parties never play raw recordings here; court and regional staff do.
    "web:recording": Page(VIEW, "get", lambda s: reverse("web:recording", args=[s.recording.pk])),
    "web:recording_verify": Page(
        VIEW,
        "post",
        lambda s: reverse("web:recording_verify", args=[s.recording.pk]),
        effect=_verdict,
    ),
    "web:playback_file": Page(
        VIEW,
        "get",
        lambda s: reverse("web:playback_file", args=[s.recording.pk, "peaks.json"]),
    ),
    "access:index": Page(SIGNED_IN, "get", lambda s: reverse("access:index")),
    "access:fulfil": Page(
        staff(Action.HANDLE_PETITIONS),
        "post",
        lambda s: reverse("access:fulfil", args=[s.open_petition.pk]),
        effect=_fulfilled,
    ),
    # R34: staff answer a petition that cannot be met, with the reason.
    "access:refuse": Page(
        staff(Action.HANDLE_PETITIONS),
        "post",
        lambda s: reverse("access:refuse", args=[s.unanswered_petition.pk]),
        {"reason": "matrix"},
        effect=lambda s: Petition.objects.get(pk=s.unanswered_petition.pk).state,
    ),
    # R28, R29, R35: the review held, its medium checked, in that order (by staff only).
    "access:review_step": Page(
        staff(Action.HANDLE_PETITIONS),
        "post",
        lambda s: reverse("access:review_step", args=[s.review_petition.pk]),
        {"step": "held"},
        effect=lambda s: ReviewSlot.objects.get(petition=s.review_petition).held_at,
    ),
    # R33: staff format the applicant's own medium and write the copy onto it (the form page).
    "access:medium_write": Page(
        staff(Action.HANDLE_PETITIONS),
        "get",
        lambda s: reverse("access:medium_write", args=[s.copy_petition.pk]),
    ),
    "access:portal": Page(SIGNED_IN, "get", lambda s: reverse("access:portal")),
    # R28: only a person the court linked to the case petitions online.
    "access:portal#post": Page(
        PARTY, "post", lambda s: reverse("access:portal"), _portal_form, effect=_petitions
    ),
    # R31, R32 for part of a hearing: the applicant plays their copy online (closed parts out).
    "access:copy_play": Page(PARTY, "get", lambda s: reverse("access:copy_play", args=[s.copy.pk])),
    "access:copy_file": Page(
        PARTY, "get", lambda s: reverse("access:copy_file", args=[s.copy.pk, "peaks.json"])
    ),
    # R35: the applicant, or court staff on paper, put the receipt mark on the petition.
    "access:receipt": Page(
        staff(Action.HANDLE_PETITIONS) | PARTY,
        "post",
        lambda s: reverse("access:receipt", args=[s.copy_petition.pk]),
        effect=_receipted,
    ),
    "access:petitions": Page(
        SIGNED_IN,
        "get",
        lambda s: reverse("access:petitions"),
        sees=staff(Action.HANDLE_PETITIONS) | PARTY,
        shows=lambda s, ctx: s.review_petition.pk in {row["id"] for row in ctx["rows"]},
    ),
    # Issue 16: every role's work pages. Scheduling is for those who schedule in some court;
    # a hearing is edited by those of its own court (R3–R5 decided by the same action).
    "web:hearing_schedule": Page(
        frozenset(
            {f"{r}@{rel}" for r in ("secretary", "judge", "court_admin") for rel in RELATIONS}
            | {"system_admin"}
        ),
        "get",
        lambda s: reverse("web:hearing_schedule"),
    ),
    "web:hearing_edit": Page(
        staff(Action.SCHEDULE_HEARING),
        "get",
        lambda s: reverse("web:hearing_edit", args=[s.hearing.pk]),
    ),
    # Issue 16, R20: courts are the system administrator's; rooms with their capture sources
    # and people with their roles are also the court administrator's, in their own court.
    "web:courts": Page(frozenset({"system_admin"}), "get", lambda s: reverse("web:courts")),
    "web:courts#post": Page(
        frozenset({"system_admin"}),
        "post",
        lambda s: reverse("web:courts"),
        {"code": "court-m", "name": "Жаңа сот", "level": "district", "region": "Алматы"},
        effect=lambda s: s.court.__class__.objects.count(),
    ),
    "web:court_edit": Page(
        frozenset({"system_admin"}), "get", lambda s: reverse("web:court_edit", args=[s.court.pk])
    ),
    "web:courtrooms": Page(
        MANAGERS_ANYWHERE,
        "get",
        lambda s: reverse("web:courtrooms"),
        sees=staff(Action.MANAGE_COURTROOMS),
        shows=lambda s, ctx: s.room.pk in {row["room"].pk for row in ctx["rows"]},
    ),
    "web:courtrooms#post": Page(
        staff(Action.MANAGE_COURTROOMS),
        "post",
        lambda s: reverse("web:courtrooms"),
        lambda s: _room_form("Зал М") | {"court": s.court.pk},
        effect=_rooms,
    ),
    "web:courtroom_edit": Page(
        staff(Action.MANAGE_COURTROOMS),
        "post",
        lambda s: reverse("web:courtroom_edit", args=[s.room.pk]),
        _room_form("Room 1"),
        effect=_rooms,
    ),
    "web:courtroom_edit#get": Page(
        staff(Action.MANAGE_COURTROOMS),
        "get",
        lambda s: reverse("web:courtroom_edit", args=[s.room.pk]),
    ),
    "web:people": Page(
        MANAGERS_ANYWHERE,
        "get",
        lambda s: reverse("web:people"),
        sees=staff(Action.MANAGE_USERS),
        shows=lambda s, ctx: s.users["secretary@own"] in [row["person"] for row in ctx["rows"]],
    ),
    "web:people#post": Page(
        staff(Action.MANAGE_USERS),
        "post",
        lambda s: reverse("web:people"),
        lambda s: {
            "username": "matrix-person",
            "full_name": "Жаңа судья",
            "password": "matrix-pw-1",
            "role": "judge",
            "court": s.court.pk,
        },
        effect=_people_count,
    ),
    "web:person": Page(
        staff(Action.MANAGE_USERS),
        "get",
        lambda s: reverse("web:person", args=[s.users["secretary@own"].pk]),
    ),
    "web:person_grant": Page(
        staff(Action.MANAGE_USERS),
        "post",
        lambda s: reverse("web:person_grant", args=[s.users["participant@own"].pk]),
        lambda s: {"role": "representative", "court": s.court.pk},
        effect=lambda s: _roles_of(s, "participant@own"),
    ),
    "web:role_revoke": Page(
        staff(Action.MANAGE_USERS),
        "post",
        lambda s: reverse("web:role_revoke", args=[_participant_role(s)]),
        effect=lambda s: _roles_of(s, "participant@own"),
    ),
    "web:person_password": Page(
        staff(Action.MANAGE_USERS),
        "post",
        lambda s: reverse("web:person_password", args=[s.users["participant@own"].pk]),
        {"password": "matrix-pw-2"},
        effect=lambda s: (
            s.users["participant@own"]
            .__class__.objects.get(pk=s.users["participant@own"].pk)
            .password
        ),
    ),
    "web:person_active": Page(
        staff(Action.MANAGE_USERS),
        "post",
        lambda s: reverse("web:person_active", args=[s.users["representative@own"].pk]),
        {"active": "no"},
        effect=lambda s: (
            s.users["representative@own"]
            .__class__.objects.get(pk=s.users["representative@own"].pk)
            .is_active
        ),
    ),
    # R14: an EDS key (no file sent here: the form's answer, not a refusal) and its revocation
    # (the judge has no key: the page says so, not a refusal).
    "web:signing_key": Page(
        staff(Action.MANAGE_USERS),
        "post",
        lambda s: reverse("web:signing_key", args=[s.users["secretary@own"].pk]),
        {"password": "x"},
    ),
    "web:signing_key_revoke": Page(
        staff(Action.MANAGE_USERS),
        "post",
        lambda s: reverse("web:signing_key_revoke", args=[s.users["judge@own"].pk]),
    ),
    # R9, R17, R18: incidents and acts are staff matters; parties see nothing of them.
    "web:incidents": Page(staff_anywhere(), "get", lambda s: reverse("web:incidents")),
    "web:incident_forward": Page(
        frozenset({"court_admin@own"}),
        "post",
        lambda s: reverse("web:incident_forward", args=[s.incident.pk]),
        {"note": "matrix"},
    ),
    "web:act_draw_up": Page(
        frozenset(
            {"secretary@own", "court_admin@own"}
            | {f"{r}@{rel}" for r in ("regional_head", "regional_staff") for rel in RELATIONS}
            - {"regional_head@other", "regional_staff@other"}
        ),
        "post",
        lambda s: reverse("web:act_draw_up", args=[s.hearing.pk]),
        lambda s: {"incident": s.incident.pk},
    ),
    # R18: the required signers (the court administrator holds no key here: 422, not refused).
    "web:act_sign": Page(
        frozenset({"secretary@own", "court_admin@own"}),
        "post",
        lambda s: reverse("web:act_sign", args=[s.act.pk]),
    ),
    # R12, R21, R22, R29: media as the API shows them; each step by whom the action allows.
    "web:media": Page(staff_anywhere(), "get", lambda s: reverse("web:media")),
    "web:medium": Page(VIEW, "get", lambda s: reverse("web:medium", args=[s.medium.pk])),
    "web:medium_write": Page(
        frozenset({"secretary@own", "court_admin@own"}),
        "post",
        lambda s: reverse("web:medium_write", args=[s.recording.pk]),
        {"mount": "/nonexistent/usb"},
    ),
    "web:medium_step": Page(
        frozenset({"secretary@own", "court_admin@own"}),
        "post",
        lambda s: reverse("web:medium_step", args=[s.medium.pk, "handover"]),
        lambda s: {"to": s.users["archivist@own"].pk},
    ),
    "web:medium_step#visual-check": Page(
        frozenset(f"{r}@own" for r in ("secretary", "archivist", "court_admin", "judge")),
        "post",
        lambda s: reverse("web:medium_step", args=[s.medium.pk, "visual-check"]),
        {"intact": "yes"},
    ),
    "web:destruction": Page(
        frozenset({"archivist@own", "court_admin@own"}),
        "post",
        lambda s: reverse("web:destruction", args=[s.court.pk]),
        lambda s: {"medium": s.medium.pk},
    ),
    "web:inventory": Page(VIEW, "get", lambda s: reverse("web:inventory", args=[s.case.pk])),
    # R26: the act's signers (a key is missing here: 422, not refused); R22: the archivist.
    "web:destruction_sign": Page(
        frozenset({"archivist@own", "court_admin@own"}),
        "post",
        lambda s: reverse("web:destruction_sign", args=[s.destruction_act.pk]),
    ),
    "web:case_accept": Page(
        frozenset({"archivist@own"}),
        "post",
        lambda s: reverse("web:case_accept", args=[s.case.pk]),
    ),
    # R9, R18, R23: the regional administration's page (notices, appeal acts) and the state of
    # replication (the system administrator sees it too, as on the dashboard).
    "web:regional": Page(REGIONAL, "get", lambda s: reverse("web:regional")),
    "web:regional_replication": Page(
        REGIONAL | {"system_admin"}, "get", lambda s: reverse("web:regional_replication")
    ),
    # A notice is marked read by its recipient only (the scene's is the administrator's).
    "web:notice_read": Page(
        frozenset({"court_admin@own"}),
        "post",
        lambda s: reverse("web:notice_read", args=[s.notification.pk]),
        effect=lambda s: Notification.objects.get(pk=s.notification.pk).read_at is not None,
    ),
    # R3.4, R9: the minutes page is court staff's; only the hearing's judge decides (the
    # scene's hearing is one the Rules decide: the judge is answered on the page, not refused).
    "web:minutes_decision": Page(
        VIEW, "get", lambda s: reverse("web:minutes_decision", args=[s.hearing.pk])
    ),
    "web:minutes_decision#post": Page(
        frozenset({"judge@own"}),
        "post",
        lambda s: reverse("web:minutes_decision", args=[s.hearing.pk]),
        {"keep_minutes": "yes"},
    ),
    # R32 for part of a hearing: staff who play the sealed recording see its closed parts; only
    # the hearing's judge adds, corrects or ends one after sealing.
    "web:closed_portions": Page(
        VIEW, "get", lambda s: reverse("web:closed_portions", args=[s.recording.pk])
    ),
    "web:closed_portions#post": Page(
        frozenset({"judge@own"}),
        "post",
        lambda s: reverse("web:closed_portions", args=[s.recording.pk]),
        {"start": "00:01:00", "end": "00:01:10", "reason": "matrix"},
        effect=_portions,
    ),
    "web:closed_portion_correct": Page(
        frozenset({"judge@own"}),
        "post",
        lambda s: reverse(
            "web:closed_portion_correct", args=[s.recording.pk, _decided_portion(s, 120.0).pk]
        ),
        {"start": "00:02:00", "end": "00:02:05", "reason": ""},
        effect=lambda s: _portions(s, corrected=True),
    ),
    "web:closed_portion_end": Page(
        frozenset({"judge@own"}),
        "post",
        lambda s: reverse(
            "web:closed_portion_end", args=[s.recording.pk, _decided_portion(s, 250.0, None).pk]
        ),
        {"end": "00:04:20"},
        effect=lambda s: _decided_portion(s, 250.0, None).end_s,
    ),
}

# R6–R12, R16: the console's buttons, each on a hearing in the state where it is lawful.
CONSOLE: dict[str, tuple[str, dict[str, str]]] = {
    "preflight": ("idle", {}),
    "start": ("idle", {}),
    "pause": ("recording", {"reason": "recess"}),
    "resume": ("paused", {}),
    "stop": ("recording", {}),
    "mark": ("recording", {"speaker": "Судья", "role": "judge"}),
    "note": ("recording", {"text": "Куәгер шақырылды"}),
    "incident": ("recording", {"kind": "source_lost", "detail": "camera"}),
    "closed_begin": ("recording", {}),  # R32 for part of a hearing
}


def _named_patterns(resolver: URLResolver, namespace: str = "") -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _named_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_web_view_is_in_the_matrix():
    names = {n for n in _named_patterns(get_resolver()) if n.startswith(("web:", "access:"))}
    covered = {name.partition("#")[0] for name in PAGES} | {"web:console_operate"}
    assert sorted(names - covered) == [], "web views without a row"
    assert sorted(covered - names) == [], "rows without a view"


def _refused(answer) -> bool:
    if answer.status_code in (403, 404):
        return True
    return answer.status_code == 302 and answer["Location"].startswith(reverse("login"))


def _hearing_in(s: Scene, state: str) -> Hearing:
    """A new hearing of court A's case, brought to ``state`` by its own secretary."""
    world, secretary = s.world, s.users["secretary@own"]
    hearing = court_actions.schedule_hearing(
        actor=world.admin,
        case=s.case,
        courtroom=s.room,
        instance="first",
        closed=False,
        judge=s.users["judge@own"],
        secretary=secretary,
        scheduled_at=timezone.now(),
        participants=[{"name": "Әсел Үмбетова", "role": "plaintiff"}],
        circumstances={},
    )
    if state in ("recording", "paused"):
        recorder.start_recording(actor=secretary, hearing=hearing)
    if state == "paused":
        recorder.pause_recording(actor=secretary, hearing=hearing, reason="recess")
    return hearing


def _snapshot(hearing: Hearing) -> tuple:
    hearing.refresh_from_db()
    return (
        hearing.state,
        Preflight.objects.filter(hearing=hearing).count(),
        Mark.objects.filter(recording__hearing=hearing).count(),
        Incident.objects.filter(hearing=hearing).count(),
        ClosedPortion.objects.filter(hearing=hearing).count(),
    )


@pytest.mark.parametrize("actor", WEB_ACTORS)
def test_r7_r28_web_matrix(scene: Scene, actor: str):
    """R7, R28, R30–R32: every web view, as every actor; lists the wrong cells."""
    client = scene.web(actor)
    wrong = []
    for name, page in PAGES.items():
        before = page.effect(scene) if page.effect else None
        data = page.data(scene) if callable(page.data) else page.data
        answer = getattr(client, page.method)(page.url(scene), data or {})
        where = f"{name} → {answer.status_code}"
        refused = _refused(answer)
        if answer.status_code >= 500:
            wrong.append(f"{where}: server error")
        elif page.effect:
            if (page.effect(scene) != before) != (actor in page.allowed):
                wrong.append(f"{where}: effect wrong")
        elif refused == (actor in page.allowed):
            wrong.append(f"{where}: {'refused' if refused else 'allowed'} wrongly")
        shown = page.sees is not None and answer.status_code == 200
        if shown and page.shows(scene, answer.context) != (actor in page.sees):
            wrong.append(f"{where}: target shown wrongly")
    for operation, (state, data) in CONSOLE.items():
        hearing = _hearing_in(scene, state)
        before = _snapshot(hearing)
        url = reverse("web:console_operate", args=[hearing.pk, operation])
        answer = client.post(url, data)
        where = f"console {operation} → {answer.status_code}"
        changed = _snapshot(hearing) != before
        if answer.status_code >= 500:
            wrong.append(f"{where}: server error")
        elif actor in OPERATOR and (answer.status_code != 200 or not changed):
            wrong.append(f"{where}: the operator's button did nothing")
        elif actor not in OPERATOR and changed:
            wrong.append(f"{where}: someone else operated the recorder")
        elif actor not in OPERATOR and answer.status_code not in (200, 302, 403, 404):
            wrong.append(f"{where}: unexpected answer")
    assert wrong == []


ADMIN_PAGES = ["admin:index", "admin:courts_user_changelist", "admin:audit_auditevent_changelist"]


def test_r20_admin_site_is_for_system_administrators_only(world):
    """Django's admin site is not court-scoped: only system administrators get in."""
    from django.test import Client

    people = [world.admin, *world.people.values()]
    wrong = []
    for person in people:
        client = Client()
        client.force_login(person)
        for name in ADMIN_PAGES:
            status = client.get(reverse(name)).status_code
            if (status == 200) != (person == world.admin):
                wrong.append(f"{person.username} {name} → {status}")
    anonymous = Client().get(reverse("admin:index"))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert wrong == []
