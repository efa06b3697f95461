"""Every write in the sealing area: registering and revoking EDS keys (R14, R20), the one way
to get a ``Signer`` for a user's automatic signatures, and the seal step (``seal``) that signs a
stopped recording and puts every sealed byte into the blob store. The recording's state is
written by ``recorder.actions.seal_stopped``, never here."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from taspa.audit.actions import record
from taspa.courts.actions import require
from taspa.courts.models import Court
from taspa.courts.policy import Action
from taspa.errors import Conflict, DomainError, InvalidInput, NotFound
from taspa.recorder.journal import JOURNAL_NAME
from taspa.sealing import keystore
from taspa.sealing.layout import SealedRecording, recording_file_name
from taspa.sealing.manifest import build_manifest, certificate_summary
from taspa.sealing.models import SigningKey
from taspa.sealing.revocation import CertificateRevoked, RevocationEvidence, fetch_revocation
from taspa.sealing.signing import Pkcs12Signer, Signer
from taspa.sealing.trust import configured_trust_anchors_path, load_trust_anchors, validate_chain
from taspa.storage.store import BlobStore, get_store

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
            _("The certificate expired on %(not_valid_after_utc)s."),
            params={"not_valid_after_utc": f"{cert.not_valid_after_utc:%Y-%m-%d}"},
        )
    if cert.not_valid_before_utc > now:
        raise InvalidInput(
            "certificate_not_yet_valid",
            _("The certificate is valid from %(not_valid_before_utc)s UTC."),
            params={"not_valid_before_utc": f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M}"},
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
        from taspa.sealing.verify_reasons import REASONS, chain_reason

        raise InvalidInput(
            "certificate_untrusted",
            _("The certificate cannot be accepted: %(reason)s."),
            {"reason": REASONS[chain_reason(verdict.code, verdict.params)]},
            technical=verdict.detail,
        )
    return True


def register_signing_key(*, actor: Any, user: Any, p12: bytes, password: str) -> SigningKey:
    """Register ``user``'s EDS key from a PKCS#12 file and its password (R14).

    The password opens the file once and is not kept; the key is stored encrypted under the
    server's key-encryption key. A previous active key of the user is revoked.
    """
    _require_manager_of(actor, user)
    if len(p12) > MAX_P12_BYTES:
        raise InvalidInput("p12_unreadable", _("That file is too large to be a PKCS#12 key file."))
    try:
        material = keystore.open_p12(p12, password)
    except keystore.KeyMaterialError as error:
        raise InvalidInput(
            "p12_unreadable",
            _("The key file cannot be opened: wrong password or a damaged file."),
            technical=error,
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
            raise Conflict("signing_key_already_revoked", _("This signing key is already revoked."))
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
        raise NotFound(_("This user has no active signing key."), code="signing_key_missing")
    return revoke_signing_key(actor=actor, key=key)


def current_key(user: Any) -> SigningKey | None:
    """The user's most recently registered key, revoked or not."""
    return SigningKey.objects.filter(user=user).order_by("-created_at", "-id").first()


def signer_for(user: Any) -> Signer:
    """The ``Signer`` that seals ``user``'s recordings (R14), or ``SigningUnavailable`` with
    code ``signing_key_missing`` / ``signing_key_revoked`` / ``signing_key_expired``."""
    key = current_key(user)
    if key is None:
        raise SigningUnavailable(
            "signing_key_missing", gettext_noop("The signer has no registered EDS key.")
        )
    if key.is_revoked:
        raise SigningUnavailable(
            "signing_key_revoked",
            _("%(user)s's EDS key (%(serial)s) was revoked."),
            params={"user": user, "serial": key.serial},
        )
    if key.is_expired():
        raise SigningUnavailable(
            "signing_key_expired",
            _("%(user)s's EDS certificate expired on %(not_after)s."),
            params={"user": user, "not_after": f"{key.not_after:%Y-%m-%d}"},
        )
    try:
        bare = keystore.unseal_key(key.encrypted_key, user_id=user.pk, fingerprint=key.fingerprint)
    except keystore.KeyDecryptionError as error:
        raise SigningUnavailable(
            "signing_key_unreadable",
            _("%(user)s's EDS key cannot be used."),
            params={"user": user},
            technical=error,
        ) from None
    return Pkcs12Signer(bare, None)


def _configured_anchors() -> list:
    path = configured_trust_anchors_path()
    return load_trust_anchors(path) if path else []


def revocation_before_signing(signer: Signer) -> RevocationEvidence:
    """R14, CAdES-LT: the CA's word on the signer's certificate (OCSP, else the CRL), asked
    just before it signs. Revoked: ``SigningUnavailable`` (``certificate_revoked``) and the
    key is revoked in Taspa too, so nothing retries it; a CA that does not answer gives an
    ``unavailable`` result and the signature goes out, its evidence fetched later."""
    certificate = signer.certificate
    try:
        evidence = fetch_revocation(
            certificate, chain=getattr(signer, "chain", ()), anchors=_configured_anchors()
        )
    except CertificateRevoked as error:
        _revoked_by_ca(certificate, str(error))
        raise SigningUnavailable(
            "certificate_revoked",
            _("The certificate authority revoked the EDS certificate."),
            technical=error,
        ) from None
    if evidence.status == "unavailable":
        logger.warning("signing without revocation evidence, to be fetched later: %s", evidence)
    return evidence


def _revoked_by_ca(certificate: Any, detail: str) -> None:
    """The CA's revocation stops the key in Taspa too (one audit event)."""
    serial = format(certificate.serial_number, "x")
    with transaction.atomic():
        keys = SigningKey.objects.select_for_update().filter(
            serial=serial, issuer=certificate.issuer.rfc4514_string(), revoked_at__isnull=True
        )
        for key in keys:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            record(
                actor=None,
                action="signing_key.revoked_by_ca",
                target=key,
                payload={"user": key.user.username, "serial": serial, "detail": detail[:500]},
            )


# --- the seal step (R13, R14) -------------------------------------------------------------------
CONTAINER_EXTENSIONS = {"mpegts": "ts", "matroska": "mkv", "mp4": "mp4"}


def sealed_file_name(recording: Any) -> str:
    """The brief protocol's name of the recording's file (R13)."""
    hearing = recording.hearing
    return recording_file_name(
        hearing.case.court.code,
        hearing.case.number,
        timezone.localtime(recording.started_at).date(),
        hearing.pk,
        CONTAINER_EXTENSIONS.get(recording.container, "bin"),
    )


def seal_manifest(recording: Any, file_name: str, certificate: Any) -> dict[str, Any]:
    """The manifest the secretary's key signs: the recording as it stands, no server path."""
    from taspa.incidents.policy import IncidentKind
    from taspa.recorder.selectors import (
        effective_marks,
        incident_list,
        pause_list,
        portion_list,
        session_secretary,
    )

    hearing = recording.hearing
    secretary = session_secretary(recording)  # R7, R14: who recorded it, a stand-in included
    case = hearing.case
    incidents = incident_list(hearing)
    gaps = [
        {"start": i["gap_start"], "end": i["gap_end"], "cause": i["detail"]}
        for i in incidents
        if i["kind"] == IncidentKind.CAPTURE_GAP
    ]
    result = {
        "sha256": recording.sha256,
        "bytes": recording.bytes,
        "duration_s": recording.duration_s,
        "chain_head": recording.chain_head,
        "pieces": recording.pieces,
        "started_at": recording.started_at,
        "container": recording.container,
        "gaps": gaps,
    }
    return build_manifest(
        file_name=file_name,
        result=result,
        hearing={
            "id": hearing.pk,
            "court_code": case.court.code,
            "court_name": case.court.name,
            "case_number": case.number,
            "case_kind": case.kind,
            "instance": hearing.instance,
            "closed": hearing.closed,
            "scheduled_at": hearing.scheduled_at,
        },
        secretary={
            "name": str(secretary),
            "username": secretary.username,
            "certificate": certificate_summary(certificate),
        },
        stopped_at=recording.stopped_at,
        marks=effective_marks(recording),
        pauses=pause_list(recording),
        incidents=incidents,
        closed_portions=portion_list(recording),
    )


def _put_bytes(store: BlobStore, data: bytes) -> str:
    return store.put(io.BytesIO(data), size_hint=len(data)).digest


def _adopt_media(store: BlobStore, recording: Any) -> None:
    """Take the captured media into the store under the digest hashed while it was captured
    (a hard link on files, a server-checked upload on S3): stop → sealed stays constant-time.
    A rerun after a crash finds it there already."""
    if store.exists(recording.sha256):
        return
    source = Path(recording.media_path) if recording.media_path else None
    if source is None or not source.is_file():
        raise Conflict(
            "media_missing",
            _("The captured media of %(recording)s is gone."),
            params={"recording": recording},
        )
    size = source.stat().st_size
    if size != recording.bytes:
        raise InvalidInput(
            "seal_mismatch",
            _("The media has %(size)s bytes, the capture reported %(bytes)s."),
            params={"size": size, "bytes": recording.bytes},
        )
    store.adopt(source, sha256=recording.sha256)


def seal(recording: Any) -> SealedRecording:
    """Sign a stopped recording and put every sealed byte into the blob store (R14).

    The media goes in by its known digest; the manifest, its signature, the media's signature
    and the journal are new blobs. Nothing is written under ``TASPA_HOME/recordings`` and no
    row is changed: ``recorder.actions.seal_stopped`` records the result. Idempotent: a rerun
    after a crash adopts nothing twice (blobs are content-addressed). Raises
    ``SigningUnavailable`` without a usable EDS key or with a certificate its CA revoked (R14).
    """
    from taspa.recorder.selectors import session_secretary
    from taspa.sealing.seal import sign_manifest_and_media
    from taspa.sealing.timestamps import configured_timestamper

    signer = signer_for(session_secretary(recording))
    revocation = revocation_before_signing(signer)  # a revoked certificate does not sign
    file_name = sealed_file_name(recording)
    manifest = seal_manifest(recording, file_name, signer.certificate)
    signed = sign_manifest_and_media(
        manifest=manifest,
        media_sha256=recording.sha256,
        media_bytes=recording.bytes,
        signer=signer,
        timestamper=configured_timestamper(),  # RFC 3161 when TASPA_TSA_URL is set
        revocation=revocation,  # CAdES-LT: kept in both signatures
    )
    store = get_store()
    _adopt_media(store, recording)
    journal = Path(recording.spool_dir) / JOURNAL_NAME if recording.spool_dir else None
    journal_digest = (
        _put_bytes(store, journal.read_bytes()) if journal and journal.is_file() else ""
    )
    manifest_digest = _put_bytes(store, signed.manifest)
    manifest_signature_digest = _put_bytes(store, signed.manifest_signature)
    # Last: the media signature, the seal itself.
    signature_digest = _put_bytes(store, signed.signature)
    return SealedRecording(
        recording_id=recording.pk,
        file_name=file_name,
        media=recording.sha256,
        bytes=int(recording.bytes),
        signature=signature_digest,
        manifest=manifest_digest,
        manifest_signature=manifest_signature_digest,
        journal=journal_digest,
        signer_subject=signer.certificate.subject.rfc4514_string(),
    )


def release_spool_media(recording: Any) -> None:
    """After the seal is recorded: the captured file's name in the spool goes, so the store's
    blob is the only copy of the sealed bytes on this server (STYLE 14)."""
    if not recording.media_path:
        return
    source = Path(recording.media_path)
    if source.is_file() and get_store().exists(recording.sha256):
        source.unlink(missing_ok=True)
