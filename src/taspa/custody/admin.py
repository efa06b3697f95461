"""Django admin for the table of retention periods of case-file media by case kind (R25)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from taspa.custody.actions import save_retention_period
from taspa.custody.models import RetentionPeriod


@admin.register(RetentionPeriod)
class RetentionPeriodAdmin(admin.ModelAdmin):
    list_display = ("case_kind", "years", "assumption", "source", "updated_at")
    list_filter = ("assumption",)
    readonly_fields = ("updated_at", "updated_by")

    def save_model(self, request: Any, obj: RetentionPeriod, form: Any, change: bool) -> None:
        save_retention_period(actor=request.user, period=obj)  # audited (R25)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # a kind without a row would silently fall back to the default
