"""Issue 15, item 5: recordings sealed today still prove themselves 30 years on.

Recordings are sealed today through the real sealing (CMS signatures by a test EDS key with a
signature timestamp from a real RFC 3161 TSA on loopback, the OCSP answer of a real
``openssl ocsp`` responder kept in the signatures) and their day's RFC 4998 evidence record is
built. Then the clock moves on honestly, by the ``now`` that the renewal job and the ``as of``
date that ``taspa verify`` take (the renewal TSAs of later years sign with their own clock at
that year): every TSA certificate expires and is followed by a new one before it does, the
signer's certificate expires after a year and is revoked in year 2. In year 30 every recording
still verifies as of its sealing time through its evidence record, and one flipped byte
anywhere — media, manifest, signature, revocation data, evidence record — fails with the check
named.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, ocsp
from django.conf import settings as django_settings

from replication import sealed_factory
from sealing.ocspkit import PASSWORD, RevocationService
from sealing.sealkit import LocalTsa
from taspa.evidence import ers
from taspa.evidence.actions import build_day, renew_due
from taspa.evidence.models import EvidenceTree
from taspa.evidence.policy import local_day
from taspa.evidence.selectors import record_bytes
from taspa.evidence.verify import evidence_checks, record_beside
from taspa.recorder.models import Recording
from taspa.sealing import democa, revocation
from taspa.sealing.actions import register_signing_key
from taspa.sealing.layout import SealedFiles
from taspa.sealing.reading import write_sealed
from taspa.sealing.verify import verify_recording

pytestmark = [pytest.mark.timetravel, pytest.mark.slow, pytest.mark.django_db]
YEARS = 30
RECORDINGS = 3
GROUP = ("media", "signature", "manifest", "manifest_signature")


def years(n: float) -> timedelta:
    return timedelta(days=365.25 * n)


def download(recording: Recording, directory: Path) -> Path:
    """Media, signatures, manifest and the evidence record side by side, as a user keeps them."""
    files = write_sealed(recording, directory, kinds=GROUP)
    record_beside(files.media).write_bytes(record_bytes(recording))
    return files.media


def checks(media: Path, anchors: Path, at: datetime) -> dict[str, object]:
    found = verify_recording(media, trust_anchors=anchors)
    found += evidence_checks(media, trust_anchors=anchors, at=at)
    return {c.name: c for c in found}


def flip(path: Path, offset: int) -> None:
    os.chmod(path, 0o600)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def signature_value_offset(p7s: bytes) -> int:
    value = cms.ContentInfo.load(p7s)["content"]["signer_infos"][0]["signature"].native
    return p7s.index(value) + len(value) // 2


def ocsp_answer_offset(p7s: bytes) -> int:
    """A byte inside what the OCSP responder signed (its answer about the certificate)."""
    response = ocsp.OCSPResponse.load(revocation.embedded(p7s)[0][0])
    answer = response.basic_ocsp_response["tbs_response_data"]["responses"][0].dump()
    return p7s.index(answer) + len(answer) - 8


def cli_verify(media: Path, anchors: Path, at: datetime, home: Path) -> subprocess.CompletedProcess:
    """``taspa verify MEDIA --ca CA --as-of YEAR-30`` as a user runs it (no test settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "taspa", "verify", str(media), "--ca", str(anchors),
         "--as-of", at.date().isoformat()],
        env=env | {"TASPA_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip


@pytest.fixture
def root() -> democa.DemoCA:
    return democa.create_ca("Time Travel Root CA", valid_days=365 * 100)


@pytest.fixture
def ca(tmp_path, root):
    service = RevocationService(tmp_path / "pki", root).start()
    yield service
    service.stop()


def test_r14_r19_recordings_sealed_today_verify_30_years_on_through_their_evidence_record(
    world, settings, tmp_path, root, ca
):
    today = datetime.now(UTC)
    tsa = LocalTsa(democa.issue_tsa(root, "TSA of year 0", days=365)).start()
    try:
        settings.TASPA_HOME = tmp_path / "home"
        settings.TASPA_HOME.mkdir()
        settings.TASPA_STORAGE = f"file://{tmp_path / 'blobs'}"
        settings.TASPA_TRUST_ANCHORS = str(ca.ca_pem)
        settings.TASPA_TSA_URL = tsa.url
        p12 = ca.issue("Айгүл Жұмабаева", not_after=today + years(1))
        register_signing_key(
            actor=world.admin, user=world.person("secretary", "a"), p12=p12, password=PASSWORD
        )
        recordings = [
            sealed_factory.sealed_recording(world, tmp_path / "spool", size=150_000)
            for _ in range(RECORDINGS)
        ]
        assert build_day(actor=None, day=local_day(today, django_settings.TIME_ZONE)).trees
    finally:
        tsa.stop()

    # Year 2: the secretary's key is compromised; the CA revokes the certificate.
    ca.revoke(p12, today + years(2))
    # Every TSA certificate lives 6 years; the renewal job runs a month before each expires.
    at = today + years(YEARS)
    renewals, log = 0, []
    while (now := EvidenceTree.objects.get().renew_by - timedelta(days=30)) < at:
        year_tsa = democa.issue_tsa(
            root, f"TSA of {now:%Y}", days=365 * 6, not_before=now - timedelta(days=1)
        )
        run = renew_due(now=now, timestamper=year_tsa.timestamper(fixed_dt=now))
        assert run.timestamps == 1 and run.failed == 0, run
        renewals += 1
        subject = year_tsa.certificate.subject.rfc4514_string()
        log.append(f"{now:%Y-%m-%d} archive timestamp renewed by {subject}")

    from cryptography.hazmat.primitives.serialization import pkcs12

    certificate = pkcs12.load_key_and_certificates(p12, PASSWORD.encode())[1]
    with pytest.raises(revocation.CertificateRevoked) as asked_now:  # the responder, today
        revocation.fetch_revocation(certificate, anchors=[root.certificate])
    summary = [
        f"sealed {RECORDINGS} recordings on {today:%Y-%m-%d}; checked as of {at:%Y-%m-%d}",
        f"signer certificate expired {today + years(1):%Y-%m-%d}, "
        f"revoked {today + years(2):%Y-%m-%d}",
        f"TSA of year 0 expired {today + timedelta(days=365):%Y-%m-%d}; {renewals} renewals:",
        *(f"  {line}" for line in log),
        f"the OCSP responder asked again: {asked_now.value}",
    ]
    for number, recording in enumerate(recordings, 1):
        media = download(recording, tmp_path / f"year30-{number}")
        found = checks(media, ca.ca_pem, at)
        bad = {name: c.detail for name, c in found.items() if not c.ok}
        assert not bad, bad
        summary.append(f"recording {number}: {len(found)} checks OK")
        if number == 1:
            for name in ("certificate_chain", "revocation", "timestamp", "evidence_validity"):
                summary.append(f"  OK   {name}: {found[name].detail}")

    # The same, as a user runs it in year 30.
    run = cli_verify(media, ca.ca_pem, at, tmp_path / "user-home")
    assert run.returncode == 0, run.stdout + run.stderr
    summary += ["taspa verify --as-of:", *(f"  {line}" for line in run.stdout.splitlines())]

    # One flipped byte anywhere fails, with the check named.
    victim = recordings[0]
    evidence = ers.decode(record_bytes(victim))
    node = evidence.chains[0][0].reduced[-1][0]
    targets = {
        "media": ("media", lambda p: p.stat().st_size // 2, {"media_hash", "evidence_data"}),
        "manifest": (
            "manifest",
            lambda p: p.read_bytes().index(b'"sha256"') + 12,
            {"manifest_signature", "evidence_data"},
        ),
        "signature": (
            "signature",
            lambda p: signature_value_offset(p.read_bytes()),
            {"media_signature", "evidence_data"},
        ),
        "revocation data": (
            "signature",
            lambda p: ocsp_answer_offset(p.read_bytes()),
            {"revocation", "evidence_data"},
        ),
        "evidence record": ("ers", lambda p: p.read_bytes().index(node) + 3, {"evidence_data"}),
    }
    for label, (kind, where, expected) in targets.items():
        media = download(victim, tmp_path / f"flip-{label.replace(' ', '-')}")
        path = record_beside(media) if kind == "ers" else getattr(SealedFiles.beside(media), kind)
        flip(path, where(path))
        found = checks(media, ca.ca_pem, at)
        failed = {name for name, c in found.items() if not c.ok}
        assert expected <= failed, (label, {n: found[n].detail for n in failed})
        summary.append(f"flipped a byte of the {label}: FAIL {', '.join(sorted(failed))}")
    print("\n== time travel (issue 15, item 5)\n" + "\n".join(summary))
