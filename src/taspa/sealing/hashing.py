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
    (``None`` where the file ends before the piece does). ``journal_sha256``: the SHA-256 of
    the journal whose pieces these are, when a caller hands them on (``verify_recording``
    takes them only for that very journal)."""

    file: FileDigest
    piece_hashes: list[str | None]
    journal_sha256: str = ""


class PieceHasher:
    """The SHA-256 of every journal piece, fed the file's bytes in order from byte 0.

    Pieces must be sorted by offset and must not overlap (the recorder's journal is), so at
    most one piece is open at a time: its state is small and ``copy`` is cheap (a cut upload
    keeps it beside the whole-file state, R23)."""

    def __init__(self, pieces: list[Piece]) -> None:
        self.pieces = pieces
        self.position = 0
        self._hashes: list[str | None] = [None] * len(pieces)
        self._index = 0  # first piece not yet finished
        self._open = hashlib.sha256()  # the bytes of piece ``_index`` seen so far
        self._seen = 0

    def copy(self) -> PieceHasher:
        twin = PieceHasher.__new__(PieceHasher)
        twin.pieces, twin.position, twin._hashes = self.pieces, self.position, list(self._hashes)
        twin._index, twin._open, twin._seen = self._index, self._open.copy(), self._seen
        return twin

    def update(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        begin = self.position
        end = begin + len(view)
        pieces = self.pieces
        while self._index < len(pieces) and pieces[self._index].offset < end:
            piece = pieces[self._index]
            start = max(piece.offset, begin)
            stop = min(piece.offset + piece.length, end)
            if stop > start:
                self._open.update(view[start - begin : stop - begin])
                self._seen += stop - start
            if piece.offset + piece.length > end:
                break  # the piece goes on in the next bytes
            self._finish()
        self.position = end

    def _finish(self) -> None:
        piece = self.pieces[self._index]
        self._hashes[self._index] = self._open.hexdigest() if self._seen == piece.length else None
        self._index += 1
        self._open, self._seen = hashlib.sha256(), 0

    def hashes(self) -> list[str | None]:
        """Per piece: its SHA-256, or ``None`` where the bytes so far end before it does."""
        hashes = list(self._hashes)
        for index in range(self._index, len(self.pieces)):
            piece = self.pieces[index]
            if index == self._index and self._seen == piece.length:
                hashes[index] = self._open.hexdigest()
            elif index > self._index and piece.length == 0:
                hashes[index] = hashlib.sha256().hexdigest()
        return hashes


def sha256_file_with_pieces(
    path: Path | str, pieces: list[Piece], buffer_size: int = BUFFER_SIZE
) -> PiecedDigest:
    """One pass over the file: its SHA-256 and the SHA-256 of every journal piece.

    Pieces must be sorted by offset and must not overlap (the recorder's journal is).
    """
    whole = hashlib.sha256()
    piece_hasher = PieceHasher(pieces)
    buffer = bytearray(buffer_size)
    view = memoryview(buffer)
    position = 0
    # One read serves both hashes. (A second thread for the whole-file hash was measured
    # slower on 2 vCPUs: the SHA units are shared.)
    with open(path, "rb", buffering=0) as stream:
        while True:
            count = stream.readinto(buffer)
            if not count:
                break
            whole.update(view[:count])
            piece_hasher.update(view[:count])
            position += count
    return PiecedDigest(
        file=FileDigest(whole.hexdigest(), position), piece_hashes=piece_hasher.hashes()
    )
