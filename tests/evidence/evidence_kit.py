"""Helpers for the evidence tests (a module of its own: test files import it by name)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from replication import sealed_factory
from taspa.recorder.models import Recording
from taspa.sealing import democa
from taspa.sealing.layout import SealedFiles
from taspa.sealing.reading import write_sealed

PASSWORD = "pin-1234"
GROUP = ("media", "signature", "manifest", "manifest_signature")


@dataclass
class Pki:
    ca: democa.DemoCA
    ca_pem: Path
    tsa: democa.DemoTsa
    renewal_tsa: democa.DemoTsa


def long_lived_tsa(ca: democa.DemoCA, name: str, days: int = 3650) -> democa.DemoTsa:
    """A TSA certificate like ``democa.issue_tsa``'s, valid ``days`` (the TSA a renewal uses
    once the first one's certificate nears its end)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca.key, hashes.SHA256())
    )
    return democa.DemoTsa(key=key, certificate=cert)


def sealed_recording(world, spool: Path, court: str = "a", size: int = 200_000) -> Recording:
    """A criminal hearing in ``court`` with a sealed recording of ``size`` pseudo-random bytes
    (the replication tests' factory: one way to make a sealed recording in the suite)."""
    return sealed_factory.sealed_recording(world, spool, court=court, size=size)


def download(recording: Recording, directory: Path) -> SealedFiles:
    """The recording's media, signatures and manifest as files side by side."""
    directory.mkdir(parents=True, exist_ok=True)
    return write_sealed(recording, directory, kinds=GROUP)


def flip_byte(path: Path, offset: int) -> None:
    os.chmod(path, 0o600)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
