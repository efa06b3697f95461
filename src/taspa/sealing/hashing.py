"""Streaming SHA-256 of media files and the segment hash chain (R14, R19).

Recordings run to hours and gigabytes: nothing here loads a file into memory. Reads go into one
reused buffer (``readinto``) large enough that hashlib's SHA-NI code, not Python, sets the pace.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# 4 MiB: past ~1 MiB the per-call overhead is noise; measured in bench/hashing.py.
BUFFER_SIZE = 4 * 1024 * 1024
# The chain starts from 64 zeros; each link is sha256(prev_chain_hex || piece_sha256_hex).
CHAIN_GENESIS = "0" * 64


@dataclass(frozen=True)
class FileDigest:
    sha256: str
    bytes: int


def sha256_stream(stream: BinaryIO, buffer_size: int = BUFFER_SIZE) -> FileDigest:
    """SHA-256 and length of everything left in ``stream``."""
    digest = hashlib.sha256()
    buffer = bytearray(buffer_size)
    view = memoryview(buffer)
    total = 0
    while True:
        count = stream.readinto(buffer)
        if not count:
            break
        digest.update(view[:count])
        total += count
    return FileDigest(sha256=digest.hexdigest(), bytes=total)


def sha256_file(path: Path | str, buffer_size: int = BUFFER_SIZE) -> FileDigest:
    """SHA-256 of a file, streamed (the seal and verify path)."""
    with open(path, "rb", buffering=0) as stream:
        return sha256_stream(stream, buffer_size)


def chain_link(previous_hex: str, piece_sha256_hex: str) -> str:
    """One link of the segment chain: sha256(prev_chain_hex || piece_sha256_hex), hex."""
    return hashlib.sha256((previous_hex + piece_sha256_hex).encode("ascii")).hexdigest()


def chain_head(piece_hashes: Iterable[str]) -> str:
    """The head of the chain over pieces' SHA-256 hex digests, in order."""
    head = CHAIN_GENESIS
    for piece in piece_hashes:
        head = chain_link(head, piece)
    return head


@dataclass(frozen=True)
class Piece:
    """One journal line: a ~1 s piece of the recording at ``offset`` in the media file."""

    index: int
    offset: int
    length: int
    sha256: str
    chain: str


@dataclass(frozen=True)
class PiecedDigest:
    """The file's digest and, per piece, the SHA-256 of the bytes at its offset and length
    (``None`` where the file ends before the piece does)."""

    file: FileDigest
    piece_hashes: list[str | None]


def sha256_file_with_pieces(
    path: Path | str, pieces: list[Piece], buffer_size: int = BUFFER_SIZE
) -> PiecedDigest:
    """One pass over the file: its SHA-256 and the SHA-256 of every journal piece.

    Pieces must be sorted by offset and must not overlap (the recorder's journal is).
    """
    whole = hashlib.sha256()
    piece_digests = [hashlib.sha256() for _ in pieces]
    seen = [0] * len(pieces)
    buffer = bytearray(buffer_size)
    view = memoryview(buffer)
    position = 0
    first = 0  # first piece that may still need bytes
    # One read serves both hashes. (A second thread for the whole-file hash was measured
    # slower on 2 vCPUs: the SHA units are shared.)
    with open(path, "rb", buffering=0) as stream:
        while True:
            count = stream.readinto(buffer)
            if not count:
                break
            whole.update(view[:count])
            end = position + count
            index = first
            while index < len(pieces) and pieces[index].offset < end:
                piece = pieces[index]
                start = max(piece.offset, position)
                stop = min(piece.offset + piece.length, end)
                if stop > start:
                    piece_digests[index].update(view[start - position : stop - position])
                    seen[index] += stop - start
                if piece.offset + piece.length <= end and index == first:
                    first += 1
                index += 1
            position = end
    hashes = [
        digest.hexdigest() if seen[i] == pieces[i].length else None
        for i, digest in enumerate(piece_digests)
    ]
    return PiecedDigest(file=FileDigest(whole.hexdigest(), position), piece_hashes=hashes)
