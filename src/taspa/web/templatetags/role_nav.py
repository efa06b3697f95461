"""The navigation links to each role's work pages, by the roles the signed-in person holds."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from taspa.courts.policy import COURT_STAFF_ROLES, REGIONAL_ROLES, ROLES_FOR_ACTION, Action, Role
from taspa.courts.selectors import assignments_of

register = template.Library()

MEDIA_ROLES = {Role.SECRETARY, Role.ARCHIVIST, Role.COURT_ADMIN, Role.JUDGE}


@register.simple_tag(takes_context=True)
def role_links(context: template.Context) -> list[tuple[str, str]]:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return []
    roles = {a.role for a in assignments_of(user) if a.court_id is not None}
    links = []
    if roles & ROLES_FOR_ACTION[Action.SCHEDULE_HEARING]:
        links.append((reverse("web:hearing_schedule"), _("Schedule a hearing")))
    if roles & (COURT_STAFF_ROLES | REGIONAL_ROLES) - {Role.ARCHIVIST}:
        links.append((reverse("web:incidents"), _("Incidents and acts")))
    if roles & MEDIA_ROLES:
        links.append((reverse("web:media"), _("Case-file media")))
    if roles & REGIONAL_ROLES:  # R9, R18, R23: the regional administration's notices and acts
        links.append((reverse("web:regional"), _("Regional judicial administration")))
    # The administrators' work (issue 16): courts, then their rooms and people.
    if any(a.role == Role.SYSTEM_ADMIN for a in assignments_of(user)):
        links.append((reverse("web:courts"), _("Courts")))
    if Role.COURT_ADMIN in roles or any(a.role == Role.SYSTEM_ADMIN for a in assignments_of(user)):
        links.append((reverse("web:courtrooms"), _("Courtrooms")))
        links.append((reverse("web:people"), _("People and roles")))
    return links


@register.filter
def at(items: list, index: int) -> object:
    """``items[index]``, or "" past the end (a table cell's column heading, for phones)."""
    try:
        return items[index]
    except (IndexError, TypeError):
        return ""
