"""Evidence records (RFC 4998, ADR 0009): one hash tree per court and batch of a day's sealed
recordings, one DER record per recording in the blob store."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EvidenceTree(models.Model):
    """One timestamped hash tree: a court's recordings sealed on ``day`` (local) and the audit
    chain head when it was built. A day has one, or more when a recording reached the day
    after its tree was built."""

    court = models.ForeignKey("courts.Court", models.PROTECT, related_name="+")
    day = models.DateField(_("day"))
    algorithm = models.CharField(_("current hash algorithm"), max_length=16)
    root = models.CharField(_("first root (hex)"), max_length=128)
    recordings = models.PositiveIntegerField(_("recordings"))
    audit_seq = models.PositiveBigIntegerField(_("audit head sequence number"))
    audit_hash = models.CharField(_("audit head hash"), max_length=64)
    # The record proving the audit head statement (policy.audit_statement) is in the tree.
    audit_record_digest = models.CharField(max_length=64)
    timestamped_at = models.DateTimeField(_("first timestamp"))
    # The last archive timestamp's TSA certificate expires then: renew before it (§5.2).
    renew_by = models.DateTimeField(_("renew by"), null=True, blank=True)
    built_at = models.DateTimeField(_("built at"), default=timezone.now)
    renewed_at = models.DateTimeField(_("last renewed at"), null=True, blank=True)
    # When the centre's signed receipt for this root came back (witness.send_witness).
    witnessed_at = models.DateTimeField(_("witnessed by the centre at"), null=True, blank=True)

    class Meta:
        ordering = ["day", "id"]
        verbose_name = _("evidence tree")
        verbose_name_plural = _("evidence trees")
        indexes = [models.Index(fields=["court", "day"])]

    def __str__(self) -> str:
        return f"evidence {self.day} #{self.pk}"


class EvidenceRecord(models.Model):
    """The current DER EvidenceRecord of one recording (a blob; a renewal stores a new blob
    and moves ``digest``, the old one stays in the store)."""

    recording = models.OneToOneField("recorder.Recording", models.PROTECT, related_name="evidence")
    tree = models.ForeignKey(EvidenceTree, models.PROTECT, related_name="records")
    digest = models.CharField(_("record blob SHA-256"), max_length=64)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("evidence record")
        verbose_name_plural = _("evidence records")

    def __str__(self) -> str:
        return f"evidence record of recording {self.recording_id}"


class WitnessedRoot(models.Model):
    """Centre side: a court's evidence-tree root as received (append-only, one per tree)."""

    court = models.ForeignKey("courts.Court", models.PROTECT, related_name="+")
    tree = models.PositiveBigIntegerField(_("the court's tree id"))
    day = models.DateField(_("day"))
    root = models.CharField(_("root (hex)"), max_length=128)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("witnessed evidence root")
        verbose_name_plural = _("witnessed evidence roots")
        constraints = [
            models.UniqueConstraint(fields=["court", "tree"], name="one_witnessed_root_per_tree")
        ]

    def __str__(self) -> str:
        return f"{self.court_id} tree {self.tree}"


class WitnessReceipt(models.Model):
    """Court side: the centre's signed receipt for the audit head (and roots) it was sent."""

    seq = models.PositiveBigIntegerField(_("audit head sequence number"))
    hash = models.CharField(_("audit head hash"), max_length=64)
    body = models.JSONField(_("receipt"))
    centre_key = models.CharField(_("centre's Ed25519 key (hex)"), max_length=64)
    signature = models.CharField(_("signature (hex)"), max_length=128)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("witness receipt")
        verbose_name_plural = _("witness receipts")

    def __str__(self) -> str:
        return f"receipt for audit head #{self.seq}"
