"""Incidents: failures of recording and breaks in the record (R9, R10, R16, R17)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taspa.incidents.policy import IncidentKind


class Incident(models.Model):
    hearing = models.ForeignKey("courts.Hearing", models.PROTECT, related_name="incidents")
    kind = models.CharField(
        _("kind"), max_length=32, choices=[(k.value, k.value) for k in IncidentKind]
    )
    detail = models.TextField(_("reason"))
    at = models.DateTimeField(_("reported at"))
    # For breaks in the record: the span of media that is missing.
    gap_start = models.DateTimeField(null=True, blank=True)
    gap_end = models.DateTimeField(null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    judge_told_at = models.DateTimeField(_("judge told at"), null=True, blank=True)
    announced_at = models.DateTimeField(_("announced to participants at"), null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M:%S}"
