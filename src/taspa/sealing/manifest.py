"""The canonical JSON manifest of a sealed recording (R12, R13, R14, R19). Pure: no Django.

The manifest says what the media file is (name, size, SHA-256, duration, container, the head of
the segment hash chain), which hearing it records, who sealed it with which certificate, and
what happened while recording: speaker marks (R12), pauses with their reasons (R6, R19), gaps
in capture and incidents (R9, R16). It is signed on its own (``NAME.manifest.json.p7s``), so
a mark or a pause cannot be changed without breaking that signature.

Canonical form: UTF-8 JSON, keys sorted, no insignificant whitespace, non-ASCII kept as is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from cryptography import x509

FORMAT = "taspa-recording/1"
CHAIN_ALGORITHM = "sha256-chain/1"  # link = sha256(prev_chain_hex || piece_sha256_hex)


class ManifestError(ValueError):
    """The bytes are not a manifest this version understands."""


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _time(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _plain(items: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """A list of JSON-ready dicts; datetimes become ISO 8601 strings."""
    return [
        {key: _time(value) if isinstance(value, datetime) else value for key, value in item.items()}
        for item in items or ()
    ]


def certificate_summary(certificate: x509.Certificate) -> dict[str, str]:
    """Subject, issuer and serial of the signing certificate as the manifest records them."""
    return {
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "serial": format(certificate.serial_number, "x"),
    }


def build_manifest(
    *,
    file_name: str,
    result: Any,
    hearing: Mapping[str, Any],
    secretary: Mapping[str, Any],
    stopped_at: datetime | str | None = None,
    marks: Iterable[Mapping[str, Any]] = (),
    pauses: Iterable[Mapping[str, Any]] = (),
    incidents: Iterable[Mapping[str, Any]] = (),
    closed_portions: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The manifest of one recording, from plain data.

    ``result`` is the capture engine's ``CaptureResult`` (or a dict with its fields: sha256,
    bytes, duration_s, chain_head, pieces, gaps, started_at, container). ``hearing`` holds
    id, court_code, court_name, case_number, case_kind, instance, closed, scheduled_at;
    ``secretary`` holds name, username and certificate (``certificate_summary``).
    """
    return {
        "format": FORMAT,
        "file": {
            "name": file_name,
            "sha256": _get(result, "sha256"),
            "bytes": int(_get(result, "bytes")),
            "duration_s": round(float(_get(result, "duration_s") or 0.0), 3),
            "container": _get(result, "container"),
        },
        "segments": {
            "algorithm": CHAIN_ALGORITHM,
            "chain_head": _get(result, "chain_head"),
            "pieces": _get(result, "pieces"),
        },
        "hearing": {
            "id": hearing.get("id"),
            "court": {"code": hearing.get("court_code"), "name": hearing.get("court_name")},
            "case": {"number": hearing.get("case_number"), "kind": hearing.get("case_kind")},
            "instance": hearing.get("instance"),
            "closed": bool(hearing.get("closed")),
            "scheduled_at": _time(hearing.get("scheduled_at")),
        },
        "secretary": {
            "name": secretary.get("name"),
            "username": secretary.get("username"),
            "certificate": dict(secretary.get("certificate") or {}),
        },
        "started_at": _time(_get(result, "started_at")),
        "stopped_at": _time(stopped_at),
        "marks": _plain(marks),
        "pauses": _plain(pauses),
        "gaps": _plain(_get(result, "gaps") or ()),
        "incidents": _plain(incidents),
        # R32 for part of a hearing: what copies leave out (the original keeps it all)
        "closed_portions": _plain(closed_portions),
    }


def canonical_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The one byte form of a manifest that is signed and stored."""
    return json.dumps(
        manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def parse_manifest(data: bytes) -> dict[str, Any]:
    """Read a manifest; refuse anything but a JSON object of a known format."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(f"not UTF-8 JSON: {error}") from None
    if not isinstance(manifest, dict):
        raise ManifestError("not a JSON object")
    if manifest.get("format") != FORMAT:
        raise ManifestError(f"unknown format {manifest.get('format')!r}, expected {FORMAT!r}")
    return manifest


def manifest_problems(manifest: Mapping[str, Any]) -> list[str]:
    """What is missing or malformed in a manifest; empty when it is complete."""
    problems = []
    file = manifest.get("file")
    if not isinstance(file, dict):
        return ["file: missing"]
    if not isinstance(file.get("name"), str) or not file["name"]:
        problems.append("file.name: missing")
    sha = file.get("sha256")
    if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
        problems.append("file.sha256: not a lowercase hex SHA-256")
    if not isinstance(file.get("bytes"), int) or file["bytes"] < 0:
        problems.append("file.bytes: not a size")
    for key in ("hearing", "secretary", "segments"):
        if not isinstance(manifest.get(key), dict):
            problems.append(f"{key}: missing")
    for key in ("marks", "pauses", "gaps", "incidents"):
        if not isinstance(manifest.get(key), list):
            problems.append(f"{key}: not a list")
    return problems
