"""People and their roles in the browser (issue 16): the system administrator for everyone, the
court administrator for the people of their own court — the list with a search, a new person
with their first role, more roles granted or taken away per court, a person deactivated (or
let back in), a new password, and the person's registered EDS key (R14). Thin: the forms parse
with the API's limits; ``courts.actions`` and ``sealing.actions`` decide and write, exactly as
``POST /users`` and ``POST|DELETE /users/{id}/signing-key`` call them. A court administrator
sees nothing of another court's people (404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from taspa.courts import actions
from taspa.courts.actions import RoleGrant
from taspa.courts.models import Court, RoleAssignment, User
from taspa.courts.policy import ROLES_A_COURT_ADMIN_GRANTS, Action, Role
from taspa.courts.selectors import court_scope, is_system_admin
from taspa.errors import DomainError, Forbidden
from taspa.sealing import actions as sealing
from taspa.web.people_forms import (
    PasswordForm,
    PersonForm,
    RoleForm,
    SigningKeyForm,
    role_label,
)

ROWS = 100

# The refusals of the actions, in the user's language (their own texts are English, built
# with the values in them); a code not listed here says the roles do not allow it.
REFUSALS = {
    "court_exists": gettext_lazy("A court with this code already exists."),
    "courtroom_exists": gettext_lazy("The court already has a room with this name."),
    "user_exists": gettext_lazy("This user name is taken."),
    "role_exists": gettext_lazy("The person already holds this role there."),
    "role_already_revoked": gettext_lazy("This role has already been taken away."),
    "court_required": gettext_lazy("Choose the court where the person holds this role."),
    "invalid_role": gettext_lazy("The system administrator's role is not tied to a court."),
    "last_system_admin": gettext_lazy(
        "The last system administrator keeps the role and stays active."
    ),
    "deactivate_self": gettext_lazy("You cannot deactivate yourself."),
    "p12_unreadable": gettext_lazy(
        "The key file cannot be opened: the password is wrong, or it is not a key file."
    ),
    "p12_too_large": gettext_lazy("This file is too large to be a key file."),
    "certificate_expired": gettext_lazy("The certificate of this key has expired."),
    "certificate_not_yet_valid": gettext_lazy("The certificate of this key is not valid yet."),
    "certificate_untrusted": gettext_lazy(
        "The certificate was not issued by a certification authority this court trusts."
    ),
    "signing_key_missing": gettext_lazy("The person has no active signing key."),
    "signing_key_already_revoked": gettext_lazy("This signing key is already revoked."),
    "forbidden": gettext_lazy("Your roles do not allow this here."),
}

# The account rules' refusals (``courts.actions.require_username`` and the rest) are shown as
# the action words them, next to their field.
# Refusals whose own text is a sentence of the catalogue with its values (which source is wrong).
OWN_WORDS = {
    "invalid_username",
    "invalid_email",
    "password_too_short",
    "text_too_long",
    "invalid_sources",
}

FIELD_OF_CODE = {
    "user_exists": "username",
    "invalid_username": "username",
    "invalid_email": "email",
    "password_too_short": "password",
    "role_exists": "role",
    "court_required": "court",
    "invalid_role": "court",
    "forbidden": "role",
    "p12_unreadable": "p12",
    "p12_too_large": "p12",
    "certificate_expired": "p12",
    "certificate_not_yet_valid": "p12",
    "certificate_untrusted": "p12",
}


def refusal_text(refusal: DomainError) -> str:
    if refusal.code in OWN_WORDS:
        return refusal.detail
    text = REFUSALS.get(refusal.code) or REFUSALS["forbidden"]
    return str(text)


def user_courts(user: User) -> Any:
    """The courts whose people ``user`` manages (MANAGE_USERS: all for a system administrator,
    their own court for a court administrator)."""
    return Court.objects.filter(court_scope(user, Action.MANAGE_USERS))


def _scope(actor: User) -> Any:
    courts = user_courts(actor)
    if not courts.exists():
        raise Http404  # nobody else sees these pages
    return courts


def managed_people(actor: User, courts: Any) -> Any:
    """Everyone for a system administrator; the people holding a role in their court for a
    court administrator."""
    people = User.objects.all()
    if not is_system_admin(actor):
        people = people.filter(role_assignments__court__in=courts).distinct()
    return people


def _one_court(courts: Any) -> dict[str, Any]:
    """A court administrator's own court, chosen already (it is the only one offered)."""
    found = list(courts[:2])
    return {"court": found[0]} if len(found) == 1 else {}


def _grantable(actor: User) -> list[str]:
    if is_system_admin(actor):
        return [r.value for r in Role]
    return [r.value for r in Role if r in ROLES_A_COURT_ADMIN_GRANTS]


def _roles_of(person: User, courts: Any, actor: User) -> list[dict[str, Any]]:
    """The person's roles the actor may see: in the actor's courts (and the system-wide role
    for a system administrator), each with whether the actor may take it away."""
    admin = is_system_admin(actor)
    grantable = set(_grantable(actor))
    court_ids = set(courts.values_list("pk", flat=True))
    shown = []
    for a in person.role_assignments.all():
        if (a.court_id is None and not admin) or (
            a.court_id is not None and a.court_id not in court_ids
        ):
            continue
        shown.append(
            {
                "assignment": a,
                "label": role_label(a.role),
                "court": a.court,
                "may_revoke": a.role in grantable,
            }
        )
    return shown


@login_required
@require_http_methods(["GET", "POST"])
def people(request: HttpRequest) -> HttpResponse:
    courts = _scope(request.user)
    bound = request.POST if request.method == "POST" else None
    form = PersonForm(
        bound, courts=courts, roles=_grantable(request.user), initial=_one_court(courts)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = actions.create_user(
                actor=request.user,
                username=data["username"],
                full_name=data["full_name"],
                email=data["email"],
                roles=[RoleGrant(role=data["role"], court=data["court"])],
                password=data["password"],
                password_chosen=True,
            )
        except DomainError as refusal:
            form.add_error(FIELD_OF_CODE.get(refusal.code), refusal_text(refusal))
        else:
            messages.success(request, _("%(name)s is added.") % {"name": person})
            return redirect("web:person", user_id=person.pk)
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    found = managed_people(request.user, courts)
    if query:
        found = found.filter(
            Q(username__icontains=query) | Q(full_name__icontains=query) | Q(email__icontains=query)
        )
    found = found.prefetch_related(
        Prefetch("role_assignments", queryset=RoleAssignment.objects.select_related("court"))
    ).order_by("full_name", "username")[:ROWS]
    rows = [{"person": p, "roles": _roles_of(p, courts, request.user)} for p in found]
    return render(request, "web/people.html", {"form": form, "rows": rows, "query": query})


def _person(actor: User, user_id: int) -> tuple[User, Any]:
    courts = _scope(actor)
    person = managed_people(actor, courts).filter(pk=user_id).first()
    if person is None:
        raise Http404  # another court's person is not shown, not merely refused
    return person, courts


def _manages(actor: User, person: User) -> bool:
    """Whether ``actor`` may deactivate the person, set their password and their key: a court
    administrator only for a person who works in no other court."""
    try:
        actions.require_manager_of(actor, person)
    except Forbidden:
        return False
    return True


def _person_page(
    request: HttpRequest, person: User, courts: Any, status: int = 200, **forms: Any
) -> HttpResponse:
    key = sealing.current_key(person)
    context = {
        "person": person,
        "roles": _roles_of(person, courts, request.user),
        "role_form": forms.get("role_form")
        or RoleForm(courts=courts, roles=_grantable(request.user), initial=_one_court(courts)),
        "password_form": forms.get("password_form") or PasswordForm(),
        "key_form": forms.get("key_form") or SigningKeyForm(),
        "manages": _manages(request.user, person),
        "myself": person.pk == request.user.pk,
        "key": key,
        "key_usable": key is not None and not key.is_revoked and not key.is_expired(),
        "key_expired": key is not None and not key.is_revoked and key.is_expired(),
        "now": timezone.now(),
    }
    return render(request, "web/person.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def person(request: HttpRequest, user_id: int) -> HttpResponse:
    found, courts = _person(request.user, user_id)
    return _person_page(request, found, courts)


def _person_form(
    request: HttpRequest,
    found: User,
    courts: Any,
    form: forms.Form,
    name: str,
    store: Callable[[dict[str, Any]], str],
    field: str,
) -> HttpResponse:
    """The person page's forms (a role, a password, a signing key) are one handler: a valid
    form goes to ``store`` (its action), which says what was done; a refusal stands next to
    its field (``FIELD_OF_CODE`` where the form has that field, else ``field``) in the user's
    language, nothing is stored, and the page is shown again with the form as ``name``."""
    if form.is_valid():
        try:
            done = store(form.cleaned_data)
        except DomainError as refusal:
            at = FIELD_OF_CODE.get(refusal.code)
            form.add_error(at if at in form.fields else field, refusal_text(refusal))
        else:
            messages.success(request, done)
            return redirect("web:person", user_id=found.pk)
    return _person_page(request, found, courts, **{name: form})


@login_required
@require_POST
def grant(request: HttpRequest, user_id: int) -> HttpResponse:
    found, courts = _person(request.user, user_id)

    def store(data: dict[str, Any]) -> str:
        role, court = data["role"], data["court"]
        actions.grant_role(actor=request.user, user=found, role=role, court=court)
        return _("The role is granted: %(role)s.") % {"role": role_label(role)}

    form = RoleForm(request.POST, courts=courts, roles=_grantable(request.user))
    return _person_form(request, found, courts, form, "role_form", store, "role")


@login_required
@require_POST
def revoke(request: HttpRequest, assignment_id: int) -> HttpResponse:
    courts = _scope(request.user)
    assignment = (
        RoleAssignment.objects.filter(pk=assignment_id)
        .filter(Q(court__in=courts) | Q(court__isnull=True))
        .select_related("court", "user")
        .first()
    )
    if assignment is None or (assignment.court_id is None and not is_system_admin(request.user)):
        raise Http404
    try:
        actions.revoke_role(actor=request.user, assignment=assignment)
    except DomainError as refusal:
        messages.error(request, refusal_text(refusal))
    else:
        messages.success(
            request, _("The role is taken away: %(role)s.") % {"role": role_label(assignment.role)}
        )
    if not managed_people(request.user, courts).filter(pk=assignment.user_id).exists():
        return redirect("web:people")  # no longer one of this court's people
    return redirect("web:person", user_id=assignment.user_id)


@login_required
@require_POST
def set_active(request: HttpRequest, user_id: int) -> HttpResponse:
    found, _courts = _person(request.user, user_id)
    active = request.POST.get("active") == "yes"
    try:
        actions.set_user_active(actor=request.user, user=found, active=active)
    except DomainError as refusal:
        messages.error(request, refusal_text(refusal))
    else:
        if active:
            messages.success(request, _("%(name)s may sign in again.") % {"name": found})
        else:
            messages.success(
                request, _("%(name)s is deactivated: they can no longer sign in.") % {"name": found}
            )
    return redirect("web:person", user_id=found.pk)


@login_required
@require_POST
def set_password(request: HttpRequest, user_id: int) -> HttpResponse:
    found, courts = _person(request.user, user_id)

    def store(data: dict[str, Any]) -> str:
        actions.set_user_password(actor=request.user, user=found, password=data["password"])
        return _("The new password is set.")

    form = PasswordForm(request.POST)
    return _person_form(request, found, courts, form, "password_form", store, "password")


@login_required
@require_POST
def signing_key(request: HttpRequest, user_id: int) -> HttpResponse:
    """R14: register the person's EDS key (a previous active key is revoked by the action)."""
    found, courts = _person(request.user, user_id)

    def store(data: dict[str, Any]) -> str:
        upload = data["p12"]
        if upload.size is not None and upload.size > sealing.MAX_P12_BYTES:
            raise DomainError("p12_too_large", "too large")
        sealing.register_signing_key(
            actor=request.user, user=found, p12=upload.read(), password=data["password"]
        )
        return _("The signing key is registered.")

    form = SigningKeyForm(request.POST, request.FILES)
    return _person_form(request, found, courts, form, "key_form", store, "p12")


@login_required
@require_POST
def signing_key_revoke(request: HttpRequest, user_id: int) -> HttpResponse:
    """R14, R20: the key stops signing at once; it stays on record for verification."""
    found, _courts = _person(request.user, user_id)
    try:
        sealing.revoke_current_signing_key(actor=request.user, user=found)
    except DomainError as refusal:
        messages.error(request, refusal_text(refusal))
    else:
        messages.success(request, _("The signing key is revoked: it signs nothing from now on."))
    return redirect("web:person", user_id=found.pk)
