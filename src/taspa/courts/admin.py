"""Django admin: a read-only window onto the domain for system administrators. Every write goes
through the areas' actions (API, web pages, command line), which check the rules, the roles and
the input limits and keep the audit trail; the admin site bypasses all of that, so it writes
nothing (issue 16: it once saved a hearing dated 1900 with a participant as its judge)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group

from taspa.courts.models import (
    Case,
    Court,
    Courtroom,
    Hearing,
    HearingParticipant,
    RoleAssignment,
    User,
)

# Taspa's roles are court-scoped role assignments; Django's groups are not used.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and shows, never adds, changes or deletes."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class RoleInline(ReadOnlyInline):
    model = RoleAssignment


@admin.register(User)
class TaspaUserAdmin(ReadOnlyAdmin, UserAdmin):
    inlines = [RoleInline]
    list_display = ("username", "full_name", "email", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("Taspa", {"fields": ("full_name", "language")}))


@admin.register(Court)
class CourtAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "level", "region")
    search_fields = ("code", "name", "region")


@admin.register(Courtroom)
class CourtroomAdmin(ReadOnlyAdmin):
    list_display = ("name", "court")
    list_filter = ("court",)


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "court", "language", "judgment_effective_on")
    list_filter = ("kind", "court")
    search_fields = ("number",)


class ParticipantInline(ReadOnlyInline):
    model = HearingParticipant


@admin.register(Hearing)
class HearingAdmin(ReadOnlyAdmin):
    list_display = ("case", "courtroom", "instance", "scheduled_at", "state", "recording_rule")
    list_filter = ("state", "instance", "closed")
    inlines = [ParticipantInline]
