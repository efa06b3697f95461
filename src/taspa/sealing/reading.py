"""Reading a sealed recording's bytes: always from the blob store, by digest, checked (R19, R20).

Every reader of a sealed byte (the API, playback, copies, the case-file medium, replication, the
archive) comes here, so the bytes that fixity checks are the bytes that are served
(docs/adr/0002-blob-store.md, "Reads"):

* a recording whose last fixity check failed, or whose media blob is missing or of the wrong
  size, is refused before a byte goes out (``SealedBytesRefused``: 409 ``fixity_failed``);
* a whole read (a download, a copy, a medium, a package) hashes the bytes as they stream and
  compares at the end; a mismatch discards what was written, or, for an HTTP response, aborts it
  before its last chunk, so no complete wrong file ever leaves;
* a partial HTTP Range is served from the content-addressed blob without a pre-hash (a
  multi-GB re-hash per seek is not affordable); that blob is what the rolling fixity job and
  every whole read check.

A discovered mismatch marks the recording failed and opens one incident (``fixity.record_failure``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from taspa.errors import Conflict
from taspa.sealing.layout import BLOB_KINDS, SealedFiles, SealedRecording
from taspa.storage.store import BlobNotFound, BlobStore, StorageError, get_store

CHUNK = 1 << 20


class SealedBytesRefused(Conflict):
    """The stored bytes of a sealed recording fail their digest: nothing is served or signed."""

    def __init__(self, detail: str) -> None:
        super().__init__("fixity_failed", detail)


class BytesChanged(StorageError):
    """The bytes read from the store do not hash to the digest they are stored under."""


def _refuse(recording: Any, kind: str, status: str, detail: str) -> SealedBytesRefused:
    from taspa.sealing.fixity import record_failure

    record_failure(recording, kind, status, detail)
    return SealedBytesRefused(
        f"The stored {kind} of {recording.file_name} fails its sealed digest ({status}): "
        "it is not served (R19, R20); an incident was opened."
    )


def sealed_of(recording: Any) -> SealedRecording:
    """The recording's ``SealedRecording``; refused if it was never fully sealed."""
    sealed = SealedRecording.of(recording)
    if not sealed.complete:
        raise Conflict("not_sealed", "The recording is not sealed yet.")
    return sealed


def require_servable(recording: Any, store: BlobStore | None = None) -> SealedRecording:
    """Cheap checks before any byte is served: the last fixity check did not fail, the media
    blob is there and has the sealed size (a swapped or truncated blob rarely keeps it)."""
    sealed = sealed_of(recording)
    if recording.fixity_ok is False:
        raise SealedBytesRefused(
            f"The stored bytes of {recording.file_name} failed their last fixity check: "
            "they are not served until the recording is restored (R19, R20)."
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


def media_chunks(
    recording: Any, sealed: SealedRecording, start: int, end: int, store: BlobStore | None = None
) -> Iterator[bytes]:
    """Bytes ``[start, end)`` of the media for an HTTP response. The whole file is hash-checked
    as it streams; a mismatch raises before the last chunk (the response is cut short, the
    recording marked failed, an incident opened)."""
    store = store or get_store()
    whole = start == 0 and end >= sealed.bytes
    chunks = (
        _checked_chunks(store, sealed.media)
        if whole
        else _checked_chunks(store, sealed.media, start, end)
    )
    try:
        yield from chunks
    except BytesChanged as error:
        raise _refuse(recording, "media", "corrupt", str(error)) from None
    except BlobNotFound:
        raise _refuse(recording, "media", "missing", "gone while streaming") from None


def read_sealed(recording: Any, kind: str, store: BlobStore | None = None) -> bytes:
    """A small blob (signature, manifest, journal) whole, hash-checked."""
    sealed = sealed_of(recording)
    if recording.fixity_ok is False:
        raise SealedBytesRefused(f"{recording.file_name} failed its last fixity check.")
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
