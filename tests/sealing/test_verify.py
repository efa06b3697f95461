"""R14, R19: `taspa verify` names each kind of tampering and exits 1; unreadable input exits 2."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from sealkit import Pki, openssl_verify, seal

from taspa.recorder.actions import seal_stopped
from taspa.recorder.models import Recording
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key
from taspa.sealing.hashing import sha256_file
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


# --- media + .p7s alone, as downloaded from the API (CONTRACT.md `taspa verify`) ---------------


def taspa_verify(home: Path, media: Path, ca: Path) -> subprocess.CompletedProcess:
    """`taspa verify MEDIA --ca CA` as a user runs it: a real process, no test settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "taspa", "verify", str(media), "--ca", str(ca)],
        env=env | {"TASPA_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_lines(stdout: str) -> dict[str, str]:
    lines = {}
    for line in stdout.splitlines():
        status, name, *_ = line.split()
        assert status in ("OK", "FAIL")
        lines[name] = line
    return lines


def _attachment_name(response, default: str) -> str:
    """The name the server suggests (Content-Disposition), else the recording's file name."""
    found = re.search(r'filename="([^"]+)"', response.get("Content-Disposition", ""))
    return found.group(1) if found else default


@pytest.fixture
def downloaded(world, settings, tmp_path, api_as) -> tuple[Path, Path, Path]:
    """A recording sealed by the recorder's own code, then GET /media and GET /signature
    saved side by side under the names the API gives: (media, signature, CA file)."""
    ca = democa.create_ca("Download Test Court CA")
    ca_pem = tmp_path / "ca.pem"
    ca_pem.write_bytes(ca.pem)
    settings.TASPA_HOME = tmp_path / "home"
    settings.TASPA_HOME.mkdir()
    settings.TASPA_STORAGE = f"file://{tmp_path / 'blobs'}"
    settings.TASPA_TRUST_ANCHORS = str(ca_pem)
    secretary = world.person("secretary")
    register_signing_key(
        actor=world.admin,
        user=secretary,
        p12=democa.issue_p12(ca, common_name="Айгүл Жұмабаева", password="pin-1234"),
        password="pin-1234",
    )
    hearing = world.hearing(court="a", kind="civil")
    spool = tmp_path / "spool"
    spool.mkdir()
    media = spool / "capture.ts"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
         "-c:a", "libopus", "-ar", "48000", "-f", "mpegts", str(media)],
        check=True, timeout=60,
    )  # fmt: skip
    digest = sha256_file(media)
    now = timezone.now()
    # the hearing stands where a stop leaves it: stopped, not yet sealed
    type(hearing).objects.filter(pk=hearing.pk).update(state="stopped")
    recording = Recording.objects.create(
        hearing=hearing, state=Recording.State.STOPPED, spool_dir=str(spool),
        started_at=now - timedelta(seconds=2), stopped_at=now, container="mpegts",
        media_path=str(media), sha256=digest.sha256, bytes=digest.bytes, duration_s=2.0,
    )  # fmt: skip
    assert seal_stopped(recording).state == Recording.State.SEALED
    api = api_as(secretary)
    got = tmp_path / "downloads"
    got.mkdir()
    file_name = api.get(f"/recordings/{recording.pk}").json()["file_name"]
    answer = api.get(f"/recordings/{recording.pk}/media")
    assert answer.status_code == 200
    saved_media = got / _attachment_name(answer, file_name)
    saved_media.write_bytes(b"".join(answer.streaming_content))
    answer = api.get(f"/recordings/{recording.pk}/signature")
    assert answer.status_code == 200
    saved_signature = got / _attachment_name(answer, f"{file_name}.p7s")
    saved_signature.write_bytes(answer.content)
    assert saved_signature.name == saved_media.name + ".p7s"
    assert sorted(p.name for p in got.iterdir()) == [saved_media.name, saved_signature.name]
    return saved_media, saved_signature, ca_pem


@pytest.mark.django_db
def test_r14_media_and_p7s_downloaded_from_the_api_verify_alone(downloaded, tmp_path):
    media, signature, ca = downloaded
    run = taspa_verify(tmp_path / "user-home", media, ca)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = check_lines(run.stdout)
    assert "signature's message digest" in lines["media_hash"]
    assert lines["media_signature"].startswith("OK") and "Айгүл" in lines["media_signature"]
    for name in ("manifest_signature", "manifest_fields", "segment_chain"):
        assert lines[name].startswith("OK") and "skipped" in lines[name], lines[name]
    assert openssl_verify(media, signature, ca).ok  # the same pair, without Taspa


@pytest.mark.django_db
def test_r19_one_flipped_byte_in_the_downloaded_media_fails_media_hash(downloaded, tmp_path):
    media, _signature, ca = downloaded
    data = bytearray(media.read_bytes())
    data[len(data) // 2] ^= 0x01
    media.write_bytes(bytes(data))
    run = taspa_verify(tmp_path / "user-home", media, ca)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = check_lines(run.stdout)
    assert lines["media_hash"].startswith("FAIL") and "signed digest" in lines["media_hash"]
    assert lines["media_signature"].startswith("FAIL")
    assert "Traceback" not in run.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_r14_a_malformed_p7s_is_a_named_failure_not_a_traceback(downloaded, tmp_path, damage):
    media, signature, ca = downloaded
    der = signature.read_bytes()
    signature.write_bytes(
        {"truncated": der[: len(der) // 2], "garbage": os.urandom(700), "empty": b""}[damage]
    )
    run = taspa_verify(tmp_path / "user-home", media, ca)
    assert run.returncode in (1, 2), run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    lines = check_lines(run.stdout)
    assert lines["media_signature"].startswith("FAIL")
    assert "is not a CMS signature" in lines["media_signature"]
    # the library's words, named as the verification report names them (#16 point 5)
    assert lines["media_signature"].endswith("[reason: damaged_data]"), lines["media_signature"]
    assert lines["media_hash"].startswith("FAIL")  # nothing trustworthy to compare with
