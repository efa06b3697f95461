"""Incidents: failures of recording and breaks in the record (R9, R10, R16, R17)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taspa.incidents.policy import ActStatus, IncidentKind


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
    # R9: after the hearing the court administrator is told; they forward it to the regional
    # judicial administration's staff.
    admin_notified_at = models.DateTimeField(
        _("court administrator notified at"), null=True, blank=True
    )
    forwarded_at = models.DateTimeField(
        _("forwarded to the regional administration at"), null=True, blank=True
    )
    forwarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    forward_note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M:%S}"


class Notification(models.Model):
    """One notice in a person's in-app inbox; the same notice also goes out by e-mail."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=32)
    subject = models.CharField(_("heading"), max_length=255)
    body = models.TextField(_("text"))
    incident = models.ForeignKey(
        Incident, models.PROTECT, null=True, blank=True, related_name="notifications"
    )
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # E-mail delivery: sent, or why not (no address, SMTP refused); the inbox copy stays either way.
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    email_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"


class RecordingCheck(models.Model):
    """R17: the outcome of checking that a hearing was actually recorded (done once per hearing
    and recording, so the periodic job and the stop signal never raise the incident twice)."""

    hearing = models.ForeignKey("courts.Hearing", models.PROTECT, related_name="recording_checks")
    recording = models.ForeignKey(
        "recorder.Recording", models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField()
    ok = models.BooleanField()
    reason = models.CharField(max_length=32, blank=True)
    facts = models.JSONField(default=dict)
    incident = models.ForeignKey(Incident, models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hearing", "recording"], name="one_check_per_hearing_recording"
            ),
            models.UniqueConstraint(
                fields=["hearing"],
                condition=models.Q(recording__isnull=True),
                name="one_check_per_unrecorded_hearing",
            ),
        ]

    def __str__(self) -> str:
        return f"hearing {self.hearing_id}: {'recorded' if self.ok else self.reason}"


class Act(models.Model):
    """R17/R18: the act on a recording failure, signed by the roles the instance requires.

    Issued as two separate PDFs with the same number and date, Kazakh then Russian; every
    signer adds an incremental PAdES signature to both, so earlier signatures stay valid.
    """

    court = models.ForeignKey("courts.Court", models.PROTECT, related_name="acts")
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField(_("number"))
    date = models.DateField(_("date"))
    hearing = models.ForeignKey("courts.Hearing", models.PROTECT, related_name="acts")
    incidents = models.ManyToManyField(Incident, related_name="acts")
    required_roles = models.JSONField(_("required signers"), default=list)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=[(s.value, s.value) for s in ActStatus],
        default=ActStatus.PENDING.value,
    )
    pdf_kk = models.BinaryField(editable=False)
    pdf_ru = models.BinaryField(editable=False)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    # R18: once every signature is present the act is attached to the hearing's minutes.
    attached_to_minutes_at = models.DateTimeField(
        _("attached to the minutes at"), null=True, blank=True
    )

    class Meta:
        ordering = ["court", "year", "number"]
        verbose_name = _("act")
        verbose_name_plural = _("acts")
        constraints = [
            models.UniqueConstraint(
                fields=["court", "year", "number"], name="act_number_per_court_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number}/{self.year}"

    def pdf(self, language: str) -> bytes:
        return bytes(self.pdf_kk if language == "kk" else self.pdf_ru)


class ActSignature(models.Model):
    """One required signer's PAdES signature, on both language versions of the act (R18)."""

    act = models.ForeignKey(Act, models.PROTECT, related_name="signatures")
    role = models.CharField(_("role"), max_length=32)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(_("signed at"))
    subject = models.CharField(_("certificate subject"), max_length=1024)
    sha256_kk = models.CharField(max_length=64)
    sha256_ru = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["act", "role"], name="one_signature_per_act_role"),
            models.UniqueConstraint(fields=["act", "user"], name="one_signature_per_act_user"),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.user} @ {self.signed_at:%Y-%m-%d %H:%M}"


class MinutesDecision(models.Model):
    """R3.4: where the Rules leave it to the judge (nobody in a civil case appeared, or no new
    evidence is examined), the judge's decision whether minutes — and so the recording — are
    kept. The latest decision counts; each is in the audit trail. R17 then treats the hearing
    as one that had to be recorded, or not."""

    hearing = models.ForeignKey("courts.Hearing", models.PROTECT, related_name="minutes_decisions")
    keep_minutes = models.BooleanField(_("minutes are kept"))
    note = models.TextField(_("note"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"))

    class Meta:
        ordering = ["decided_at", "id"]
        verbose_name = _("judge's decision on the minutes")
        verbose_name_plural = _("judge's decisions on the minutes")

    def __str__(self) -> str:
        return f"hearing {self.hearing_id}: {'minutes' if self.keep_minutes else 'no minutes'}"
