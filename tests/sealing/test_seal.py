"""R13, R14: file names, crash-safe sealing without re-reading the media, and the manifest."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from sealkit import make_capture, manifest_for, seal

from taspa.errors import Conflict, InvalidInput
from taspa.sealing import seal as seal_module
from taspa.sealing.hashing import (
    Piece,
    chain_head,
    sha256_file,
    sha256_file_with_pieces,
)
from taspa.sealing.layout import SealedFiles, transliterate
from taspa.sealing.manifest import (
    ManifestError,
    canonical_bytes,
    manifest_problems,
    parse_manifest,
)
from taspa.sealing.seal import recording_file_name, seal_recording
from taspa.sealing.verify import verify_recording

NAMES = [
    (
        ("court-a", "2-1234/2024", date(2024, 5, 14), 7, "ts"),
        "court-a_2-1234-2024_2024-05-14_h7.ts",
    ),
    (
        ("алматы", "№ 1-55", datetime(2024, 1, 2, 23), 12, ".mkv"),
        "almaty_No-1-55_2024-01-02_h12.mkv",
    ),
    (("ә-ғ-қ-ң", "Өұүһі", date(2024, 1, 2), 1, "ts"), "a-g-q-n_Ouuhi_2024-01-02_h1.ts"),
    (("Щучинск", "Ж/Ю/Я", date(2024, 1, 2), 1, "ts"), "Shchuchinsk_Zh-Iu-Ia_2024-01-02_h1.ts"),
    (("", "../../etc", date(2024, 1, 2), 1, "ts"), "x_etc_2024-01-02_h1.ts"),
]


@pytest.mark.parametrize(("args", "name"), NAMES)
def test_r13_recording_file_names_are_safe_ascii(args, name):
    assert recording_file_name(*args) == name
    assert name.isascii()


def test_transliteration_covers_kazakh_letters():
    assert transliterate("әғқңөұүһі ӘҒҚҢӨҰҮҺІ") == "agqnouuhi AGQNOUUHI"


def test_r14_seal_uses_the_known_digest_not_the_media(pki, tmp_path, monkeypatch):
    signer = pki.signer()
    monkeypatch.setattr(
        type(signer), "sign_detached", lambda *a: pytest.fail("media re-read while sealing")
    )
    files = seal(tmp_path, signer)
    assert files.is_sealed
    assert all(c.ok for c in verify_recording(files.media, trust_anchors=pki.ca_pem))


def test_r14_sealing_again_is_idempotent_and_never_rewrites(pki, tmp_path):
    signer = pki.signer()
    capture = make_capture(tmp_path)
    manifest = manifest_for(capture, signer, "rec.ts")
    first = seal_recording(
        result_like=capture.result, manifest=manifest, signer=signer, out_dir=tmp_path / "out"
    )
    signature = first.signature.read_bytes()
    again = seal_recording(
        result_like=capture.result, manifest=manifest, signer=signer, out_dir=tmp_path / "out"
    )
    assert again == first and first.signature.read_bytes() == signature
    manifest["marks"] = []
    with pytest.raises(Conflict):
        seal_recording(
            result_like=capture.result, manifest=manifest, signer=signer, out_dir=tmp_path / "out"
        )


def test_r14_crash_before_the_media_signature_is_not_sealed(pki, tmp_path, monkeypatch):
    signer = pki.signer()
    capture = make_capture(tmp_path)
    manifest = manifest_for(capture, signer, "rec.ts")
    real = seal_module.write_atomic

    def crash_on_media_signature(path: Path, data: bytes) -> None:
        if path.name == "rec.ts.p7s":
            raise OSError("power cut")
        real(path, data)

    monkeypatch.setattr(seal_module, "write_atomic", crash_on_media_signature)
    with pytest.raises(OSError, match="power cut"):
        seal_recording(
            result_like=capture.result, manifest=manifest, signer=signer, out_dir=tmp_path / "o"
        )
    files = SealedFiles.beside(tmp_path / "o" / "rec.ts")
    assert files.media.exists() and files.manifest.exists() and not files.is_sealed
    assert not list((tmp_path / "o").glob(".*tmp"))
    assert not {c.name: c for c in verify_recording(files.media)}["media_signature"].ok
    # The rerun after the crash finishes the job (media already moved into place).
    monkeypatch.setattr(seal_module, "write_atomic", real)
    capture.result["media_path"] = str(files.media)
    done = seal_recording(
        result_like=capture.result, manifest=manifest, signer=signer, out_dir=tmp_path / "o"
    )
    assert done.is_sealed
    assert all(c.ok for c in verify_recording(done.media, trust_anchors=pki.ca_pem))


def test_r14_seal_refuses_a_manifest_that_is_not_the_capture(pki, tmp_path):
    signer = pki.signer()
    capture = make_capture(tmp_path)
    manifest = manifest_for(capture, signer, "rec.ts")
    manifest["file"]["sha256"] = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(InvalidInput) as refused:
        seal_recording(
            result_like=capture.result, manifest=manifest, signer=signer, out_dir=tmp_path / "o"
        )
    assert refused.value.code == "seal_mismatch"


def test_manifest_is_canonical_and_complete(pki, tmp_path):
    signer = pki.signer()
    capture = make_capture(tmp_path)
    manifest = manifest_for(capture, signer, "rec.ts")
    data = canonical_bytes(manifest)
    assert b" " not in data.replace(b"\xd0", b"").split(b'"name"')[0]  # no spaces in structure
    assert "Бостандық".encode() in data
    assert list(json.loads(data)) == sorted(manifest)
    assert parse_manifest(data) == manifest
    assert manifest_problems(manifest) == []
    assert manifest["segments"]["pieces"] == capture.result["pieces"]
    assert manifest["secretary"]["certificate"]["serial"] == format(
        signer.certificate.serial_number, "x"
    )
    with pytest.raises(ManifestError):
        parse_manifest(b'{"format": "other"}')


def test_one_pass_hashes_pieces_across_buffer_boundaries(tmp_path):
    data = bytes(range(256)) * 40
    path = tmp_path / "f"
    path.write_bytes(data)
    pieces, offset = [], 0
    for index, length in enumerate([1, 999, 1000, 3000, len(data) - 5000]):
        sha = hashlib.sha256(data[offset : offset + length]).hexdigest()
        pieces.append(Piece(index, offset, length, sha, ""))
        offset += length
    result = sha256_file_with_pieces(path, pieces, buffer_size=700)
    assert result.file == sha256_file(path)
    assert result.file.sha256 == hashlib.sha256(data).hexdigest()
    assert result.piece_hashes == [p.sha256 for p in pieces]
    assert chain_head([]) == "0" * 64
