"""Revocation evidence the CA could not give at sealing time, fetched later (R14, CAdES-LT).

Sealing never waits for the OCSP responder or the CRL server: when neither answers, the
recording is sealed without the evidence and a ``PendingRevocation`` row is written in the
transaction that marks it sealed. The periodic ``revocation`` job takes those rows
(``select_for_update(skip_locked=True)``), asks again — as of the signing time, so a
certificate revoked since still proves it was good when it signed — and files the two
signatures with the evidence in ``SignedData.crls`` as new blobs, exactly as
``timestamp_queue`` files a late timestamp (the old blobs stay under their own digests; the
signed attributes and signature values never change). An answer that the certificate was
revoked before it signed opens an incident.

Waiting proofs become visible: ``proofs.alert_overdue`` opens an incident once a row has
waited ``TASPA_PROOF_ALERT_AFTER_HOURS``, and ``/metrics`` counts them.
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from taspa.audit.actions import record
from taspa.recorder.models import Recording
from taspa.sealing.layout import SealedRecording
from taspa.sealing.models import PendingRevocation
from taspa.sealing.revocation import (
    CertificateRevoked,
    RevocationEvidence,
    declared_sources,
    embed,
    fetch_revocation,
    has_revocation,
)
from taspa.sealing.trust import configured_trust_anchors_path, load_trust_anchors
from taspa.storage.store import BlobStore, get_store

log = logging.getLogger("taspa.sealing")
BATCH = 20
SIGNATURE_FIELDS = {
    "signature_digest": "signature",
    "manifest_signature_digest": "manifest_signature",
}


def _read(store: BlobStore, digest: str) -> bytes:
    with contextlib.closing(store.open(digest)) as stream:
        return stream.read()


@dataclass(frozen=True)
class _Signed:
    certificate: x509.Certificate
    chain: list[x509.Certificate]
    signing_time: datetime | None


def _signed_by(der: bytes) -> _Signed:
    from taspa.sealing.verify import parse_signature

    parsed = parse_signature(der)
    return _Signed(
        certificate=x509.load_der_x509_certificate(parsed.certificate.dump()),
        chain=[x509.load_der_x509_certificate(c.dump()) for c in parsed.other_certs],
        signing_time=parsed.signing_time,
    )


def queue_missing_revocation(
    recording: Recording, sealed: SealedRecording, store: BlobStore | None = None
) -> PendingRevocation | None:
    """Inside the sealing transaction: queue the recording when its certificate names an OCSP
    responder or a CRL and the signature went out without their answer."""
    store = store or get_store()
    signature = _read(store, sealed.signature)
    if has_revocation(signature):
        return None
    if not any(declared_sources(_signed_by(signature).certificate).values()):
        return None
    row, _ = PendingRevocation.objects.get_or_create(recording=recording)
    return row


@dataclass(frozen=True)
class RevocationRun:
    done: int
    failed: int

    def __str__(self) -> str:
        return (
            f"{self.done} recordings got their revocation evidence, "
            f"{self.failed} still waiting for the CA"
        )


def _file(store: BlobStore, old_digest: str, data: bytes) -> str:
    until = store.retained_until(old_digest)
    keep = until if until is not None and until > timezone.now() else None
    return store.put(io.BytesIO(data), size_hint=len(data), retain_until=keep).digest


def _anchors() -> list[x509.Certificate]:
    path = configured_trust_anchors_path()
    return load_trust_anchors(path) if path else []


def fetch_for(row: PendingRevocation) -> bool:
    """Fetch and file the evidence of one queued recording; ``False`` (row kept, error
    noted) when the CA still does not answer. Call inside a transaction holding the row."""
    from taspa.incidents.actions import open_incident
    from taspa.incidents.policy import IncidentKind

    recording = Recording.objects.select_for_update().get(pk=row.recording_id)
    store = get_store()
    row.attempts += 1
    row.last_attempt_at = timezone.now()
    signed = _signed_by(_read(store, recording.signature_digest))
    try:
        evidence = fetch_revocation(
            signed.certificate,
            chain=signed.chain,
            anchors=_anchors(),
            moment=signed.signing_time,
        )
    except CertificateRevoked as error:
        row.done_at, row.last_error = timezone.now(), str(error)[:2000]
        row.save()
        open_incident(
            actor=None,
            hearing=recording.hearing,
            kind=IncidentKind.SIGNING_FAILED,
            detail=f"The signer's certificate was revoked before it signed the recording: {error}",
        )
        return True
    if evidence.status != "good":
        row.last_error = evidence.detail[:2000]
        row.save(update_fields=["attempts", "last_attempt_at", "last_error"])
        return False
    changes = _file_evidence(store, recording, evidence)
    row.done_at, row.last_error = timezone.now(), ""
    row.save()
    record(
        actor=None,
        action="recording.revocation",
        target=recording,
        payload={"evidence": evidence.detail, "signatures": changes},
    )
    transaction.on_commit(lambda: _signatures_changed(recording.pk))
    return True


def _file_evidence(
    store: BlobStore, recording: Recording, evidence: RevocationEvidence
) -> dict[str, dict[str, str]]:
    changes = {}
    for field, name in SIGNATURE_FIELDS.items():
        old_digest = getattr(recording, field)
        old = _read(store, old_digest)
        new = embed(old, evidence)
        if new != old:
            new_digest = _file(store, old_digest, new)
            changes[name] = {"old": old_digest, "new": new_digest}
            setattr(recording, field, new_digest)
    recording.save(update_fields=list(SIGNATURE_FIELDS))
    return changes


def _signatures_changed(recording_id: int) -> None:
    # R23: the central copy holds the signatures too; make the recording pending again there.
    from taspa.replication.court import mark_changed

    mark_changed(Recording.objects.filter(pk=recording_id))


def _claim(exclude: set[int]) -> PendingRevocation | None:
    return (
        PendingRevocation.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(done_at__isnull=True, recording__state=Recording.State.SEALED)
        .exclude(recording__retention__deleted_at__isnull=False)  # R27: in the archive now
        .exclude(pk__in=exclude)
        .order_by(F("last_attempt_at").asc(nulls_first=True), "pk")
        .first()
    )


def run_revocations(batch: int = BATCH) -> RevocationRun:
    """One pass over the queue, each row in its own transaction; stops at the first CA that
    does not answer (the next row most likely waits for the same one)."""
    done, failed, seen = 0, 0, set()
    for _ in range(batch):
        with transaction.atomic():
            row = _claim(seen)
            if row is None:
                break
            seen.add(row.pk)
            ok = fetch_for(row)
        if not ok:
            failed = PendingRevocation.objects.filter(done_at__isnull=True).count()
            break
        done += 1
    run = RevocationRun(done, failed)
    log.info("revocation: %s", run)
    return run


def revocation_job() -> str:
    return str(run_revocations())
