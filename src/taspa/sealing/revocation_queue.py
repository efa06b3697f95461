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

import logging
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from django.utils import timezone

from taspa.audit.actions import record
from taspa.recorder.models import Recording
from taspa.sealing.layout import SealedRecording
from taspa.sealing.models import PendingRevocation
from taspa.sealing.proof_queue import (
    read_blob,
    refile_signatures,
    run_queue,
    signatures_changed_on_commit,
)
from taspa.sealing.revocation import (
    CertificateRevoked,
    declared_sources,
    embed,
    fetch_revocation,
    has_revocation,
)
from taspa.sealing.trust import configured_trust_anchors_path, load_trust_anchors
from taspa.storage.store import BlobStore, get_store

log = logging.getLogger("taspa.sealing")
BATCH = 20


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
    signature = read_blob(store, sealed.signature)
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
    signed = _signed_by(read_blob(store, recording.signature_digest))
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
    changes = refile_signatures(store, recording, lambda old: embed(old, evidence))
    row.done_at, row.last_error = timezone.now(), ""
    row.save()
    record(
        actor=None,
        action="recording.revocation",
        target=recording,
        payload={"evidence": evidence.detail, "signatures": changes},
    )
    signatures_changed_on_commit(recording.pk)
    return True


def run_revocations(batch: int = BATCH) -> RevocationRun:
    """One pass over the queue, each row in its own transaction; stops at the first CA that
    does not answer (the next row most likely waits for the same one)."""
    run = RevocationRun(*run_queue(PendingRevocation, fetch_for, batch))
    log.info("revocation: %s", run)
    return run


def revocation_job() -> str:
    return str(run_revocations())
