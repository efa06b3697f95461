"""``taspa verify act.pdf``: check every PAdES signature of an act (R18), without the server.

One ``Check`` per signature (bytes intact and the signature math valid, nothing but form
filling added after it), one per signer's certificate chain (to ``--ca`` / TASPA_TRUST_ANCHORS,
at the time it signed, as for recordings: ADR 0003), whether the last signature covers the whole
file, and — for Taspa's acts, which name their required signers in the PDF's keywords — whether
every required signer has signed.
"""

from __future__ import annotations

import io
import logging
import re
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from taspa.sealing.trust import validate_chain
from taspa.sealing.verify import Check, UnreadableInput, resolve_trust_anchors

_SIGNERS = re.compile(r"signers=([a-z_ ]+)")


@contextmanager
def _quiet_pyhanko():
    """pyHanko logs a traceback for every path it cannot build; the verdict says it better."""
    logger = logging.getLogger("pyhanko")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _cert(asn1_cert) -> x509.Certificate:
    return x509.load_der_x509_certificate(asn1_cert.dump())


def required_signers(reader) -> list[str] | None:
    """The roles a Taspa act names as its required signers (PDF keywords), or None."""
    try:
        keywords = str(reader.trailer_view["/Info"].get("/Keywords", ""))
    except (KeyError, TypeError):
        return None
    found = _SIGNERS.search(keywords)
    return found.group(1).split() if found else None


def verify_pdf(path: Path, ca: Path | str | None = None) -> list[Check]:
    """Every check of one signed PDF document; ``UnreadableInput`` if it is not a PDF."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    try:
        data = Path(path).read_bytes()
        reader = PdfFileReader(io.BytesIO(data))
        signatures = list(reader.embedded_signatures)
    except (OSError, PdfReadError, ValueError) as error:
        raise UnreadableInput(f"{path}: not a readable PDF ({error})") from None
    anchors = resolve_trust_anchors(ca)
    checks: list[Check] = []
    if not signatures:
        return [Check("pdf_signatures", False, "the document bears no signature")]
    for embedded in signatures:
        with _quiet_pyhanko():
            status = validate_pdf_signature(embedded)
        field = embedded.field_name
        signer = embedded.signer_cert.subject.human_friendly
        good = status.intact and status.valid and status.docmdp_ok is not False
        detail = f"{signer}; " + (
            "bytes intact, signature valid"
            if good
            else f"intact={status.intact} valid={status.valid} modifications_ok={status.docmdp_ok}"
        )
        checks.append(Check(f"pdf_signature[{field}]", good, detail))
        checks.append(_chain_check(field, embedded, anchors))
    last = signatures[-1]
    whole = last.coverage.name == "ENTIRE_FILE"
    checks.append(
        Check(
            "whole_file_signed",
            whole,
            f"the last signature ({last.field_name}) covers the whole file"
            if whole
            else "bytes were added after the last signature",
        )
    )
    required = required_signers(reader)
    if required is not None:
        present = {embedded.field_name for embedded in signatures}
        missing = [role for role in required if role not in present]
        checks.append(
            Check(
                "act_signers",
                not missing,
                f"all {len(required)} required signers signed: {', '.join(required)}"
                if not missing
                else f"pending: no signature of {', '.join(missing)} (R18)",
            )
        )
    return checks


def _chain_check(field: str, embedded, anchors: list[x509.Certificate]) -> Check:
    name = f"certificate_chain[{field}]"
    if not anchors:
        return Check(name, False, "no trust anchors given (--ca FILE or TASPA_TRUST_ANCHORS)")
    moment = embedded.self_reported_timestamp or datetime.now(UTC)
    verdict = validate_chain(
        _cert(embedded.signer_cert),
        intermediates=[_cert(c) for c in embedded.other_embedded_certs],
        anchors=anchors,
        moment=moment,
    )
    return Check(name, verdict.ok, verdict.detail)
