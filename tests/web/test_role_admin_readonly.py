"""Django admin is a read-only window onto the domain (issue 16): every write goes through the
areas' actions, with their rules, role checks, input limits and audit trail."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from taspa.courts.models import Hearing


def writes_through_an_action(model_admin: admin.ModelAdmin) -> bool:
    """Configuration tables (the calendar of days off, R34; retention periods, R25) are kept in
    the admin, but their admin saves through the area's audited action, never the ORM."""
    return type(model_admin).save_model is not admin.ModelAdmin.save_model


@pytest.fixture
def root(world) -> Client:
    client = Client()
    client.force_login(world.admin)
    return client


def test_admin_refuses_add_change_and_delete_for_every_domain_model(world, root):
    hearing = world.hearing()
    request = root.get("/").wsgi_request
    request.user = world.admin
    wrong = []
    for model, model_admin in admin.site._registry.items():
        if not model.__module__.startswith("taspa."):
            continue  # e.g. the sign-in throttle's lockouts, which an administrator lifts
        if writes_through_an_action(model_admin):
            if model_admin.has_delete_permission(request):
                wrong.append(f"{model._meta.label}: delete bypasses the action")
            continue
        name = model._meta.label
        if model_admin.has_add_permission(request):
            wrong.append(f"{name}: add")
        if model_admin.has_change_permission(request):
            wrong.append(f"{name}: change")
        if model_admin.has_delete_permission(request):
            wrong.append(f"{name}: delete")
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        if root.get(changelist).status_code != 200:
            wrong.append(f"{name}: the list is not shown")
    assert wrong == [], wrong
    assert not admin.site.is_registered(Group), "roles are court-scoped assignments, not groups"
    info = "admin:courts_hearing"
    assert root.get(reverse(f"{info}_add")).status_code == 403
    assert root.get(reverse(f"{info}_delete", args=[hearing.pk])).status_code == 403
    # The change page only shows; a forged POST of year 1900 changes nothing.
    assert root.get(reverse(f"{info}_change", args=[hearing.pk])).status_code == 200
    forged = root.post(
        reverse(f"{info}_change", args=[hearing.pk]),
        {"scheduled_at_0": "1900-01-01", "scheduled_at_1": "10:00:00"},
    )
    assert forged.status_code == 403
    hearing.refresh_from_db()
    assert hearing.scheduled_at.year >= 2000
    assert (
        root.post(reverse(f"{info}_delete", args=[hearing.pk]), {"post": "yes"}).status_code == 403
    )
    assert Hearing.objects.filter(pk=hearing.pk).exists()
