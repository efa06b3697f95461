"""Blob store on a local (or mounted) filesystem — the embedded default (ARCHITECTURE.md).

Layout under ``root`` (docs/adr/0002-blob-store.md)::

    sha256/ab/cd/abcd…ef              the bytes, mode 0444, never rewritten (R19)
    sha256/ab/cd/abcd…ef.meta.json    metadata of the first put that carried any, 0444
    sha256/ab/cd/abcd…ef.retain       {"retain_until": ISO-8601 UTC}: delete refused before (R24)
    tmp/                              partial writes; same filesystem so the final link is atomic
    .retention.lock                   flock serialising retention changes and deletes
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from taspa.files import fsync_path

from .base import (
    CHUNK,
    BlobInfo,
    BlobNotFound,
    BlobRef,
    Clock,
    DigestMismatch,
    Fixity,
    FixityResult,
    InvalidRange,
    LimitedReader,
    RetentionActive,
    StorageError,
    aware_utc,
    buffered,
    check_digest,
    check_metadata,
    hash_stream,
    utcnow,
)

log = logging.getLogger("taspa.storage")
READ_ONLY = 0o444


class FileBlobStore:
    """Content-addressed, write-once files (R19, R20); retention as ``.retain`` sidecars (R24)."""

    def __init__(self, root: Path | str, *, clock: Clock = utcnow) -> None:
        self.root = Path(root).resolve()
        self.clock = clock
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        (self.root / "sha256").mkdir(exist_ok=True)

    def __repr__(self) -> str:
        return f"FileBlobStore({str(self.root)!r})"

    # -- paths ---------------------------------------------------------------------------------
    def path(self, digest: str) -> Path:
        """Where the blob's bytes live (or would)."""
        check_digest(digest)
        return self.root / "sha256" / digest[:2] / digest[2:4] / digest

    def _sidecar(self, digest: str, suffix: str) -> Path:
        return self.path(digest).with_name(digest + suffix)

    def _existing(self, digest: str) -> Path:
        path = self.path(digest)
        if not path.is_file():
            raise BlobNotFound(digest)
        return path

    # -- writes --------------------------------------------------------------------------------
    def put(
        self,
        stream: BinaryIO,
        *,
        expected_sha256: str | None = None,
        size_hint: int | None = None,
        metadata: Mapping[str, str] | None = None,
        retain_until: datetime | None = None,
    ) -> BlobRef:
        """Store ``stream``'s bytes under their SHA-256 (R19: never overwrite, never edit).

        Streams into ``tmp/`` while hashing, fsyncs, makes the file read-only, then links it at
        its digest path (a link fails rather than replace) and fsyncs the directory. The same
        bytes again are a no-op (``created=False``); a wrong ``expected_sha256`` raises
        ``DigestMismatch`` and leaves nothing behind.
        """
        if expected_sha256 is not None:
            check_digest(expected_sha256)
        meta = check_metadata(metadata)
        until = aware_utc(retain_until) if retain_until is not None else None
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                hasher, size = hashlib.sha256(), 0
                while chunk := stream.read(CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = hasher.hexdigest()
            if expected_sha256 is not None and digest != expected_sha256:
                raise DigestMismatch(expected_sha256, digest)
            created = self._link_into_place(tmp, self.path(digest))
        finally:
            tmp.unlink(missing_ok=True)
        if meta and not self._sidecar(digest, ".meta.json").exists():
            self._write_once(self._sidecar(digest, ".meta.json"), meta)
        if until is not None and (self.retained_until(digest) or until) <= until:
            self.set_retention(digest, until)  # a re-put may extend, never shorten
        return BlobRef(
            digest=digest, size=size, location=self.path(digest).as_uri(), created=created
        )

    def put_file(
        self,
        path: Path | str,
        *,
        expected_sha256: str | None = None,
        metadata: Mapping[str, str] | None = None,
        retain_until: datetime | None = None,
    ) -> BlobRef:
        """``put`` of a file's contents."""
        with open(path, "rb") as stream:
            return self.put(
                stream,
                expected_sha256=expected_sha256,
                size_hint=os.fstat(stream.fileno()).st_size,
                metadata=metadata,
                retain_until=retain_until,
            )

    def adopt(self, path: Path | str, *, sha256: str) -> BlobRef:
        """Take a file whose SHA-256 is already known (hashed while it was captured) into the
        store without copying it: the file is made read-only and hard-linked at its digest path.

        This is what keeps stop → stored constant for hours-long hearings. The digest is
        trusted here; the fixity job re-hashes every blob on its rolling schedule.
        """
        check_digest(sha256)
        source = Path(path)
        size = source.stat().st_size
        try:
            created = self._link_into_place(source, self.path(sha256))
        except OSError as error:  # another file system: fall back to a verified copy
            log.info("adopt %s by copy: %s", source, error)
            return self.put_file(source, expected_sha256=sha256)
        return BlobRef(
            digest=sha256, size=size, location=self.path(sha256).as_uri(), created=created
        )

    def _link_into_place(self, tmp: Path, final: Path) -> bool:
        """Read-only first, then a hard link: atomic, and unlike rename it never replaces."""
        os.chmod(tmp, READ_ONLY)
        if final.exists():
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(tmp, final)
        except FileExistsError:  # a concurrent put of the same bytes won
            return False
        fsync_path(final.parent)
        return True

    def _write_once(self, final: Path, document: Mapping[str, str]) -> None:
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="meta-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(document, out, ensure_ascii=False, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            self._link_into_place(Path(tmp_name), final)
        finally:
            Path(tmp_name).unlink(missing_ok=True)

    # -- reads ---------------------------------------------------------------------------------
    def open(self, digest: str) -> BinaryIO:
        """The blob's bytes as a binary file object (the caller closes it)."""
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def open_range(self, digest: str, start: int, end: int) -> BinaryIO:
        """Bytes ``[start, end)`` (half-open; ``end`` is clamped to the size) for HTTP Range."""
        size = self.size(digest)
        end = min(end, size)
        if start < 0 or start > end:
            raise InvalidRange(f"range [{start}, {end}) outside 0..{size}")
        handle = self.open(digest)
        handle.seek(start)
        return buffered(LimitedReader(handle, end - start))

    def size(self, digest: str) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def stat(self, digest: str) -> BlobInfo:
        """Size, metadata and retention of a stored blob."""
        path = self._existing(digest)
        meta_path = self._sidecar(digest, ".meta.json")
        metadata = json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}
        return BlobInfo(
            digest=digest,
            size=path.stat().st_size,
            location=path.as_uri(),
            metadata=metadata,
            retain_until=self.retained_until(digest),
        )

    def iter_digests(self) -> Iterator[str]:
        """Every stored digest (order unspecified)."""
        for shard in sorted((self.root / "sha256").glob("??/??")):
            for entry in sorted(shard.iterdir()):
                if len(entry.name) == 64 and "." not in entry.name:
                    yield entry.name

    def verify(self, digest: str) -> FixityResult:
        """R20 fixity: re-hash the file and compare with its name."""
        path = self.path(digest)
        now = self.clock()
        try:
            with open(path, "rb") as stream:
                actual, size = hash_stream(stream)
        except FileNotFoundError:
            return FixityResult(digest, Fixity.MISSING, path.as_uri(), now, detail="no such file")
        status = Fixity.INTACT if actual == digest else Fixity.CORRUPT
        detail = "" if status is Fixity.INTACT else f"content hashes to sha256:{actual}"
        return FixityResult(digest, status, path.as_uri(), now, actual, size, detail)

    # -- retention and deletion (R24, R27) -----------------------------------------------------
    @contextlib.contextmanager
    def _retention_lock(self) -> Iterator[None]:
        with open(self.root / ".retention.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def retained_until(self, digest: str) -> datetime | None:
        """The retention date recorded for the blob, if any."""
        try:
            record = json.loads(self._sidecar(digest, ".retain").read_text("utf-8"))
        except FileNotFoundError:
            return None
        return aware_utc(datetime.fromisoformat(record["retain_until"]))

    def set_retention(self, digest: str, until: datetime) -> datetime:
        """R24: keep the blob at least until ``until``; a retention may be extended, never
        shortened (``RetentionActive``). Returns the retention now in force."""
        until = aware_utc(until)
        self._existing(digest)
        with self._retention_lock():
            current = self.retained_until(digest)
            if current is not None and until < current:
                raise RetentionActive(digest, current, "; it may only be extended")
            if current == until:
                return until
            fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="retain-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"retain_until": until.isoformat()}, out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp_name, READ_ONLY)
            # Replacing is safe here: under the lock, and only ever with a later date.
            os.replace(tmp_name, self._sidecar(digest, ".retain"))
            fsync_path(self.path(digest).parent)
        return until

    def delete(self, digest: str, *, reason: str) -> None:
        """R27: remove a blob once verified copies exist elsewhere (archive transfer).

        Refused with ``RetentionActive`` before the recorded retention date (R24).
        """
        if not reason.strip():
            raise StorageError("a deletion needs a reason (R27)")
        path = self._existing(digest)
        with self._retention_lock():
            until = self.retained_until(digest)
            if until is not None and self.clock() < until:
                raise RetentionActive(digest, until)
            path.unlink()
            self._sidecar(digest, ".meta.json").unlink(missing_ok=True)
            self._sidecar(digest, ".retain").unlink(missing_ok=True)
            fsync_path(path.parent)
        log.warning("deleted blob sha256:%s from %s: %s", digest, self.root, reason)
