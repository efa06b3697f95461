"""Users and tokens in the API (thin: schema → action → answer)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import Field

from taspa.api.actions import issue_token
from taspa.api.types import Id
from taspa.courts import actions, selectors
from taspa.courts.actions import RoleGrant
from taspa.courts.models import User
from taspa.courts.policy import Role
from taspa.errors import InvalidInput, NotFound

router = Router(tags=["users"])


class RoleIn(Schema):
    role: Role
    court: Id | str | None = None


class UserIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    full_name: str = Field(min_length=1, max_length=255)
    email: str = Field("", max_length=254)
    roles: list[RoleIn] = []
    password: str | None = None


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
    )
    return Status(201, {"id": user.pk})


@router.post("/users/{user_id}/token", response={201: TokenOut})
def create_token(request: HttpRequest, user_id: Id):
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("No user %(user_id)s."), params={"user_id": user_id})
    return Status(201, {"token": issue_token(actor=request.user, user=user)})
