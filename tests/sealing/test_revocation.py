"""R14, CAdES-LT (issue 15, item 2): the signer certificate's revocation evidence is fetched at
sealing from a real OCSP responder (``openssl ocsp``) or CRL on loopback, kept in the sealed
signatures, and answers ``taspa verify`` as of the signing time; a revoked certificate refuses
to sign; a CA that is down never blocks sealing."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from ocspkit import PASSWORD, RevocationService
from prometheus_client.parser import text_string_to_metric_families

from replication import sealed_factory
from taspa.audit.models import AuditEvent
from taspa.incidents.models import Incident
from taspa.recorder.actions import seal_stopped
from taspa.recorder.models import Recording
from taspa.sealing import democa, revocation
from taspa.sealing.actions import register_signing_key, signer_for
from taspa.sealing.models import PendingRevocation, SigningKey
from taspa.sealing.proofs import alert_overdue, missing_proofs
from taspa.sealing.reading import read_sealed, write_sealed
from taspa.sealing.resume import resume_sealing
from taspa.sealing.revocation_queue import run_revocations
from taspa.sealing.verify import verify_recording

GROUP = ("media", "signature", "manifest", "manifest_signature")


@pytest.fixture(scope="session")
def revocation_ca() -> democa.DemoCA:
    return democa.create_ca("Revocation Test Root CA", valid_days=36500)


@pytest.fixture
def ca_service(tmp_path, revocation_ca):
    service = RevocationService(tmp_path / "pki", revocation_ca).start()
    yield service
    service.stop()


@pytest.fixture
def court(world, settings, tmp_path, ca_service):
    """A court server whose secretary of court A holds a key naming the OCSP responder and
    the CRL of ``ca_service``; returns that key's PKCS#12 bytes."""
    settings.TASPA_HOME = tmp_path / "home"
    settings.TASPA_HOME.mkdir()
    settings.TASPA_STORAGE = f"file://{tmp_path / 'blobs'}"
    settings.TASPA_TRUST_ANCHORS = str(ca_service.ca_pem)
    settings.TASPA_TSA_URL = ""
    settings.TASPA_REVOCATION_TIMEOUT = 2
    p12 = ca_service.issue("Айгүл Жұмабаева")
    register_signing_key(
        actor=world.admin, user=world.person("secretary", "a"), p12=p12, password=PASSWORD
    )
    return p12


def stopped_recording(world, spool: Path, size: int = 100_000) -> Recording:
    """A hearing stopped with its captured media in the spool, not sealed yet."""
    hearing = world.hearing(court="a", kind="criminal")
    data = hashlib.shake_256(f"revocation-{hearing.pk}".encode()).digest(size)
    directory = spool / f"h{hearing.pk}"
    directory.mkdir(parents=True)
    media = directory / "capture.ts"
    media.write_bytes(data)
    now = timezone.now()
    type(hearing).objects.filter(pk=hearing.pk).update(state="stopped")
    return Recording.objects.create(
        hearing=hearing,
        state=Recording.State.STOPPED,
        spool_dir=str(directory),
        started_at=now - timedelta(minutes=5),
        stopped_at=now,
        container="mpegts",
        sha256=hashlib.sha256(data).hexdigest(),
        bytes=size,
        duration_s=300.0,
        media_path=str(media),
    )


def checks_of(recording: Recording, directory: Path, anchors: Path) -> dict:
    files = write_sealed(recording, directory, kinds=GROUP)
    return {c.name: c for c in verify_recording(files.media, trust_anchors=anchors)}


def kept(recording: Recording) -> tuple[list[bytes], list[bytes]]:
    return revocation.embedded(read_sealed(recording, "signature"))


@pytest.mark.django_db
def test_r14_seal_keeps_the_ocsp_response_and_verify_says_not_revoked(
    world, court, ca_service, tmp_path
):
    recording = sealed_factory.sealed_recording(world, tmp_path / "spool", size=100_000)
    ocsps, crls = kept(recording)
    assert len(ocsps) == 1 and not crls  # OCSP answered: the (large) CRL is not fetched
    assert revocation.embedded(read_sealed(recording, "manifest_signature"))[0] == ocsps
    checks = checks_of(recording, tmp_path / "download", ca_service.ca_pem)
    assert all(c.ok for c in checks.values()), checks
    assert "not revoked at" in checks["revocation"].detail
    assert "OCSP response produced" in checks["revocation"].detail


@pytest.mark.django_db
def test_r14_with_the_ocsp_responder_down_the_crl_is_kept(world, court, ca_service, tmp_path):
    ca_service.stop()
    ca_service.start(ocsp=False)
    recording = sealed_factory.sealed_recording(world, tmp_path / "spool", size=100_000)
    ocsps, crls = kept(recording)
    assert not ocsps and len(crls) == 1
    checks = checks_of(recording, tmp_path / "download", ca_service.ca_pem)
    assert checks["revocation"].ok and "CRL of" in checks["revocation"].detail, checks


@pytest.mark.django_db
def test_r14_certificate_revoked_after_signing_still_verifies_as_of_the_evidence(
    world, court, ca_service, tmp_path
):
    recording = sealed_factory.sealed_recording(world, tmp_path / "spool", size=100_000)
    ca_service.revoke(court)  # the key is compromised the day after the hearing
    signer = signer_for(world.person("secretary", "a"))
    with pytest.raises(revocation.CertificateRevoked):  # the CA says so now …
        revocation.fetch_revocation(signer.certificate, chain=signer.chain)
    checks = checks_of(recording, tmp_path / "download", ca_service.ca_pem)
    assert checks["revocation"].ok, checks["revocation"]  # … but it was good when it signed
    assert all(c.ok for c in checks.values()), checks


@pytest.mark.django_db
def test_r14_certificate_revoked_before_signing_refuses_to_seal(world, court, ca_service, tmp_path):
    ca_service.revoke(court, datetime.now(UTC) - timedelta(hours=1))
    recording = stopped_recording(world, tmp_path / "spool")
    media = Path(recording.media_path)
    before = hashlib.sha256(media.read_bytes()).hexdigest()
    result = seal_stopped(recording)
    assert result.state == Recording.State.STOPPED  # unsealed, and safe:
    assert hashlib.sha256(media.read_bytes()).hexdigest() == before == recording.sha256
    incident = Incident.objects.get(hearing=recording.hearing, kind="signing_failed")
    assert "revoked" in incident.detail
    key = SigningKey.objects.get(user=world.person("secretary", "a"))
    assert key.is_revoked  # the CA's word stops the key in Taspa too …
    assert AuditEvent.objects.filter(action="signing_key.revoked_by_ca").count() == 1
    run = resume_sealing(now=timezone.now() + timedelta(hours=1))
    assert run.waiting_for_key == 1 and run.sealed == 0  # … so nothing retries it
    assert Incident.objects.filter(hearing=recording.hearing).count() == 1


@pytest.mark.django_db
def test_r14_responder_down_never_blocks_sealing_and_the_proof_is_retried(
    world, court, ca_service, tmp_path, client, settings
):
    settings.TASPA_PROOF_ALERT_AFTER_HOURS = 6
    ca_service.stop()  # OCSP responder and CRL server both down
    recording = sealed_factory.sealed_recording(world, tmp_path / "spool", size=100_000)
    assert recording.state == Recording.State.SEALED
    assert kept(recording) == ([], [])
    row = PendingRevocation.objects.get(recording=recording, done_at__isnull=True)
    checks = checks_of(recording, tmp_path / "first", ca_service.ca_pem)
    assert checks["revocation"].ok and "not fetched yet" in checks["revocation"].detail

    assert str(run_revocations()) == (
        "0 recordings got their revocation evidence, 1 still waiting for the CA"
    )
    # Visible: the gauge, and one incident once it has waited past the delay.
    assert alert_overdue() == 0
    later = timezone.now() + timedelta(hours=7)
    waiting = {m.kind: m for m in missing_proofs(later)}["revocation"]
    assert (waiting.waiting, waiting.overdue) == (1, 1)
    assert alert_overdue(later) == 1 and alert_overdue(later) == 0
    incident = Incident.objects.get(hearing=recording.hearing, kind="signing_failed")
    assert "revocation evidence is overdue" in incident.detail
    families = {
        f.name: f for f in text_string_to_metric_families(client.get("/metrics").content.decode())
    }
    samples = {s.labels["kind"]: s.value for s in families["taspa_proofs_waiting"].samples}
    assert samples["revocation"] == 1

    ca_service.start()  # the CA is back
    old_signature = recording.signature_digest
    assert run_revocations().done == 1
    recording.refresh_from_db()
    row.refresh_from_db()
    assert row.done_at is not None and row.attempts == 2
    assert recording.signature_digest != old_signature
    assert len(kept(recording)[0]) == 1
    assert AuditEvent.objects.filter(action="recording.revocation").count() == 1
    checks = checks_of(recording, tmp_path / "second", ca_service.ca_pem)
    assert all(c.ok for c in checks.values()), checks
    assert "OCSP response produced" in checks["revocation"].detail


@pytest.mark.django_db
def test_r14_a_malformed_ocsp_answer_is_a_named_fail_in_taspa_verify(
    world, court, ca_service, tmp_path
):
    recording = sealed_factory.sealed_recording(world, tmp_path / "spool", size=100_000)
    files = write_sealed(recording, tmp_path / "download", kinds=GROUP)
    signature = files.signature.read_bytes()
    response = kept(recording)[0][0]
    at = signature.index(response)
    bent = bytearray(signature)
    bent[at + len(response) - 20] ^= 0x01  # inside the responder's signature value
    files.signature.chmod(0o600)
    files.signature.write_bytes(bytes(bent))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    run = subprocess.run(  # `taspa verify` as a user runs it: a real process, no test settings
        [sys.executable, "-m", "taspa", "verify", str(files.media), "--ca", str(ca_service.ca_pem)],
        env=env | {"TASPA_HOME": str(tmp_path / "user-home")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    failed = [line for line in run.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and failed[0].split()[1] == "revocation", run.stdout
    assert "does not prove the status" in failed[0]


@pytest.mark.django_db
def test_r18_an_act_carries_its_signer_s_ocsp_answer_and_a_revoked_signer_is_refused(
    world, court, ca_service, api_as
):
    from pyhanko.pdf_utils.reader import PdfFileReader

    from taspa.incidents.actions import open_incident

    hearing = world.hearing(court="a", kind="civil")
    secretary, admin = world.person("secretary", "a"), world.person("court_admin", "a")
    incident = open_incident(
        actor=secretary, hearing=hearing, kind="recording_impossible", detail="no power"
    )
    admin_p12 = ca_service.issue("Болат Сейітов")
    register_signing_key(actor=world.admin, user=admin, p12=admin_p12, password=PASSWORD)
    as_secretary = api_as(secretary)
    act = as_secretary.post(f"/hearings/{hearing.pk}/acts", {"incidents": [incident.pk]}).json()
    signed = as_secretary.post(f"/acts/{act['id']}/sign")
    assert signed.status_code == 200, signed.content
    pdf = as_secretary.get(f"/acts/{act['id']}/pdf?language=kk").content
    dss = PdfFileReader(io.BytesIO(pdf)).root["/DSS"]
    assert len(dss["/OCSPs"]) == 1  # PAdES-LT: the answer the CA gave before it signed

    ca_service.revoke(admin_p12, datetime.now(UTC) - timedelta(hours=1))
    refused = api_as(admin).post(f"/acts/{act['id']}/sign")
    assert refused.status_code == 422, refused.content
    assert refused.json()["error"] == "certificate_revoked"
    assert as_secretary.get(f"/acts/{act['id']}").json()["status"] == "pending"


@pytest.mark.django_db
def test_r14_a_responder_that_hangs_costs_its_timeout_not_the_seal(
    world, settings, tmp_path, revocation_ca
):
    """A responder that takes the connection and never answers (a wedged proxy, a dropped
    route): the seal waits ``TASPA_REVOCATION_TIMEOUT`` per source, then goes ahead."""
    settings.TASPA_HOME = tmp_path / "home"
    settings.TASPA_HOME.mkdir()
    settings.TASPA_STORAGE = f"file://{tmp_path / 'blobs'}"
    settings.TASPA_TSA_URL = ""
    settings.TASPA_REVOCATION_TIMEOUT = 0.5
    with socket.socket() as wedged:
        wedged.bind(("127.0.0.1", 0))
        wedged.listen(8)  # connections complete in the backlog; nothing ever answers
        url = f"http://127.0.0.1:{wedged.getsockname()[1]}"
        p12 = democa.issue_p12(
            revocation_ca,
            common_name="Айгүл Жұмабаева",
            password=PASSWORD,
            ocsp_url=f"{url}/ocsp",
            crl_url=f"{url}/ca.crl",
        )
        register_signing_key(
            actor=world.admin, user=world.person("secretary", "a"), p12=p12, password=PASSWORD
        )
        started = time.monotonic()
        recording = sealed_factory.sealed_recording(world, tmp_path / "spool", size=100_000)
        took = time.monotonic() - started
    assert recording.state == Recording.State.SEALED
    assert took < 10, took  # two sources × 0.5 s, plus the seal itself on a busy machine
    assert PendingRevocation.objects.filter(recording=recording, done_at__isnull=True).exists()
