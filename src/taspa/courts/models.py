"""Courts, people and their roles, courtrooms, cases and hearings."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from taspa.courts.policy import CaseKind, CourtLevel, Instance, Requirement, Role


def _choices(enum_type: type) -> list[tuple[str, str]]:
    return [(member.value, member.value) for member in enum_type]


class Court(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True, allow_unicode=False)
    name = models.CharField(_("name"), max_length=255)
    level = models.CharField(_("level"), max_length=16, choices=_choices(CourtLevel))
    region = models.CharField(_("region"), max_length=128)

    class Meta:
        ordering = ["code"]
        verbose_name = _("court")
        verbose_name_plural = _("courts")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class User(AbstractUser):
    """A person who uses Taspa; what they may do comes from their court-scoped roles."""

    full_name = models.CharField(_("full name"), max_length=255, blank=True)
    language = models.CharField(
        _("interface language"),
        max_length=8,
        blank=True,
        help_text=_("Remembered choice of the interface language."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username


class RoleAssignment(models.Model):
    """One role of one user in one court; only the system administrator role has no court."""

    user = models.ForeignKey(User, models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=32, choices=_choices(Role))
    court = models.ForeignKey(
        Court, models.PROTECT, null=True, blank=True, related_name="role_assignments"
    )

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "court"], name="one_role_per_user_and_court"
            ),
            models.CheckConstraint(
                condition=models.Q(role=Role.SYSTEM_ADMIN.value, court__isnull=True)
                | (~models.Q(role=Role.SYSTEM_ADMIN.value) & models.Q(court__isnull=False)),
                name="role_court_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.role} @ {self.court.code if self.court else '*'}"


class Courtroom(models.Model):
    """A room with its capture sources: ffmpeg inputs set by administrators only (R20)."""

    court = models.ForeignKey(Court, models.PROTECT, related_name="courtrooms")
    name = models.CharField(_("name"), max_length=255)
    sources = models.JSONField(_("capture sources"), default=list)

    class Meta:
        ordering = ["court__code", "name"]
        verbose_name = _("courtroom")
        verbose_name_plural = _("courtrooms")
        constraints = [
            models.UniqueConstraint(fields=["court", "name"], name="courtroom_name_per_court")
        ]

    def __str__(self) -> str:
        return f"{self.court.code}: {self.name}"


class Case(models.Model):
    class Language(models.TextChoices):
        KAZAKH = "kk", _("Kazakh")
        RUSSIAN = "ru", _("Russian")

    court = models.ForeignKey(Court, models.PROTECT, related_name="cases")
    number = models.CharField(_("case number"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=_choices(CaseKind))
    language = models.CharField(
        _("language of proceedings"), max_length=2, choices=Language.choices, default="kk"
    )
    judgment_effective_on = models.DateField(
        _("judgment took legal effect on"), null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["court__code", "number"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(fields=["court", "number"], name="case_number_per_court")
        ]

    def __str__(self) -> str:
        return self.number


class Hearing(models.Model):
    class State(models.TextChoices):
        IDLE = "idle", _("scheduled")
        PREFLIGHT = "preflight", _("equipment check")
        RECORDING = "recording", _("recording")
        PAUSED = "paused", _("paused")
        STOPPED = "stopped", _("stopped")
        SEALED = "sealed", _("sealed")

    case = models.ForeignKey(Case, models.PROTECT, related_name="hearings")
    courtroom = models.ForeignKey(Courtroom, models.PROTECT, related_name="hearings")
    instance = models.CharField(_("instance"), max_length=16, choices=_choices(Instance))
    closed = models.BooleanField(_("closed hearing"), default=False)
    judge = models.ForeignKey(User, models.PROTECT, related_name="hearings_as_judge")
    secretary = models.ForeignKey(User, models.PROTECT, related_name="hearings_as_secretary")
    # R7: a stand-in secretary assigned by the court administrator may operate the recorder.
    stand_in = models.ForeignKey(
        User, models.PROTECT, null=True, blank=True, related_name="hearings_as_stand_in"
    )
    scheduled_at = models.DateTimeField(_("scheduled at"))
    circumstances = models.JSONField(_("circumstances"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default="idle")
    recording_required = models.CharField(max_length=16, choices=_choices(Requirement))
    recording_rule = models.CharField(max_length=8)
    recording_explanation_ru = models.TextField()
    recording_explanation_en = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scheduled_at", "id"]
        verbose_name = _("hearing")
        verbose_name_plural = _("hearings")
        # The hearing lists (newest first) walk this index and stop at the page's end.
        indexes = [models.Index(fields=["scheduled_at", "id"], name="hearing_scheduled")]

    def __str__(self) -> str:
        return f"{self.case.number} @ {self.scheduled_at:%Y-%m-%d %H:%M}"

    @property
    def court(self) -> Court:
        return self.case.court


class HearingParticipant(models.Model):
    """A person taking part in a hearing, with their procedural role (plaintiff, witness…)."""

    hearing = models.ForeignKey(Hearing, models.CASCADE, related_name="participants")
    name = models.CharField(_("name"), max_length=255)
    role = models.CharField(_("procedural role"), max_length=64)
    user = models.ForeignKey(
        User, models.SET_NULL, null=True, blank=True, related_name="participations"
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("hearing participant")
        verbose_name_plural = _("hearing participants")

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"
