"""Every write in the courts area: permission check, the write, its audit event, one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from taspa.audit.actions import record
from taspa.courts import selectors
from taspa.courts.models import (
    Case,
    Court,
    Courtroom,
    Hearing,
    HearingParticipant,
    RoleAssignment,
    User,
)
from taspa.courts.permissions import allowed
from taspa.courts.policy import (
    ROLES_A_COURT_ADMIN_GRANTS,
    Action,
    CaseKind,
    CourtLevel,
    Instance,
    Role,
    instance_matches_court,
    recording_requirement,
    source_problems,
    unknown_circumstances,
)
from taspa.errors import Conflict, Forbidden, InvalidInput
from taspa.limits import PARTICIPANTS, PERSON_NAME, PROCEDURAL_ROLE, require_moment, require_text


def require(actor: User, action: Action, obj: Any = None) -> None:
    """Raise ``Forbidden`` unless the permission layer allows ``action`` on ``obj``."""
    if not allowed(actor, action, obj):
        raise Forbidden(f"Your roles do not allow '{action.value}' here.")


def _enum(enum_type: type, value: str, what: str) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise InvalidInput(
            f"unknown_{what}", f"Unknown {what} {value!r}: use one of {allowed}."
        ) from None


def create_court(*, actor: User, code: str, name: str, level: str, region: str) -> Court:
    require(actor, Action.MANAGE_COURTS)
    level = _enum(CourtLevel, level, "level")
    with transaction.atomic():
        if Court.objects.filter(code=code).exists():
            raise Conflict("court_exists", f"A court with code {code!r} already exists.")
        court = Court.objects.create(code=code, name=name, level=level, region=region)
        record(actor=actor, action="court.create", target=court, payload={"code": code})
    return court


@dataclass(frozen=True)
class RoleGrant:
    role: str
    court: Court | None


def create_user(
    *,
    actor: User,
    username: str,
    full_name: str,
    email: str = "",
    roles: Iterable[RoleGrant] = (),
    password: str | None = None,
) -> User:
    """Create a person with court-scoped roles. A court administrator may create staff and
    parties of their own court only; other roles need a system administrator."""
    grants = list(roles)
    for grant in grants:
        role = _enum(Role, grant.role, "role")
        if role == Role.SYSTEM_ADMIN:
            require(actor, Action.MANAGE_COURTS)
            if grant.court is not None:
                raise InvalidInput("invalid_role", "The system_admin role is not tied to a court.")
            continue
        if grant.court is None:
            raise InvalidInput("court_required", f"The role {role.value!r} needs a court.")
        require(actor, Action.MANAGE_USERS, grant.court)
        if role not in ROLES_A_COURT_ADMIN_GRANTS and not selectors.is_system_admin(actor):
            raise Forbidden(f"Only a system administrator grants the role {role.value!r}.")
    if not grants:
        require(actor, Action.MANAGE_COURTS)
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise Conflict("user_exists", f"A user named {username!r} already exists.")
        is_admin = any(g.role == Role.SYSTEM_ADMIN for g in grants)
        # Django's admin site is for system administrators only: it is not court-scoped.
        user = User(
            username=username,
            full_name=full_name,
            email=email,
            is_staff=is_admin,
            is_superuser=is_admin,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        for grant in grants:
            RoleAssignment.objects.create(user=user, role=grant.role, court=grant.court)
        record(
            actor=actor,
            action="user.create",
            target=user,
            payload={
                "username": username,
                "roles": [[g.role, g.court.code if g.court else None] for g in grants],
            },
        )
    return user


def create_courtroom(
    *, actor: User, court: Court, name: str, sources: list[dict[str, Any]]
) -> Courtroom:
    require(actor, Action.MANAGE_COURTROOMS, court)
    problems = source_problems(sources)
    if problems:
        raise InvalidInput("invalid_sources", "; ".join(problems))
    with transaction.atomic():
        if Courtroom.objects.filter(court=court, name=name).exists():
            raise Conflict("courtroom_exists", f"{court.code} already has a room named {name!r}.")
        room = Courtroom.objects.create(court=court, name=name, sources=sources)
        record(actor=actor, action="courtroom.create", target=room, payload={"sources": sources})
    return room


def change_courtroom_sources(
    *, actor: User, courtroom: Courtroom, sources: list[dict[str, Any]]
) -> Courtroom:
    """Capture sources are ffmpeg inputs: only administrators set them (R20)."""
    require(actor, Action.MANAGE_COURTROOMS, courtroom.court)
    problems = source_problems(sources)
    if problems:
        raise InvalidInput("invalid_sources", "; ".join(problems))
    with transaction.atomic():
        before = courtroom.sources
        courtroom.sources = sources
        courtroom.save(update_fields=["sources"])
        record(
            actor=actor,
            action="courtroom.sources_change",
            target=courtroom,
            payload={"before": before, "after": sources},
        )
    return courtroom


def register_case(
    *, actor: User, court: Court, number: str, kind: str, language: str = "kk"
) -> Case:
    require(actor, Action.REGISTER_CASE, court)
    kind = _enum(CaseKind, kind, "case_kind")
    if language not in Case.Language.values:
        raise InvalidInput("unknown_language", "The language of proceedings is 'kk' or 'ru'.")
    if not number.strip():
        raise InvalidInput("invalid_case_number", "The case number is empty.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                case = Case.objects.create(court=court, number=number, kind=kind, language=language)
        except IntegrityError:
            raise Conflict("case_exists", f"{court.code} already has case {number!r}.") from None
        record(actor=actor, action="case.register", target=case, payload={"number": number})
    return case


def schedule_hearing(
    *,
    actor: User,
    case: Case,
    courtroom: Courtroom,
    instance: str,
    closed: bool,
    judge: User,
    secretary: User,
    scheduled_at: datetime,
    participants: Iterable[Mapping[str, str]] = (),
    circumstances: Mapping[str, bool] | None = None,
) -> Hearing:
    """Schedule a hearing and decide, under R3–R5, whether it must be recorded."""
    require(actor, Action.SCHEDULE_HEARING, case.court)
    people = _participants(participants)
    _check_hearing(case, courtroom, instance, judge, secretary, scheduled_at, people)
    instance, circumstances = _enum(Instance, instance, "instance"), _circumstances(circumstances)
    decision = recording_requirement(
        instance=instance, kind=CaseKind(case.kind), circumstances=circumstances
    )
    with transaction.atomic():
        hearing = Hearing.objects.create(
            case=case,
            courtroom=courtroom,
            instance=instance,
            closed=closed,
            judge=judge,
            secretary=secretary,
            scheduled_at=scheduled_at,
            circumstances=circumstances,
            recording_required=decision.requirement,
            recording_rule=decision.rule,
            recording_explanation_ru=decision.explanation_ru,
            recording_explanation_en=decision.explanation_en,
        )
        for person in people:
            HearingParticipant.objects.create(hearing=hearing, **person)
        record(
            actor=actor,
            action="hearing.schedule",
            target=hearing,
            payload={
                "case": case.number,
                "instance": instance.value,
                "closed": closed,
                "recording_required": decision.requirement.value,
                "rule": decision.rule,
            },
        )
    return hearing


def _participants(participants: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """The participants as entered, each name and procedural role within the limits."""
    people = []
    for person in participants:
        name = require_text(str(person["name"]).strip(), field="name", max_length=PERSON_NAME)
        role = str(person["role"]).strip()
        role = require_text(role, field="role", max_length=PROCEDURAL_ROLE)
        if not name or not role:
            raise InvalidInput("invalid_participant", "Each participant needs a name and a role.")
        people.append({"name": name, "role": role})
    if len(people) > PARTICIPANTS:
        raise InvalidInput("too_many_participants", f"At most {PARTICIPANTS} participants.")
    return people


def _circumstances(circumstances: Mapping[str, bool] | None) -> dict[str, bool]:
    facts = dict(circumstances or {})
    unknown = unknown_circumstances(facts)
    if unknown:
        raise InvalidInput("unknown_circumstance", f"Unknown circumstances: {', '.join(unknown)}.")
    return {k: bool(v) for k, v in facts.items()}


def _check_hearing(
    case: Case,
    courtroom: Courtroom,
    instance: str,
    judge: User,
    secretary: User,
    scheduled_at: datetime,
    people: list[dict[str, str]],
) -> None:
    """The checks a hearing's facts must pass, whether it is scheduled or edited."""
    court = case.court
    instance = _enum(Instance, instance, "instance")
    require_moment(scheduled_at, field="scheduled_at")
    if courtroom.court_id != court.pk:
        raise InvalidInput(
            "courtroom_of_another_court",
            f"Courtroom {courtroom.name!r} belongs to {courtroom.court.code}, "
            f"not to {court.code} where case {case.number} is heard.",
        )
    if not instance_matches_court(instance, CourtLevel(court.level)):
        raise InvalidInput(
            "instance_not_heard_here",
            f"A {court.level} court does not hold {instance.value}-instance hearings.",
        )
    if not selectors.has_role(secretary, Role.SECRETARY, court):
        raise InvalidInput(
            "not_a_secretary_of_court", f"{secretary} is not a secretary of {court.code}."
        )
    if not selectors.has_role(judge, Role.JUDGE, court):
        raise InvalidInput("not_a_judge_of_court", f"{judge} is not a judge of {court.code}.")
    if judge.pk == secretary.pk:
        raise InvalidInput("judge_is_secretary", "The judge cannot also be the secretary.")
    # A party of the case never sits as its judge or keeps its record.
    parties = {p["name"].casefold() for p in people}
    # (``parties``: the accounts the court linked to the case, where the access area is there)
    linked = (
        list(case.parties.filter(user__in=[judge, secretary])) if hasattr(case, "parties") else []
    )
    for person, what in ((judge, "judge"), (secretary, "secretary")):
        if str(person).casefold() in parties or any(p.user_id == person.pk for p in linked):
            raise InvalidInput(
                f"participant_as_{what}", f"{person} takes part in the case: not its {what}."
            )


def edit_hearing(
    *,
    actor: User,
    hearing: Hearing,
    courtroom: Courtroom,
    instance: str,
    closed: bool,
    judge: User,
    secretary: User,
    scheduled_at: datetime,
    participants: Iterable[Mapping[str, str]] = (),
    circumstances: Mapping[str, bool] | None = None,
) -> Hearing:
    """Change a hearing that has not started yet; R3–R5 are decided again on the new facts."""
    case = hearing.case
    require(actor, Action.SCHEDULE_HEARING, case.court)
    people = _participants(participants)
    _check_hearing(case, courtroom, instance, judge, secretary, scheduled_at, people)
    instance, circumstances = _enum(Instance, instance, "instance"), _circumstances(circumstances)
    decision = recording_requirement(
        instance=instance, kind=CaseKind(case.kind), circumstances=circumstances
    )
    with transaction.atomic():
        hearing = Hearing.objects.select_for_update().get(pk=hearing.pk)
        if hearing.state != Hearing.State.IDLE:
            raise Conflict("hearing_already_started", "A hearing is changed only before it starts.")
        before = {"scheduled_at": hearing.scheduled_at.isoformat(), "rule": hearing.recording_rule}
        hearing.courtroom, hearing.instance, hearing.closed = courtroom, instance, closed
        hearing.judge, hearing.secretary, hearing.scheduled_at = judge, secretary, scheduled_at
        hearing.circumstances = circumstances
        hearing.recording_required, hearing.recording_rule = decision.requirement, decision.rule
        hearing.recording_explanation_ru = decision.explanation_ru
        hearing.recording_explanation_en = decision.explanation_en
        hearing.save()
        _replace_participants(hearing, people)
        record(
            actor=actor,
            action="hearing.edit",
            target=hearing,
            payload={
                "before": before,
                "scheduled_at": scheduled_at.isoformat(),
                "judge": judge.username,
                "secretary": secretary.username,
                "closed": closed,
                "recording_required": decision.requirement.value,
                "rule": decision.rule,
            },
        )
    return hearing


def _replace_participants(hearing: Hearing, people: list[dict[str, str]]) -> None:
    """Keep the participants still named (and their linked accounts), add the new ones."""
    kept = {(p.name, p.role): p for p in hearing.participants.all()}
    wanted = {(p["name"], p["role"]) for p in people}
    for key, participant in kept.items():
        if key not in wanted:
            participant.delete()
    for person in people:
        if (person["name"], person["role"]) not in kept:
            HearingParticipant.objects.create(hearing=hearing, **person)


def bootstrap_system_admin(*, username: str, full_name: str, password: str) -> User:
    """The first system administrator, made from the server console (no actor exists yet)."""
    with transaction.atomic():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"full_name": full_name, "is_staff": True, "is_superuser": True},
        )
        if created:
            user.set_password(password)
            user.save()
            RoleAssignment.objects.create(user=user, role=Role.SYSTEM_ADMIN, court=None)
            record(actor=None, action="user.bootstrap_admin", target=user, payload={})
    return user


def grant_console_system_admin(*, user: User) -> User:
    """``taspa createsuperuser``: the superuser Django made from the server console becomes a
    system administrator, so the API and the web both let them in (no actor exists yet)."""
    with transaction.atomic():
        _, created = RoleAssignment.objects.get_or_create(
            user=user, role=Role.SYSTEM_ADMIN, court=None
        )
        if created:
            record(actor=None, action="user.bootstrap_admin", target=user, payload={})
    return user


def assign_stand_in(*, actor: User, hearing: Hearing, secretary: User | None) -> Hearing:
    """R7: the court administrator names another secretary of the court to operate the
    recorder for this hearing (``None`` withdraws the assignment)."""
    court = hearing.case.court
    require(actor, Action.MANAGE_USERS, court)
    if secretary is not None and not selectors.has_role(secretary, Role.SECRETARY, court):
        raise InvalidInput(
            "not_a_secretary_of_court", f"{secretary} is not a secretary of {court.code}."
        )
    with transaction.atomic():
        hearing.stand_in = secretary
        hearing.save(update_fields=["stand_in"])
        record(
            actor=actor,
            action="hearing.stand_in",
            target=hearing,
            payload={"stand_in": secretary.username if secretary else None},
        )
    return hearing
