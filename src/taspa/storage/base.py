"""Types, errors and helpers shared by the blob store backends (see ``store.py``).

A blob is named by the SHA-256 of its bytes (lowercase hex, 64 characters) and never changes
once stored (R19: no editing of a recording; STYLE habit 4).
"""

from __future__ import annotations

import enum
import hashlib
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO

CHUNK = 1 << 20  # 1 MiB reads: large enough that hashlib releases the GIL and syscalls are rare
_DIGEST = re.compile(r"[0-9a-f]{64}")
_META_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class StorageError(Exception):
    """A blob store operation failed or was refused."""


class BlobNotFound(StorageError):
    """No blob with this digest is stored."""

    def __init__(self, digest: str) -> None:
        super().__init__(f"no blob sha256:{digest}")
        self.digest = digest


class DigestMismatch(StorageError):
    """The bytes received do not hash to the digest the caller expected; nothing was kept."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"expected sha256:{expected}, received sha256:{actual}; nothing stored")
        self.expected = expected
        self.actual = actual


class RetentionActive(StorageError):
    """R24/R27: the blob is under retention until ``until``; it may not be deleted and its
    retention may only be extended."""

    def __init__(self, digest: str, until: datetime | None, detail: str = "") -> None:
        when = until.isoformat() if until else "a date the server did not disclose"
        super().__init__(f"sha256:{digest} is retained until {when}{detail}")
        self.digest = digest
        self.until = until


class InvalidDigest(StorageError, ValueError):
    """Not a lowercase hex SHA-256."""


class InvalidRange(StorageError, ValueError):
    """A byte range outside the blob."""


@dataclass(frozen=True)
class BlobRef:
    """What ``put`` stored: ``created`` is False when the same bytes were already there."""

    digest: str
    size: int
    location: str
    created: bool = True


@dataclass(frozen=True)
class BlobInfo:
    """What the store knows about one blob."""

    digest: str
    size: int
    location: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    retain_until: datetime | None = None


class Fixity(enum.StrEnum):
    INTACT = "intact"
    CORRUPT = "corrupt"
    MISSING = "missing"


@dataclass(frozen=True)
class FixityResult:
    """The outcome of re-hashing a stored blob and comparing it with its name (R20)."""

    digest: str
    status: Fixity
    location: str
    checked_at: datetime
    actual_sha256: str | None = None
    size: int | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is Fixity.INTACT


def check_digest(digest: str) -> str:
    """Return ``digest`` if it is a lowercase hex SHA-256, else raise ``InvalidDigest``."""
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise InvalidDigest(f"not a lowercase hex SHA-256: {digest!r}")
    return digest


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Keys are lowercase ASCII words (they become S3 metadata names); values any text."""
    checked = dict(metadata or {})
    for key, value in checked.items():
        if not _META_KEY.fullmatch(key) or not isinstance(value, str):
            raise StorageError(f"metadata key {key!r} must match {_META_KEY.pattern}, value text")
    return checked


def aware_utc(moment: datetime) -> datetime:
    """STYLE 9: retention dates are timezone-aware; stored and compared in UTC."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"retention date must be timezone-aware: {moment!r}")
    return moment.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


Clock = Callable[[], datetime]


def read_full(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes; fewer only at end of stream (pipes and sockets read short)."""
    parts: list[bytes] = []
    wanted = size
    while wanted > 0:
        chunk = stream.read(wanted)
        if not chunk:
            break
        parts.append(chunk)
        wanted -= len(chunk)
    return b"".join(parts)


def hash_stream(stream: BinaryIO) -> tuple[str, int]:
    """SHA-256 hex and length of everything left in ``stream`` (internal helper)."""
    hasher = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
        size += len(chunk)
    return hasher.hexdigest(), size


class LimitedReader(io.RawIOBase):
    """At most ``limit`` bytes from ``raw``; closing it closes ``raw`` (range reads, S3 bodies)."""

    def __init__(self, raw: BinaryIO | io.RawIOBase, limit: int | None = None) -> None:
        super().__init__()
        self._raw = raw
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        want = len(view) if self._left is None else min(len(view), self._left)
        if want == 0:
            return 0
        data = self._raw.read(want)
        if not data:
            return 0
        view[: len(data)] = data
        if self._left is not None:
            self._left -= len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._raw.close()
            finally:
                super().close()


def buffered(raw: io.RawIOBase) -> BinaryIO:
    """A normal binary file object (``read``, ``readinto``, context manager) over ``raw``."""
    return io.BufferedReader(raw, buffer_size=CHUNK)  # type: ignore[return-value]
