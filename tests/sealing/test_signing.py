"""R14: detached CMS signatures that OpenSSL verifies, streamed or from a known digest."""

from __future__ import annotations

import hashlib
import io

import pytest
from asn1crypto import cms
from sealkit import PASSWORD, openssl_verify

from taspa.sealing.signing import Pkcs12Signer, Signer, SignerLoadError, sign_file

KEY_TYPES = ["rsa2048", "ec-p256"]


def _signed_attrs(der: bytes) -> dict:
    info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    return {a["type"].native: a["values"][0].native for a in info["signed_attrs"]}


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_r14_streamed_signature_verifies_with_openssl(pki, tmp_path, key_type):
    media = tmp_path / "m.ts"
    media.write_bytes(b"\x47" * 3_000_001)
    signer = pki.signer(key_type)
    assert isinstance(signer, Signer)
    signature = tmp_path / "m.ts.p7s"
    signature.write_bytes(signer.sign_detached(media))

    run = openssl_verify(media, signature, pki.ca_pem)
    assert run.ok, run.stderr
    attrs = _signed_attrs(signature.read_bytes())
    assert attrs["message_digest"] == hashlib.sha256(media.read_bytes()).digest()
    assert "signing_time" in attrs
    certs = cms.ContentInfo.load(signature.read_bytes())["content"]["certificates"]
    assert any(c.chosen.serial_number == signer.certificate.serial_number for c in certs)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_r14_digest_signature_equals_streamed_in_verification_terms(pki, tmp_path, key_type):
    media = tmp_path / "m.ts"
    media.write_bytes(bytes(range(256)) * 10_000)
    signer = pki.signer(key_type)
    streamed = signer.sign_detached(media)
    from_digest = signer.sign_digest(hashlib.sha256(media.read_bytes()).digest())

    for name, der in (("streamed", streamed), ("digest", from_digest)):
        path = tmp_path / f"{name}.p7s"
        path.write_bytes(der)
        run = openssl_verify(media, path, pki.ca_pem)
        assert run.ok, (name, run.stderr)
    a, b = _signed_attrs(streamed), _signed_attrs(from_digest)
    assert a.keys() == b.keys()
    assert a["message_digest"] == b["message_digest"]


def test_r14_digest_signature_does_not_verify_other_content(pki, tmp_path):
    media = tmp_path / "m.ts"
    media.write_bytes(b"recording")
    signature = tmp_path / "m.p7s"
    signature.write_bytes(pki.signer().sign_digest(hashlib.sha256(b"other").digest()))
    assert not openssl_verify(media, signature, pki.ca_pem).ok


def test_sign_file_uses_the_known_digest_without_reading(pki, tmp_path):
    missing = tmp_path / "not-there.ts"  # never opened when the digest is known
    der = sign_file(pki.signer(), missing, hashlib.sha256(b"abc").hexdigest())
    assert _signed_attrs(der)["message_digest"] == hashlib.sha256(b"abc").digest()


class CountingStream(io.RawIOBase):
    """A large stream that records the biggest single read: signing must stream."""

    def __init__(self, size: int) -> None:
        self.left, self.biggest = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.left)
        self.biggest = max(self.biggest, count)
        buffer[:count] = b"\0" * count
        self.left -= count
        return count


def test_r14_signing_streams_in_bounded_chunks(pki):
    stream = CountingStream(64 * 1024 * 1024)
    der = pki.signer().sign_detached(stream)
    assert stream.left == 0
    assert stream.biggest <= 4 * 1024 * 1024
    digest = hashlib.sha256(b"\0" * (64 * 1024 * 1024)).digest()
    assert _signed_attrs(der)["message_digest"] == digest


def test_wrong_password_or_garbage_refused(pki):
    with pytest.raises(SignerLoadError):
        Pkcs12Signer(pki.p12(), "wrong")
    with pytest.raises(SignerLoadError):
        Pkcs12Signer(b"not a p12", PASSWORD)


def test_sign_digest_needs_32_bytes(pki):
    with pytest.raises(ValueError, match="32 raw bytes"):
        pki.signer().sign_digest(b"short")
