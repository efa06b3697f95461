"""Petitions for review and copies, their deadlines, copies, review slots and receipts
(R28–R35), the link between participants' accounts and their cases, and the table of days off
the government moves (R34)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taspa.access.policy import ApplicantRole, Delivery, Form, Media, PetitionKind


def _choices(enum_type: type) -> list[tuple[str, str]]:
    return [(member.value, member.value) for member in enum_type]


class DayOverride(models.Model):
    """A day the government's decree moves (R34): a weekday made a day off, or a weekend day
    made a working day. Administrators keep this table in Django's admin; the ``holidays``
    package gives the statutory holidays underneath it."""

    class Kind(models.TextChoices):
        DAY_OFF = "day_off", _("day off")
        WORKING_DAY = "working_day", _("working day")

    day = models.DateField(_("day"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=255)
    source = models.CharField(_("source (decree, publication)"), max_length=500)

    class Meta:
        ordering = ["day"]
        verbose_name = _("moved day off")
        verbose_name_plural = _("moved days off")

    def __str__(self) -> str:
        return f"{self.day}: {self.kind}"


class CaseParty(models.Model):
    """An account the court linked to a case: the person may petition online (R28, R30)."""

    case = models.ForeignKey("courts.Case", models.CASCADE, related_name="parties")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="case_links")
    role = models.CharField(_("role"), max_length=32, choices=_choices(ApplicantRole))
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("case party")
        verbose_name_plural = _("case parties")
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="one_link_per_case")]

    def __str__(self) -> str:
        return f"{self.user} — {self.role} in {self.case}"


class Petition(models.Model):
    """A petition to review a recording or to get a copy (R28, R31), on paper or online."""

    class Channel(models.TextChoices):
        PAPER = "paper", _("on paper, registered by the court")
        ONLINE = "online", _("online, by the applicant")

    class State(models.TextChoices):
        OPEN = "open", _("open")
        FULFILLED = "fulfilled", _("fulfilled")
        CLOSED = "closed", _("closed: receipt signed")
        REFUSED = "refused", _("answered with a refusal")

    hearing = models.ForeignKey("courts.Hearing", models.PROTECT, related_name="petitions")
    kind = models.CharField(_("kind"), max_length=8, choices=_choices(PetitionKind))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    applicant_name = models.CharField(_("applicant"), max_length=255)
    applicant_role = models.CharField(_("role"), max_length=32, choices=_choices(ApplicantRole))
    applicant_role_as_written = models.CharField(max_length=64, blank=True)
    applicant_address = models.CharField(_("address"), max_length=500, blank=True)
    applicant_phone = models.CharField(_("phone"), max_length=64, blank=True)
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="petitions"
    )
    delivery = models.CharField(_("delivery"), max_length=8, choices=_choices(Delivery))
    received_at = models.DateField(_("reached the court on"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    media = models.CharField(_("media"), max_length=16, choices=_choices(Media), blank=True)
    form = models.CharField(_("form"), max_length=16, choices=_choices(Form), blank=True)
    rule = models.CharField(max_length=8)
    # R31: the warning on liability for misusing personal data, acknowledged by the applicant.
    personal_data_warning_acknowledged = models.BooleanField(default=False)
    # R33: «Проинформирован и согласен, что прилагаемый носитель будет отформатирован».
    medium_formatting_consent = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    # R34: a petition the court cannot meet is answered within its term with the reason.
    refused_at = models.DateTimeField(_("refused at"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason for the refusal"), blank=True)
    reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} — {self.applicant_name}"


class Copy(models.Model):
    """The copy package issued on a petition (R31): never altered, one per petition."""

    petition = models.OneToOneField(Petition, models.PROTECT, related_name="copy")
    media = models.CharField(max_length=16, choices=_choices(Media))
    file_name = models.CharField(max_length=255)  # the zip's name
    digest = models.CharField(max_length=64)  # SHA-256 of the zip, its key in the blob store
    bytes = models.PositiveBigIntegerField()
    media_sha256 = models.CharField(max_length=64)  # the copy's media file inside
    signer_subject = models.CharField(max_length=500)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    made_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    medium_formatted_at = models.DateTimeField(null=True, blank=True)  # R33
    medium_formatted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    # R33: what formatting the applicant's medium did (device, size, label before, file system,
    # commands) and the file written onto it with its digest read back.
    medium_record = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("copy")
        verbose_name_plural = _("copies")

    def __str__(self) -> str:
        return self.file_name


class ReviewSlot(models.Model):
    """R28: a time at the court's review station; R29: after it, the medium's visual check."""

    petition = models.OneToOneField(Petition, models.PROTECT, related_name="review_slot")
    starts_at = models.DateTimeField()
    place = models.CharField(max_length=255)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    # R28: when the review took place, who ran it, and which case-file medium was played (the
    # one R29's visual check is of; None when the review station played the court's own copy).
    held_at = models.DateTimeField(_("review held at"), null=True, blank=True)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    medium = models.ForeignKey(
        "custody.Medium", models.PROTECT, null=True, blank=True, related_name="reviews"
    )
    medium_checked_at = models.DateTimeField(null=True, blank=True)
    medium_intact = models.BooleanField(null=True, blank=True)
    medium_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("review slot")
        verbose_name_plural = _("review slots")

    def __str__(self) -> str:
        return f"review {self.starts_at:%Y-%m-%d %H:%M} — {self.place}"


class Receipt(models.Model):
    """R35: the mark on the petition by the person who reviewed the recording or got the copy."""

    class Channel(models.TextChoices):
        PAPER = "paper", _("signed on paper, recorded by staff")
        ONLINE = "online", _("confirmed online by the applicant")

    petition = models.OneToOneField(Petition, models.PROTECT, related_name="receipt")
    signed_by_name = models.CharField(max_length=255)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")

    def __str__(self) -> str:
        return f"{self.signed_by_name} @ {self.at:%Y-%m-%d %H:%M}"
