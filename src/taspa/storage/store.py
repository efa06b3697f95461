"""The blob store: where recordings' bytes live, named by their SHA-256 and never changed.

``get_store()`` gives the store configured by ``TASPA_STORAGE`` (CONTRACT.md):
``file://PATH`` → ``FileBlobStore``; ``s3://bucket[/prefix]`` → ``S3BlobStore``.
Design and guarantees: docs/adr/0002-blob-store.md (R19 no edits, R20 protected storage,
R24/R27 retention and deletion).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import BinaryIO, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

from .base import (
    BlobInfo,
    BlobNotFound,
    BlobRef,
    DigestMismatch,
    Fixity,
    FixityResult,
    InvalidDigest,
    InvalidRange,
    RetentionActive,
    StorageError,
)
from .filestore import FileBlobStore
from .s3store import S3BlobStore

__all__ = [
    "BlobInfo",
    "BlobNotFound",
    "BlobRef",
    "BlobStore",
    "DigestMismatch",
    "FileBlobStore",
    "Fixity",
    "FixityResult",
    "InvalidDigest",
    "InvalidRange",
    "RetentionActive",
    "S3BlobStore",
    "StorageError",
    "get_store",
    "store_from_url",
]


@runtime_checkable
class BlobStore(Protocol):
    """Write-once, content-addressed blob storage (R19, R20, R24, R27).

    Digests are lowercase hex SHA-256. Streams returned by ``open``/``open_range`` are binary
    file objects the caller closes. Retention dates are timezone-aware.
    """

    def put(
        self,
        stream: BinaryIO,
        *,
        expected_sha256: str | None = None,
        size_hint: int | None = None,
        metadata: Mapping[str, str] | None = None,
        retain_until: datetime | None = None,
    ) -> BlobRef:
        """Store the stream's bytes under their SHA-256; the same bytes again are a no-op;
        a wrong ``expected_sha256`` raises ``DigestMismatch`` and leaves nothing (R19)."""
        ...

    def put_file(
        self,
        path: os.PathLike[str] | str,
        *,
        expected_sha256: str | None = None,
        metadata: Mapping[str, str] | None = None,
        retain_until: datetime | None = None,
    ) -> BlobRef:
        """``put`` of a file's contents."""
        ...

    def adopt(self, path: os.PathLike[str] | str, *, sha256: str) -> BlobRef:
        """Store a file whose digest is already known, as cheaply as the backend allows
        (a hard link on the file backend; an upload verified by the server on S3)."""
        ...

    def open(self, digest: str) -> BinaryIO:
        """The blob's bytes (``BlobNotFound`` if absent)."""
        ...

    def open_range(self, digest: str, start: int, end: int) -> BinaryIO:
        """Bytes ``[start, end)``, ``end`` clamped to the size (HTTP Range)."""
        ...

    def size(self, digest: str) -> int: ...

    def exists(self, digest: str) -> bool: ...

    def stat(self, digest: str) -> BlobInfo:
        """Size, metadata (of the first put that gave any) and retention."""
        ...

    def verify(self, digest: str) -> FixityResult:
        """Re-hash the stored bytes and compare with the digest (R20)."""
        ...

    def retained_until(self, digest: str) -> datetime | None: ...

    def set_retention(self, digest: str, until: datetime) -> datetime:
        """Keep the blob at least until ``until``; extend only (R24)."""
        ...

    def delete(self, digest: str, *, reason: str) -> None:
        """Remove the blob after verified copies exist elsewhere; ``RetentionActive`` while
        retained (R24, R27)."""
        ...

    def iter_digests(self) -> Iterator[str]: ...


def store_from_url(url: str) -> BlobStore:
    """A store for a ``TASPA_STORAGE`` value: ``file://PATH`` or ``s3://bucket[/prefix]``."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileBlobStore(unquote(parts.netloc + parts.path))
    if parts.scheme == "s3" and parts.netloc:
        return S3BlobStore(parts.netloc, prefix=unquote(parts.path.strip("/")))
    raise StorageError(f"TASPA_STORAGE={url!r}: expected file://PATH or s3://BUCKET[/PREFIX]")


@functools.lru_cache(maxsize=4)
def _cached_store(url: str, pid: int) -> BlobStore:
    return store_from_url(url)


def get_store() -> BlobStore:
    """The store configured by ``settings.TASPA_STORAGE``, one per process (a boto3 client
    must not cross a fork) and per setting value (tests may override it)."""
    from django.conf import settings

    return _cached_store(settings.TASPA_STORAGE, os.getpid())
