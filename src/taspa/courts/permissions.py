"""The permission layer: every ``taspa.<action>`` permission, registered with ``rules``.

Views, the API and the CLI ask ``allowed(user, Action.VIEW_HEARING, hearing)``; the answer
comes from the one role table in ``policy.ROLES_FOR_ACTION`` and the court scoping in
``selectors``. Nothing else decides who may do what.
"""

from __future__ import annotations

from typing import Any

import rules

from taspa.courts import selectors
from taspa.courts.models import Case, Court, Courtroom, Hearing
from taspa.courts.policy import ROLES_FOR_ACTION, Action, Role


def court_of(obj: Any) -> Court | None:
    if isinstance(obj, Court):
        return obj
    if isinstance(obj, Case | Courtroom):
        return obj.court
    if isinstance(obj, Hearing):
        return obj.case.court
    return None


def _predicate_for(action: Action) -> rules.Predicate:
    @rules.predicate(name=f"may_{action.value}")
    def may(user: Any, obj: Any = None) -> bool:
        if action == Action.VIEW_HEARING and isinstance(obj, Hearing):
            return selectors.may_view_hearing(user, obj)
        if action == Action.OPERATE_RECORDER:
            return isinstance(obj, Hearing) and selectors.may_operate_recorder(user, obj)
        court = court_of(obj)
        if court is None:
            # Without an object only a system-wide grant counts.
            return selectors.is_system_admin(user) and Role.SYSTEM_ADMIN in ROLES_FOR_ACTION[action]
        return selectors.may_act_in_court(user, action, court)

    return may


def allowed(user: Any, action: Action, obj: Any = None) -> bool:
    """The one question every adapter asks. It goes to the rules directly rather than through
    ``user.has_perm``, because Django answers yes to a superuser for every permission, and not
    even a system administrator may operate a hearing's recorder (R7)."""
    return rules.has_perm(permission_name(action), user, obj)


def permission_name(action: Action) -> str:
    return f"taspa.{action.value}"


def register() -> None:
    for action in Action:
        rules.set_perm(permission_name(action), _predicate_for(action))
