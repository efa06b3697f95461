"""The recording page's verification report in the reader's language (R14, R19).

``taspa verify`` (``taspa.sealing.verify``) says each check in English; each ``Check`` also
carries a ``code`` and its ``params``. Here each check's name is a label, each verdict a word,
and each code a sentence of the interface's catalogue, filled with the check's values; a
library's failure text among them is shown as its named reason (``verify_reasons``). A
verdict kept before the codes existed (no ``code``) shows the verdict word alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taspa.sealing.verify_reasons import explanation

# The check's code (``Check.name``) -> its name as words.
CHECK_LABELS = {
    "media_hash": gettext_lazy("Hash of the media file"),
    "media_signature": gettext_lazy("Signature of the media file"),
    "certificate_chain": gettext_lazy("Signer's certificate"),
    "revocation": gettext_lazy("Certificate revocation status"),
    "timestamp": gettext_lazy("Trusted timestamp"),
    "manifest_signature": gettext_lazy("Signature of the manifest"),
    "manifest_fields": gettext_lazy("Contents of the manifest"),
    "segment_chain": gettext_lazy("Chain of the recording's pieces"),
    "stored_bytes": gettext_lazy("Stored copy of the files"),
    "readable": gettext_lazy("Reading the files"),
}

# The detail's code -> its sentence; ``%(name)s`` are the check's ``params``.
DETAILS = {
    # signatures (media and manifest)
    "signature_missing": gettext_lazy("The signature file %(file)s is missing: not sealed."),
    "signature_not_cms": gettext_lazy(
        "The file %(file)s is not a digital signature (technical reason: %(error)s)."
    ),
    "signature_malformed": gettext_lazy("The signature is damaged (technical reason: %(error)s)."),
    "signature_other_content": gettext_lazy(
        "The file %(file)s is not the content that was signed."
    ),
    "signature_value_bad": gettext_lazy("The signature value does not verify."),
    "signed_by": gettext_lazy("Signed by %(subject)s at %(when)s."),
    "signed_by_no_time": gettext_lazy("Signed by %(subject)s; the signing time is not stated."),
    "other_signer": gettext_lazy("Signed by %(subject)s, not by the signer of the media file."),
    "no_signature": gettext_lazy("There is no readable signature to check this against."),
    "no_trust_anchors": gettext_lazy("No trusted root certificates are configured."),
    # certificate chain
    "chains_to": gettext_lazy(
        "The certificate of %(subject)s is issued by the trusted authority %(root)s."
    ),
    "certificate_expired": gettext_lazy(
        "The certificate of %(subject)s expired on %(expired)s, before %(moment)s."
    ),
    "certificate_not_yet_valid": gettext_lazy(
        "The certificate of %(subject)s was not yet valid at %(moment)s."
    ),
    "chain_invalid": gettext_lazy(
        "The certificate of %(subject)s is not valid (technical reason: %(error)s)."
    ),
    # revocation
    "not_revoked": gettext_lazy(
        "The certificate was not revoked at %(moment)s (by the data kept in the signature)."
    ),
    "revoked": gettext_lazy("The certificate was revoked before it signed (%(error)s)."),
    "revocation_unproven": gettext_lazy(
        "The stored revocation data does not prove the certificate's status (%(error)s)."
    ),
    "revocation_malformed": gettext_lazy(
        "The stored revocation data is damaged (technical reason: %(error)s)."
    ),
    "revocation_unreadable": gettext_lazy(
        "The stored revocation data cannot be read (technical reason: %(error)s)."
    ),
    "revocation_pending": gettext_lazy(
        "No revocation data yet: the certification authority did not answer at sealing; "
        "Taspa adds it later."
    ),
    "revocation_not_declared": gettext_lazy(
        "No revocation data: the certificate names no service that answers for it."
    ),
    # timestamp
    "timestamp_absent": gettext_lazy(
        "No trusted timestamp: the signing time is the signer's own statement."
    ),
    "absent": gettext_lazy("no timestamp"),
    "timestamp_ok": gettext_lazy("stamped at %(time)s by %(tsa)s"),
    "timestamp_many": gettext_lazy("%(count)s timestamps where one is expected"),
    "timestamp_not_token": gettext_lazy("not a timestamp (technical reason: %(error)s)"),
    "timestamp_malformed": gettext_lazy("the timestamp is damaged (technical reason: %(error)s)"),
    "timestamp_other_signature": gettext_lazy(
        "the timestamp by %(tsa)s is not over this signature"
    ),
    "timestamp_untrusted": gettext_lazy(
        "the timestamp service %(tsa)s is not trusted (technical reason: %(problem)s)"
    ),
    # manifest
    "skipped_no_manifest": gettext_lazy("No manifest %(file)s beside the file; it is optional."),
    "manifest_unreadable": gettext_lazy("The manifest cannot be read."),
    "manifest_problems": gettext_lazy(
        "The manifest does not match the file (technical reasons: %(problems)s)."
    ),
    "manifest_matches": gettext_lazy("The manifest matches the file %(file)s, %(size)s bytes."),
    # media hash
    "hash_matches_manifest": gettext_lazy("SHA-256 %(actual)s, as in the manifest."),
    "hash_differs_manifest": gettext_lazy(
        "SHA-256 %(actual)s differs from the manifest's %(expected)s."
    ),
    "hash_matches_signed": gettext_lazy("%(algorithm)s %(actual)s, as the signature states."),
    "hash_differs_signed": gettext_lazy(
        "%(algorithm)s %(actual)s differs from the signed %(expected)s."
    ),
    "hash_nothing_to_compare": gettext_lazy(
        "Nothing to compare with: no manifest and no readable signature."
    ),
    # segment chain
    "skipped_no_journal": gettext_lazy(
        "No journal of the recording's pieces beside the file; it is optional."
    ),
    "journal_unreadable": gettext_lazy("The journal of the recording's pieces cannot be read."),
    "piece_offset": gettext_lazy(
        "Piece %(index)s (at byte %(offset)s, %(length)s bytes) should start at byte %(expected)s."
    ),
    "piece_truncated": gettext_lazy(
        "The file ends inside piece %(index)s (at byte %(offset)s, %(length)s bytes): it is cut "
        "short."
    ),
    "piece_bytes": gettext_lazy(
        "The bytes of piece %(index)s (at byte %(offset)s, %(length)s bytes) differ from the "
        "journal."
    ),
    "piece_link": gettext_lazy(
        "Piece %(index)s (at byte %(offset)s, %(length)s bytes) does not follow from the "
        "previous one."
    ),
    "pieces_cover": gettext_lazy("The pieces cover %(covered)s bytes, the file has %(size)s."),
    "chain_head_differs": gettext_lazy(
        "The chain's last link %(head)s… is not the one in the manifest."
    ),
    "pieces_count_differs": gettext_lazy("%(pieces)s pieces, the manifest says %(manifest)s."),
    "pieces_ok": gettext_lazy("%(pieces)s pieces, each one follows from the previous."),
    # the web page's own (the stored copy, the files as a whole)
    "stored_bytes_refused": gettext_lazy(
        "The stored copy of the files does not match its digest: nothing is checked."
    ),
    "unreadable_input": gettext_lazy("The files cannot be read."),
}

_TIMES = ("when", "time", "moment", "expired")
_LIBRARY_TEXTS = ("error", "problem")


def moment_text(value: Any) -> Any:
    """An ISO moment as the court's local ``YYYY-MM-DD HH:MM:SS`` (a reader's date and time,
    as the other pages show them); anything else as it is."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return f"{moment:%Y-%m-%d %H:%M}"
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}"


def _sentence(code: str, params: dict[str, Any]) -> str:
    template = DETAILS.get(code)
    if template is None:
        return ""
    values = {k: moment_text(v) if k in _TIMES else v for k, v in params.items()}
    if code == "signed_by" and not values.get("when"):
        template = DETAILS["signed_by_no_time"]
    if code == "timestamp_parts":
        return ""
    # A library's own words (pyHanko, asn1crypto, cryptography, OpenSSL) are never shown: their
    # named reason is, in the reader's language (``technical_text`` keeps them for the staff).
    for key in _LIBRARY_TEXTS:
        if key in values:
            values[key] = explanation(values[key])
    if isinstance(values.get("problems"), list):
        found = [explanation(p, manifest=True) for p in values["problems"]]
        values["problems"] = "; ".join(dict.fromkeys(found))
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return str(template).split("%(")[0].rstrip(" :(") + "."


def detail_text(check: dict[str, Any]) -> str:
    """The check's detail as a sentence of the reader's language ("" when it has no code)."""
    code = check.get("code") or ""
    params = check.get("params") or {}
    if code == "timestamp_parts":
        parts = [
            _("%(file)s: %(text)s")
            % {
                "file": _("media file") if p.get("file") == "media" else _("manifest"),
                "text": _sentence(p.get("code") or "", p),
            }
            for p in params.get("parts") or []
        ]
        return "; ".join(parts) + "." if parts else ""
    return _sentence(code, params)


def technical_text(check: dict[str, Any]) -> str:
    """The library's own words behind a failed check, for the staff who look into it (never a
    participant's page): "" when there are none."""
    params = check.get("params") or {}
    texts = [str(params[key]) for key in _LIBRARY_TEXTS if params.get(key)]
    if isinstance(params.get("problems"), list):
        texts += [str(p) for p in params["problems"]]
    for part in params.get("parts") or []:
        texts += [str(part[key]) for key in _LIBRARY_TEXTS if part.get(key)]
    return "; ".join(texts)


def verdict_word(check: dict[str, Any]) -> str:
    if str(check.get("code") or "").startswith("skipped_"):
        return _("check skipped")
    return _("check passed") if check.get("ok") else _("check failed")


def report_rows(verdict: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each stored check as the page shows it: label, verdict word, sentence."""
    rows = []
    for check in (verdict or {}).get("checks") or []:
        name = check.get("name") or ""
        rows.append(
            {
                "ok": bool(check.get("ok")),
                "label": str(CHECK_LABELS.get(name, _("Other check"))),
                "verdict": verdict_word(check),
                "detail": detail_text(check),
                "technical": technical_text(check),
            }
        )
    return rows
