"""EDS signing keys held for automatic sealing (R14); the key itself only encrypted (R20)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SigningKey(models.Model):
    """A user's registered EDS key: its certificate's facts in clear, the key encrypted under
    the server's key-encryption key (keystore.py, ADR 0003). At most one is active per user;
    registering a new one revokes the previous one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="signing_keys")
    encrypted_key = models.BinaryField(_("encrypted key"), editable=False)
    subject = models.CharField(_("subject"), max_length=1024)
    issuer = models.CharField(_("issuer"), max_length=1024)
    serial = models.CharField(_("serial number (hex)"), max_length=64)
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64)
    algorithm = models.CharField(_("algorithm"), max_length=32)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    chain_checked = models.BooleanField(
        _("chain checked"),
        default=False,
        help_text=_("Whether the certificate was checked against TASPA_TRUST_ANCHORS."),
    )
    created_at = models.DateTimeField(_("registered at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_signing_key_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.serial})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) > self.not_after


class PendingTimestamp(models.Model):
    """A sealed recording whose signatures still lack their RFC 3161 timestamp, because the
    TSA was down when it was sealed (R14 does not wait for it). The ``timestamps`` job adds the
    tokens later and sets ``done_at``; the row stays as the record of when that happened."""

    recording = models.OneToOneField(
        "recorder.Recording", models.CASCADE, related_name="pending_timestamp"
    )
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    done_at = models.DateTimeField(_("timestamped at"), null=True, blank=True)

    class Meta:
        ordering = ["queued_at", "id"]
        verbose_name = _("pending timestamp")
        verbose_name_plural = _("pending timestamps")
        indexes = [
            models.Index(
                fields=["last_attempt_at"],
                condition=models.Q(done_at__isnull=True),
                name="pending_timestamp_open",
            )
        ]

    def __str__(self) -> str:
        return f"timestamp for recording {self.recording_id}"


class PendingRevocation(models.Model):
    """A sealed recording whose signatures still lack the signer certificate's revocation
    evidence (OCSP response or CRL), because the CA's responder did not answer at sealing
    (R14 does not wait for it). The ``revocation`` job fetches it later, as of the signing
    time, and sets ``done_at``; the row stays as the record of when that happened."""

    recording = models.OneToOneField(
        "recorder.Recording", models.CASCADE, related_name="pending_revocation"
    )
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    done_at = models.DateTimeField(_("revocation evidence kept at"), null=True, blank=True)

    class Meta:
        ordering = ["queued_at", "id"]
        verbose_name = _("pending revocation evidence")
        verbose_name_plural = _("pending revocation evidence")
        indexes = [
            models.Index(
                fields=["last_attempt_at"],
                condition=models.Q(done_at__isnull=True),
                name="pending_revocation_open",
            )
        ]

    def __str__(self) -> str:
        return f"revocation evidence for recording {self.recording_id}"
