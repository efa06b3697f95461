"""Verify a sealed recording without trusting the server that made it (R14, R19).

Anyone holding the files (layout in ``layout.py``) and the CA certificates can run the same
checks (``taspa verify``, or ``openssl cms -verify`` for the signature alone). Each check is a
``Check``; the media file is read once, in large chunks, for its hash and the journal's pieces.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeGuard

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.sign.general import extract_certificate_info, extract_signer_info
from pyhanko.sign.validation.generic_cms import validate_sig_integrity

from taspa.sealing.hashing import (
    CHAIN_GENESIS,
    FileDigest,
    Piece,
    PiecedDigest,
    chain_link,
    sha256_file,
    sha256_file_with_pieces,
)
from taspa.sealing.layout import SealedFiles
from taspa.sealing.manifest import ManifestError, manifest_problems, parse_manifest
from taspa.sealing.revocation import check_revocation, declared_sources
from taspa.sealing.timestamps import TimestampVerdict, check_timestamp
from taspa.sealing.trust import (
    TrustAnchorsUnreadable,
    configured_trust_anchors_path,
    load_trust_anchors,
    validate_chain,
)

CHECK_NAMES = (
    "media_hash",
    "media_signature",
    "certificate_chain",
    "revocation",
    "timestamp",
    "manifest_signature",
    "manifest_fields",
    "segment_chain",
)


@dataclass(frozen=True)
class Check:
    """One verification verdict: ``name`` of the check, whether it passed, and why.

    ``detail`` is the English sentence ``taspa verify`` prints; ``code`` and ``params`` say the
    same for a translated report (the web page renders its own template of ``code`` with
    ``params``); an empty ``code`` means only ``detail`` is known."""

    name: str
    ok: bool
    detail: str
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)


class UnreadableInput(Exception):
    """The thing to verify cannot be read at all (``taspa verify`` exits 2)."""


def resolve_trust_anchors(
    trust_anchors: Path | str | Sequence[x509.Certificate] | None,
) -> list:
    """The certificates to trust: those given, a PEM file, or ``TASPA_TRUST_ANCHORS``."""
    if trust_anchors is None:
        trust_anchors = configured_trust_anchors_path()
    if trust_anchors is None:
        return []
    if isinstance(trust_anchors, Path | str):
        try:
            return load_trust_anchors(trust_anchors)
        except TrustAnchorsUnreadable as error:
            raise UnreadableInput(str(error)) from None
    return list(trust_anchors)


@dataclass(frozen=True)
class _Signature:
    """A parsed detached CMS signature and what its signer claims."""

    signed_data: cms.SignedData
    signer_info: cms.SignerInfo
    certificate: asn1_x509.Certificate
    other_certs: list[asn1_x509.Certificate]
    digest_algorithm: str
    signing_time: datetime | None

    @property
    def subject(self) -> str:
        return x509.load_der_x509_certificate(self.certificate.dump()).subject.rfc4514_string()


def _parse_signature(data: bytes) -> _Signature:
    content_info = cms.ContentInfo.load(data, strict=True)
    if content_info["content_type"].native != "signed_data":
        raise ValueError("not a CMS SignedData")
    signed_data = content_info["content"]
    signer_info = extract_signer_info(signed_data)
    info = extract_certificate_info(signed_data)
    signing_time = None
    for attribute in signer_info["signed_attrs"]:
        if attribute["type"].native == "signing_time":
            signing_time = attribute["values"][0].native
    return _Signature(
        signed_data=signed_data,
        signer_info=signer_info,
        certificate=info.signer_cert,
        other_certs=list(info.other_certs),
        digest_algorithm=signer_info["digest_algorithm"]["algorithm"].native,
        signing_time=signing_time,
    )


def parse_signature(data: bytes) -> _Signature:
    """A DER detached CMS signature's signer, certificates and signing time (raises on a
    malformed one)."""
    return _parse_signature(data)


def _signature_check(
    name: str, signature_path: Path, content_path: Path, sha256_hex: str | None
) -> tuple[Check, _Signature | None]:
    """Signature math and the messageDigest attribute of a detached CMS over a file."""
    if not signature_path.is_file():
        return Check(
            name,
            False,
            f"{signature_path.name} is missing: not sealed",
            "signature_missing",
            {"file": signature_path.name},
        ), None
    try:
        signature = _parse_signature(signature_path.read_bytes())
    except Exception as error:  # asn1crypto and pyHanko raise many types on garbage input
        return Check(
            name,
            False,
            f"{signature_path.name} is not a CMS signature: {error}",
            "signature_not_cms",
            {"file": signature_path.name, "error": str(error)},
        ), None
    if signature.digest_algorithm == "sha256" and sha256_hex:
        digest = bytes.fromhex(sha256_hex)
    else:
        digest = _file_digest(content_path, signature.digest_algorithm)
    try:
        intact, valid = validate_sig_integrity(
            signature.signer_info, signature.certificate, "data", digest
        )
    except Exception as error:  # pyHanko raises several types for malformed attributes
        return Check(
            name,
            False,
            f"malformed signature: {error}",
            "signature_malformed",
            {"error": str(error)},
        ), signature
    if not intact:
        return Check(
            name,
            False,
            f"{content_path.name} is not the content that was signed",
            "signature_other_content",
            {"file": content_path.name},
        ), signature
    if not valid:
        return Check(
            name, False, "the signature value does not verify", "signature_value_bad"
        ), signature
    when = signature.signing_time.isoformat() if signature.signing_time else "no signing time"
    params = {"subject": signature.subject, "when": when if signature.signing_time else ""}
    return Check(
        name, True, f"signed by {signature.subject} at {when}", "signed_by", params
    ), signature


def signed_message_digest(signature: _Signature) -> tuple[str, bytes] | None:
    """The digest algorithm and the messageDigest signed attribute: what the signer says the
    content hashes to (RFC 5652 §11.2)."""
    for attribute in signature.signer_info["signed_attrs"]:
        if attribute["type"].native == "message_digest":
            return signature.digest_algorithm, bytes(attribute["values"][0].native)
    return None


def _file_digest(path: Path, algorithm: str) -> bytes:
    digest = hashlib.new(algorithm)
    with open(path, "rb", buffering=0) as stream:
        while chunk := stream.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.digest()


def _chain_check(
    signature: _Signature | None,
    anchors: list[x509.Certificate],
    stamped: datetime | None = None,
) -> Check:
    """The signer's certificate chains to a trust anchor and was valid when it signed."""
    name = "certificate_chain"
    if signature is None:
        return Check(
            name, False, "no readable signature to take the certificate from", "no_signature"
        )
    if not anchors:
        return Check(
            name,
            False,
            "no trust anchors given (--ca FILE or TASPA_TRUST_ANCHORS)",
            "no_trust_anchors",
        )
    # The TSA's time when a valid token says when it signed; else the signer's own claim.
    verdict = validate_chain(
        x509.load_der_x509_certificate(signature.certificate.dump()),
        intermediates=[x509.load_der_x509_certificate(c.dump()) for c in signature.other_certs],
        anchors=anchors,
        moment=stamped or signature.signing_time or datetime.now(UTC),
    )
    return Check(name, verdict.ok, verdict.detail, verdict.code, dict(verdict.params))


def detached_signature_checks(
    names: tuple[str, str],
    signature_path: Path,
    content_path: Path,
    anchors: list[x509.Certificate],
) -> list[Check]:
    """A detached CMS signature over a whole file, and its signer's certificate chain, as two
    checks with the given names: what a document carrying another signed file (a copy
    package's original manifest) must check."""
    signature_name, chain_name = names
    signature_check, signature = _signature_check(
        signature_name, signature_path, content_path, None
    )
    chain = _chain_check(signature, anchors)
    return [signature_check, Check(chain_name, chain.ok, chain.detail, chain.code, chain.params)]


def _revocation_check(
    signature: _Signature | None,
    signature_path: Path,
    anchors: list[x509.Certificate],
    stamped: datetime | None,
) -> Check:
    """The signer certificate's revocation status when it signed, from the OCSP response or
    CRL kept in the signature at sealing (CAdES-LT): no network, whatever today's date."""
    name = "revocation"
    if signature is None:
        return Check(
            name, False, "no readable signature to take the revocation data from", "no_signature"
        )
    moment = stamped or signature.signing_time or datetime.now(UTC)
    verdict = check_revocation(
        signature_path.read_bytes(),
        anchors,
        moment,
        certificate=signature.certificate,
        other_certs=signature.other_certs,
    )
    if verdict.present:
        return Check(name, verdict.ok, verdict.detail, verdict.code, dict(verdict.params))
    declared = declared_sources(x509.load_der_x509_certificate(signature.certificate.dump()))
    if any(declared.values()):
        return Check(
            name,
            True,
            "absent: not fetched yet (the CA did not answer at sealing; Taspa adds it)",
            "revocation_pending",
        )
    return Check(
        name,
        True,
        "absent: the certificate names no OCSP responder or CRL",
        "revocation_not_declared",
    )


def _timestamp_verdicts(
    signature_files: dict[str, Path], anchors: list[x509.Certificate]
) -> dict[str, TimestampVerdict]:
    """The RFC 3161 token of each readable signature (an unreadable one fails elsewhere)."""
    verdicts = {}
    for label, path in signature_files.items():
        try:
            verdicts[label] = check_timestamp(path.read_bytes(), anchors)
        except Exception:  # noqa: S112 — an unreadable signature fails in its own check
            continue
    return verdicts


def _timestamp_check(verdicts: dict[str, TimestampVerdict]) -> Check:
    """Present and valid, or absent (a TSA is optional); a present token that does not verify
    fails. Without one the signing time is the signer's own claim (ADR 0003)."""
    name = "timestamp"
    if not verdicts:
        return Check(name, False, "no readable signature to take a timestamp from", "no_signature")
    if not any(v.present for v in verdicts.values()):
        return Check(
            name,
            True,
            "absent: no RFC 3161 token; signingTime is the signer's claim",
            "timestamp_absent",
        )
    detail = "; ".join(f"{label}: {v.detail}" for label, v in verdicts.items())
    # One part per signature ("media", "manifest"), each with its own code and values.
    parts = [{"file": label, "code": v.code, **v.params} for label, v in verdicts.items()]
    return Check(
        name, all(v.ok for v in verdicts.values()), detail, "timestamp_parts", {"parts": parts}
    )


def _parse_journal(data: bytes) -> list[Piece]:
    """The piece lines of a journal. Lines of other types (``"type": "mark"`` …) are the
    recorder's own; a torn last line (a crash mid-append) is ignored, as the recorder does."""
    pieces = []
    lines = data.split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as error:
            if number == len(lines):
                break
            raise ValueError(f"journal line {number}: {error}") from None
        if not isinstance(row, dict) or row.get("type", "piece") != "piece":
            continue
        try:
            pieces.append(
                Piece(
                    index=int(row["index"]),
                    offset=int(row["offset"]),
                    length=int(row["length"]),
                    sha256=str(row["sha256"]),
                    chain=str(row["chain"]),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"journal line {number}: {error!r}") from None
    return pieces


def _out_of_order(pieces: list[Piece]) -> bool:
    return any(b.offset < a.offset + a.length for a, b in itertools.pairwise(pieces))


def journal_pieces(data: bytes) -> list[Piece] | None:
    """The pieces of a journal's bytes as ``verify_recording`` reads them, or ``None`` when it
    would call the journal unreadable (then it hashes no pieces): what a caller hashing the
    media as it arrives (the centre, R23) must hash alongside."""
    try:
        pieces = _parse_journal(data)
    except ValueError:
        return None
    return None if _out_of_order(pieces) else pieces


def _segment_check(
    pieces: list[Piece] | None,
    piece_hashes: list[str | None],
    size: int,
    manifest: dict[str, Any] | None,
    journal_problem: str | None,
) -> Check:
    """Recompute the segment chain over the media bytes; name the first bad piece (R19)."""
    name = "segment_chain"
    if journal_problem:
        return Check(
            name, False, journal_problem, "journal_unreadable", {"problem": journal_problem}
        )
    if pieces is None:
        return Check(
            name, True, "skipped: no journal beside the file (optional)", "skipped_no_journal"
        )
    head = CHAIN_GENESIS
    expected_offset = 0
    for piece, actual in zip(pieces, piece_hashes, strict=True):
        where = f"piece {piece.index} (offset {piece.offset}, {piece.length} bytes)"
        at = {"index": piece.index, "offset": piece.offset, "length": piece.length}
        if piece.offset != expected_offset:
            return Check(
                name,
                False,
                f"{where}: expected offset {expected_offset}",
                "piece_offset",
                {**at, "expected": expected_offset},
            )
        if actual is None:
            return Check(
                name, False, f"{where}: the file ends inside it (truncated)", "piece_truncated", at
            )
        if actual != piece.sha256:
            return Check(name, False, f"{where}: bytes do not match the journal", "piece_bytes", at)
        head = chain_link(head, piece.sha256)
        if head != piece.chain:
            return Check(
                name,
                False,
                f"{where}: chain link does not follow from the previous",
                "piece_link",
                at,
            )
        expected_offset = piece.offset + piece.length
    if expected_offset != size:
        return Check(
            name,
            False,
            f"pieces cover {expected_offset} bytes, the file has {size}",
            "pieces_cover",
            {"covered": expected_offset, "size": size},
        )
    segments = (manifest or {}).get("segments") or {}
    if manifest is not None and segments.get("chain_head") != head:
        return Check(
            name,
            False,
            f"chain head {head[:16]}… is not the manifest's",
            "chain_head_differs",
            {"head": head[:16]},
        )
    if manifest is not None and segments.get("pieces") not in (None, len(pieces)):
        return Check(
            name,
            False,
            f"{len(pieces)} pieces, the manifest says {segments['pieces']}",
            "pieces_count_differs",
            {"pieces": len(pieces), "manifest": segments["pieces"]},
        )
    return Check(
        name,
        True,
        f"{len(pieces)} pieces, head {head[:16]}…",
        "pieces_ok",
        {"pieces": len(pieces), "head": head[:16]},
    )


def _fields_check(
    manifest: dict[str, Any] | None,
    manifest_problem: str | None,
    media: Path,
    size: int,
    signature: _Signature | None,
) -> Check:
    name = "manifest_fields"
    if manifest is None:
        return Check(
            name,
            False,
            manifest_problem or "no manifest",
            "manifest_unreadable",
            {"problem": manifest_problem or ""},
        )
    problems = manifest_problems(manifest)
    file = manifest.get("file") or {}
    if file.get("name") != media.name:
        problems.append(f"file.name {file.get('name')!r} is not {media.name!r}")
    if file.get("bytes") != size:
        problems.append(f"file.bytes {file.get('bytes')} but the file has {size} bytes")
    cert = ((manifest.get("secretary") or {}).get("certificate") or {}).get("serial")
    if signature is not None and cert is not None:
        serial = format(signature.certificate.serial_number, "x")
        if cert != serial:
            problems.append(f"secretary certificate serial {cert} is not the signer's {serial}")
    if problems:
        return Check(
            name, False, "; ".join(problems), "manifest_problems", {"problems": list(problems)}
        )
    return Check(
        name,
        True,
        f"{file['name']}, {size} bytes",
        "manifest_matches",
        {"file": file["name"], "size": size},
    )


def verify_recording(
    media_path: Path | str,
    *,
    signature_path: Path | str | None = None,
    manifest_path: Path | str | None = None,
    manifest_signature_path: Path | str | None = None,
    journal_path: Path | str | None = None,
    trust_anchors: Path | str | Sequence[x509.Certificate] | None = None,
    media_digest: FileDigest | PiecedDigest | None = None,
) -> list[Check]:
    """Every check of one sealed recording, in ``CHECK_NAMES`` order (R14, R19).

    Sibling files default to the layout of ``layout.py``; the journal is optional.
    ``trust_anchors`` is a PEM path or certificates; ``None`` means ``TASPA_TRUST_ANCHORS``.
    ``media_digest``: the media's SHA-256 and size as the caller itself hashed those very bytes
    while writing them (the centre, as a replica arrived), so they are not read a second time;
    used only if the size is the file's. With a journal beside the media a ``FileDigest`` is
    not enough (the pieces must be hashed too); a ``PiecedDigest`` stands for both, but only
    when its ``journal_sha256`` is that of the journal read here and it has a hash for each of
    its pieces: the same checks then run on them, with the same verdicts (R19, R23). With a
    ``media_digest`` the media need not be at ``media_path`` (an S3 centre hashes the replica's
    media as S3 streams it back and leaves it there); only its name is used then.
    Raises ``UnreadableInput`` when the media file or the trust anchors cannot be read.
    """
    media = Path(media_path)
    files = SealedFiles.beside(media)
    signature_file = Path(signature_path) if signature_path else files.signature
    manifest_file = Path(manifest_path) if manifest_path else files.manifest
    manifest_sig_file = (
        Path(manifest_signature_path) if manifest_signature_path else files.manifest_signature
    )
    journal_file = Path(journal_path) if journal_path else files.journal
    here = media.is_file()
    if not here and media_digest is None:
        raise UnreadableInput(f"{media}: no such file")
    anchors = resolve_trust_anchors(trust_anchors)

    manifest, manifest_problem, manifest_data = None, None, None
    try:
        manifest_data = manifest_file.read_bytes()
        manifest = parse_manifest(manifest_data)
    except FileNotFoundError:
        manifest_problem = f"{manifest_file.name} is missing"
    except (OSError, ManifestError) as error:
        manifest_problem = f"{manifest_file.name}: {error}"

    pieces, journal_problem, journal_data = None, None, b""
    if journal_path or journal_file.exists():
        try:
            journal_data = journal_file.read_bytes()
            pieces = _parse_journal(journal_data)
            if _out_of_order(pieces):
                journal_problem = "journal pieces overlap or are out of offset order"
        except (OSError, ValueError) as error:
            journal_problem = f"{journal_file.name}: {error}"
    try:
        whole = media_digest.file if isinstance(media_digest, PiecedDigest) else media_digest
        if whole is not None and here and whole.bytes != media.stat().st_size:
            whole = None
        if pieces is not None and journal_problem is None:
            if whole is not None and _hashed_for(media_digest, pieces, journal_data):
                digest, piece_hashes = whole, list(media_digest.piece_hashes)
            else:
                pieced = sha256_file_with_pieces(media, pieces)
                digest, piece_hashes = pieced.file, pieced.piece_hashes
        elif whole is not None:
            digest, piece_hashes = whole, []
        else:
            digest, piece_hashes = sha256_file(media), []
    except OSError as error:
        raise UnreadableInput(f"{media}: {error}") from None

    media_check, signature = _signature_check(
        "media_signature", signature_file, media, digest.sha256
    )
    manifest_absent = manifest is None and not manifest_file.exists()
    checks = [
        _media_hash_check(media, digest.sha256, manifest, manifest_problem, signature),
        media_check,
    ]
    stamps = _timestamp_verdicts({"media": signature_file, "manifest": manifest_sig_file}, anchors)
    media_stamp = stamps.get("media")
    stamped = media_stamp.time if media_stamp and media_stamp.ok else None
    checks.append(_chain_check(signature, anchors, stamped))
    checks.append(_revocation_check(signature, signature_file, anchors, stamped))
    checks.append(_timestamp_check(stamps))
    if manifest_absent and not manifest_sig_file.exists():
        # CONTRACT.md: media + .p7s, as downloaded from the API, is a whole proof; the
        # manifest adds the hearing's facts (marks, pauses) when it travels with them.
        skipped = f"skipped: no {manifest_file.name} beside the file (optional)"
        why = {"file": manifest_file.name}
        checks.append(Check("manifest_signature", True, skipped, "skipped_no_manifest", why))
        checks.append(Check("manifest_fields", True, skipped, "skipped_no_manifest", why))
    else:
        checks.append(
            _manifest_signature_check(manifest_sig_file, manifest_file, manifest_data, signature)
        )
        checks.append(_fields_check(manifest, manifest_problem, media, digest.bytes, signature))
    checks.append(_segment_check(pieces, piece_hashes, digest.bytes, manifest, journal_problem))
    return checks


def _hashed_for(given: Any, pieces: list[Piece], journal_data: bytes) -> TypeGuard[PiecedDigest]:
    """Whether ``given`` holds the caller's hashes of exactly these pieces: a ``PiecedDigest``
    for this journal's bytes, one hash (or ``None``) per piece."""
    return (
        isinstance(given, PiecedDigest)
        and given.journal_sha256 == hashlib.sha256(journal_data).hexdigest()
        and len(given.piece_hashes) == len(pieces)
    )


def _media_hash_check(
    media: Path,
    sha256_hex: str,
    manifest: dict[str, Any] | None,
    manifest_problem: str | None,
    signature: _Signature | None,
) -> Check:
    """The media's SHA-256 against the manifest's, or, without a manifest, against the digest
    the CMS signature signed (its messageDigest attribute)."""
    name = "media_hash"
    if manifest is not None:
        expected = (manifest.get("file") or {}).get("sha256")
        if expected != sha256_hex:
            return Check(
                name,
                False,
                f"sha256 {sha256_hex} is not the manifest's {expected}",
                "hash_differs_manifest",
                {"actual": sha256_hex, "expected": str(expected)},
            )
        return Check(
            name, True, f"sha256 {sha256_hex}", "hash_matches_manifest", {"actual": sha256_hex}
        )
    signed = signed_message_digest(signature) if signature is not None else None
    if signed is None:
        why = manifest_problem or "no manifest"
        return Check(
            name,
            False,
            f"nothing to compare with: {why}, and no readable signature",
            "hash_nothing_to_compare",
            {"problem": manifest_problem or ""},
        )
    algorithm, expected = signed
    actual = bytes.fromhex(sha256_hex) if algorithm == "sha256" else _file_digest(media, algorithm)
    if actual != expected:
        return Check(
            name,
            False,
            f"{algorithm} {actual.hex()} is not the signed digest {expected.hex()}",
            "hash_differs_signed",
            {"algorithm": algorithm, "actual": actual.hex(), "expected": expected.hex()},
        )
    return Check(
        name,
        True,
        f"{algorithm} {actual.hex()} (the signature's message digest)",
        "hash_matches_signed",
        {"algorithm": algorithm, "actual": actual.hex()},
    )


def _manifest_signature_check(
    signature_file: Path,
    manifest_file: Path,
    manifest_data: bytes | None,
    media_signature: _Signature | None,
) -> Check:
    name = "manifest_signature"
    if manifest_data is None:
        return Check(
            name,
            False,
            f"{manifest_file.name} cannot be read",
            "manifest_unreadable",
            {"problem": ""},
        )
    sha = hashlib.sha256(manifest_data).hexdigest()
    check, signature = _signature_check(name, signature_file, manifest_file, sha)
    if not check.ok or signature is None or media_signature is None:
        return check
    if signature.certificate.dump() != media_signature.certificate.dump():
        return Check(
            name,
            False,
            f"signed by {signature.subject}, not the media's signer",
            "other_signer",
            {"subject": signature.subject},
        )
    return check
