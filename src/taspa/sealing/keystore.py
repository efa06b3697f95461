"""EDS keys at rest: opened once with their password, then kept encrypted under a KEK (R14, R20).

R14 signs automatically when a hearing ends, with nobody at the keyboard to type a password, so
the server must be able to use the key unattended. The PKCS#12 password is used once, when an
administrator registers the key, and thrown away; the key (with its certificate chain) is
re-serialised as an unencrypted PKCS#12 and sealed with AES-256-GCM under a key-encryption key
(KEK) that never enters the database: ``TASPA_KEY_ENCRYPTION_KEY`` (64 hex digits or base64 of
32 bytes; or ``TASPA_KEY_ENCRYPTION_KEY_FILE``), else a 0600 file ``kek`` made once under
``TASPA_HOME``. A copy of the database alone (a backup, a replica, an SQL injection) yields no
usable key. See docs/adr/0003-signing-keys.md.

Blob: ``b"TSK1" || kek_id (8 bytes) || nonce (12 bytes) || ciphertext+tag``; the associated data
binds it to its owner and certificate, so a blob moved to another user's row does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from taspa.env import env_str

MAGIC = b"TSK1"
KEK_FILE_NAME = "kek"
KEK_ID_LENGTH = 8
NONCE_LENGTH = 12


class KeyMaterialError(ValueError):
    """The PKCS#12 data cannot be opened, or holds no usable signing key."""


class KeyDecryptionError(Exception):
    """A stored key does not open with this server's KEK."""


@dataclass(frozen=True)
class KeyMaterial:
    """A private key opened from PKCS#12, ready to be sealed (``bare_p12`` has no password)."""

    certificate: x509.Certificate
    chain: list[x509.Certificate]
    algorithm: str
    bare_p12: bytes

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()


def _algorithm(key: object) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return f"rsa{key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"ec-{key.curve.name}"
    raise KeyMaterialError("Only RSA and EC keys are supported for now.")


def open_p12(p12: bytes, password: str) -> KeyMaterial:
    """Open a PKCS#12 file with its password and keep it in a password-free form."""
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(p12, password.encode("utf-8") or None)
    except (ValueError, TypeError) as error:
        raise KeyMaterialError(f"cannot open the PKCS#12 file: {error}") from None
    if key is None or cert is None:
        raise KeyMaterialError("the PKCS#12 file holds no private key with its certificate")
    if cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise KeyMaterialError("the certificate is not the private key's")
    algorithm = _algorithm(key)
    bare = pkcs12.serialize_key_and_certificates(
        name=None, key=key, cert=cert, cas=chain, encryption_algorithm=serialization.NoEncryption()
    )
    return KeyMaterial(certificate=cert, chain=list(chain), algorithm=algorithm, bare_p12=bare)


def _parse_kek(text: str, where: str) -> bytes:
    text = text.strip()
    try:
        key = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(f"{where}: expected 32 bytes as 64 hex digits or base64.")
    return key


def _kek_file() -> Path:
    return Path(settings.TASPA_HOME) / KEK_FILE_NAME


def key_encryption_key() -> bytes:
    """The 32-byte KEK: from the environment, else the ``kek`` file under TASPA_HOME, which is
    created (0600, exclusively, so two processes never make two keys) on first use."""
    configured = env_str("TASPA_KEY_ENCRYPTION_KEY")
    if configured:
        return _parse_kek(configured, "TASPA_KEY_ENCRYPTION_KEY")
    path = _kek_file()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as stream:
            stream.write(secrets.token_hex(32))
            stream.flush()
            os.fsync(stream.fileno())
    if path.stat().st_mode & 0o077:
        raise ImproperlyConfigured(f"{path} must be readable by its owner only (chmod 600).")
    return _parse_kek(path.read_text(encoding="ascii"), str(path))


def kek_id(kek: bytes) -> bytes:
    """A short public name of a KEK (so a blob says which KEK it needs, never the KEK)."""
    return hashlib.sha256(b"taspa-kek-id" + kek).digest()[:KEK_ID_LENGTH]


def _aad(user_id: int, fingerprint: str) -> bytes:
    return f"taspa-signing-key/1|user={user_id}|cert={fingerprint}".encode("ascii")


def seal_key(material: KeyMaterial, *, user_id: int) -> bytes:
    """Encrypt key material for storage (AES-256-GCM, random 96-bit nonce)."""
    kek = key_encryption_key()
    nonce = secrets.token_bytes(NONCE_LENGTH)
    sealed = AESGCM(kek).encrypt(nonce, material.bare_p12, _aad(user_id, material.fingerprint))
    return MAGIC + kek_id(kek) + nonce + sealed


def unseal_key(blob: bytes, *, user_id: int, fingerprint: str) -> bytes:
    """The password-free PKCS#12 from a stored blob; ``KeyDecryptionError`` if it won't open."""
    blob = bytes(blob)
    if not blob.startswith(MAGIC):
        raise KeyDecryptionError("not a Taspa key blob")
    kek = key_encryption_key()
    header = len(MAGIC)
    stored_id = blob[header : header + KEK_ID_LENGTH]
    if stored_id != kek_id(kek):
        raise KeyDecryptionError(
            f"the key was stored under another key-encryption key (id {stored_id.hex()})"
        )
    nonce_at = header + KEK_ID_LENGTH
    nonce = blob[nonce_at : nonce_at + NONCE_LENGTH]
    try:
        return AESGCM(kek).decrypt(
            nonce, blob[nonce_at + NONCE_LENGTH :], _aad(user_id, fingerprint)
        )
    except InvalidTag:
        raise KeyDecryptionError("the stored key fails its integrity check") from None
