"""Pure rules of replication to the regional centre (R23). Standard library only.

The bytes travel as HTTP ``Content-Range`` uploads (the resumable-upload convention of
Google Cloud Storage and others, RFC 9110 §14.4): a ``PUT`` of ``bytes START-END/TOTAL`` to a
file's upload URL; ``bytes */TOTAL`` asks where the centre stands. Each chunk carries its own
``Content-Digest: sha-256=:…:`` (RFC 9530), so the centre verifies every chunk before it
counts it. Taspa's own protocol is only the offer (a JSON manifest) and the acknowledgement.
When the centre's blob store is S3 the bytes instead go straight to S3 as a multipart
upload, to URLs the centre presigns part by part (each part's SHA-256 is signed into its URL
and checked by S3); a broken upload resumes at the first part S3 does not hold.

See docs/adr/0006-replication-protocol.md.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# R23 asks for a daily replication; a court not heard from for longer than this is an alarm.
SILENCE_ALARM_AFTER = timedelta(hours=26)
MiB = 1024 * 1024
# What a court sends per Content-Range request: one request per 32 MiB on one kept-alive
# connection, the next chunk read and hashed while this one travels; a cut costs at most this.
CHUNK_BYTES = 32 * MiB
# The largest chunk a centre takes through Django (which holds the body in a temporary file
# before the view runs). The streaming upload route in front of Django (``upload.py``) takes a
# file's whole remainder in one request, straight to disk.
MAX_CHUNK_BYTES = 256 * MiB
PART_BYTES = 8 * MiB  # S3 multipart: at least 5 MiB (except the last part), at most 10,000
MAX_PARTS = 10_000
# The files of a sealed recording (layout.py), in the order they are sent: the journal (small)
# before the media, so the centre, holding it whole and verified, hashes the journal's pieces
# in the same pass as the media's own hash and never reads the media again (R19, R23).
FILE_KINDS = ("journal", "media", "signature", "manifest", "manifest_signature")
REQUIRED_KINDS = ("media", "signature", "manifest", "manifest_signature")
# R23: first-instance and appeal recordings go to the regional server.
REPLICATED_INSTANCES = ("first", "appeal")


class OutgoingState(enum.StrEnum):
    """A recording's state at the court, as the status screens show it."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    FAILED = "failed"
    ACKNOWLEDGED = "acknowledged"


class ReplicaState(enum.StrEnum):
    """A replica's state at the centre."""

    RECEIVING = "receiving"
    ACKNOWLEDGED = "acknowledged"
    REFUSED = "refused"


class Transport(enum.StrEnum):
    """How a replica's bytes travel (the offer's answer says which)."""

    CONTENT_RANGE = "content-range"  # PUTs to the centre, which writes them itself
    S3_MULTIPART = "s3-multipart"  # PUTs straight to the centre's S3, to presigned URLs


class AlarmKind(enum.StrEnum):
    SILENT = "silent"  # no contact for more than SILENCE_ALARM_AFTER
    REFUSED = "refused"  # a replica whose hash or signature did not verify
    REWOUND = "rewound"  # a court's audit head went backwards or disagrees (issue 15)


@dataclass(frozen=True)
class ContentRange:
    """``bytes START-END/TOTAL`` (END inclusive), or ``bytes */TOTAL`` for a status query."""

    start: int | None
    end: int | None
    total: int

    @property
    def is_query(self) -> bool:
        return self.start is None

    @property
    def length(self) -> int:
        return 0 if self.start is None or self.end is None else self.end - self.start + 1


_RANGE = re.compile(r"^bytes (?:(\d+)-(\d+)|\*)/(\d+)$")


def parse_content_range(header: str) -> ContentRange | None:
    """The header as a ``ContentRange``, or ``None`` when it is malformed or inconsistent."""
    match = _RANGE.match((header or "").strip())
    if not match:
        return None
    total = int(match.group(3))
    if match.group(1) is None:
        return ContentRange(None, None, total)
    start, end = int(match.group(1)), int(match.group(2))
    if start > end or end >= total:
        return None
    return ContentRange(start, end, total)


def content_range(start: int, length: int, total: int) -> str:
    if length == 0:
        return f"bytes */{total}"
    return f"bytes {start}-{start + length - 1}/{total}"


def content_digest(data: bytes) -> str:
    """RFC 9530 ``Content-Digest`` value for ``data``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii") + ":"


def repr_digest(sha256_hex: str) -> str:
    """RFC 9530 ``Repr-Digest`` (or ``Prefix-Digest``) value for a digest known as hex."""
    return "sha-256=:" + base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii") + ":"


def digest_matches(header: str | None, data: bytes) -> bool:
    """Whether a ``Content-Digest`` header names the SHA-256 of ``data`` (absent = refused)."""
    return sha256_matches(header, hashlib.sha256(data).digest())


def sha256_matches(header: str | None, sha256: bytes) -> bool:
    """Whether a ``Content-Digest`` header names ``sha256`` (the raw digest of a body hashed
    as it was read); a header without ``sha-256`` is refused."""
    if not header:
        return False
    expected = ":" + base64.b64encode(sha256).decode("ascii") + ":"
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name.strip().lower() == "sha-256":
            return value.strip() == expected
    return False


def chunks(offset: int, total: int, size: int = CHUNK_BYTES) -> list[tuple[int, int]]:
    """``(start, length)`` of the chunks left to send from the centre's verified ``offset``."""
    return [(start, min(size, total - start)) for start in range(offset, total, size)]


def sending_order(kinds: Iterable[str]) -> list[str]:
    """``kinds`` in ``FILE_KINDS`` order (the journal first); unknown kinds last, as given."""
    kinds = list(kinds)
    known = [kind for kind in FILE_KINDS if kind in kinds]
    return known + [kind for kind in kinds if kind not in FILE_KINDS]


def is_silent(last_seen: datetime | None, enrolled_at: datetime, now: datetime) -> bool:
    """R23: a court that has not replicated for more than 26 hours (counted from enrolment
    when it never has)."""
    return now - (last_seen or enrolled_at) > SILENCE_ALARM_AFTER


def part_size_for(total: int, minimum: int = PART_BYTES) -> int:
    """S3 part size for a file of ``total`` bytes: ``minimum``, or larger (whole MiB) when
    the file would otherwise need more than ``MAX_PARTS`` parts. (16 MiB parts for large
    files were measured no faster on SeaweedFS with 2 cores, and hold twice the memory.)"""
    needed = -(-total // MAX_PARTS)
    return max(minimum, -(-needed // MiB) * MiB)


def part_span(number: int, total: int, part_size: int) -> tuple[int, int]:
    """``(start, length)`` of part ``number`` (1-based). An empty file is one empty part."""
    start = (number - 1) * part_size
    return start, max(0, min(part_size, total - start))


def part_count(total: int, part_size: int) -> int:
    return max(1, -(-total // part_size))


def missing_parts(held: dict[int, int], total: int, part_size: int) -> list[int]:
    """Part numbers still to send, given ``held`` (number -> size S3 holds): a part held with
    another size than its span (a different plan) counts as missing."""
    return [
        number
        for number in range(1, part_count(total, part_size) + 1)
        if held.get(number) != part_span(number, total, part_size)[1]
    ]
