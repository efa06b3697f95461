"""Reading a sealed recording's bytes: always from the blob store, by digest, checked (R19, R20).

Every reader of a sealed byte (the API, playback, copies, the case-file medium, replication, the
archive) comes here, so the bytes that fixity checks are the bytes that are served
(docs/adr/0002-blob-store.md, "Reads"):

* a recording whose last fixity check failed, or whose media blob is missing or of the wrong
  size, is refused before a byte goes out (``SealedBytesRefused``: 409 ``fixity_failed``);
* a whole read (a download, a copy, a medium, a package) hashes the bytes as they stream and
  compares at the end; a mismatch discards what was written, or, for an HTTP response, aborts it
  before its last chunk, so no complete wrong file ever leaves;
* a partial HTTP Range is checked piece by piece against the sealed segment journal (~1 s
  pieces whose hash chain ends in the signed manifest's ``chain_head``): the cost is that of
  the bytes served, never a multi-GB re-hash per seek; a piece that differs aborts the
  response before any of its bytes go out. Without a sealed journal (recordings sealed before
  journals were kept) a Range is served from the blob that fixity and whole reads check.

A discovered mismatch marks the recording failed and opens one incident (``fixity.record_failure``).
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from taspa.errors import Conflict
from taspa.sealing.layout import BLOB_KINDS, SealedFiles, SealedRecording
from taspa.storage.base import read_full
from taspa.storage.store import BlobNotFound, BlobStore, StorageError, get_store

CHUNK = 1 << 20


class SealedBytesRefused(Conflict):
    """The stored bytes of a sealed recording fail their digest: nothing is served or signed."""

    def __init__(
        self, detail: Any, params: Mapping[str, Any] | None = None, technical: object = ""
    ) -> None:
        super().__init__("fixity_failed", detail, params, technical)


class BytesChanged(StorageError):
    """The bytes read from the store do not hash to the digest they are stored under."""


def _refuse(recording: Any, kind: str, status: str, detail: str) -> SealedBytesRefused:
    from taspa.sealing.fixity import record_failure

    record_failure(recording, kind, status, detail)
    return SealedBytesRefused(
        _(
            "The stored files of %(file_name)s fail their sealed digest: they are not served "
            "(R19, R20); an incident was opened."
        ),
        params={"file_name": recording.file_name},
        technical=f"{kind} {status}",
    )


def sealed_of(recording: Any) -> SealedRecording:
    """The recording's ``SealedRecording``; refused if it was never fully sealed."""
    sealed = SealedRecording.of(recording)
    if not sealed.complete:
        raise Conflict("not_sealed", _("The recording is not sealed yet."))
    return sealed


def require_servable(recording: Any, store: BlobStore | None = None) -> SealedRecording:
    """Cheap checks before any byte is served: the last fixity check did not fail, the media
    blob is there and has the sealed size (a swapped or truncated blob rarely keeps it)."""
    sealed = sealed_of(recording)
    if recording.fixity_ok is False:
        raise SealedBytesRefused(
            _(
                "The stored bytes of %(file_name)s failed their last fixity check: they are not "
                "served until the recording is restored (R19, R20)."
            ),
            params={"file_name": recording.file_name},
        )
    store = store or get_store()
    try:
        size = store.size(sealed.media)
    except BlobNotFound:
        raise _refuse(recording, "media", "missing", "no blob in the store") from None
    if size != sealed.bytes:
        raise _refuse(recording, "media", "corrupt", f"{size} bytes, sealed {sealed.bytes}")
    return sealed


def _checked_chunks(
    store: BlobStore, digest: str, start: int = 0, end: int | None = None
) -> Iterator[bytes]:
    """The blob's bytes in chunks; for a whole read (``start == 0``, no ``end``) the chunks are
    hashed and the last one is held back until the hash matched (``BytesChanged`` if not)."""
    if start or end is not None:
        stop = end if end is not None else 1 << 62  # clamped to the size by the store
        with contextlib.closing(store.open_range(digest, start, stop)) as stream:
            while chunk := stream.read(CHUNK):
                yield chunk
        return
    hasher, held = hashlib.sha256(), b""
    with contextlib.closing(store.open(digest)) as stream:
        while chunk := stream.read(CHUNK):
            hasher.update(chunk)
            if held:
                yield held
            held = chunk
    if hasher.hexdigest() != digest:
        raise BytesChanged(f"sha256:{digest} reads as sha256:{hasher.hexdigest()}")
    if held:
        yield held


@dataclass(frozen=True)
class PieceIndex:
    """The media's ~1 s pieces from the sealed journal: contiguous from byte 0 to the end, their
    hash chain ending in the recording's signed ``chain_head``. A Range is checked piece by
    piece against it, at the cost of the bytes it serves."""

    offsets: tuple[int, ...]
    lengths: tuple[int, ...]
    hashes: tuple[str, ...]


def _piece_index(journal: bytes, chain_head: str, size: int) -> PieceIndex | None:
    """The index, or ``None`` when the journal does not cover the media exactly (a recording
    captured before journals were sealed, a journal with gaps): such ranges go unchecked."""
    from taspa.sealing.hashing import chain_link

    offsets, lengths, hashes, head, end = [], [], [], "0" * 64, 0
    for line in journal.split(b"\n"):
        try:
            row = json.loads(line) if line.strip() else None
        except ValueError:
            continue  # a torn last line, as the recorder and ``taspa verify`` read it
        if not isinstance(row, dict) or row.get("type", "piece") != "piece":
            continue
        offset, length, digest = int(row["offset"]), int(row["length"]), str(row["sha256"])
        if offset != end:
            return None
        offsets.append(offset)
        lengths.append(length)
        hashes.append(digest)
        head, end = chain_link(head, digest), offset + length
    if end != size or head != chain_head or not offsets:
        return None
    return PieceIndex(tuple(offsets), tuple(lengths), tuple(hashes))


@functools.lru_cache(maxsize=32)
def _cached_index(
    store_key: str, journal_digest: str, chain_head: str, size: int
) -> PieceIndex | None:
    data = b"".join(_checked_chunks(get_store(), journal_digest))
    return _piece_index(data, chain_head, size)


def _pieces_of(recording: Any, sealed: SealedRecording, store: BlobStore) -> PieceIndex | None:
    if not sealed.journal:
        return None
    try:
        return _cached_index(repr(store), sealed.journal, recording.chain_head, sealed.bytes)
    except BlobNotFound:
        raise _refuse(recording, "journal", "missing", "no blob in the store") from None
    except BytesChanged as error:
        raise _refuse(recording, "journal", "corrupt", str(error)) from None


def _piece_checked_range(
    store: BlobStore, digest: str, index: PieceIndex, start: int, end: int
) -> Iterator[bytes]:
    """Bytes ``[start, end)``, read piece by piece, each piece hashed before any of it is
    yielded (``BytesChanged`` on the first that differs)."""
    first = bisect.bisect_right(index.offsets, start) - 1
    last = bisect.bisect_left(index.offsets, end) - 1
    begin = index.offsets[first]
    stop = index.offsets[last] + index.lengths[last]
    with contextlib.closing(store.open_range(digest, begin, stop)) as stream:
        for number in range(first, last + 1):
            offset, length = index.offsets[number], index.lengths[number]
            piece = read_full(stream, length)
            if hashlib.sha256(piece).hexdigest() != index.hashes[number]:
                raise BytesChanged(f"piece {number} at byte {offset} differs from the journal")
            yield piece[max(start - offset, 0) : min(end - offset, length)]


def media_chunks(
    recording: Any, sealed: SealedRecording, start: int, end: int, store: BlobStore | None = None
) -> Iterator[bytes]:
    """Bytes ``[start, end)`` of the media for an HTTP response. The whole file is hash-checked
    as it streams; a mismatch raises before the last chunk (the response is cut short, the
    recording marked failed, an incident opened)."""
    store = store or get_store()
    try:
        if start == 0 and end >= sealed.bytes:
            chunks = _checked_chunks(store, sealed.media)
        elif (index := _pieces_of(recording, sealed, store)) is not None:
            chunks = _piece_checked_range(store, sealed.media, index, start, end)
        else:  # no sealed journal to check a part against: fixity and whole reads check it
            chunks = _checked_chunks(store, sealed.media, start, end)
        yield from chunks
    except BytesChanged as error:
        raise _refuse(recording, "media", "corrupt", str(error)) from None
    except BlobNotFound:
        raise _refuse(recording, "media", "missing", "gone while streaming") from None


def read_sealed(recording: Any, kind: str, store: BlobStore | None = None) -> bytes:
    """A small blob (signature, manifest, journal) whole, hash-checked."""
    sealed = sealed_of(recording)
    if recording.fixity_ok is False:
        raise SealedBytesRefused(
            _("%(file_name)s failed its last fixity check."),
            params={"file_name": recording.file_name},
        )
    digest = sealed.digest(kind)
    try:
        data = b"".join(_checked_chunks(store or get_store(), digest))
    except BlobNotFound:
        raise _refuse(recording, kind, "missing", "no blob in the store") from None
    except BytesChanged as error:
        raise _refuse(recording, kind, "corrupt", str(error)) from None
    return data


def copy_blob(store: BlobStore, digest: str, target: Path) -> int:
    """Copy one blob to ``target`` (a new file), hashing as it goes, fsync'd; on a mismatch the
    file is removed and ``BytesChanged`` raised. Returns the bytes written."""
    written = 0
    try:
        with open(target, "xb") as out:
            for chunk in _checked_chunks(store, digest):
                out.write(chunk)
                written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return written


def write_sealed(
    recording: Any,
    directory: Path,
    kinds: Iterable[str] = BLOB_KINDS,
    store: BlobStore | None = None,
) -> SealedFiles:
    """Write the recording's blobs of ``kinds`` into ``directory`` under their names, each
    checked against its digest as it is copied (a copy, a medium, a package). On a mismatch
    nothing of it is left there and ``SealedBytesRefused`` is raised (with an incident)."""
    store = store or get_store()
    sealed = require_servable(recording, store)
    Path(directory).mkdir(parents=True, exist_ok=True)
    files = sealed.files_in(directory)
    blobs = sealed.blobs()
    done: list[Path] = []
    try:
        for kind in kinds:
            if kind not in blobs:
                continue
            target = getattr(files, kind)
            try:
                copy_blob(store, blobs[kind], target)
            except BlobNotFound:
                raise _refuse(recording, kind, "missing", "no blob in the store") from None
            except BytesChanged as error:
                raise _refuse(recording, kind, "corrupt", str(error)) from None
            done.append(target)
    except BaseException:
        for path in done:
            path.unlink(missing_ok=True)
        raise
    return files


@contextlib.contextmanager
def checked_copy(
    recording: Any, kinds: Iterable[str] = BLOB_KINDS, store: BlobStore | None = None
) -> Iterator[SealedFiles]:
    """The sealed files, checked, in a private temporary directory removed afterwards (for
    tools that need a path: ffmpeg, ``verify_recording``)."""
    import tempfile

    from django.conf import settings

    scratch = Path(settings.TASPA_HOME) / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sealed-", dir=scratch) as temp:
        yield write_sealed(recording, Path(temp), kinds, store)


def verified_chunks(recording: Any, kind: str, store: BlobStore | None = None) -> Iterator[bytes]:
    """A whole blob for a stream that leaves Taspa (a replica upload): hash-checked, the last
    chunk held back until the hash matched; a mismatch raises ``SealedBytesRefused``."""
    sealed = sealed_of(recording)
    try:
        yield from _checked_chunks(store or get_store(), sealed.digest(kind))
    except BlobNotFound:
        raise _refuse(recording, kind, "missing", "no blob in the store") from None
    except BytesChanged as error:
        raise _refuse(recording, kind, "corrupt", str(error)) from None


@dataclass(frozen=True)
class StreamedMedia:
    """A sealed recording's media read once, straight from the blob store, for a tool that
    reads it from a pipe (a copy's ffmpeg, #17 point 3): no checked temporary file first.

    ``chunks()`` is the whole blob, hashed as it is read, its last chunk held back until the
    hash matched the sealed digest (``BytesChanged`` if not, ``BlobNotFound`` if it is gone):
    a tool fed from it never sees the end of a file that no longer matches, and whoever feeds
    it learns of the mismatch before anything made from those bytes is kept, signed or served.
    It touches no database, so it may run on a feeding thread; ``refusing()`` turns its
    errors, on the caller's thread, into what ``write_sealed`` raises (``SealedBytesRefused``,
    the recording marked failed, one incident). ``head(n)``: the first ``n`` bytes, unchecked,
    for a probe that only decides how to copy (which streams, which container); the copy made
    is then checked whole.

    Why not "verify, then let ffmpeg read the blob's file in place" on the file store: the
    check and the read are two opens of a path, and a file swapped or truncated between them
    (a replica restored over it, an operator's mistake, an attacker with the disk) would be
    copied, signed and served unseen; ffmpeg cannot be made to read the very bytes that were
    hashed. Hashing the bytes as they are fed is the only way the hashed bytes are the copied
    bytes, and it costs the same single read on every backend (file or S3). Only a cut of
    closed portions, for which ffprobe and ffmpeg seek in the original, still takes the
    checked temporary file (``checked_copy``)."""

    recording: Any
    store: BlobStore
    digest: str
    name: str
    bytes: int

    def chunks(self) -> Iterator[bytes]:
        return _checked_chunks(self.store, self.digest)

    def head(self, size: int) -> bytes:
        with contextlib.closing(self.store.open_range(self.digest, 0, size)) as stream:
            return read_full(stream, min(size, self.bytes))

    @contextlib.contextmanager
    def refusing(self) -> Iterator[None]:
        try:
            yield
        except BytesChanged as error:
            raise _refuse(self.recording, "media", "corrupt", str(error)) from None
        except BlobNotFound:
            raise _refuse(self.recording, "media", "missing", "gone while streaming") from None


def streamed_media(recording: Any, store: BlobStore | None = None) -> StreamedMedia:
    """The recording's media to stream (see ``StreamedMedia``), after ``require_servable``'s
    checks (fixity not failed, the blob there with its sealed size)."""
    store = store or get_store()
    sealed = require_servable(recording, store)
    return StreamedMedia(recording, store, sealed.media, sealed.file_name, sealed.bytes)
