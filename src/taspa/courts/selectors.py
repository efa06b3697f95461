"""Reads in the courts area, scoped by the caller's roles (one place for court scoping)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from taspa.courts.models import Case, Court, Hearing, HearingParticipant, RoleAssignment, User
from taspa.courts.policy import (
    COURT_STAFF_ROLES,
    PARTY_ROLES,
    REGIONAL_ROLES,
    ROLES_FOR_ACTION,
    Action,
    Role,
)


def assignments_of(user: User) -> list[RoleAssignment]:
    """The user's roles, read once per user object (the request's user lives one request)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_taspa_assignments", None)
    if cached is None:
        cached = list(RoleAssignment.objects.filter(user=user).select_related("court"))
        user._taspa_assignments = cached
    return cached


def has_role(user: User, role: Role, court: Court | None = None) -> bool:
    return any(
        a.role == role and (court is None or a.court_id == court.pk) for a in assignments_of(user)
    )


def is_system_admin(user: User) -> bool:
    return has_role(user, Role.SYSTEM_ADMIN)


def court_scope(user: User, action: Action) -> Q:
    """Filter over ``Court`` for the courts where ``user`` may do ``action`` as staff."""
    allowed = ROLES_FOR_ACTION[action]
    scope = Q(pk__in=[])
    for assignment in assignments_of(user):
        if assignment.role not in allowed:
            continue
        if assignment.role == Role.SYSTEM_ADMIN:
            return Q()
        if assignment.role in COURT_STAFF_ROLES:
            scope |= Q(pk=assignment.court_id)
        elif assignment.role in REGIONAL_ROLES:
            scope |= Q(region=assignment.court.region)
    return scope


def may_act_in_court(user: User, action: Action, court: Court) -> bool:
    return Court.objects.filter(court_scope(user, action), pk=court.pk).exists()


def _party_in(user: User) -> bool:
    return any(a.role in PARTY_ROLES for a in assignments_of(user))


def visible_courts(user: User) -> QuerySet[Court]:
    """Courts whose hearings and raw recordings the user sees as staff (by court or region)."""
    return Court.objects.filter(court_scope(user, Action.VIEW_HEARING))


def visible_hearings(user: User, *, as_party: bool = True) -> QuerySet[Hearing]:
    """Hearings the user may see: staff by court or region; parties only the hearings of cases
    the court linked them to (``access.CaseParty``) or where they are a named participant.

    ``as_party=False`` leaves parties out: raw recordings are staff matters, and participants
    reach a recording only through a petition (R28, R31, R32).

    Each condition is a filter on the hearing row itself (the party ones as ``IN`` lists), never
    a join to a to-many table: no hearing comes twice, so no ``DISTINCT`` — which would sort
    every visible hearing before the first page — and a list ordered by
    ``("-scheduled_at", "-id")`` walks the ``hearing_scheduled`` index.
    """
    query = Q(case__court__in=visible_courts(user))
    if as_party and _party_in(user):
        query |= party_hearings(user)
    return Hearing.objects.filter(query).select_related(
        "case", "case__court", "courtroom", "judge", "secretary"
    )


def party_hearings(user: User) -> Q:
    """A party's hearings (R28): named as a participant, or of a case the court linked them to.
    A party has a handful of them: their ids, read now, let PostgreSQL fetch those hearings by
    index rather than test a subquery against every hearing."""
    named = HearingParticipant.objects.filter(user=user).values_list("hearing_id", flat=True)
    linked = Case.objects.filter(parties__user=user).values_list("pk", flat=True)
    return Q(pk__in=list(named)) | Q(case__in=list(linked))


def may_view_hearing(user: User, hearing: Hearing) -> bool:
    return visible_hearings(user).filter(pk=hearing.pk).exists()


def court_by_ref(ref: int | str) -> Court | None:
    """A court named by its id or its code."""
    # Only ASCII digits name an id ("²".isdigit() too), and only as many as a key can hold.
    digits = isinstance(ref, str) and ref.isascii() and ref.isdigit() and len(ref) < 19
    number = int(ref) if digits or isinstance(ref, int) else None
    if number is not None and 0 < number < 2**63:
        found = Court.objects.filter(pk=number).first()
        if found is not None:
            return found
    return Court.objects.filter(code=str(ref)).first()


def user_by_ref(ref: int | str) -> User | None:
    """A user named by id or username."""
    if isinstance(ref, int):
        return User.objects.filter(pk=ref).first()
    return User.objects.filter(username=ref).first()


def hearing_summary(hearing: Hearing) -> dict:
    return {
        "id": hearing.pk,
        "case": hearing.case.number,
        "court": hearing.case.court.code,
        "courtroom": hearing.courtroom.name,
        "instance": hearing.instance,
        "closed": hearing.closed,
        "scheduled_at": hearing.scheduled_at.isoformat(),
        "state": hearing.state,
        "recording_required": hearing.recording_required,
        "rule": hearing.recording_rule,
    }


# Later capabilities (recorder, sealing, incidents) add their part of a hearing's detail here:
# each entry is a function (hearing) -> dict merged into GET /hearings/{id}.
HEARING_DETAIL_PARTS: list = []


def hearing_detail(hearing: Hearing) -> dict:
    detail = hearing_summary(hearing) | {
        "judge": str(hearing.judge),
        "secretary": str(hearing.secretary),
        "participants": [{"name": p.name, "role": p.role} for p in hearing.participants.all()],
        "circumstances": hearing.circumstances,
        "recording": None,
        "incidents": [],
        "acts": [],
    }
    for part in HEARING_DETAIL_PARTS:
        detail |= part(hearing)
    return detail


def may_operate_recorder(user: User, hearing: Hearing) -> bool:
    """R7: the hearing's secretary, or its assigned stand-in, while a secretary of that court."""
    if user.pk not in (hearing.secretary_id, hearing.stand_in_id):
        return False
    return has_role(user, Role.SECRETARY, hearing.case.court)
