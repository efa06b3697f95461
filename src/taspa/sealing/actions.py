"""Every write in the sealing area: registering and revoking EDS keys (R14, R20), and the one
way to get a ``Signer`` for a user's automatic signatures."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from taspa.audit.actions import record
from taspa.courts.actions import require
from taspa.courts.models import Court
from taspa.courts.policy import Action
from taspa.errors import Conflict, DomainError, InvalidInput, NotFound
from taspa.sealing import keystore
from taspa.sealing.models import SigningKey
from taspa.sealing.signing import Pkcs12Signer, Signer
from taspa.sealing.trust import configured_trust_anchors_path, load_trust_anchors, validate_chain

logger = logging.getLogger(__name__)

MAX_P12_BYTES = 64 * 1024


class SigningUnavailable(DomainError):
    """A user cannot sign now: no key, a revoked key, an expired certificate (R14)."""


def _require_manager_of(actor: Any, user: Any) -> None:
    """Only a system administrator, or the court administrator of every court the user works in
    (a user in no court: system administrators only)."""
    courts = Court.objects.filter(role_assignments__user=user).distinct()
    if not courts:
        require(actor, Action.MANAGE_COURTS)
    for court in courts:
        require(actor, Action.MANAGE_USERS, court)


def _check_certificate(material: keystore.KeyMaterial) -> bool:
    """Refuse a certificate that is expired, not yet valid, or not from a trusted CA; return
    whether a trust check was possible (False when TASPA_TRUST_ANCHORS is unset)."""
    now = timezone.now()
    cert = material.certificate
    if cert.not_valid_after_utc < now:
        raise InvalidInput(
            "certificate_expired",
            f"The certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}.",
        )
    if cert.not_valid_before_utc > now:
        raise InvalidInput(
            "certificate_not_yet_valid",
            f"The certificate is valid from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC.",
        )
    anchors_path = configured_trust_anchors_path()
    if not anchors_path:
        logger.warning(
            "TASPA_TRUST_ANCHORS is not set: accepting %s without checking its CA",
            cert.subject.rfc4514_string(),
        )
        return False
    verdict = validate_chain(
        cert, intermediates=material.chain, anchors=load_trust_anchors(anchors_path), moment=now
    )
    if not verdict.ok:
        raise InvalidInput("certificate_untrusted", verdict.detail)
    return True


def register_signing_key(*, actor: Any, user: Any, p12: bytes, password: str) -> SigningKey:
    """Register ``user``'s EDS key from a PKCS#12 file and its password (R14).

    The password opens the file once and is not kept; the key is stored encrypted under the
    server's key-encryption key. A previous active key of the user is revoked.
    """
    _require_manager_of(actor, user)
    if len(p12) > MAX_P12_BYTES:
        raise InvalidInput("p12_unreadable", "That file is too large to be a PKCS#12 key file.")
    try:
        material = keystore.open_p12(p12, password)
    except keystore.KeyMaterialError as error:
        raise InvalidInput(
            "p12_unreadable", f"The PKCS#12 file cannot be opened: wrong password or {error}."
        ) from None
    chain_checked = _check_certificate(material)
    cert = material.certificate
    with transaction.atomic():
        superseded = list(
            SigningKey.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
        )
        now = timezone.now()
        for old in superseded:
            old.revoked_at, old.revoked_by = now, actor
            old.save(update_fields=["revoked_at", "revoked_by"])
        key = SigningKey.objects.create(
            user=user,
            encrypted_key=keystore.seal_key(material, user_id=user.pk),
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            serial=format(cert.serial_number, "x"),
            fingerprint=material.fingerprint,
            algorithm=material.algorithm,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            chain_checked=chain_checked,
        )
        record(
            actor=actor,
            action="signing_key.register",
            target=key,
            payload={
                "user": user.username,
                "subject": key.subject,
                "serial": key.serial,
                "fingerprint": key.fingerprint,
                "chain_checked": chain_checked,
                "superseded": [old.pk for old in superseded],
            },
        )
    return key


def revoke_signing_key(*, actor: Any, key: SigningKey) -> SigningKey:
    """Stop ``key`` from signing from now on (R14, R20); it stays on record for verification."""
    _require_manager_of(actor, key.user)
    with transaction.atomic():
        key = SigningKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is not None:
            raise Conflict("signing_key_already_revoked", "This signing key is already revoked.")
        key.revoked_at, key.revoked_by = timezone.now(), actor
        key.save(update_fields=["revoked_at", "revoked_by"])
        record(
            actor=actor,
            action="signing_key.revoke",
            target=key,
            payload={"user": key.user.username, "serial": key.serial},
        )
    return key


def revoke_current_signing_key(*, actor: Any, user: Any) -> SigningKey:
    """Revoke ``user``'s active key (the API's DELETE); permission is checked before lookup."""
    _require_manager_of(actor, user)
    key = current_key(user)
    if key is None or key.is_revoked:
        raise NotFound("This user has no active signing key.", code="signing_key_missing")
    return revoke_signing_key(actor=actor, key=key)


def current_key(user: Any) -> SigningKey | None:
    """The user's most recently registered key, revoked or not."""
    return SigningKey.objects.filter(user=user).order_by("-created_at", "-id").first()


def signer_for(user: Any) -> Signer:
    """The ``Signer`` that seals ``user``'s recordings (R14), or ``SigningUnavailable`` with
    code ``signing_key_missing`` / ``signing_key_revoked`` / ``signing_key_expired``."""
    key = current_key(user)
    if key is None:
        raise SigningUnavailable("signing_key_missing", f"{user} has no registered EDS key.")
    if key.is_revoked:
        raise SigningUnavailable(
            "signing_key_revoked", f"{user}'s EDS key ({key.serial}) was revoked."
        )
    if key.is_expired():
        raise SigningUnavailable(
            "signing_key_expired",
            f"{user}'s EDS certificate expired on {key.not_after:%Y-%m-%d}.",
        )
    try:
        bare = keystore.unseal_key(key.encrypted_key, user_id=user.pk, fingerprint=key.fingerprint)
    except keystore.KeyDecryptionError as error:
        raise SigningUnavailable("signing_key_unreadable", f"{user}'s EDS key: {error}.") from None
    return Pkcs12Signer(bare, None)
