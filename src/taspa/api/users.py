"""Users and tokens in the API (thin: schema → action → answer)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import Field

from taspa import limits
from taspa.api.actions import issue_token
from taspa.api.types import Id
from taspa.courts import actions, selectors
from taspa.courts.actions import RoleGrant
from taspa.courts.models import RoleAssignment, User
from taspa.courts.policy import Role
from taspa.errors import InvalidInput, NotFound

router = Router(tags=["users"])


class RoleIn(Schema):
    role: Role
    court: Id | str | None = None


class UserIn(Schema):
    username: str = Field(min_length=1, max_length=limits.USERNAME)
    full_name: str = Field(min_length=1, max_length=limits.FULL_NAME)
    email: str = Field("", max_length=limits.EMAIL)
    roles: list[RoleIn] = []
    password: str | None = Field(None, max_length=limits.PASSWORD)


class ActiveIn(Schema):
    active: bool


class ActiveOut(Schema):
    id: int
    active: bool


class PasswordIn(Schema):
    password: str = Field(max_length=limits.PASSWORD)


class IdOut(Schema):
    id: int


class TokenOut(Schema):
    token: str


def _grant(role: RoleIn) -> RoleGrant:
    if role.court is None:
        return RoleGrant(role=role.role.value, court=None)
    court = selectors.court_by_ref(role.court)
    if court is None:
        raise InvalidInput(
            "unknown_court", _("No court %(court)s."), params={"court": f"{role.court!r}"}
        )
    return RoleGrant(role=role.role.value, court=court)


@router.post("/users", response={201: IdOut})
def create_user(request: HttpRequest, payload: UserIn):
    user = actions.create_user(
        actor=request.user,
        username=payload.username,
        full_name=payload.full_name,
        email=payload.email,
        roles=[_grant(role) for role in payload.roles],
        password=payload.password,
        password_chosen=True,
    )
    return Status(201, {"id": user.pk})


def _user(user_id: int) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("No user %(user_id)s."), params={"user_id": user_id})
    return user


@router.post("/users/{user_id}/roles", response={201: IdOut})
def grant_role(request: HttpRequest, user_id: Id, payload: RoleIn):
    """One more role for the person (the same rule as each role of ``POST /users``)."""
    user = _user(user_id)
    grant = _grant(payload)
    assignment = actions.grant_role(
        actor=request.user, user=user, role=grant.role, court=grant.court
    )
    return Status(201, {"id": assignment.pk})


@router.delete("/users/{user_id}/roles/{role_id}", response={204: None})
def revoke_role(request: HttpRequest, user_id: Id, role_id: Id):
    """Take one role away (``role_id``: the id ``POST /users/{user_id}/roles`` answered)."""
    found = _user(user_id)
    assignment = (
        RoleAssignment.objects.select_related("court").filter(pk=role_id, user=found).first()
    )
    if assignment is None:
        raise NotFound()
    actions.revoke_role(actor=request.user, assignment=assignment)
    return Status(204, None)


@router.put("/users/{user_id}/active", response=ActiveOut)
def set_active(request: HttpRequest, user_id: Id, payload: ActiveIn):
    """Deactivate a person who leaves (``false``: no sign-in, no token, no role) or let them
    back in (``true``)."""
    user = actions.set_user_active(actor=request.user, user=_user(user_id), active=payload.active)
    return {"id": user.pk, "active": user.is_active}


@router.put("/users/{user_id}/password", response={204: None})
def set_password(request: HttpRequest, user_id: Id, payload: PasswordIn):
    """A new password the person signs in with (at least 8 characters)."""
    actions.set_user_password(actor=request.user, user=_user(user_id), password=payload.password)
    return Status(204, None)


@router.post("/users/{user_id}/token", response={201: TokenOut})
def create_token(request: HttpRequest, user_id: Id):
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("No user %(user_id)s."), params={"user_id": user_id})
    return Status(201, {"token": issue_token(actor=request.user, user=user)})
