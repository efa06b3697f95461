"""Why a check failed, named: the words a library (pyHanko, asn1crypto, cryptography, OpenSSL,
the HTTP client that asked a certification authority) used for a failure, as one of a few
reasons a reader understands, with its explanation in the interface's languages.

A check keeps the library's own text in its ``params`` (``error``, ``problem``): the staff who
look into a failure read it there (``taspa verify``, the stored verdict). The verification
report shows the reason's explanation instead, in the reader's language, and never the
library's text itself.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

# Reason -> its explanation, as a phrase that fits after "technical reason:" in a sentence.
REASONS = {
    "revoked": _("the certificate was revoked by its certification authority"),
    "expired": _("the certificate's period of validity is over"),
    "not_yet_valid": _("the certificate's period of validity has not begun"),
    "untrusted_issuer": _("the certificate is not issued by a trusted certification authority"),
    "key_usage": _("the certificate may not be used for this kind of signature"),
    "signature_mismatch": _("the signature does not match the signed data"),
    "digest_mismatch": _("the digest does not match the data"),
    "service_unreachable": _("the certification authority's service could not be reached"),
    "revocation_unknown": _("there is no usable information on the certificate's revocation"),
    "damaged_data": _("the data is damaged or not in the expected format"),
    "manifest_field": _("a field of the manifest is missing or does not match"),
    "unknown": _("a failure the verifier does not name"),
}

# (pattern, reason), tried in this order on the library's text (case-insensitive).
_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\brevok", "revoked"),
    (r"expired|no longer valid|not_valid_after|validity period.*(ended|over)", "expired"),
    (r"not yet valid|not valid (until|before)|not_valid_before", "not_yet_valid"),
    (r"key.?usage|extendedkeyusage|\beku\b", "key_usage"),
    (
        r"issuer|trust|anchor|self.?signed|no path|path (could not|building|validation)"
        r"|pathbuilding|pathvalidation|unable to get local|certificate verify failed|chain",
        "untrusted_issuer",
    ),
    (
        r"invalid ?signature|signature (is )?(invalid|does not|bad|mismatch)|bad signature",
        "signature_mismatch",
    ),
    (r"imprint|digest|hash|checksum", "digest_mismatch"),
    (
        r"time(d)? ?out|connection|unreachable|refused|resolve|name or service|urlopen|http"
        r"|network|temporary failure",
        "service_unreachable",
    ),
    (r"ocsp|\bcrl\b|revinfo|revocation", "revocation_unknown"),
    (
        r"pars|decod|asn\.?1|\bder\b|\btag\b|insufficient data|unexpected|malformed|length"
        r"|header too long|deserializ|unable to load|could not load|not a |invalid|truncat"
        r"|extra data|trailing data|bytes requested|premature|end of (data|input)",
        "damaged_data",
    ),
)
_COMPILED = tuple((re.compile(pattern, re.IGNORECASE), reason) for pattern, reason in _PATTERNS)
# Taspa's own words for a manifest that does not fit ("file.bytes: not a size").
_MANIFEST_PROBLEM = re.compile(r"^[a-z_]+(\.[a-z_0-9]+)*[ :]")


def reason_of(text: object, *, manifest: bool = False) -> str:
    """The named reason (a key of ``REASONS``) for a library's failure text."""
    words = str(text or "")
    if manifest and _MANIFEST_PROBLEM.match(words):
        return "manifest_field"
    for pattern, reason in _COMPILED:
        if pattern.search(words):
            return reason
    return "unknown"


def explanation(text: object, *, manifest: bool = False) -> str:
    """The reason's explanation in the active language."""
    return str(REASONS[reason_of(text, manifest=manifest)])


def chain_reason(code: str, params: dict | None = None) -> str:
    """The named reason of a certificate chain's verdict (``trust.validate_chain``)."""
    known = {
        "certificate_expired": "expired",
        "certificate_not_yet_valid": "not_yet_valid",
        "no_trust_anchors": "untrusted_issuer",
    }
    return known.get(code) or reason_of((params or {}).get("error", ""))
