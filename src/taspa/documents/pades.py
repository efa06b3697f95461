"""PAdES signatures on PDF documents (acts, receipts): each signer adds an incremental
signature with their own registered EDS key, so earlier signatures stay valid."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature

from taspa.sealing.signing import Pkcs12Signer


def sign_pdf(pdf: bytes, signer: Pkcs12Signer, *, field_name: str, reason: str) -> bytes:
    """Append a PAdES signature in a new field ``field_name``."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    fields.append_signature_field(writer, fields.SigFieldSpec(sig_field_name=field_name))
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, reason=reason, subfilter=fields.SigSeedSubFilter.PADES
    )
    out = io.BytesIO()
    signers.PdfSigner(meta, signer=signer.pyhanko_signer).sign_pdf(writer, output=out)
    return out.getvalue()


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
