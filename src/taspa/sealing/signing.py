"""Detached CMS signatures with the secretary's EDS key (R14).

``Signer`` is the interface the sealing code uses; ``Pkcs12Signer`` is the real implementation
over a PKCS#12 key (how Kazakhstan's NCA issues EDS keys). A hardware token or the national
crypto provider (KalkanCrypt, GOST keys) becomes another class with the same three members.

Both ways of signing produce the same CMS structure: ``SignedData`` with no encapsulated
content, a ``messageDigest`` attribute with the SHA-256 of the media bytes, ``signingTime``,
``contentType``, ``signingCertificateV2`` and ``CMSAlgorithmProtection``, and the signer's
certificate (plus the chain from the PKCS#12 file). ``sign_digest`` takes the SHA-256 the
recorder already computed while capturing, so sealing a six-hour file never re-reads it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar, runtime_checkable

from asn1crypto import cms
from cryptography import x509
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes, SimpleSigner

from taspa.sealing.hashing import BUFFER_SIZE

DIGEST_ALGORITHM = "sha256"
SHA256_LENGTH = 32

T = TypeVar("T")


@runtime_checkable
class Signer(Protocol):
    """Makes DER-encoded detached CMS signatures for one certificate."""

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate."""
        ...

    def sign_detached(self, source: Path | str | BinaryIO) -> bytes:
        """Sign the bytes of a file (path) or of a binary stream, read in chunks."""
        ...

    def sign_digest(self, sha256: bytes) -> bytes:
        """Sign content known only by its SHA-256 (32 raw bytes); no content is read."""
        ...


class SignerLoadError(ValueError):
    """The key material cannot be opened (wrong password, not PKCS#12, no key inside)."""


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run pyHanko's async API from sync code, also when called inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class Pkcs12Signer:
    """A ``Signer`` over a PKCS#12 key (RSA or EC) held in memory, through pyHanko."""

    def __init__(self, p12: bytes, password: str | bytes | None) -> None:
        if isinstance(password, str):
            password = password.encode("utf-8")
        try:
            self._signer = SimpleSigner.load_pkcs12_data(
                p12, other_certs=[], passphrase=password or None
            )
        except (ValueError, TypeError) as error:
            raise SignerLoadError("The PKCS#12 file cannot be opened with this password.") from (
                error
            )
        if self._signer.signing_cert is None or self._signer.signing_key is None:
            raise SignerLoadError("The PKCS#12 file holds no key with its certificate.")
        self._certificate = x509.load_der_x509_certificate(self._signer.signing_cert.dump())

    @classmethod
    def from_file(cls, path: Path | str, password: str | bytes | None) -> Pkcs12Signer:
        return cls(Path(path).read_bytes(), password)

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def pyhanko_signer(self) -> SimpleSigner:
        """The pyHanko signer underneath, for PAdES signatures of PDF documents."""
        return self._signer

    @property
    def chain(self) -> list[x509.Certificate]:
        """The other certificates the PKCS#12 file carried (CA chain), embedded in signatures."""
        return [
            x509.load_der_x509_certificate(cert.dump())
            for cert in self._signer.cert_registry
            if cert.dump() != self._signer.signing_cert.dump()
        ]

    def _attributes(self) -> PdfCMSSignedAttributes:
        # Without an explicit time pyHanko adds no signingTime attribute to non-PDF signatures.
        return PdfCMSSignedAttributes(signing_time=datetime.now(UTC))

    def sign_detached(self, source: Path | str | BinaryIO) -> bytes:
        """Stream the content through pyHanko's detached CMS signer (1 MiB+ chunks)."""
        if isinstance(source, Path | str):
            with open(source, "rb") as stream:
                return self.sign_detached(stream)
        signed = run_async(
            self._signer.async_sign_general_data(
                source,
                DIGEST_ALGORITHM,
                detached=True,
                chunk_size=BUFFER_SIZE,
                signed_attr_settings=self._attributes(),
            )
        )
        return _der(signed)

    def sign_digest(self, sha256: bytes) -> bytes:
        """The same CMS as ``sign_detached`` from a precomputed SHA-256 (no content read)."""
        if len(sha256) != SHA256_LENGTH:
            raise ValueError("sign_digest takes the 32 raw bytes of a SHA-256 digest.")
        signed = run_async(
            self._signer.async_sign(
                data_digest=sha256,
                digest_algorithm=DIGEST_ALGORITHM,
                is_pdf_sig=False,
                signed_attr_settings=self._attributes(),
            )
        )
        return _der(signed)


def _der(content_info: cms.ContentInfo) -> bytes:
    return content_info.dump()


def sign_file(signer: Signer, path: Path | str, sha256_hex: str | None = None) -> bytes:
    """Sign a file's bytes: from the known digest when given, else by streaming the file."""
    if sha256_hex:
        return signer.sign_digest(bytes.fromhex(sha256_hex))
    return signer.sign_detached(path)
