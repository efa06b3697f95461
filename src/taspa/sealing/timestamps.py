"""RFC 3161 signature timestamps on the sealing signatures (CAdES B-T; R14, ADR 0003).

A signature timestamp is the unsigned attribute ``id-aa-signatureTimeStampToken`` of the CMS
``SignerInfo``: a token from a time-stamping authority (TSA) over the SHA-256 of the signature
value. It proves the signature existed at the TSA's time, so "the certificate was valid when it
signed" no longer rests on the server's own clock (``signingTime``).

Because the token covers only the signature value, it can be added to a finished ``.p7s`` at
any later time without touching the signed attributes or the media: sealing never waits for
the TSA (R14). When it is down, the seal goes out without a token and ``timestamp_queue`` adds
it later.

The TSA is ``TASPA_TSA_URL``; ``TASPA_TSA_TIMEOUT`` (seconds, default 3) bounds one request
(both checked at start-up in taspa.settings).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper, TimestampRequestError
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import ValidationContext

from taspa.sealing.signing import run_async

DEFAULT_TIMEOUT_S = 3.0
TST_ATTRIBUTE = "signature_time_stamp_token"


class TimestampUnavailable(Exception):
    """The TSA could not be reached, refused the request, or answered nonsense."""


def _setting(name: str) -> object:
    from django.conf import settings

    return getattr(settings, name, None) if settings.configured else None


def configured_tsa_url() -> str | None:
    """``TASPA_TSA_URL`` (checked at start-up, taspa.settings); ``None`` when unset."""
    return str(_setting("TASPA_TSA_URL") or "") or None


def configured_timestamper() -> TimeStamper | None:
    """An RFC 3161 HTTP client for the configured TSA, or ``None`` (no timestamps)."""
    url = configured_tsa_url()
    if not url:
        return None
    seconds = float(_setting("TASPA_TSA_TIMEOUT") or DEFAULT_TIMEOUT_S)
    return HTTPTimeStamper(url, timeout=seconds)


def _signer_info(der: bytes) -> tuple[cms.ContentInfo, cms.SignerInfo]:
    content_info = cms.ContentInfo.load(der)
    if content_info["content_type"].native != "signed_data":
        raise ValueError("not a CMS SignedData")
    signer_infos = content_info["content"]["signer_infos"]
    if len(signer_infos) != 1:
        raise ValueError(f"{len(signer_infos)} signer infos, expected exactly one")
    return content_info, signer_infos[0]


def _tokens(signer_info: cms.SignerInfo) -> list[cms.ContentInfo]:
    unsigned = signer_info["unsigned_attrs"]
    if not unsigned.native:
        return []
    return [
        value
        for attribute in unsigned
        if attribute["type"].native == TST_ATTRIBUTE
        for value in attribute["values"]
    ]


def signature_value(der: bytes) -> bytes:
    """The signature value of a DER CMS signature (what a signature timestamp covers)."""
    return _signer_info(der)[1]["signature"].native


def has_timestamp(der: bytes) -> bool:
    """Whether a DER CMS signature carries a signature timestamp token."""
    return bool(_tokens(_signer_info(der)[1]))


def add_timestamp(der: bytes, timestamper: TimeStamper) -> bytes:
    """``der`` with a signature timestamp token from ``timestamper`` added (unchanged when it
    already has one). Raises ``TimestampUnavailable`` when the TSA fails.

    Only the unsigned attributes change: the signed attributes, the signature value and so the
    signature's validity over the content stay as they were.
    """
    content_info, signer_info = _signer_info(der)
    if _tokens(signer_info):
        return der
    algorithm = signer_info["digest_algorithm"]["algorithm"].native
    imprint = hashlib.new(algorithm, signer_info["signature"].native).digest()
    try:
        token = run_async(timestamper.async_timestamp(imprint, algorithm))
    except (TimestampRequestError, OSError, ValueError, TypeError) as error:
        cause = f": {error.__cause__}" if error.__cause__ else ""
        raise TimestampUnavailable(f"{error}{cause}") from None
    attribute = cms.CMSAttribute({"type": TST_ATTRIBUTE, "values": [token]})
    existing = list(signer_info["unsigned_attrs"]) if signer_info["unsigned_attrs"].native else []
    signer_info["unsigned_attrs"] = cms.CMSAttributes([*existing, attribute])
    return content_info.dump(force=True)


@dataclass(frozen=True)
class TimestampVerdict:
    """What one signature's timestamp token says, checked against the trust anchors."""

    present: bool
    ok: bool
    detail: str
    time: datetime | None = None
    code: str = ""  # with ``params``: the same verdict for a translated report
    params: dict[str, str] = field(default_factory=dict)


def check_timestamp(der: bytes, anchors: list[x509.Certificate]) -> TimestampVerdict:
    """Verify the signature timestamp of one CMS signature: the token's own signature, its
    imprint (the SHA-256 of this signature value) and the TSA certificate's chain to
    ``anchors`` with the time-stamping usage, at the token's time."""
    _, signer_info = _signer_info(der)
    tokens = _tokens(signer_info)
    if not tokens:
        return TimestampVerdict(False, True, "absent", code="absent")
    if len(tokens) > 1:
        return TimestampVerdict(
            True,
            False,
            f"{len(tokens)} timestamp tokens, expected one",
            code="timestamp_many",
            params={"count": str(len(tokens))},
        )
    signed_data = tokens[0]["content"]
    try:
        gen_time = signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        return TimestampVerdict(
            True,
            False,
            f"not a timestamp token: {error}",
            code="timestamp_not_token",
            params={"error": str(error)},
        )
    if not anchors:
        return TimestampVerdict(
            True,
            False,
            "no trust anchors to check the TSA against",
            gen_time,
            code="no_trust_anchors",
        )
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(_der_cert(a)) for a in anchors],
        moment=gen_time,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    imprint = _imprint_of(signer_info)
    try:
        status = run_async(validate_tst_signed_data(signed_data, context, imprint))
    except Exception as error:  # pyHanko raises several types for malformed tokens
        return TimestampVerdict(
            True,
            False,
            f"malformed timestamp token: {error}",
            gen_time,
            code="timestamp_malformed",
            params={"error": str(error)},
        )
    tsa = status["signing_cert"].subject.human_friendly
    if not (status["intact"] and status["valid"]):
        return TimestampVerdict(
            True,
            False,
            f"token by {tsa} is not over this signature",
            gen_time,
            code="timestamp_other_signature",
            params={"tsa": tsa},
        )
    if status.get("trust_problem_indic") is not None:
        problem = status["trust_problem_indic"]
        return TimestampVerdict(
            True,
            False,
            f"TSA {tsa} is not trusted: {problem}",
            gen_time,
            code="timestamp_untrusted",
            params={"tsa": tsa, "problem": str(problem)},
        )
    return TimestampVerdict(
        True,
        True,
        f"{gen_time.isoformat()} by {tsa}",
        gen_time,
        code="timestamp_ok",
        params={"time": gen_time.isoformat(), "tsa": tsa},
    )


def _imprint_of(signer_info: cms.SignerInfo):
    value = signer_info["signature"].native

    def expected(algorithm: str) -> bytes:
        return hashlib.new(algorithm, value).digest()

    return expected


def _der_cert(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.DER)


__all__ = [
    "TimeStamper",
    "TimestampUnavailable",
    "TimestampVerdict",
    "add_timestamp",
    "check_timestamp",
    "configured_timestamper",
    "configured_tsa_url",
    "has_timestamp",
    "signature_value",
]
