"""Django admin for the table of decreed moves of days off (R34) and, read-only, petitions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from taspa.access.actions import save_day_override
from taspa.access.models import DayOverride, Petition


@admin.register(DayOverride)
class DayOverrideAdmin(admin.ModelAdmin):
    list_display = ("day", "kind", "reason", "source")
    list_filter = ("kind",)
    search_fields = ("reason", "source")
    date_hierarchy = "day"

    def save_model(self, request: Any, obj: DayOverride, form: Any, change: bool) -> None:
        save_day_override(actor=request.user, override=obj)  # audited (R34 calendar)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # a deletion would bypass the audited action


@admin.register(Petition)
class PetitionAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "applicant_name", "received_at", "due_date", "state")
    list_filter = ("kind", "state")

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # petitions change through actions only (audited)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
