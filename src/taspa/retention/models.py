"""The retention clock of a case and the disposition of each recording (R24, R27)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taspa.retention.policy import Disposition


class CaseRetention(models.Model):
    """R24: the judgment's effective date starts the clock; a legal hold stops deletion."""

    case = models.OneToOneField("courts.Case", models.PROTECT, related_name="retention")
    retention_until = models.DateField(_("keep on the court server until"), null=True, blank=True)
    hold = models.BooleanField(_("legal hold"), default=False)
    hold_reason = models.TextField(_("reason for the legal hold"), blank=True)
    hold_set_at = models.DateTimeField(null=True, blank=True)
    hold_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("retention of a case")
        verbose_name_plural = _("retention of cases")

    def __str__(self) -> str:
        return f"case {self.case_id} until {self.retention_until}"


class RecordingRetention(models.Model):
    """A recording's copy of its case's clock (so the daily sweep is one index range scan)
    and where the recording lives now (R27)."""

    recording = models.OneToOneField("recorder.Recording", models.PROTECT, related_name="retention")
    retention_until = models.DateField(null=True, blank=True)
    hold = models.BooleanField(default=False)
    disposition = models.CharField(
        max_length=16,
        choices=[(d.value, d.value) for d in Disposition],
        default=Disposition.ON_SERVER,
    )
    archive_url = models.CharField(max_length=500, blank=True)
    archive_digest = models.CharField(max_length=64, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("retention of a recording")
        verbose_name_plural = _("retention of recordings")
        indexes = [
            models.Index(
                fields=["retention_until", "id"],
                name="retention_due",
                condition=models.Q(hold=False) & ~models.Q(disposition="deleted"),
            )
        ]

    def __str__(self) -> str:
        return f"recording {self.recording_id}: {self.disposition}"

    @property
    def archive_location(self) -> str:
        return f"{self.archive_url}#sha256={self.archive_digest}" if self.archive_digest else ""
