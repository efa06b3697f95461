"""Every write in the courts area: permission check, the write, its audit event, one transaction."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

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
from taspa.limits import (
    EMAIL,
    FULL_NAME,
    PARTICIPANTS,
    PASSWORD,
    PERSON_NAME,
    PROCEDURAL_ROLE,
    USERNAME,
    require_moment,
    require_text,
)

# What each permission lets one do, as the refusal names it to the person refused.
ACTION_WORDS = {
    Action.MANAGE_COURTS: _("managing the courts"),
    Action.MANAGE_USERS: _("managing the users"),
    Action.MANAGE_COURTROOMS: _("managing the courtrooms"),
    Action.REGISTER_CASE: _("registering a case"),
    Action.SCHEDULE_HEARING: _("scheduling a hearing"),
    Action.VIEW_HEARING: _("viewing the hearing"),
    Action.VERIFY_AUDIT: _("verifying the audit trail"),
    Action.OPERATE_RECORDER: _("operating the recording"),
    Action.HANDLE_PETITIONS: _("handling petitions"),
    Action.MANAGE_RETENTION: _("managing the retention of recordings"),
}


def require(actor: User, action: Action, obj: Any = None) -> None:
    """Raise ``Forbidden`` unless the permission layer allows ``action`` on ``obj``."""
    if not allowed(actor, action, obj):
        raise Forbidden(
            _("Your roles do not allow this here: %(action)s."),
            params={"action": ACTION_WORDS.get(action, action.value)},
        )


def _enum(enum_type: type, value: str, what: str) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise InvalidInput(
            f"unknown_{what}",
            _("Unknown %(what)s %(value)s: use one of %(allowed)s."),
            params={"what": what, "value": f"{value!r}", "allowed": allowed},
        ) from None


def create_court(*, actor: User, code: str, name: str, level: str, region: str) -> Court:
    require(actor, Action.MANAGE_COURTS)
    level = _enum(CourtLevel, level, "level")
    with transaction.atomic():
        if Court.objects.filter(code=code).exists():
            raise Conflict(
                "court_exists",
                _("A court with code %(code)s already exists."),
                params={"code": f"{code!r}"},
            )
        court = Court.objects.create(code=code, name=name, level=level, region=region)
        record(actor=actor, action="court.create", target=court, payload={"code": code})
    return court


# --- a person's account: one rule for the API, the web form and the command line ------------

# Letters, digits and @ . + - _ (Django's rule for user names; Kazakh and Russian letters too).
USERNAME_PATTERN = re.compile(r"^[\w.@+-]+\Z")
# A password a person chooses has at least this many characters.
MIN_PASSWORD_LENGTH = 8


def require_username(username: str) -> str:
    """``username`` unchanged, or ``InvalidInput`` (``invalid_username``)."""
    require_text(username, field="username", max_length=USERNAME)
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput("invalid_username", _("Letters, digits and @ . + - _ only."))
    return username


def require_email(email: str) -> str:
    """``email`` unchanged (empty: no address), or ``InvalidInput`` (``invalid_email``)."""
    require_text(email, field="email", max_length=EMAIL)
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            raise InvalidInput("invalid_email", _("This is not an e-mail address.")) from None
    return email


def require_password(password: str) -> str:
    """A password a person chose (the API, the web, the command line): at least
    ``MIN_PASSWORD_LENGTH`` characters, or ``InvalidInput`` (``password_too_short``)."""
    require_text(password, field="password", max_length=PASSWORD)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password_too_short",
            _("At least %(limit_value)d characters."),
            params={"limit_value": MIN_PASSWORD_LENGTH},
        )
    return password


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
    password_chosen: bool = False,
) -> User:
    """Create a person with court-scoped roles. A court administrator may create staff and
    parties of their own court only; other roles need a system administrator.

    The user name, the e-mail address and the password follow ``require_username``,
    ``require_email``; ``password_chosen`` says a person chose the password (the API, the web
    form, the command line pass it), which must then pass ``require_password``. Code that seeds
    a known password nobody chose (the demo's printed ``demo``, the test scenes') leaves it
    False."""
    grants = list(roles)
    require_username(username)
    require_text(full_name, field="full_name", max_length=FULL_NAME)
    require_email(email)
    if password and password_chosen:
        require_password(password)
    for grant in grants:
        _check_grant(actor, grant)
    if not grants:
        require(actor, Action.MANAGE_COURTS)
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise Conflict(
                "user_exists",
                _("A user named %(username)s already exists."),
                params={"username": f"{username!r}"},
            )
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


def _check_grant(actor: User, grant: RoleGrant) -> Role:
    """Who may hand out ``grant``: a system administrator any role, a court administrator the
    staff and party roles of their own court (``ROLES_A_COURT_ADMIN_GRANTS``)."""
    role = _enum(Role, grant.role, "role")
    if role == Role.SYSTEM_ADMIN:
        require(actor, Action.MANAGE_COURTS)
        if grant.court is not None:
            raise InvalidInput("invalid_role", _("The system_admin role is not tied to a court."))
        return role
    if grant.court is None:
        raise InvalidInput(
            "court_required",
            _("The role %(role)s needs a court."),
            params={"role": f"{role.value!r}"},
        )
    require(actor, Action.MANAGE_USERS, grant.court)
    if role not in ROLES_A_COURT_ADMIN_GRANTS and not selectors.is_system_admin(actor):
        raise Forbidden(
            _("Only a system administrator grants the role %(role)s."),
            params={"role": f"{role.value!r}"},
        )
    return role


def _require_usable_sources(sources: list[dict[str, Any]]) -> None:
    """Capture sources are ffmpeg inputs (R20): refused whole, with every problem named."""
    problems = source_problems(sources)
    if problems:
        raise InvalidInput(
            "invalid_sources",
            _("The capture sources cannot be used: %(problems)s."),
            params={"problems": problems},
        )


def _require_free_room_name(
    court: Court, name: str, *, other_than: Courtroom | None = None
) -> None:
    taken = Courtroom.objects.filter(court=court, name=name)
    if other_than is not None:
        taken = taken.exclude(pk=other_than.pk)
    if taken.exists():
        raise Conflict(
            "courtroom_exists",
            _("%(court_code)s already has a room named %(name)s."),
            params={"court_code": court.code, "name": f"{name!r}"},
        )


def create_courtroom(
    *, actor: User, court: Court, name: str, sources: list[dict[str, Any]]
) -> Courtroom:
    require(actor, Action.MANAGE_COURTROOMS, court)
    _require_usable_sources(sources)
    with transaction.atomic():
        _require_free_room_name(court, name)
        room = Courtroom.objects.create(court=court, name=name, sources=sources)
        record(actor=actor, action="courtroom.create", target=room, payload={"sources": sources})
    return room


def change_courtroom_sources(
    *, actor: User, courtroom: Courtroom, sources: list[dict[str, Any]]
) -> Courtroom:
    """Capture sources are ffmpeg inputs: only administrators set them (R20)."""
    require(actor, Action.MANAGE_COURTROOMS, courtroom.court)
    _require_usable_sources(sources)
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
        raise InvalidInput("unknown_language", _("The language of proceedings is 'kk' or 'ru'."))
    if not number.strip():
        raise InvalidInput("invalid_case_number", _("The case number is empty."))
    with transaction.atomic():
        try:
            with transaction.atomic():
                case = Case.objects.create(court=court, number=number, kind=kind, language=language)
        except IntegrityError:
            raise Conflict(
                "case_exists",
                _("%(court_code)s already has case %(number)s."),
                params={"court_code": court.code, "number": f"{number!r}"},
            ) from None
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
            raise InvalidInput(
                "invalid_participant", _("Each participant needs a name and a role.")
            )
        people.append({"name": name, "role": role})
    if len(people) > PARTICIPANTS:
        raise InvalidInput(
            "too_many_participants",
            _("At most %(count)s participants."),
            params={"count": PARTICIPANTS},
        )
    return people


def _circumstances(circumstances: Mapping[str, bool] | None) -> dict[str, bool]:
    facts = dict(circumstances or {})
    unknown = unknown_circumstances(facts)
    if unknown:
        raise InvalidInput(
            "unknown_circumstance",
            _("Unknown circumstances: %(value)s."),
            params={"value": ", ".join(unknown)},
        )
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
            _(
                "Courtroom %(courtroom_name)s belongs to %(court_code)s, not to %(court_code2)s "
                "where case %(case_number)s is heard."
            ),
            params={
                "courtroom_name": f"{courtroom.name!r}",
                "court_code": courtroom.court.code,
                "court_code2": court.code,
                "case_number": case.number,
            },
        )
    if not instance_matches_court(instance, CourtLevel(court.level)):
        raise InvalidInput(
            "instance_not_heard_here",
            _("This court does not hold hearings of this instance."),
            technical=f"{court.level} court, {instance.value} instance",
        )
    if not selectors.has_role(secretary, Role.SECRETARY, court):
        raise InvalidInput(
            "not_a_secretary_of_court",
            _("%(secretary)s is not a secretary of %(court_code)s."),
            params={"secretary": secretary, "court_code": court.code},
        )
    if not selectors.has_role(judge, Role.JUDGE, court):
        raise InvalidInput(
            "not_a_judge_of_court",
            _("%(judge)s is not a judge of %(court_code)s."),
            params={"judge": judge, "court_code": court.code},
        )
    if judge.pk == secretary.pk:
        raise InvalidInput("judge_is_secretary", _("The judge cannot also be the secretary."))
    # A party of the case never sits as its judge or keeps its record.
    parties = {p["name"].casefold() for p in people}
    # (``parties``: the accounts the court linked to the case, where the access area is there)
    linked = (
        list(case.parties.filter(user__in=[judge, secretary])) if hasattr(case, "parties") else []
    )
    for person, what in ((judge, "judge"), (secretary, "secretary")):
        if str(person).casefold() in parties or any(p.user_id == person.pk for p in linked):
            raise InvalidInput(
                f"participant_as_{what}",
                _("%(person)s takes part in the case: not its judge.")
                if what == "judge"
                else _("%(person)s takes part in the case: not its secretary."),
                params={"person": person},
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
            raise Conflict(
                "hearing_already_started", _("A hearing is changed only before it starts.")
            )
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
            "not_a_secretary_of_court",
            _("%(secretary)s is not a secretary of %(court_code)s."),
            params={"secretary": secretary, "court_code": court.code},
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


# --- the administrators' pages (issue 16): courts, rooms, people and their roles -------------


def edit_court(*, actor: User, court: Court, name: str, region: str) -> Court:
    """A court's name and region (its code names it everywhere, its level decides which
    instances it holds: neither changes)."""
    require(actor, Action.MANAGE_COURTS)
    with transaction.atomic():
        court = Court.objects.select_for_update().get(pk=court.pk)
        before = {"name": court.name, "region": court.region}
        court.name, court.region = name, region
        court.save(update_fields=["name", "region"])
        record(
            actor=actor,
            action="court.edit",
            target=court,
            payload={"before": before, "after": {"name": name, "region": region}},
        )
    return court


def edit_courtroom(
    *, actor: User, courtroom: Courtroom, name: str, sources: list[dict[str, Any]]
) -> Courtroom:
    """A room's name and its capture sources (ffmpeg inputs: administrators only, R20)."""
    require(actor, Action.MANAGE_COURTROOMS, courtroom.court)
    _require_usable_sources(sources)
    with transaction.atomic():
        room = Courtroom.objects.select_for_update().get(pk=courtroom.pk)
        _require_free_room_name(room.court, name, other_than=room)
        before = {"name": room.name, "sources": room.sources}
        room.name, room.sources = name, sources
        room.save(update_fields=["name", "sources"])
        record(
            actor=actor,
            action="courtroom.edit",
            target=room,
            payload={"before": before, "after": {"name": name, "sources": sources}},
        )
    return room


def require_manager_of(actor: User, user: User) -> None:
    """Only a system administrator, or the court administrator of every court ``user`` works
    in, manages a person (a person in no court, or a system administrator: system
    administrators only)."""
    courts = list(Court.objects.filter(role_assignments__user=user).distinct())
    system_admin = RoleAssignment.objects.filter(user=user, role=Role.SYSTEM_ADMIN).exists()
    if system_admin or not courts:
        require(actor, Action.MANAGE_COURTS)
    for court in courts:
        require(actor, Action.MANAGE_USERS, court)


def _active_system_admins() -> int:
    """Inside a transaction: the active system administrators, their rows locked, so two
    administrators taking each other's role at once cannot leave none."""
    found = RoleAssignment.objects.select_for_update().filter(
        role=Role.SYSTEM_ADMIN, user__is_active=True
    )
    return len(list(found))


def grant_role(*, actor: User, user: User, role: str, court: Court | None) -> RoleAssignment:
    """One more role for a person: the same rule as ``create_user`` for each of its roles."""
    grant = RoleGrant(role=role, court=court)
    role = _check_grant(actor, grant)
    with transaction.atomic():
        if RoleAssignment.objects.filter(user=user, role=role, court=court).exists():
            raise Conflict(
                "role_exists",
                _("%(user)s already holds the role %(role)s there."),
                params={"user": user, "role": f"{role.value!r}"},
            )
        assignment = RoleAssignment.objects.create(user=user, role=role, court=court)
        if role == Role.SYSTEM_ADMIN:
            User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
        record(
            actor=actor,
            action="user.role_grant",
            target=user,
            payload={"role": role.value, "court": court.code if court else None},
        )
    return assignment


def revoke_role(*, actor: User, assignment: RoleAssignment) -> None:
    """Take one role away from a person; they keep the rest. The last active system
    administrator keeps theirs (no one could manage Taspa after)."""
    role = _enum(Role, assignment.role, "role")
    _check_grant(actor, RoleGrant(role=role.value, court=assignment.court))
    with transaction.atomic():
        found = RoleAssignment.objects.select_for_update().filter(pk=assignment.pk).first()
        if found is None:
            raise Conflict("role_already_revoked", _("This role is already taken away."))
        if role == Role.SYSTEM_ADMIN and _active_system_admins() <= 1:
            raise Conflict("last_system_admin", _("The last system administrator keeps the role."))
        user = found.user
        found.delete()
        if role == Role.SYSTEM_ADMIN:
            User.objects.filter(pk=user.pk).update(is_staff=False, is_superuser=False)
        record(
            actor=actor,
            action="user.role_revoke",
            target=user,
            payload={
                "role": role.value,
                "court": assignment.court.code if assignment.court else None,
            },
        )


def set_user_active(*, actor: User, user: User, active: bool) -> User:
    """Deactivate a person who leaves (they can no longer sign in, their tokens stop working,
    their roles grant nothing) or let them back in. Their records stay as they are."""
    require_manager_of(actor, user)
    if not active and user.pk == actor.pk:
        raise InvalidInput("deactivate_self", _("You cannot deactivate yourself."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active == active:
            return user
        admin = RoleAssignment.objects.filter(user=user, role=Role.SYSTEM_ADMIN).exists()
        if not active and admin and _active_system_admins() <= 1:
            raise Conflict("last_system_admin", _("The last system administrator stays active."))
        user.is_active = active
        user.save(update_fields=["is_active"])
        record(
            actor=actor,
            action="user.reactivate" if active else "user.deactivate",
            target=user,
            payload={"username": user.username},
        )
    return user


def set_user_password(*, actor: User, user: User, password: str) -> User:
    """A new password an administrator sets for a person (who signs in with it)."""
    require_manager_of(actor, user)
    require_password(password)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        user.save(update_fields=["password"])
        record(actor=actor, action="user.password_set", target=user, payload={})
    return user
