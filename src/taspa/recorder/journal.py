"""The spool's append-only journal and the piece hash chain (R6, R19).

Every ~1 s piece of the media file gets one fsync'd JSON line: offset, length, SHA-256 and
chain = sha256(prev_chain_hex || piece_sha256_hex), starting from 64 zeros (the same link as
``taspa.sealing.hashing.chain_link``). A removed, reordered or edited piece breaks the chain at
that piece, so a gap or an edit is detectable long after the hearing.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CHAIN_GENESIS = "0" * 64
JOURNAL_NAME = "journal.jsonl"
MEDIA_NAME = "recording.ts"


def chain_link(previous_hex: str, piece_sha256_hex: str) -> str:
    """One link: sha256(prev_chain_hex || piece_sha256_hex), as hex."""
    return hashlib.sha256((previous_hex + piece_sha256_hex).encode("ascii")).hexdigest()


@dataclass(frozen=True)
class PieceRecord:
    index: int
    offset: int
    length: int
    sha256: str
    chain: str


@dataclass(frozen=True)
class ChainVerdict:
    """Result of :func:`verify_pieces`; ``first_bad`` names the first piece that fails."""

    ok: bool
    pieces: int
    first_bad: int | None
    detail: str


class Journal:
    """Append-only JSON lines, each on disk (fdatasync) before ``append`` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"
        os.write(self._fd, line.encode("utf-8"))
        os.fdatasync(self._fd)  # the line and the new length; mtime is not needed to read it

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    @staticmethod
    def read(path: Path) -> list[dict[str, Any]]:
        """All complete records. A torn last line (crash mid-append) is ignored, nothing else."""
        records = []
        lines = path.read_bytes().split(b"\n")
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                if number == len(lines) - 1:
                    break  # torn tail: the fsync'd lines before it stand
                raise
        return records


def piece_line(piece: PieceRecord, **extra: Any) -> dict[str, Any]:
    return {"type": "piece", **asdict(piece), **extra}


def read_pieces(journal_path: Path) -> list[PieceRecord]:
    """The journal's piece lines, in journal order."""
    fields = ("index", "offset", "length", "sha256", "chain")
    return [
        PieceRecord(**{k: r[k] for k in fields})
        for r in Journal.read(journal_path)
        if r.get("type") == "piece"
    ]


def _check_piece(piece: PieceRecord, expected: PieceRecord, data: bytes) -> str | None:
    if piece.index != expected.index:
        return f"piece {expected.index} is missing from the journal (found {piece.index})"
    if piece.offset != expected.offset:
        return f"piece {piece.index} starts at {piece.offset}, expected {expected.offset}"
    if len(data) != piece.length:
        return f"piece {piece.index}: file ends inside it ({len(data)} of {piece.length} bytes)"
    if hashlib.sha256(data).hexdigest() != piece.sha256:
        return f"piece {piece.index}: bytes {piece.offset}..{piece.offset + piece.length} changed"
    if chain_link(expected.chain, piece.sha256) != piece.chain:
        return f"piece {piece.index}: chain link does not follow from piece {piece.index - 1}"
    return None


def verify_pieces(media_path: Path, journal_path: Path) -> ChainVerdict:
    """Re-hash every journaled piece and walk the chain; name the first bad piece (R19).

    Also fails when the media file holds bytes no piece covers (an unjournaled tail or a
    deleted last line).
    """
    pieces = read_pieces(journal_path)
    expected = PieceRecord(0, 0, 0, "", CHAIN_GENESIS)
    with open(media_path, "rb") as media:
        for piece in pieces:
            media.seek(piece.offset)
            problem = _check_piece(piece, expected, media.read(piece.length))
            if problem:
                return ChainVerdict(False, len(pieces), expected.index, problem)
            expected = PieceRecord(piece.index + 1, piece.offset + piece.length, 0, "", piece.chain)
        size = os.fstat(media.fileno()).st_size
    if size != expected.offset:
        detail = f"{size - expected.offset} bytes after piece {expected.index - 1} not journaled"
        return ChainVerdict(False, len(pieces), expected.index, detail)
    return ChainVerdict(True, len(pieces), None, f"{len(pieces)} pieces, chain {expected.chain}")
