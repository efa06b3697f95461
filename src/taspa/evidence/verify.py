"""Verify an RFC 4998 evidence record over a recording's files, as of a date.

The record proves the files existed at its first archive timestamp, for as long as its chain
of timestamps stays valid: each timestamp signed by a TSA trusted at its own time, each renewal
(§5.2: over the previous timestamp; §5.3: a new chain over the data rehashed and bound to the
previous chains) made before the previous TSA certificate expired, and the last one's TSA
certificate still valid on the date asked about. Four checks, each a named line; a malformed
record is a named FAIL, never a traceback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import ValidationContext

from taspa.evidence import ers
from taspa.sealing.layout import SealedFiles
from taspa.sealing.signing import run_async
from taspa.sealing.verify import Check, UnreadableInput, resolve_trust_anchors

RECORD_SUFFIX = ".ers"
CHECK_NAMES = ("evidence_record", "evidence_data", "evidence_timestamps", "evidence_validity")


def record_beside(media: Path) -> Path:
    """Where a recording's record lies beside its media: ``<media>.ers``."""
    return media.with_name(media.name + RECORD_SUFFIX)


def data_objects(media: Path) -> dict[str, Path]:
    """The recording's files present beside the media (its data group, as far as it is here)."""
    files = SealedFiles.beside(media)
    named = {
        "media": files.media,
        "signature": files.signature,
        "manifest": files.manifest,
        "manifest_signature": files.manifest_signature,
    }
    return {name: path for name, path in named.items() if path.is_file()}


def evidence_checks(
    media: Path,
    evidence: Path | None = None,
    *,
    trust_anchors=None,
    at: datetime | None = None,
) -> list[Check]:
    """The evidence checks of ``taspa verify``: the record given, else the one beside the
    media; ``[]`` when there is none (the record is optional until the day is built)."""
    path = evidence or record_beside(media)
    if evidence is None and not path.is_file():
        return []
    try:
        record = path.read_bytes()
    except OSError as error:
        raise UnreadableInput(f"{path}: {error.strerror or error}") from None
    return verify_evidence(
        record, data_objects(media), trust_anchors=resolve_trust_anchors(trust_anchors), at=at
    )


def _hash_files(objects: Mapping[str, Path | bytes], algorithms: set[str]) -> dict:
    """{name: {algorithm: digest}}, each file read once whatever the number of algorithms."""
    out = {}
    for name, source in objects.items():
        hashers = {a: hashlib.new(a) for a in algorithms}
        if isinstance(source, bytes):
            for h in hashers.values():
                h.update(source)
        else:
            with Path(source).open("rb") as stream:
                while chunk := stream.read(1 << 20):
                    for h in hashers.values():
                        h.update(chunk)
        out[name] = {a: h.digest() for a, h in hashers.items()}
    return out


def verify_evidence(
    record: bytes,
    objects: Mapping[str, Path | bytes],
    *,
    trust_anchors: Sequence[x509.Certificate],
    at: datetime | None = None,
) -> list[Check]:
    """Check ``record`` over ``objects`` (name → file or bytes, one data group) as of ``at``
    (default now): one ``Check`` per name in ``CHECK_NAMES``."""
    at = at or datetime.now(UTC)
    try:
        parsed = ers.decode(record)
        chains = _chains_as_of(parsed, at)
    except ers.MalformedRecord as error:
        return [Check("evidence_record", False, str(error))]
    except Exception as error:  # asn1crypto raises many types on bent tokens: a FAIL, named
        return [Check("evidence_record", False, f"unreadable archive timestamp: {error}")]
    stamps = sum(len(chain) for chain in parsed.chains)
    checks = [
        Check(
            "evidence_record",
            True,
            f"RFC 4998, {len(parsed.chains)} chain(s), {stamps} archive timestamp(s)",
        )
    ]
    if not chains:
        first = parsed.chains[0][0].gen_time
        return [
            *checks,
            Check("evidence_validity", False, f"no archive timestamp before {at:%Y-%m-%d}: "
                  f"the first is of {first.isoformat()}"),
        ]  # fmt: skip
    checks.append(_guarded("evidence_data", _data_check, chains, objects))
    checks.append(_guarded("evidence_timestamps", _timestamps_check, chains, list(trust_anchors)))
    checks.append(_guarded("evidence_validity", _validity_check, chains, at))
    return checks


def _guarded(name: str, check, *args) -> Check:
    """``check(*args)``; a token bent so that asn1crypto cannot read a part of it (its
    certificate, a time) is that check's FAIL, never a traceback."""
    try:
        return check(*args)
    except Exception as error:  # asn1crypto raises ValueError, TypeError, KeyError, ...
        return Check(name, False, f"unreadable archive timestamp: {error}")


def _chains_as_of(record: ers.Record, at: datetime) -> list[tuple[ers.ArchiveStamp, ...]]:
    """The part of the record that existed at ``at``: the stamps made by then."""
    out = []
    for chain in record.chains:
        kept = tuple(stamp for stamp in chain if stamp.gen_time <= at)
        if len(kept) != len(chain):
            if kept:
                out.append(kept)
            break
        out.append(chain)
    return out


def _data_check(chains, objects: Mapping[str, Path | bytes]) -> Check:
    if "media" not in objects:
        return Check("evidence_data", False, "the media file is missing")
    algorithms = {chain[0].algorithm for chain in chains}
    try:
        hashes = _hash_files(objects, algorithms)
    except OSError as error:
        return Check("evidence_data", False, f"unreadable file: {error}")
    for index, chain in enumerate(chains):
        first = chain[0]
        previous = ers.chains_hash(first.algorithm, tuple(chains[:index])) if index else None
        group = {}
        for name, by_algorithm in hashes.items():
            h = by_algorithm[first.algorithm]
            group[name] = ers.renewed_data_hash(first.algorithm, h, previous) if index else h
        if first.reduced:
            missing = [name for name, h in group.items() if not first.covers([h])]
        else:
            missing = [] if first.covers(list(group.values())) else sorted(group)
        if missing:
            return Check(
                "evidence_data",
                False,
                f"{', '.join(missing)} not covered by chain {index + 1} "
                f"({first.algorithm}): the file differs from the one timestamped",
            )
        if first.root() != first.imprint:
            return Check(
                "evidence_data",
                False,
                f"chain {index + 1}: the reduced hash tree does not lead to the timestamped root",
            )
    absent = [n for n in ("signature", "manifest", "manifest_signature") if n not in objects]
    note = f"; not here, skipped: {', '.join(absent)}" if absent else ""
    return Check("evidence_data", True, f"{', '.join(objects)} covered{note}")


def _token_problem(stamp: ers.ArchiveStamp, anchors: list[x509.Certificate]) -> str | None:
    """Why the stamp's RFC 3161 token is not good (signature, imprint, TSA trust at its own
    time), or ``None``."""
    expected = stamp.root()

    def imprint(algorithm: str) -> bytes:
        return expected if algorithm == stamp.algorithm else b""

    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(a.public_bytes(Encoding.DER)) for a in anchors],
        moment=stamp.gen_time,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    try:
        signed_data = cms.ContentInfo.load(stamp.token)["content"]
        status = run_async(validate_tst_signed_data(signed_data, context, imprint))
    except Exception as error:  # pyHanko raises several types for malformed tokens
        return f"malformed timestamp token: {error}"
    tsa = status["signing_cert"].subject.human_friendly
    if not (status["intact"] and status["valid"]):
        return f"the token by {tsa} is not over this record's root"
    if status.get("trust_problem_indic") is not None:
        return f"TSA {tsa} is not trusted: {status['trust_problem_indic']}"
    return None


def _timestamps_check(chains, anchors: list[x509.Certificate]) -> Check:
    if not anchors:
        return Check("evidence_timestamps", False, "no trust anchors to check the TSA against")
    previous: ers.ArchiveStamp | None = None
    for c, chain in enumerate(chains, 1):
        for s, stamp in enumerate(chain, 1):
            where = f"chain {c}, timestamp {s}"
            problem = _token_problem(stamp, anchors)
            if problem:
                return Check("evidence_timestamps", False, f"{where}: {problem}")
            if s > 1 and not stamp.covers([ers.digest(stamp.algorithm, chain[s - 2].token)]):
                return Check(
                    "evidence_timestamps", False, f"{where} does not cover the timestamp before it"
                )
            if previous is not None:
                expired = ers.token_signer_not_after(previous.token)
                if expired is not None and stamp.gen_time > expired:
                    return Check(
                        "evidence_timestamps",
                        False,
                        f"{where} was made on {stamp.gen_time:%Y-%m-%d}, after the TSA "
                        f"certificate of the one before expired ({expired:%Y-%m-%d})",
                    )
            previous = stamp
    first = chains[0][0]
    return Check(
        "evidence_timestamps",
        True,
        f"existed at {first.gen_time.isoformat()}; {sum(map(len, chains))} timestamp(s) valid",
    )


def _validity_check(chains, at: datetime) -> Check:
    last = chains[-1][-1]
    expires = ers.token_signer_not_after(last.token)
    if expires is not None and expires < at:
        return Check(
            "evidence_validity",
            False,
            f"as of {at:%Y-%m-%d} the last archive timestamp's TSA certificate has expired "
            f"({expires:%Y-%m-%d}); it should have been renewed before",
        )
    until = f", renew before {expires:%Y-%m-%d}" if expires else ""
    return Check("evidence_validity", True, f"valid as of {at:%Y-%m-%d}{until}")


def cli_checks(path: str, evidence: str | None, as_of: str | None, ca: str | None) -> list[Check]:
    """``taspa verify PATH [--evidence FILE] [--as-of DATE]``: the evidence checks of a
    recording's media file (none for packages and PDFs)."""
    media = Path(path)
    if media.is_dir() or media.suffix.lower() in (".zip", ".pdf"):
        return []
    at = None
    if as_of:
        try:
            at = datetime.fromisoformat(as_of)
        except ValueError:
            raise UnreadableInput(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return evidence_checks(media, Path(evidence) if evidence else None, trust_anchors=ca, at=at)
