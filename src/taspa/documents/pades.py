"""PAdES signatures on PDF documents (acts, receipts): each signer adds an incremental
signature with their own registered EDS key, so earlier signatures stay valid."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature

from taspa.sealing.revocation import RevocationEvidence
from taspa.sealing.signing import Pkcs12Signer


def sign_pdf(
    pdf: bytes,
    signer: Pkcs12Signer,
    *,
    field_name: str,
    reason: str,
    revocation: RevocationEvidence | None = None,
) -> bytes:
    """Append a PAdES signature in a new field ``field_name``; with the ``revocation`` evidence
    fetched before signing (issue 15), pyHanko embeds it and the chain in the document's DSS
    (PAdES-LT), so the act proves its signer's status after the certificate has expired."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    fields.append_signature_field(writer, fields.SigFieldSpec(sig_field_name=field_name))
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        subfilter=fields.SigSeedSubFilter.PADES,
        **_validation_info(signer, revocation),
    )
    out = io.BytesIO()
    signers.PdfSigner(meta, signer=signer.pyhanko_signer).sign_pdf(writer, output=out)
    return out.getvalue()


def _validation_info(signer: Pkcs12Signer, revocation: RevocationEvidence | None) -> dict:
    """pyHanko's arguments to embed the stored OCSP response / CRL (no fetching here)."""
    if revocation is None or not revocation.data:
        return {}
    from asn1crypto import crl, ocsp
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from pyhanko_certvalidator import ValidationContext

    chain = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in signer.chain]
    roots = [c for c in chain if c.issuer == c.subject]
    context = ValidationContext(
        trust_roots=roots,
        other_certs=chain,
        allow_fetching=False,
        ocsps=[ocsp.OCSPResponse.load(o) for o in revocation.ocsps],
        crls=[crl.CertificateList.load(c) for c in revocation.crls],
    )
    return {"embed_validation_info": True, "validation_context": context}


@dataclass(frozen=True)
class PdfSignatureVerdict:
    field: str
    signer: str
    intact: bool
    valid: bool
    covers_whole_file: bool


def pdf_signatures(pdf: bytes) -> list[PdfSignatureVerdict]:
    """Every signature in the PDF with whether its bytes are intact and its math valid."""
    reader = PdfFileReader(io.BytesIO(pdf))
    verdicts = []
    for embedded in reader.embedded_signatures:
        status = validate_pdf_signature(embedded)
        verdicts.append(
            PdfSignatureVerdict(
                field=embedded.field_name,
                signer=embedded.signer_cert.subject.human_friendly,
                intact=status.intact,
                valid=status.valid,
                covers_whole_file=embedded.coverage.name == "ENTIRE_FILE",
            )
        )
    return verdicts
