"""Trust anchors and certificate-path validation for EDS certificates (R14, R20).

``TASPA_TRUST_ANCHORS`` names a PEM file of the CA certificates EDS certificates must chain to
(for real courts: the NCA RK root and its issuing CAs). Paths are built and checked with
pyhanko-certvalidator at a given moment (registration: now; verification: the signing time).
Revocation is soft-fail without fetching: court servers may have no route to the NCA's
OCSP/CRL endpoints, and a key an administrator revokes in Taspa stops signing at once
(``signer_for``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko_certvalidator import CertificateValidator, ValidationContext

from taspa.sealing.signing import run_async


class TrustAnchorsUnreadable(Exception):
    """The trust anchor file cannot be read or holds no certificate."""


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    detail: str
    code: str = ""  # with ``params``: the same verdict for a translated report
    params: dict[str, str] = field(default_factory=dict)


def load_trust_anchors(path: Path | str) -> list[x509.Certificate]:
    """CA certificates from a PEM file (``TASPA_TRUST_ANCHORS``, ``taspa verify --ca``)."""
    try:
        return x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError) as error:
        raise TrustAnchorsUnreadable(f"trust anchors {path}: {error}") from None


def configured_trust_anchors_path() -> str | None:
    """The ``TASPA_TRUST_ANCHORS`` setting, read defensively (None outside Django or unset)."""
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover - the library used without Django
        return None
    if not settings.configured:
        return None
    return getattr(settings, "TASPA_TRUST_ANCHORS", None) or None


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def validate_chain(
    certificate: x509.Certificate,
    *,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    moment: datetime,
) -> ChainVerdict:
    """Whether ``certificate`` chains to one of ``anchors`` and is usable for signatures at
    ``moment`` (validity periods of the whole path, key usage digitalSignature)."""
    subject = certificate.subject.rfc4514_string()
    if not anchors:
        return ChainVerdict(False, "no trust anchors configured", "no_trust_anchors")
    if moment > certificate.not_valid_after_utc:
        return ChainVerdict(
            False,
            f"certificate {subject} expired {certificate.not_valid_after_utc:%Y-%m-%d %H:%M}, "
            f"before {moment:%Y-%m-%d %H:%M}",
            "certificate_expired",
            {
                "subject": subject,
                "expired": certificate.not_valid_after_utc.isoformat(),
                "moment": moment.isoformat(),
            },
        )
    if moment < certificate.not_valid_before_utc:
        return ChainVerdict(
            False,
            f"certificate {subject} is not yet valid at {moment}",
            "certificate_not_yet_valid",
            {"subject": subject, "moment": moment.isoformat()},
        )
    context = ValidationContext(
        trust_roots=[_asn1(a) for a in anchors],
        moment=moment,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    validator = CertificateValidator(
        _asn1(certificate),
        intermediate_certs=[_asn1(c) for c in intermediates],
        validation_context=context,
    )
    try:
        path = run_async(validator.async_validate_usage({"digital_signature"}))
    except Exception as error:  # certvalidator raises path-building, validation, usage errors
        return ChainVerdict(
            False, f"{subject}: {error}", "chain_invalid", {"subject": subject, "error": str(error)}
        )
    root = path.trust_anchor.authority.name.human_friendly
    # The translated report names the root by its common name ("Common Name: …" is English).
    common = path.trust_anchor.authority.name.native.get("common_name") or root
    return ChainVerdict(
        True, f"{subject} chains to {root}", "chains_to", {"subject": subject, "root": common}
    )
