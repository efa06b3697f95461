"""Issuing and resolving API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taspa.api.models import ApiToken
from taspa.audit.actions import record
from taspa.courts import selectors
from taspa.courts.models import User
from taspa.courts.policy import Action
from taspa.errors import Forbidden

TOKEN_PREFIX = "tsp_"  # noqa: S105 — a visible marker, not a secret
LAST_USED_PRECISION = timedelta(minutes=1)  # how stale ``last_used_at`` may be


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def may_issue_token(actor: User | None, user: User) -> bool:
    """A user may get their own token; administrators for users of the courts they manage."""
    if actor is None:  # the server's own operator at the console (`taspa token create`)
        return True
    if actor.pk == user.pk or selectors.is_system_admin(actor):
        return True
    courts = {a.court for a in selectors.assignments_of(user) if a.court}
    return bool(courts) and all(
        selectors.may_act_in_court(actor, Action.MANAGE_USERS, court) for court in courts
    )


def issue_token(*, actor: User | None, user: User) -> str:
    """Make a new bearer token for ``user`` and return it; only its digest is kept."""
    if not may_issue_token(actor, user):
        raise Forbidden(_("You may not issue tokens for this user."))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        ApiToken.objects.create(user=user, digest=_digest(token), prefix=token[:12])
        record(actor=actor, action="token.issue", target=user, payload={"prefix": token[:12]})
    return token


def user_for_token(token: str) -> User | None:
    row = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None:
        return None
    now = timezone.now()
    stale = now - LAST_USED_PRECISION
    if row.last_used_at is None or row.last_used_at < stale:
        # At most one write a minute per token: a busy client's requests stay reads. The
        # condition in the UPDATE keeps concurrent requests from writing it twice.
        ApiToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=row.pk
        ).update(last_used_at=now)
    return row.user
