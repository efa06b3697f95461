"""The signer certificate's revocation evidence, fetched at sealing and kept in the signature
(CAdES-LT material; R14, issue 15, ADR 0010).

At sealing Taspa asks the certificate's OCSP responder (its authorityInfoAccess), else its CRL
(cRLDistributionPoints), through pyhanko-certvalidator's fetchers, and validates the answer at
once: a certificate revoked before it signs refuses to sign (``CertificateRevoked``), as an
expired key does. A responder that does not answer never blocks sealing: the seal goes out
without the evidence and ``revocation_queue`` fetches it later.

The evidence goes where CAdES baseline LT (ETSI EN 319 122-1 §5.5) puts it: into the CMS
``SignedData.crls`` field, CRLs as they are, OCSP responses as ``OtherRevocationInfoFormat``
with ``id-ri-ocsp-response`` (RFC 5940). The field is not covered by the signature, so it can be
added to a finished ``.p7s`` (a new blob, like a late timestamp) without touching the signed
attributes or the media; and it travels with the ``.p7s``, so media + ``.p7s`` downloaded from
the API still carry it, and the evidence record's leaf for the signature covers it.

``check_revocation`` (``taspa verify``) answers from the stored evidence alone, as of the
signing time: no network, whatever the date the check is run.

Settings: ``TASPA_REVOCATION_TIMEOUT`` (seconds per request, default 3; taspa.settings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import cms, crl, ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    InsufficientRevinfoError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from taspa.sealing.signing import run_async

DEFAULT_TIMEOUT_S = 3.0
OCSP_FORMAT = "ocsp_response"  # id-ri-ocsp-response, RFC 5940


class CertificateRevoked(Exception):
    """The CA says the signer's certificate is revoked: it must not sign (R14)."""


@dataclass(frozen=True)
class RevocationEvidence:
    """What the CA said about a certificate: ``status`` ``good``, ``unavailable`` (nobody
    answered: fetch later) or ``not_declared`` (the certificate names no OCSP or CRL)."""

    status: str
    detail: str
    ocsps: tuple[bytes, ...] = field(default=())
    crls: tuple[bytes, ...] = field(default=())

    @property
    def data(self) -> bool:
        return bool(self.ocsps or self.crls)


def configured_timeout() -> float:
    """``TASPA_REVOCATION_TIMEOUT`` in seconds (default 3), checked at start-up (taspa.settings)."""
    from django.conf import settings

    if not settings.configured:
        return DEFAULT_TIMEOUT_S
    return float(getattr(settings, "TASPA_REVOCATION_TIMEOUT", None) or DEFAULT_TIMEOUT_S)


def declared_sources(certificate: x509.Certificate) -> dict[str, list[str]]:
    """The OCSP and CRL URLs the certificate names: ``{"ocsp": [...], "crl": [...]}``."""
    sources: dict[str, list[str]] = {"ocsp": [], "crl": []}
    try:
        access = certificate.extensions.get_extension_for_oid(
            ExtensionOID.AUTHORITY_INFORMATION_ACCESS
        ).value
        sources["ocsp"] = [
            d.access_location.value
            for d in access
            if d.access_method == AuthorityInformationAccessOID.OCSP
        ]
    except x509.ExtensionNotFound:
        pass
    try:
        points = certificate.extensions.get_extension_for_oid(
            ExtensionOID.CRL_DISTRIBUTION_POINTS
        ).value
        sources["crl"] = [name.value for point in points for name in point.full_name or ()]
    except x509.ExtensionNotFound:
        pass
    return sources


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def _roots(
    anchors: Sequence[x509.Certificate], chain: Sequence[x509.Certificate]
) -> list[asn1_x509.Certificate]:
    """The trust anchors; without any, the self-signed CAs the key file carried (enough to
    check the responder's signature at sealing; ``taspa verify`` checks against its own)."""
    roots = list(anchors) or [c for c in chain if c.issuer == c.subject]
    return [_asn1(c) for c in roots]


def _policy(ee_rule: RevocationCheckingRule) -> CertRevTrustPolicy:
    # An answer given after the moment asked about speaks for it too: revocation is final
    # (the CA does not hold certificates), and the answer at sealing comes just after signing.
    return CertRevTrustPolicy(
        RevocationCheckingPolicy(
            ee_certificate_rule=ee_rule,
            intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
        ),
        retroactive_revinfo=True,
    )


def _fetch_one(certificate, chain, anchors, moment, timeout, rule) -> tuple[str, Any]:
    """One pass of certvalidator with fetching under ``rule``: ``("good", context)``,
    ``("unavailable", reason)``; ``CertificateRevoked`` when the CA says revoked."""
    context = ValidationContext(
        trust_roots=_roots(anchors, chain),
        other_certs=[_asn1(c) for c in chain],
        moment=moment,
        allow_fetching=True,
        revinfo_policy=_policy(rule),
        fetcher_backend=RequestsFetcherBackend(per_request_timeout=timeout),
    )
    validator = CertificateValidator(
        _asn1(certificate),
        intermediate_certs=[_asn1(c) for c in chain],
        validation_context=context,
    )
    subject = certificate.subject.rfc4514_string()
    try:
        run_async(validator.async_validate_usage({"digital_signature"}))
    except RevokedError as error:
        raise CertificateRevoked(f"the CA revoked {subject}: {error}") from None
    except (PathValidationError, PathBuildingError, OSError) as error:
        return "unavailable", str(error)
    return "good", context


def fetch_revocation(
    certificate: x509.Certificate,
    *,
    chain: Sequence[x509.Certificate] = (),
    anchors: Sequence[x509.Certificate] = (),
    moment: datetime | None = None,
    timeout: float | None = None,
) -> RevocationEvidence:
    """Fetch and validate the certificate's revocation status as of ``moment`` (default now):
    its OCSP responder first, its CRL only when no OCSP answer is to be had (CRLs are large).
    Raises ``CertificateRevoked`` when it was revoked by then."""
    sources = declared_sources(certificate)
    timeout = timeout or configured_timeout()
    passes = [
        (kind, rule)
        for kind, rule in (
            ("ocsp", RevocationCheckingRule.OCSP_REQUIRED),
            ("crl", RevocationCheckingRule.CRL_REQUIRED),
        )
        if sources[kind]
    ]
    if not passes:
        return RevocationEvidence("not_declared", "the certificate names no OCSP responder or CRL")
    problems = []
    for kind, rule in passes:
        outcome, found = _fetch_one(certificate, chain, anchors, moment, timeout, rule)
        if outcome == "unavailable":
            problems.append(f"{', '.join(sources[kind])}: {found}")
            continue
        ocsps = tuple(r.dump() for r in found.ocsps)
        crls = tuple(c.dump() for c in found.crls)
        what = "OCSP response" if kind == "ocsp" else "CRL"
        return RevocationEvidence(
            "good", f"{what} from {sources[kind][0]}: not revoked", ocsps, crls
        )
    return RevocationEvidence("unavailable", "; ".join(problems))


# --- in the CMS signature --------------------------------------------------------------------


def _signed_data(der: bytes) -> tuple[cms.ContentInfo, cms.SignedData]:
    content_info = cms.ContentInfo.load(der)
    if content_info["content_type"].native != "signed_data":
        raise ValueError("not a CMS SignedData")
    return content_info, content_info["content"]


def embedded(der: bytes) -> tuple[list[bytes], list[bytes]]:
    """The OCSP responses and CRLs stored in a DER CMS signature's ``crls`` field."""
    _, signed_data = _signed_data(der)
    ocsps, crls = [], []
    choices = signed_data["crls"]
    if not choices.native:
        return ocsps, crls
    for choice in choices:
        if choice.name == "crl":
            crls.append(choice.chosen.dump())
        elif choice.chosen["other_rev_info_format"].native == OCSP_FORMAT:
            ocsps.append(choice.chosen["other_rev_info"].dump())
    return ocsps, crls


def has_revocation(der: bytes) -> bool:
    return any(embedded(der))


def embed(der: bytes, evidence: RevocationEvidence) -> bytes:
    """``der`` with the evidence added to ``SignedData.crls`` (unchanged when it has some or
    the evidence is empty). Signed attributes and signature value are untouched."""
    if not evidence.data or has_revocation(der):
        return der
    content_info, signed_data = _signed_data(der)
    choices = [cms.RevocationInfoChoice(name="crl", value=crl.CertificateList.load(c)) for c in
               evidence.crls]  # fmt: skip
    choices += [
        cms.RevocationInfoChoice(
            name="other",
            value=cms.OtherRevocationInfoFormat(
                {"other_rev_info_format": OCSP_FORMAT, "other_rev_info": ocsp.OCSPResponse.load(o)}
            ),
        )
        for o in evidence.ocsps
    ]
    signed_data["crls"] = cms.RevocationInfoChoices(choices)
    return content_info.dump(force=True)


# --- verification from the stored evidence ---------------------------------------------------


@dataclass(frozen=True)
class RevocationVerdict:
    present: bool
    ok: bool
    detail: str
    code: str = ""  # with ``params``: the same verdict for a translated report
    params: dict[str, str] = field(default_factory=dict)


def _described(ocsps: list[bytes], crls: list[bytes]) -> str:
    parts = []
    for raw in ocsps:
        basic = ocsp.OCSPResponse.load(raw).basic_ocsp_response["tbs_response_data"]
        parts.append(f"OCSP response produced {basic['produced_at'].native:%Y-%m-%d %H:%M:%S} UTC")
    for raw in crls:
        issued = crl.CertificateList.load(raw)["tbs_cert_list"]["this_update"].native
        parts.append(f"CRL of {issued:%Y-%m-%d %H:%M:%S} UTC")
    return ", ".join(parts)


def check_revocation(
    der: bytes,
    anchors: Sequence[x509.Certificate],
    moment: datetime,
    *,
    certificate: asn1_x509.Certificate,
    other_certs: Sequence[asn1_x509.Certificate] = (),
) -> RevocationVerdict:
    """The certificate's status at ``moment`` (when it signed) from the evidence stored in the
    signature alone: no fetching. A malformed answer is a FAIL with its reason."""
    try:
        ocsps, crls = embedded(der)
    except Exception as error:  # asn1crypto raises many types on bent input
        return RevocationVerdict(
            True,
            False,
            f"unreadable revocation data: {error}",
            "revocation_unreadable",
            {"error": str(error)},
        )
    if not (ocsps or crls):
        return RevocationVerdict(False, True, "absent", "absent")
    try:
        described = _described(ocsps, crls)
    except Exception as error:  # a bent OCSP response or CRL
        return RevocationVerdict(
            True,
            False,
            f"malformed OCSP response or CRL: {error}",
            "revocation_malformed",
            {"error": str(error)},
        )
    if not anchors:
        return RevocationVerdict(
            True, False, "no trust anchors to check the responder against", "no_trust_anchors"
        )
    try:
        context = ValidationContext(
            trust_roots=[_asn1(a) for a in anchors],
            other_certs=list(other_certs),
            moment=moment,
            allow_fetching=False,
            revinfo_policy=_policy(RevocationCheckingRule.CRL_OR_OCSP_REQUIRED),
            ocsps=[ocsp.OCSPResponse.load(o) for o in ocsps],
            crls=[crl.CertificateList.load(c) for c in crls],
        )
        validator = CertificateValidator(
            certificate, intermediate_certs=list(other_certs), validation_context=context
        )
        run_async(validator.async_validate_usage({"digital_signature"}))
    except RevokedError as error:
        return RevocationVerdict(
            True,
            False,
            f"revoked before it signed: {error} ({described})",
            "revoked",
            {"error": str(error), "evidence": described},
        )
    except InsufficientRevinfoError as error:
        return RevocationVerdict(
            True,
            False,
            f"the stored revocation data does not prove the status: {error}",
            "revocation_unproven",
            {"error": str(error)},
        )
    except Exception as error:  # certvalidator raises path, validation, parsing errors
        return RevocationVerdict(
            True,
            False,
            f"malformed OCSP response or CRL: {error}",
            "revocation_malformed",
            {"error": str(error)},
        )
    return RevocationVerdict(
        True,
        True,
        f"not revoked at {moment.isoformat()} ({described})",
        "not_revoked",
        {"moment": moment.isoformat(), "evidence": described},
    )
