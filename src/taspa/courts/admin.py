from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from taspa.courts.models import (
    Case,
    Court,
    Courtroom,
    Hearing,
    HearingParticipant,
    RoleAssignment,
    User,
)


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0


@admin.register(User)
class TaspaUserAdmin(UserAdmin):
    inlines = [RoleInline]
    list_display = ("username", "full_name", "email", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("Taspa", {"fields": ("full_name", "language")}))


@admin.register(Court)
class CourtAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "region")
    search_fields = ("code", "name", "region")


@admin.register(Courtroom)
class CourtroomAdmin(admin.ModelAdmin):
    list_display = ("name", "court")
    list_filter = ("court",)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("number", "kind", "court", "language", "judgment_effective_on")
    list_filter = ("kind", "court")
    search_fields = ("number",)


class ParticipantInline(admin.TabularInline):
    model = HearingParticipant
    extra = 0


@admin.register(Hearing)
class HearingAdmin(admin.ModelAdmin):
    list_display = ("case", "courtroom", "instance", "scheduled_at", "state", "recording_rule")
    list_filter = ("state", "instance", "closed")
    inlines = [ParticipantInline]
    readonly_fields = (
        "state",
        "recording_required",
        "recording_rule",
        "recording_explanation_ru",
        "recording_explanation_en",
    )
