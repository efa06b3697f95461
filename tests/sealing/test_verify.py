"""R14, R19: `taspa verify` names each kind of tampering and exits 1; unreadable input exits 2."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from sealkit import Pki, openssl_verify, seal

from taspa.sealing.layout import SealedFiles
from taspa.sealing.manifest import canonical_bytes
from taspa.sealing.signing import Pkcs12Signer
from taspa.sealing.verify import CHECK_NAMES, verify_recording


def run_verify(path: Path, ca: Path | None) -> tuple[int, dict[str, str]]:
    """Exit code and {check name: output line} of `taspa verify PATH --ca CA`."""
    out = StringIO()
    code = 0
    try:
        call_command("verify", str(path), *(["--ca", str(ca)] if ca else []), stdout=out)
    except CommandError as error:
        code = error.returncode
    lines = {}
    for line in out.getvalue().splitlines():
        status, name, *_ = line.split()
        lines[name] = line
        assert status in ("OK", "FAIL")
    return code, lines


def failed(lines: dict[str, str]) -> set[str]:
    return {name for name, line in lines.items() if line.startswith("FAIL")}


@pytest.fixture
def sealed(pki: Pki, tmp_path: Path) -> SealedFiles:
    return seal(tmp_path, pki.signer())


@pytest.mark.parametrize("key_type", ["rsa2048", "ec-p256"])
def test_r14_sealed_recording_verifies(pki, tmp_path, key_type):
    files = seal(tmp_path, pki.signer(key_type))
    code, lines = run_verify(files.media, pki.ca_pem)
    assert code == 0, lines
    assert list(lines) == list(CHECK_NAMES)
    assert "pieces" in lines["segment_chain"]
    for content, signature in (
        (files.media, files.signature),
        (files.manifest, files.manifest_signature),
    ):
        run = openssl_verify(content, signature, pki.ca_pem)
        assert run.ok, run.stderr


def test_r19_flipped_byte_in_media_detected(sealed, pki):
    data = bytearray(sealed.media.read_bytes())
    data[300_000] ^= 0x01
    sealed.media.write_bytes(bytes(data))
    code, lines = run_verify(sealed.media, pki.ca_pem)
    assert code == 1
    assert {"media_hash", "media_signature", "segment_chain"} <= failed(lines)
    assert "piece 4 " in lines["segment_chain"]  # 300000 // 65536


def test_r19_changed_pause_in_manifest_detected(sealed, pki):
    manifest = json.loads(sealed.manifest.read_bytes())
    manifest["pauses"][0]["reason"] = "lunch"
    sealed.manifest.write_bytes(canonical_bytes(manifest))
    code, lines = run_verify(sealed.media, pki.ca_pem)
    assert code == 1
    assert failed(lines) == {"manifest_signature"}


def test_r19_changed_mark_in_manifest_detected(sealed, pki):
    manifest = json.loads(sealed.manifest.read_bytes())
    manifest["marks"][0]["speaker"] = "Someone else"
    sealed.manifest.write_bytes(canonical_bytes(manifest))
    code, lines = run_verify(sealed.media, pki.ca_pem)
    assert code == 1
    assert "manifest_signature" in failed(lines)


def test_r14_signature_from_another_ca_detected(sealed, pki):
    stranger = Pkcs12Signer(pki.p12(ca=pki.other_ca), "secret-pin")
    sealed.signature.write_bytes(stranger.sign_detached(sealed.media))
    code, lines = run_verify(sealed.media, pki.ca_pem)
    assert code == 1
    assert "certificate_chain" in failed(lines)
    assert "manifest_signature" in failed(lines)  # not the media's signer
    assert "media_signature" not in failed(lines)  # the math itself is fine


def test_r14_expired_certificate_detected(pki, tmp_path):
    files = seal(tmp_path, Pkcs12Signer(pki.expired_p12(), "secret-pin"))
    code, lines = run_verify(files.media, pki.ca_pem)
    assert code == 1
    assert failed(lines) == {"certificate_chain"}
    assert "expired" in lines["certificate_chain"]


def test_r19_truncated_media_detected(sealed, pki):
    with open(sealed.media, "r+b") as stream:
        stream.truncate(500_000)
    code, lines = run_verify(sealed.media, pki.ca_pem)
    assert code == 1
    assert {"media_hash", "media_signature", "manifest_fields", "segment_chain"} <= failed(lines)
    assert "truncated" in lines["segment_chain"]


def test_r14_missing_signature_means_not_sealed(sealed, pki):
    sealed.signature.unlink()
    code, lines = run_verify(sealed.media, pki.ca_pem)
    assert code == 1
    assert "not sealed" in lines["media_signature"]


def test_r19_journal_edit_names_the_piece(sealed, pki):
    rows = [json.loads(line) for line in sealed.journal.read_text().splitlines()]
    rows[3]["chain"] = "0" * 64
    sealed.journal.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, lines = run_verify(sealed.media, pki.ca_pem)
    assert code == 1
    assert failed(lines) == {"segment_chain"}
    assert "piece 3 " in lines["segment_chain"]


def test_no_trust_anchors_is_a_failure_not_a_pass(sealed, settings):
    settings.TASPA_TRUST_ANCHORS = None
    checks = {c.name: c for c in verify_recording(sealed.media)}
    assert not checks["certificate_chain"].ok
    assert "trust anchors" in checks["certificate_chain"].detail


def test_trust_anchors_setting_is_the_default(sealed, pki, settings):
    settings.TASPA_TRUST_ANCHORS = str(pki.ca_pem)
    assert all(check.ok for check in verify_recording(sealed.media))


def test_journal_is_optional(sealed, pki):
    sealed.journal.unlink()
    code, lines = run_verify(sealed.media, pki.ca_pem)
    assert code == 0
    assert "skipped" in lines["segment_chain"]


@pytest.mark.parametrize("what", ["missing", "directory", "zip", "bad-ca"])
def test_unreadable_input_exits_2(sealed, pki, tmp_path, what):
    path, ca = sealed.media, pki.ca_pem
    if what == "missing":
        path = tmp_path / "nothing.ts"
    elif what == "directory":
        path = tmp_path
    elif what == "zip":
        path = tmp_path / "copy.zip"
        path.write_bytes(b"PK")
    else:
        ca = tmp_path / "no-ca.pem"
    code, _ = run_verify(path, ca)
    assert code == 2


def test_recorder_journal_with_other_record_types_and_torn_tail(sealed, pki):
    rows = [json.loads(line) for line in sealed.journal.read_text().splitlines()]
    lines = [json.dumps({"type": "start", "at": 0})]
    for row in rows:
        lines.append(json.dumps({"type": "piece", **row}))
        lines.append(json.dumps({"type": "pause", "at": 1, "reason": "recess"}))
    sealed.journal.write_text("\n".join(lines) + '\n{"type": "pie')
    code, lines_out = run_verify(sealed.media, pki.ca_pem)
    assert code == 0, lines_out
    assert f"{len(rows)} pieces" in lines_out["segment_chain"]
