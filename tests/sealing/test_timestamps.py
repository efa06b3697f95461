"""R14, ADR 0003: RFC 3161 signature timestamps (CAdES B-T) from a real TSA over HTTP on
loopback; a TSA that is down never holds up sealing, and the queued token is added later."""

from __future__ import annotations

import time
from io import StringIO
from pathlib import Path

import pytest
from asn1crypto import cms
from django.core.management import call_command
from django.core.management.base import CommandError
from pyhanko.sign.timestamps import HTTPTimeStamper
from sealkit import LocalTsa, openssl_verify, seal

from taspa.audit.models import AuditEvent
from taspa.courts.models import Hearing
from taspa.recorder import actions as recorder
from taspa.recorder.models import Recording
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key
from taspa.sealing.models import PendingTimestamp
from taspa.sealing.reading import write_sealed
from taspa.sealing.timestamp_queue import run_timestamps
from taspa.sealing.timestamps import (
    TimestampUnavailable,
    add_timestamp,
    has_timestamp,
    signature_value,
)
from taspa.sealing.tools import run_tool
from taspa.sealing.verify import verify_recording
from taspa.storage.store import get_store


def run_verify(path: Path, ca: Path) -> tuple[int, dict[str, str]]:
    """Exit code and {check name: output line} of `taspa verify PATH --ca CA`."""
    out, code = StringIO(), 0
    try:
        call_command("verify", str(path), "--ca", str(ca), stdout=out)
    except CommandError as error:
        code = error.returncode
    return code, {line.split()[1]: line for line in out.getvalue().splitlines()}


def failed(lines: dict[str, str]) -> set[str]:
    return {name for name, line in lines.items() if line.startswith("FAIL")}


def client(tsa: LocalTsa) -> HTTPTimeStamper:
    return HTTPTimeStamper(tsa.url, timeout=3)


def token_of(signature: bytes) -> cms.ContentInfo:
    signer_info = cms.ContentInfo.load(signature)["content"]["signer_infos"][0]
    (attribute,) = [
        a for a in signer_info["unsigned_attrs"] if a["type"].native == "signature_time_stamp_token"
    ]
    return attribute["values"][0]


def openssl_ts_verify(signature: Path, ca_pem: Path, work: Path):
    """`openssl ts -verify` of the token over the signature value, with nothing from Taspa."""
    data = signature.read_bytes()
    (work / "token.der").write_bytes(token_of(data).dump())
    (work / "signature-value.bin").write_bytes(signature_value(data))
    return run_tool(
        [
            "openssl", "ts", "-verify", "-token_in", "-in", work / "token.der",
            "-data", work / "signature-value.bin", "-CAfile", ca_pem,
        ],
        timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("key_type", ["rsa2048", "ec-p256"])
def test_r14_tsa_up_both_signatures_carry_a_token_that_verifies(pki, tsa, tmp_path, key_type):
    files = seal(tmp_path, pki.signer(key_type), timestamper=client(tsa))
    assert tsa.requests == 2
    code, lines = run_verify(files.media, pki.ca_pem)
    assert code == 0, lines
    assert "Taspa Demo TSA" in lines["timestamp"] and "absent" not in lines["timestamp"]
    for content, signature in (
        (files.media, files.signature),
        (files.manifest, files.manifest_signature),
    ):
        assert has_timestamp(signature.read_bytes())
        run = openssl_verify(content, signature, pki.ca_pem)
        assert run.ok, run.stderr
        run = openssl_ts_verify(signature, pki.ca_pem, tmp_path)
        assert run.ok and "Verification: OK" in run.stdout, run.stdout + run.stderr


def test_r14_tsa_failing_seals_at_once_without_token_and_asks_once(pki, tsa, tmp_path):
    tsa.failing = True
    started = time.monotonic()
    files = seal(tmp_path, pki.signer(), timestamper=client(tsa))
    assert time.monotonic() - started < 3
    assert tsa.requests == 1  # the second signature does not wait for a TSA that just failed
    assert files.is_sealed
    assert not has_timestamp(files.signature.read_bytes())
    code, lines = run_verify(files.media, pki.ca_pem)
    assert code == 0, lines
    assert "absent" in lines["timestamp"]


def test_r14_token_added_later_keeps_the_signature_valid(pki, tsa, tmp_path):
    files = seal(tmp_path, pki.signer())
    original = files.signature.read_bytes()
    stamped = add_timestamp(original, client(tsa))
    assert signature_value(stamped) == signature_value(original)
    assert add_timestamp(stamped, client(tsa)) == stamped  # one token, never two
    files.signature.write_bytes(stamped)
    checks = verify_recording(files.media, trust_anchors=pki.ca_pem)
    assert all(c.ok for c in checks), checks
    assert openssl_verify(files.media, files.signature, pki.ca_pem).ok
    tsa.stop()
    with pytest.raises(TimestampUnavailable):
        add_timestamp(original, client(tsa))


def test_r14_token_from_an_untrusted_tsa_fails(pki, tmp_path):
    rogue = LocalTsa(democa.issue_tsa(pki.other_ca, "Rogue TSA")).start()
    try:
        files = seal(tmp_path, pki.signer(), timestamper=client(rogue))
    finally:
        rogue.stop()
    code, lines = run_verify(files.media, pki.ca_pem)
    assert code == 1 and failed(lines) == {"timestamp"}, lines
    assert "not trusted" in lines["timestamp"]


def test_r14_token_moved_onto_another_signature_fails(pki, tsa, tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    stamped = seal(tmp_path / "a", pki.signer(), timestamper=client(tsa))
    other = seal(tmp_path / "b", pki.signer())
    signature = cms.ContentInfo.load(other.signature.read_bytes())
    signer_info = signature["content"]["signer_infos"][0]
    borrowed = token_of(stamped.signature.read_bytes())
    signer_info["unsigned_attrs"] = cms.CMSAttributes(
        [{"type": "signature_time_stamp_token", "values": [borrowed]}]
    )
    other.signature.write_bytes(signature.dump(force=True))
    code, lines = run_verify(other.media, pki.ca_pem)
    assert code == 1 and failed(lines) == {"timestamp"}, lines
    assert "media: token" in lines["timestamp"] and "not over this signature" in lines["timestamp"]


# --- a real hearing, sealed at stop -----------------------------------------------------------


@pytest.fixture
def secretary(world, settings, tmp_path, pki):
    settings.TASPA_STORAGE = f"file://{tmp_path / 'blobs'}"
    settings.TASPA_TRUST_ANCHORS = str(pki.ca_pem)
    person = world.person("secretary")
    register_signing_key(actor=world.admin, user=person, p12=pki.p12(), password="secret-pin")
    return person


def record_hearing(world, secretary) -> Recording:
    hearing = world.hearing(court="a")
    recorder.start_recording(actor=secretary, hearing=hearing)
    time.sleep(1.0)
    return recorder.stop_recording(actor=secretary, hearing=Hearing.objects.get(pk=hearing.pk))


def stored(digest: str) -> bytes:
    with get_store().open(digest) as stream:
        return stream.read()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r14_hearing_sealed_with_the_tsa_up_is_timestamped(
    world, secretary, settings, tsa, pki, tmp_path
):
    settings.TASPA_TSA_URL = tsa.url
    recording = record_hearing(world, secretary)
    assert recording.state == Recording.State.SEALED
    assert has_timestamp(stored(recording.signature_digest))
    assert has_timestamp(stored(recording.manifest_signature_digest))
    assert not PendingTimestamp.objects.exists()
    checks = {c.name: c for c in verify_recording(write_sealed(recording, tmp_path).media)}
    assert all(c.ok for c in checks.values()), checks
    assert "Taspa Demo TSA" in checks["timestamp"].detail


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r14_tsa_down_seals_anyway_and_the_job_adds_the_token_later(
    world, secretary, settings, tsa, pki, tmp_path
):
    settings.TASPA_TSA_URL = tsa.url
    tsa.stop()
    recording = record_hearing(world, secretary)
    assert recording.state == Recording.State.SEALED  # R14 did not wait
    assert not has_timestamp(stored(recording.signature_digest))
    pending = PendingTimestamp.objects.get(recording=recording)
    assert pending.done_at is None

    still_down = run_timestamps()
    assert (still_down.done, still_down.failed) == (0, 1)
    pending.refresh_from_db()
    assert pending.attempts == 1 and "timestamp service" in pending.last_error

    tsa.start()  # the same URL answers again
    old = {"signature": recording.signature_digest, "manifest": recording.manifest_digest}
    old["manifest_signature"] = recording.manifest_signature_digest
    run = run_timestamps()
    assert (run.done, run.failed) == (1, 0)
    recording.refresh_from_db()
    pending.refresh_from_db()
    assert pending.done_at is not None
    assert recording.manifest_digest == old["manifest"]  # the signed things never change
    for field in ("signature", "manifest_signature"):
        new_digest = getattr(recording, f"{field}_digest")
        assert new_digest != old[field]
        assert has_timestamp(stored(new_digest))
        assert not has_timestamp(stored(old[field]))  # the old signature stays, versioned
        assert signature_value(stored(new_digest)) == signature_value(stored(old[field]))
        assert get_store().verify(new_digest).ok
    files = write_sealed(recording, tmp_path)  # what the API serves now: the stamped .p7s
    assert files.signature.read_bytes() == stored(recording.signature_digest)
    checks = {c.name: c for c in verify_recording(files.media)}
    assert all(c.ok for c in checks.values()), checks
    assert "absent" not in checks["timestamp"].detail
    assert openssl_verify(files.media, files.signature, pki.ca_pem).ok
    assert openssl_verify(files.manifest, files.manifest_signature, pki.ca_pem).ok
    (event,) = AuditEvent.objects.filter(action="recording.timestamp")
    assert event.payload["signatures"]["signature"]["old"] == old["signature"]
    assert run_timestamps().done == 0  # idempotent: nothing left to do
    assert AuditEvent.objects.filter(action="recording.timestamp").count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r14_job_rerun_after_a_crash_files_one_outcome(
    world, secretary, settings, tsa, monkeypatch, tmp_path
):
    settings.TASPA_TSA_URL = tsa.url
    tsa.failing = True
    recording = record_hearing(world, secretary)
    tsa.failing = False

    class Crash(BaseException):
        pass

    def crash(*args, **kwargs):
        raise Crash

    from taspa.sealing import timestamp_queue

    # Killed after both new .p7s files were filed, before the transaction committed.
    monkeypatch.setattr(timestamp_queue, "record", crash)
    with pytest.raises(Crash):
        run_timestamps()
    recording.refresh_from_db()
    assert not has_timestamp(stored(recording.signature_digest))  # still the old state
    monkeypatch.undo()
    assert run_timestamps().done == 1  # the TSA is asked again; the crashed run's blobs unused
    recording.refresh_from_db()
    assert has_timestamp(stored(recording.signature_digest))
    assert all(c.ok for c in verify_recording(write_sealed(recording, tmp_path).media))
    assert AuditEvent.objects.filter(action="recording.timestamp").count() == 1
