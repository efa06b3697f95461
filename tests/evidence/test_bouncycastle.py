"""Issue 15 item 3, interoperability: Bouncy Castle's independent RFC 4998 implementation
(``org.bouncycastle.tsp.ers``, BC 1.72 from Debian) validates Taspa's evidence records — as
built, and after a timestamp renewal and a hash-tree renewal — and Taspa validates a record
Bouncy Castle built with a request to the same real TSA."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from django.core.management import call_command
from evidence_kit import GROUP, download, flip_byte, sealed_recording

from taspa.evidence import ers
from taspa.evidence.actions import renew_due
from taspa.evidence.models import EvidenceTree
from taspa.evidence.selectors import record_bytes
from taspa.evidence.verify import verify_evidence
from taspa.sealing.trust import load_trust_anchors

pytestmark = pytest.mark.slow
CLASSPATH = ":".join(f"/usr/share/java/{name}.jar" for name in ("bcpkix", "bcprov", "bcutil"))
SOURCE = Path(__file__).with_name("ErsInterop.java")


@pytest.fixture(scope="module")
def bc(tmp_path_factory):
    """``bc(*args)``: the compiled ErsInterop program run with Bouncy Castle on its path."""
    classes = tmp_path_factory.mktemp("ers-interop")
    subprocess.run(
        ["javac", "-cp", CLASSPATH, "-d", str(classes), str(SOURCE)],
        check=True,
        timeout=120,
    )

    def run(*args) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["java", "-cp", f"{CLASSPATH}:{classes}", "ErsInterop", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def pem(tsa, directory: Path) -> Path:
    path = directory / f"{tsa.certificate.serial_number}.pem"
    path.write_bytes(tsa.certificate.public_bytes(Encoding.PEM))
    return path


def group_files(files) -> list[Path]:
    return [getattr(files, name) for name in GROUP]


def test_r14_bouncy_castle_validates_taspa_records_built_and_renewed(
    court, pki, renewal_tsa, settings, tmp_path, bc
):
    recordings = [sealed_recording(court.world, court.spool, "a") for _ in range(3)]
    call_command("evidence", "build", stdout=StringIO())
    recording = recordings[1]
    files = download(recording, tmp_path / "dl")
    record = tmp_path / "taspa.ers"
    record.write_bytes(record_bytes(recording))
    run = bc("validate", record, pem(pki.tsa, tmp_path), *group_files(files))
    print(run.stdout)  # the report quotes this line
    assert run.returncode == 0 and "BC OK: data group of 4 objects present" in run.stdout, (
        run.stdout + run.stderr
    )
    # Timestamp renewal (§5.2) by a second TSA, then a hash-tree renewal under SHA-512 (§5.3).
    settings.TASPA_TSA_URL = renewal_tsa.url
    tree = EvidenceTree.objects.get()
    assert renew_due(now=tree.renew_by - timedelta(days=30)).timestamps == 1
    settings.TASPA_EVIDENCE_HASH = "sha512"
    assert renew_due().hash_trees == 1
    record.write_bytes(record_bytes(recording))
    assert [len(chain) for chain in ers.decode(record.read_bytes()).chains] == [2, 1]
    run = bc("validate", record, pem(pki.renewal_tsa, tmp_path), *group_files(files))
    print(run.stdout)
    assert run.returncode == 0 and "BC OK" in run.stdout, run.stdout + run.stderr
    # Bouncy Castle is not rubber-stamping: one flipped byte of the media and it refuses.
    flip_byte(files.media, 4321)
    run = bc("validate", record, pem(pki.renewal_tsa, tmp_path), *group_files(files))
    assert run.returncode != 0 and "BC OK" not in run.stdout


def test_r14_taspa_validates_a_record_bouncy_castle_built(court, pki, tsa, tmp_path, bc):
    recording = sealed_recording(court.world, court.spool, "a")
    files = download(recording, tmp_path / "dl")
    record = tmp_path / "bc.ers"
    run = bc("build", tsa.url, record, *group_files(files))
    assert run.returncode == 0, run.stdout + run.stderr
    anchors = load_trust_anchors(pki.ca_pem)
    objects = {name: getattr(files, name) for name in GROUP}
    checks = verify_evidence(record.read_bytes(), objects, trust_anchors=anchors)
    assert all(check.ok for check in checks), checks
    flip_byte(files.signature, 50)
    checks = {
        c.name: c for c in verify_evidence(record.read_bytes(), objects, trust_anchors=anchors)
    }
    assert (
        not checks["evidence_data"].ok and "signature not covered" in checks["evidence_data"].detail
    )
