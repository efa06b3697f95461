"""R14, R19 (issue 15 item 3): daily RFC 4998 evidence records over every recording sealed that
day and the audit head, timestamped by a real TSA on loopback; served by the API, checked by
``taspa verify``; renewed before the TSA certificate expires and under a new hash algorithm."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from evidence_kit import GROUP, download, flip_byte, sealed_recording
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1_alt_modules import rfc4998

from taspa.audit.models import AuditEvent
from taspa.evidence import ers
from taspa.evidence.actions import EvidenceUnavailable, build_day, renew_due
from taspa.evidence.models import EvidenceRecord, EvidenceTree
from taspa.evidence.policy import audit_statement
from taspa.evidence.selectors import record_bytes
from taspa.evidence.tasks import build_job
from taspa.evidence.verify import CHECK_NAMES, record_beside, verify_evidence
from taspa.recorder.models import Recording
from taspa.sealing.trust import load_trust_anchors


def checks_of(record: bytes, files, pki, at=None) -> dict[str, object]:
    objects = {name: getattr(files, name) for name in GROUP}
    result = verify_evidence(record, objects, trust_anchors=load_trust_anchors(pki.ca_pem), at=at)
    return {check.name: check for check in result}


def failed(checks: dict) -> set[str]:
    return {name for name, check in checks.items() if not check.ok}


def run_verify(media: Path, ca: Path, *extra: str) -> tuple[int, str]:
    out, code = StringIO(), 0
    try:
        call_command("verify", str(media), "--ca", str(ca), *extra, stdout=out)
    except CommandError as error:
        code = error.returncode
    return code, out.getvalue()


@pytest.fixture
def day_of_recordings(court):
    """Three recordings sealed today in court A, one in court B."""
    made = [sealed_recording(court.world, court.spool, "a") for _ in range(3)]
    made.append(sealed_recording(court.world, court.spool, "b"))
    return made


def test_r14_evidence_build_one_tree_per_court_each_recording_verifies(
    court, day_of_recordings, pki, tsa, tmp_path
):
    out = StringIO()
    call_command("evidence", "build", stdout=out)
    assert "2 evidence trees over 4 recordings" in out.getvalue()
    assert tsa.requests == 2 + 8  # one root per court (+ the seal's two signature timestamps each)
    trees = {t.court.code: t for t in EvidenceTree.objects.select_related("court")}
    assert set(trees) == {"court-a", "court-b"} and trees["court-a"].recordings == 3
    for recording in day_of_recordings:
        files = download(recording, tmp_path / f"r{recording.pk}")
        record = record_bytes(recording)
        checks = checks_of(record, files, pki)
        assert set(checks) == set(CHECK_NAMES) and not failed(checks), checks
        # Canonical DER: pyasn1's RFC 4998 module reads it and writes it back unchanged.
        value, rest = der_decoder.decode(record, asn1Spec=rfc4998.EvidenceRecord())
        assert not rest and der_encoder.encode(value) == record
    # The audit chain head is a leaf of the same tree, with its own record.
    tree = trees["court-a"]
    audit_record = Path(tmp_path / "audit.ers")
    from taspa.evidence.actions import _read

    audit_record.write_bytes(_read(tree.audit_record_digest))
    statement = audit_statement(tree.audit_seq, tree.audit_hash)
    verdict = verify_evidence(
        audit_record.read_bytes(),
        {"media": statement},
        trust_anchors=load_trust_anchors(pki.ca_pem),
    )
    assert all(c.ok for c in verdict), verdict
    assert AuditEvent.objects.filter(action="evidence.built").count() == 2
    # A second build of the same day finds nothing left to cover: one record per recording.
    assert (
        str(build_day(actor=None, day=timezone.localdate())) == "0 evidence trees over 0 recordings"
    )


def test_r14_api_serves_the_record_and_404s_until_built(court, day_of_recordings, api_as):
    recording = day_of_recordings[0]
    client = api_as(court.world.person("judge", "a"))
    answer = client.get(f"/recordings/{recording.pk}/evidence")
    assert answer.status_code == 404
    assert answer.json()["error"] == "no_evidence_record"
    call_command("evidence", "build", stdout=StringIO())
    answer = client.get(f"/recordings/{recording.pk}/evidence?purpose=facts")
    assert answer.status_code == 200
    # R2: the download is on record with its purpose, as the media's is.
    assert list(
        AuditEvent.objects.filter(action="recording.read", object_id=str(recording.pk)).values_list(
            "actor_id", "payload"
        )
    ) == [
        (
            court.world.person("judge", "a").pk,
            {"channel": "api", "read": "evidence", "purpose": "facts", "purpose_stated": True},
        )
    ]
    assert answer["Content-Type"] == "application/evidence-record"
    assert ers.decode(answer.content).last.gen_time <= timezone.now()
    # Another court's judge does not see the recording at all.
    other = api_as(court.world.person("judge", "z")).get(f"/recordings/{recording.pk}/evidence")
    assert other.status_code == 404 and other.json()["error"] == "not_found"


def test_r14_taspa_verify_checks_the_record_beside_the_media_or_given(
    court, day_of_recordings, pki, tmp_path
):
    call_command("evidence", "build", stdout=StringIO())
    recording = day_of_recordings[1]
    files = download(recording, tmp_path / "dl")
    code, out = run_verify(files.media, pki.ca_pem)
    assert code == 0 and "evidence" not in out  # no record beside: nothing to check yet
    given = tmp_path / "record.der"
    given.write_bytes(record_bytes(recording))
    code, out = run_verify(files.media, pki.ca_pem, "--evidence", str(given))
    assert code == 0, out
    assert all(f"OK   {name}" in out for name in CHECK_NAMES), out
    far = (timezone.now() + timedelta(days=800)).date().isoformat()
    code, out = run_verify(files.media, pki.ca_pem, "--evidence", str(given), "--as-of", far)
    assert code == 1 and "FAIL evidence_validity" in out and "expired" in out, out
    code, out = run_verify(files.media, pki.ca_pem, "--evidence", str(given), "--as-of", "soon")
    assert code == 2
    record_beside(files.media).write_bytes(record_bytes(recording))
    flip_byte(files.media, 1000)
    code, out = run_verify(files.media, pki.ca_pem)
    assert code == 1
    assert "FAIL evidence_data" in out and "media not covered" in out, out


def test_r19_one_flipped_byte_in_media_or_signature_fails_evidence_data(
    court, day_of_recordings, pki, tmp_path
):
    call_command("evidence", "build", stdout=StringIO())
    recording = day_of_recordings[0]
    record = record_bytes(recording)
    for name in ("media", "signature", "manifest", "manifest_signature"):
        files = download(recording, tmp_path / name)
        flip_byte(getattr(files, name), 100)
        checks = checks_of(record, files, pki)
        assert failed(checks) == {"evidence_data"}, (name, checks)
        assert f"{name} not covered" in checks["evidence_data"].detail


def test_r19_flipped_bytes_in_the_record_and_malformed_records_fail_by_name(
    court, day_of_recordings, pki, tmp_path
):
    call_command("evidence", "build", stdout=StringIO())
    recording = day_of_recordings[0]
    files = download(recording, tmp_path / "dl")
    record = record_bytes(recording)
    # Every 7th byte of the record flipped in turn: some check fails by name, nothing raises.
    for offset in range(0, len(record), 7):
        broken = bytearray(record)
        broken[offset] ^= 0x01
        checks = checks_of(bytes(broken), files, pki)
        assert failed(checks), f"byte {offset} flipped and every check passed"
    for malformed in (b"", b"\x30\x03\x02\x01\x01", record[:-1], record + b"\x00", b"junk" * 50):
        checks = checks_of(malformed, files, pki)
        assert list(checks) == ["evidence_record"] and failed(checks) == {"evidence_record"}
    code, out = run_verify(files.media, pki.ca_pem, "--evidence", str(files.manifest))
    assert code == 1 and "FAIL evidence_record" in out and "Traceback" not in out


def test_r14_tsa_down_or_unset_builds_nothing_and_the_job_says_so(
    court, day_of_recordings, tsa, settings
):
    tsa.stop()
    with pytest.raises(CommandError, match="the TSA failed"):
        call_command("evidence", "build", stdout=StringIO())
    settings.TASPA_TSA_URL = ""
    with pytest.raises(EvidenceUnavailable, match="no TSA configured"):
        build_day(actor=None, day=timezone.localdate())
    assert not EvidenceTree.objects.exists() and not EvidenceRecord.objects.exists()


def gauge(client) -> float:
    text = client.get("/metrics").content.decode()
    (line,) = [x for x in text.splitlines() if x.startswith("taspa_evidence_uncovered_recordings")]
    return float(line.split()[-1])


def test_r14_scheduled_job_covers_past_days_not_today(court, day_of_recordings, tsa, client):
    yesterday = timezone.now() - timedelta(days=1)
    Recording.objects.filter(pk__in=[r.pk for r in day_of_recordings[:2]]).update(
        sealed_at=yesterday
    )
    assert gauge(client) == 2
    tsa.stop()  # a TSA that is down: the job says so, the gauge shows what waits
    assert build_job().startswith("the TSA failed") and gauge(client) == 2
    tsa.start()
    assert build_job() == "1 evidence trees over 2 recordings"
    assert gauge(client) == 0
    assert EvidenceTree.objects.get().day == timezone.localdate(yesterday)
    assert build_job() == "0 evidence trees over 0 recordings"


def test_r14_renewal_new_timestamp_then_new_hash_tree_and_verify_as_of_dates(
    court, day_of_recordings, pki, tsa, renewal_tsa, settings, tmp_path
):
    call_command("evidence", "build", stdout=StringIO())
    recording = day_of_recordings[0]
    files = download(recording, tmp_path / "dl")
    original = record_bytes(recording)
    tree = EvidenceTree.objects.get(court__code="court-a")
    later = timezone.now() + timedelta(days=400)  # the first TSA certificate has expired
    checks = checks_of(original, files, pki, at=later)
    assert (
        failed(checks) == {"evidence_validity"} and "expired" in checks["evidence_validity"].detail
    )
    # Nothing due today: the TSA certificate has most of its year left.
    assert (
        str(renew_due())
        == "0 trees got a new archive timestamp, 0 were rehashed, 0 wait for the TSA"
    )
    settings.TASPA_TSA_URL = renewal_tsa.url
    run = renew_due(now=tree.renew_by - timedelta(days=30))
    assert run.timestamps == 2 and run.failed == 0
    renewed = record_bytes(recording)
    assert [len(chain) for chain in ers.decode(renewed).chains] == [2]
    assert not failed(checks_of(renewed, files, pki, at=later))
    assert not failed(checks_of(renewed, files, pki))  # as of today too
    # A new hash algorithm: every tree is rehashed from the stored bytes, in a new chain.
    signatures = (recording.signature_digest, recording.manifest_signature_digest)
    settings.TASPA_EVIDENCE_HASH = "sha512"
    run = renew_due()
    assert run.hash_trees == 2
    rehashed = ers.decode(record_bytes(recording))
    assert [len(c) for c in rehashed.chains] == [2, 1] and rehashed.last.algorithm == "sha512"
    checks = checks_of(record_bytes(recording), files, pki, at=later)
    assert not failed(checks), checks
    assert EvidenceTree.objects.get(pk=tree.pk).algorithm == "sha512"
    # The original signatures are untouched, and still what the record covers.
    again = Recording.objects.get(pk=recording.pk)
    assert (again.signature_digest, again.manifest_signature_digest) == signatures
    flip_byte(files.manifest, 10)
    assert failed(checks_of(record_bytes(recording), files, pki, at=later)) == {"evidence_data"}
