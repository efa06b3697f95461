"""The case-file medium, who holds it, the case inventory, checks and destruction (R12, R15,
R21, R22, R25, R26, R29, R33)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taspa.custody.policy import MediumKind, MediumState


class Medium(models.Model):
    """The one copy of a hearing's recording written for the case file (R12): a BagIt package
    on a USB stick or disc, in a sealed envelope with its label (R15)."""

    recording = models.ForeignKey("recorder.Recording", models.PROTECT, related_name="media")
    case = models.ForeignKey("courts.Case", models.PROTECT, related_name="media")
    kind = models.CharField(
        _("kind"), max_length=8, choices=[(k.value, k.value) for k in MediumKind], default="usb"
    )
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=[(s.value, s.value) for s in MediumState],
        default=MediumState.WRITING.value,
    )
    # R22: "valid" only once the bag was written, read back and validated in full.
    valid = models.BooleanField(_("bag validated"), default=False)
    mount_path = models.CharField(_("written at mount point"), max_length=500)
    device = models.CharField(_("formatted device"), max_length=200, blank=True)
    # R33: what formatting did — the device's size and label before, the new file system and
    # label, the commands run ({} when the medium was only emptied).
    formatted = models.JSONField(_("formatting"), default=dict, blank=True)
    bag_name = models.CharField(_("bag"), max_length=255, blank=True)
    payload_oxum = models.CharField(max_length=64, blank=True)
    files = models.JSONField(_("files in the bag"), default=dict, blank=True)
    failure = models.TextField(_("why the write failed"), blank=True)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    written_at = models.DateTimeField(_("written at"), null=True, blank=True)
    # R21: who answers for the medium now.
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="media_held",
    )
    holder_since = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)
    destruction_act = models.ForeignKey(
        "custody.DestructionAct", models.PROTECT, null=True, blank=True, related_name="media"
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("case-file medium")
        verbose_name_plural = _("case-file media")

    def __str__(self) -> str:
        return f"M-{self.pk} ({self.state})"


class InventoryEntry(models.Model):
    """R12: the medium listed in the case file's inventory, right after the brief protocol."""

    case = models.ForeignKey("courts.Case", models.PROTECT, related_name="inventory")
    medium = models.OneToOneField(Medium, models.PROTECT, related_name="inventory_entry")
    number = models.PositiveIntegerField(_("number in the inventory"))
    after_document = models.CharField(_("follows"), max_length=255)
    title_kk = models.TextField()
    title_ru = models.TextField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")

    class Meta:
        ordering = ["case", "number"]
        verbose_name = _("inventory entry")
        verbose_name_plural = _("inventory entries")
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="inventory_number_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.case} #{self.number}"


class Handover(models.Model):
    """R21: the medium passes from the secretary to the archivist; the archivist accepts it
    only after checking it (R22)."""

    medium = models.ForeignKey(Medium, models.PROTECT, related_name="handovers")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    handed_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    acceptance_check = models.JSONField(_("acceptance check"), default=dict, blank=True)

    class Meta:
        ordering = ["handed_at", "id"]
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")

    def __str__(self) -> str:
        return f"M-{self.medium_id}: {self.from_user} → {self.to_user}"


class VisualCheck(models.Model):
    """R29: after a participant reviewed a recording, staff check the medium is intact."""

    medium = models.ForeignKey(Medium, models.PROTECT, related_name="visual_checks")
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    checked_at = models.DateTimeField()
    intact = models.BooleanField(_("intact"))
    note = models.TextField(_("note"), blank=True)
    review = models.CharField(_("review it followed"), max_length=100, blank=True)

    class Meta:
        ordering = ["checked_at", "id"]
        verbose_name = _("visual check")
        verbose_name_plural = _("visual checks")

    def __str__(self) -> str:
        return f"M-{self.medium_id}: {'intact' if self.intact else 'DAMAGED'}"


class CaseAcceptance(models.Model):
    """R22: the archivist accepts a case into the archive and checks that the case file holds
    the medium of every recorded hearing; what is missing is kept here, flagged."""

    case = models.ForeignKey("courts.Case", models.PROTECT, related_name="archive_acceptances")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField()
    # Each recorded hearing whose medium is not in the case file: recording, file, why.
    missing = models.JSONField(_("media missing"), default=list, blank=True)
    present = models.JSONField(_("media present"), default=list, blank=True)

    class Meta:
        ordering = ["accepted_at", "id"]
        verbose_name = _("acceptance of a case into the archive")
        verbose_name_plural = _("acceptances of cases into the archive")

    def __str__(self) -> str:
        return f"{self.case} @ {self.accepted_at:%Y-%m-%d}"

    @property
    def flagged(self) -> bool:
        return bool(self.missing)


class DestructionAct(models.Model):
    """R26: the act under which media past their retention period are destroyed; two PDFs
    (Kazakh, then Russian) with the same number and date. Nothing is destroyed until every
    signer the archive rules require has signed it (``policy.DESTRUCTION_SIGNERS``)."""

    court = models.ForeignKey("courts.Court", models.PROTECT, related_name="destruction_acts")
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField(_("number"))
    date = models.DateField(_("date"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    pdf_kk = models.BinaryField(editable=False)
    pdf_ru = models.BinaryField(editable=False)
    required_roles = models.JSONField(_("required signers"), default=list)
    status = models.CharField(_("status"), max_length=16, default="pending")
    completed_at = models.DateTimeField(_("signed by all at"), null=True, blank=True)

    class Meta:
        ordering = ["court", "year", "number"]
        verbose_name = _("destruction act")
        verbose_name_plural = _("destruction acts")
        constraints = [
            models.UniqueConstraint(
                fields=["court", "year", "number"], name="destruction_act_number_per_court_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number}/{self.year}"

    def pdf(self, language: str) -> bytes:
        return bytes(self.pdf_kk if language == "kk" else self.pdf_ru)


class DestructionSignature(models.Model):
    """R26: one required signer's PAdES signature on both language versions of the act."""

    act = models.ForeignKey(DestructionAct, models.PROTECT, related_name="signatures")
    role = models.CharField(_("role"), max_length=32)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(_("signed at"))
    subject = models.CharField(_("certificate subject"), max_length=1024)
    sha256_kk = models.CharField(max_length=64)
    sha256_ru = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["act", "role"], name="one_signature_per_destruction_role"
            ),
            models.UniqueConstraint(
                fields=["act", "user"], name="one_signature_per_destruction_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.user} @ {self.signed_at:%Y-%m-%d %H:%M}"


class RetentionPeriod(models.Model):
    """R25: how long a case-file medium is kept, by case kind — the period of the case file in
    the official list of court documents («Перечень документов, образующихся в деятельности…
    судов… с указанием сроков хранения»). Administrators keep the table (Django admin, audited);
    ``source`` says where a value comes from and ``assumption`` marks a value not yet confirmed
    against the official list, which the interface shows as such."""

    case_kind = models.CharField(_("case kind"), max_length=32, unique=True)
    years = models.PositiveSmallIntegerField(_("years kept"))
    source = models.TextField(_("source of the period"))
    assumption = models.BooleanField(_("assumption, not confirmed against the official list"))
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["case_kind"]
        verbose_name = _("retention period of case-file media")
        verbose_name_plural = _("retention periods of case-file media")

    def __str__(self) -> str:
        return f"{self.case_kind}: {self.years} y{' (assumption)' if self.assumption else ''}"
