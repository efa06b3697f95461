"""Blob store on an S3-compatible object store with object lock (court / national scale).

Keys are ``{prefix}sha256/ab/cd/<hex>``. Every write is conditional (``If-None-Match: *``), so
Taspa never replaces an object (R19); each part carries its SHA-256 which the server checks
(R20); COMPLIANCE-mode object lock makes retention binding on the server itself (R24, R27).
See docs/adr/0002-blob-store.md.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO
from urllib.parse import quote, unquote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

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
    read_full,
    utcnow,
)

log = logging.getLogger("taspa.storage")
MiB = 1 << 20
PART_SIZE = 8 * MiB  # S3's minimum is 5 MiB; 8 MiB is what boto3's transfer manager uses
LARGE_PART_SIZE = 16 * MiB  # objects of 128 MiB and more: fewer, larger requests
COPY_PART_SIZE = 512 * MiB  # server-side copy ranges (S3 allows up to 5 GiB each)
MAX_PARTS = 10_000
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchVersion"}
_LOCKED = {"AccessDenied", "InvalidRequest", "ObjectLocked"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unsigned_when_checksummed(request: Any, **_: Any) -> None:
    """A request that carries ``x-amz-checksum-sha256`` is checked by the server against it
    (``BadDigest``; SeaweedFS does too, checked); signing its payload as well would make botocore
    hash every byte a second time, so it is sent ``UNSIGNED-PAYLOAD`` (as boto3 does on HTTPS)."""
    if "x-amz-checksum-sha256" not in request.headers:
        return
    config = request.context.get("client_config")
    if config is not None:
        s3 = dict(getattr(config, "s3", None) or {}) | {"payload_signing_enabled": False}
        request.context["client_config"] = config.merge(Config(s3=s3))


def unsign_checksummed_payloads(client: Any) -> Any:
    """Register ``_unsigned_when_checksummed`` on ``client`` (once); returns the client."""
    events = client.meta.events
    for operation in ("UploadPart", "PutObject"):
        events.register(
            f"before-sign.s3.{operation}",
            _unsigned_when_checksummed,
            unique_id=f"taspa-unsigned-{operation}",
        )
    return client


def make_client() -> Any:
    """A boto3 S3 client from the usual ``AWS_*`` variables; path-style addressing.

    The endpoint comes from ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``; the region from
    ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` (default us-east-1).
    """
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=region,
        config=Config(
            signature_version="s3v4",  # presigned URLs (replication) must be SigV4
            s3={"addressing_style": "path"},
            retries={"mode": "standard", "max_attempts": 5},
            # We send our own SHA-256 per request; no second (CRC32) checksum on top.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            max_pool_connections=16,
        ),
    )


class S3BlobStore:
    """Content-addressed, write-once objects in ``bucket`` (R19, R20, R24, R27)."""

    def __init__(
        self,
        bucket: str,
        client: Any = None,
        prefix: str = "",
        *,
        part_size: int = PART_SIZE,
        concurrency: int = 4,
        clock: Clock = utcnow,
    ) -> None:
        if part_size < 5 * MiB:
            raise ValueError("S3 parts are at least 5 MiB")
        self.bucket = bucket
        self.client = unsign_checksummed_payloads(client if client is not None else make_client())
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.part_size = part_size
        self.concurrency = max(1, concurrency)
        self.clock = clock
        self._object_lock: bool | None = None

    def __repr__(self) -> str:
        return f"S3BlobStore({self.bucket!r}, prefix={self.prefix!r})"

    # -- names ---------------------------------------------------------------------------------
    def key(self, digest: str) -> str:
        check_digest(digest)
        return f"{self.prefix}sha256/{digest[:2]}/{digest[2:4]}/{digest}"

    def location(self, digest: str) -> str:
        return f"s3://{self.bucket}/{self.key(digest)}"

    @property
    def object_lock(self) -> bool:
        """Whether the bucket was created with object lock (checked once)."""
        if self._object_lock is None:
            try:
                config = self.client.get_object_lock_configuration(Bucket=self.bucket)
                enabled = config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
                self._object_lock = enabled == "Enabled"
            except ClientError as exc:
                if "ObjectLockConfiguration" not in _code(exc):
                    raise StorageError(f"bucket {self.bucket}: {exc}") from exc
                self._object_lock = False
        return self._object_lock

    def _lock_args(self, until: datetime | None) -> dict[str, Any]:
        if until is None:
            return {}
        if not self.object_lock:
            raise StorageError(
                f"bucket {self.bucket} has no object lock: retention cannot be enforced (R24)"
            )
        return {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": aware_utc(until)}

    def _head(self, digest: str) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(digest))
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                return None
            raise StorageError(f"head {self.location(digest)}: {exc}") from exc

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
        """Store ``stream``'s bytes under their SHA-256 without holding them all in memory.

        Small blobs go up in one conditional PUT carrying their SHA-256. Larger ones go up as a
        multipart upload (``concurrency`` parts in flight, each with its SHA-256 checked by the
        server) — straight to the final key when ``expected_sha256`` is known, else to a staging
        key that is then copied server-side. A wrong ``expected_sha256`` aborts the upload and
        raises ``DigestMismatch``; nothing is left. Same bytes again: ``created=False``.
        """
        ref = self._put(stream, expected_sha256, size_hint, metadata, retain_until)
        if not ref.created and retain_until is not None:
            current = self.retained_until(ref.digest)
            if current is None or current < retain_until:
                self.set_retention(ref.digest, retain_until)  # a re-put may extend, not shorten
        return ref

    def _put(
        self,
        stream: BinaryIO,
        expected_sha256: str | None,
        size_hint: int | None,
        metadata: Mapping[str, str] | None,
        retain_until: datetime | None,
    ) -> BlobRef:
        if expected_sha256 is not None:
            check_digest(expected_sha256)
        extra = {"Metadata": self._encode_metadata(check_metadata(metadata))}
        extra |= self._lock_args(retain_until)
        part_size = self._part_size(size_hint)
        first = read_full(stream, part_size)
        if len(first) < part_size:
            return self._put_single(first, expected_sha256, extra)
        if expected_sha256 is not None and self._head(expected_sha256) is not None:
            digest, size = self._drain(first, stream)  # already stored: check, do not upload
            if digest != expected_sha256:
                raise DigestMismatch(expected_sha256, digest)
            return BlobRef(digest, size, self.location(digest), created=False)
        target = self.key(expected_sha256) if expected_sha256 else self._staging_key()
        digest, size, created = self._multipart(
            target, first, stream, part_size, expected_sha256, extra
        )
        if target != self.key(digest):
            created = self._promote(target, digest, size, extra)
        return BlobRef(digest, size, self.location(digest), created=created)

    def adopt(self, path: os.PathLike[str] | str, *, sha256: str) -> BlobRef:
        """Upload a file whose digest is known: each part and the whole are checked."""
        return self.put_file(path, expected_sha256=sha256)

    def put_file(
        self,
        path: os.PathLike[str] | str,
        *,
        expected_sha256: str | None = None,
        metadata: Mapping[str, str] | None = None,
        retain_until: datetime | None = None,
    ) -> BlobRef:
        """``put`` of a file. A large file is hashed once — the whole and each part's SHA-256
        from the same read, in parallel — and then goes straight to its final key, its parts
        read back and sent concurrently with their known SHA-256s, which the server checks: no
        byte is hashed twice and there is no server-side copy."""
        with open(path, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size < self.part_size:
                return self.put(
                    stream,
                    expected_sha256=expected_sha256,
                    size_hint=size,
                    metadata=metadata,
                    retain_until=retain_until,
                )
            if expected_sha256 is not None:
                check_digest(expected_sha256)
            part_size = self._part_size(size)
            digest, checksums = self._hash_parts(stream, part_size)
            if expected_sha256 is not None and digest != expected_sha256:
                raise DigestMismatch(expected_sha256, digest)
            ref = self._put_file_parts(
                stream, digest, size, part_size, checksums, metadata, retain_until
            )
        if not ref.created and retain_until is not None:
            current = self.retained_until(ref.digest)
            if current is None or current < retain_until:
                self.set_retention(ref.digest, retain_until)
        return ref

    def _hash_parts(self, stream: BinaryIO, part_size: int) -> tuple[str, list[str]]:
        """One read of the file: its SHA-256 (this thread) and each part's (a worker), from the
        same buffers (hashlib releases the GIL: two cores hash at once)."""
        whole, checksums = hashlib.sha256(), []
        with ThreadPoolExecutor(1, thread_name_prefix="s3-hash") as pool:
            pending: deque[Future[str]] = deque()
            while data := read_full(stream, part_size):
                pending.append(pool.submit(lambda d: _b64(hashlib.sha256(d).digest()), data))
                whole.update(data)
                while len(pending) > 1:
                    checksums.append(pending.popleft().result())
            checksums.extend(future.result() for future in pending)
        return whole.hexdigest(), checksums

    def _put_file_parts(
        self,
        stream: BinaryIO,
        digest: str,
        size: int,
        part_size: int,
        checksums: list[str],
        metadata: Mapping[str, str] | None,
        retain_until: datetime | None,
    ) -> BlobRef:
        """Upload a hashed file's parts (``os.pread`` in each worker) to its digest key."""
        if self._head(digest) is not None:
            return BlobRef(digest, size, self.location(digest), created=False)
        if len(checksums) > MAX_PARTS:
            raise StorageError(f"more than {MAX_PARTS} parts")
        extra = {"Metadata": self._encode_metadata(check_metadata(metadata))}
        extra |= self._lock_args(retain_until)
        key, fd = self.key(digest), stream.fileno()
        upload = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ChecksumAlgorithm="SHA256", **extra
        )["UploadId"]

        def send(number: int) -> dict[str, Any]:
            start = (number - 1) * part_size
            data = os.pread(fd, min(part_size, size - start), start)
            return self._upload_part(key, upload, number, data, checksums[number - 1])

        try:
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="s3-part") as pool:
                parts = list(pool.map(send, range(1, len(checksums) + 1)))
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload,
                MultipartUpload={"Parts": parts},
                IfNoneMatch="*",
            )
        except ClientError as exc:
            self._abort(key, upload)
            if _code(exc) in {"PreconditionFailed", "ConditionalRequestConflict"}:
                return BlobRef(digest, size, self.location(digest), created=False)
            if _code(exc) in {"BadDigest", "InvalidDigest"}:  # the file changed under us
                raise StorageError(f"{key}: the file changed while it was uploaded") from exc
            raise StorageError(f"multipart upload to {key}: {exc}") from exc
        except BaseException:
            self._abort(key, upload)
            raise
        return BlobRef(digest, size, self.location(digest), created=True)

    def _part_size(self, size_hint: int | None) -> int:
        """Tuned to the object: the configured size (8 MiB) below 128 MiB, 16 MiB parts above
        (fewer requests, as many in flight), more when 10,000 parts would not hold it."""
        if size_hint is None:
            return self.part_size
        needed = -(-size_hint // (MAX_PARTS - 100))  # leave room for a hint that was low
        tuned = LARGE_PART_SIZE if size_hint >= 8 * LARGE_PART_SIZE else self.part_size
        return max(self.part_size, tuned, -(-needed // MiB) * MiB)

    def _put_single(self, data: bytes, expected: str | None, extra: dict[str, Any]) -> BlobRef:
        raw = hashlib.sha256(data).digest()
        digest = raw.hex()
        if expected is not None and digest != expected:
            raise DigestMismatch(expected, digest)
        if self._head(digest) is not None:
            return BlobRef(digest, len(data), self.location(digest), created=False)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.key(digest),
                Body=data,
                ChecksumSHA256=_b64(raw),  # the server checks the whole object against it
                IfNoneMatch="*",
                **extra,
            )
        except ClientError as exc:
            if _code(exc) in {"PreconditionFailed", "ConditionalRequestConflict"}:
                return BlobRef(digest, len(data), self.location(digest), created=False)
            raise StorageError(f"put {self.location(digest)}: {exc}") from exc
        return BlobRef(digest, len(data), self.location(digest), created=True)

    def _drain(self, first: bytes, stream: BinaryIO) -> tuple[str, int]:
        hasher = hashlib.sha256(first)
        size = len(first)
        while chunk := stream.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
        return hasher.hexdigest(), size

    def _staging_key(self) -> str:
        return f"{self.prefix}incoming/{uuid.uuid4().hex}"

    def _multipart(
        self,
        key: str,
        first: bytes,
        stream: BinaryIO,
        part_size: int,
        expected: str | None,
        extra: dict[str, Any],
    ) -> tuple[str, int, bool]:
        """Upload ``first`` + the rest of ``stream`` to ``key``; returns (digest, size, created)."""
        final = expected is not None
        args = extra if final else {"Metadata": extra["Metadata"]}
        upload = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ChecksumAlgorithm="SHA256", **args
        )["UploadId"]
        hasher, size, parts = hashlib.sha256(), 0, []
        pending: deque[Future[dict[str, Any]]] = deque()
        try:
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="s3-part") as pool:
                data, number = first, 1
                while data:
                    hasher.update(data)
                    size += len(data)
                    pending.append(pool.submit(self._upload_part, key, upload, number, data))
                    while len(pending) >= self.concurrency:  # bounds memory to a few parts
                        parts.append(pending.popleft().result())
                    number += 1
                    if number > MAX_PARTS:
                        raise StorageError(f"more than {MAX_PARTS} parts: pass size_hint")
                    data = read_full(stream, part_size)
                parts.extend(future.result() for future in pending)
            digest = hasher.hexdigest()
            if expected is not None and digest != expected:
                raise DigestMismatch(expected, digest)
            condition = {"IfNoneMatch": "*"} if final else {}
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload,
                MultipartUpload={"Parts": parts},
                **condition,
            )
        except ClientError as exc:
            self._abort(key, upload)
            if final and _code(exc) in {"PreconditionFailed", "ConditionalRequestConflict"}:
                return hasher.hexdigest(), size, False
            raise StorageError(f"multipart upload to {key}: {exc}") from exc
        except BaseException:
            self._abort(key, upload)
            raise
        return digest, size, True

    def _upload_part(
        self, key: str, upload: str, number: int, data: bytes, checksum: str | None = None
    ) -> dict[str, Any]:
        checksum = checksum or _b64(hashlib.sha256(data).digest())
        answer = self.client.upload_part(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,  # the server refuses the part (BadDigest) on a mismatch
        )
        return {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum}

    def _abort(self, key: str, upload: str) -> None:
        with contextlib.suppress(ClientError):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)

    def _promote(
        self,
        staging: str,
        digest: str,
        size: int,
        extra: dict[str, Any],
        version_id: str | None = None,
    ) -> bool:
        """Server-side copy of a staged upload (``version_id``: that version of it) to its
        digest key, then remove the staging."""
        source = {"Bucket": self.bucket, "Key": staging}
        if version_id:
            source["VersionId"] = version_id
        try:
            if self._head(digest) is not None:
                return False
            key = self.key(digest)
            upload = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ChecksumAlgorithm="SHA256", **extra
            )["UploadId"]
            try:
                parts = []
                for number, start in enumerate(range(0, size, COPY_PART_SIZE), start=1):
                    end = min(start + COPY_PART_SIZE, size) - 1
                    answer = self.client.upload_part_copy(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload,
                        PartNumber=number,
                        CopySource=source,
                        CopySourceRange=f"bytes={start}-{end}",
                    )["CopyPartResult"]
                    part = {"PartNumber": number, "ETag": answer["ETag"]}
                    if "ChecksumSHA256" in answer:
                        part["ChecksumSHA256"] = answer["ChecksumSHA256"]
                    parts.append(part)
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload,
                    MultipartUpload={"Parts": parts},
                    IfNoneMatch="*",
                )
            except ClientError as exc:
                self._abort(key, upload)
                if _code(exc) in {"PreconditionFailed", "ConditionalRequestConflict"}:
                    return False
                raise StorageError(f"copy to {key}: {exc}") from exc
            return True
        finally:
            self._remove_all_versions(staging)

    # -- uploads staged by a peer (replication, ADR 0006) ---------------------------------------
    def begin_staged_upload(self) -> StagedUpload:
        """A multipart upload to a fresh staging key, for a peer to fill through presigned
        URLs (``presign_part``) and us to verify and ``adopt_staged``."""
        key = self._staging_key()
        try:
            upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            raise StorageError(f"staged upload to {key}: {exc}") from exc
        return StagedUpload(key, upload["UploadId"])

    def presign_part(
        self, staged: StagedUpload, number: int, *, sha256: str, expires: int = 3600
    ) -> PresignedPart:
        """A URL to ``PUT`` part ``number`` to. Its SHA-256 is signed into the URL and must
        travel as ``x-amz-checksum-sha256``: the server refuses other bytes (``BadDigest``)."""
        check_digest(sha256)
        checksum = _b64(bytes.fromhex(sha256))
        url = self.client.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.bucket,
                "Key": staged.key,
                "UploadId": staged.upload_id,
                "PartNumber": number,
                "ChecksumSHA256": checksum,
            },
            ExpiresIn=expires,
        )
        return PresignedPart(number, url, {"x-amz-checksum-sha256": checksum})

    def staged_parts(self, staged: StagedUpload) -> dict[int, StagedPart] | None:
        """The parts the server holds (number -> size, ETag); ``None`` once the upload is
        completed or aborted."""
        parts: dict[int, StagedPart] = {}
        pages = self.client.get_paginator("list_parts").paginate(
            Bucket=self.bucket, Key=staged.key, UploadId=staged.upload_id
        )
        try:
            for page in pages:
                for part in page.get("Parts", []):
                    number = int(part["PartNumber"])
                    parts[number] = StagedPart(number, int(part["Size"]), part["ETag"])
        except ClientError as exc:
            if _code(exc) == "NoSuchUpload":
                return None
            raise StorageError(f"parts of {staged.key}: {exc}") from exc
        return parts

    def complete_staged(self, staged: StagedUpload, parts: list[StagedPart]) -> str | None:
        """Join the parts into the staging object; returns its version id (versioned bucket)."""
        try:
            done = self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=staged.key,
                UploadId=staged.upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p.number, "ETag": p.etag} for p in parts]
                },
            )
        except ClientError as exc:
            raise StorageError(f"complete {staged.key}: {exc}") from exc
        return done.get("VersionId")

    def open_staged(self, key: str, version_id: str | None = None) -> BinaryIO:
        """A staged object's bytes (that version of it), streamed."""
        args = {"VersionId": version_id} if version_id else {}
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key, **args)
        except ClientError as exc:
            raise StorageError(f"get {key}: {exc}") from exc
        return buffered(LimitedReader(answer["Body"]))

    def adopt_staged(
        self,
        key: str,
        *,
        sha256: str,
        size: int,
        version_id: str | None = None,
        retain_until: datetime | None = None,
    ) -> BlobRef:
        """Copy a staged object the caller has verified to its digest key (server-side, with
        object-lock retention), then remove the staging; the same bytes again: a no-op."""
        check_digest(sha256)
        extra = {"Metadata": {}} | self._lock_args(retain_until)
        created = self._promote(key, sha256, size, extra, version_id)
        if not created and retain_until is not None:
            current = self.retained_until(sha256)
            if current is None or current < retain_until:
                self.set_retention(sha256, retain_until)
        return BlobRef(sha256, size, self.location(sha256), created=created)

    def discard_staged(self, staged: StagedUpload) -> None:
        """Abort a staged upload and remove whatever it left."""
        self._abort(staged.key, staged.upload_id)
        self._remove_all_versions(staged.key)

    # -- reads ---------------------------------------------------------------------------------
    def _get(self, digest: str, **range_args: str) -> dict[str, Any]:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(digest), **range_args)
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                raise BlobNotFound(digest) from None
            raise StorageError(f"get {self.location(digest)}: {exc}") from exc

    def open(self, digest: str) -> BinaryIO:
        """The blob's bytes, streamed from the server (the caller closes it)."""
        return buffered(LimitedReader(self._get(digest)["Body"]))

    def open_range(self, digest: str, start: int, end: int) -> BinaryIO:
        """Bytes ``[start, end)`` (half-open; ``end`` is clamped to the size) for HTTP Range."""
        size = self.size(digest)
        end = min(end, size)
        if start < 0 or start > end:
            raise InvalidRange(f"range [{start}, {end}) outside 0..{size}")
        if start == end:
            return buffered(LimitedReader(_Empty(), 0))
        body = self._get(digest, Range=f"bytes={start}-{end - 1}")["Body"]
        return buffered(LimitedReader(body, end - start))

    def size(self, digest: str) -> int:
        head = self._head(digest)
        if head is None:
            raise BlobNotFound(digest)
        return int(head["ContentLength"])

    def exists(self, digest: str) -> bool:
        return self._head(digest) is not None

    def stat(self, digest: str) -> BlobInfo:
        """Size, metadata and retention of a stored blob."""
        head = self._head(digest)
        if head is None:
            raise BlobNotFound(digest)
        until = head.get("ObjectLockRetainUntilDate")
        return BlobInfo(
            digest=digest,
            size=int(head["ContentLength"]),
            location=self.location(digest),
            metadata={k: unquote(v) for k, v in head.get("Metadata", {}).items()},
            retain_until=aware_utc(until) if until else None,
        )

    def iter_digests(self) -> Iterator[str]:
        """Every stored digest (listing order)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}sha256/"
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"].rsplit("/", 1)[-1]
                if len(name) == 64:
                    yield name

    def verify(self, digest: str) -> FixityResult:
        """R20 fixity: stream the current object, re-hash it and compare with its key."""
        location, now = self.location(digest), self.clock()
        try:
            with self.open(digest) as stream:
                actual, size = hash_stream(stream)
        except BlobNotFound:
            return FixityResult(digest, Fixity.MISSING, location, now, detail="no such object")
        status = Fixity.INTACT if actual == digest else Fixity.CORRUPT
        detail = "" if status is Fixity.INTACT else f"content hashes to sha256:{actual}"
        return FixityResult(digest, status, location, now, actual, size, detail)

    # -- retention and deletion (R24, R27) -----------------------------------------------------
    def retained_until(self, digest: str) -> datetime | None:
        """The object-lock retention date of the blob, if any."""
        return self.stat(digest).retain_until

    def set_retention(self, digest: str, until: datetime) -> datetime:
        """R24: COMPLIANCE-mode retention until ``until``; extending only (the server refuses
        to shorten it, and so do we, with ``RetentionActive``)."""
        until = aware_utc(until)
        args = self._lock_args(until)
        current = self.retained_until(digest)
        if current is not None and until < current:
            raise RetentionActive(digest, current, "; it may only be extended")
        if current == until:
            return until
        try:
            self.client.put_object_retention(
                Bucket=self.bucket,
                Key=self.key(digest),
                Retention={"Mode": args["ObjectLockMode"], "RetainUntilDate": until},
            )
        except ClientError as exc:
            if _code(exc) in _LOCKED:
                raise RetentionActive(digest, current, f"; server: {_code(exc)}") from exc
            raise StorageError(f"retention of {self.location(digest)}: {exc}") from exc
        return until

    def delete(self, digest: str, *, reason: str) -> None:
        """R27: remove every version of the blob once verified copies exist elsewhere.

        Refused with ``RetentionActive`` while object lock retains it (R24): checked here first,
        and enforced by the server regardless. A plain DELETE would only add a delete marker in
        a versioned bucket, so versions are deleted one by one.
        """
        if not reason.strip():
            raise StorageError("a deletion needs a reason (R27)")
        until = self.retained_until(digest)  # BlobNotFound when absent
        if until is not None and self.clock() < until:
            raise RetentionActive(digest, until)
        self._remove_all_versions(self.key(digest), digest=digest)
        log.warning("deleted blob sha256:%s from %s: %s", digest, self.location(digest), reason)

    def _remove_all_versions(self, key: str, digest: str | None = None) -> None:
        pages = self.client.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=key
        )
        for page in pages:
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                if item["Key"] != key:
                    continue
                try:
                    self.client.delete_object(
                        Bucket=self.bucket, Key=key, VersionId=item["VersionId"]
                    )
                except ClientError as exc:
                    if digest is not None and _code(exc) in _LOCKED:
                        raise RetentionActive(digest, None, f"; server: {_code(exc)}") from exc
                    raise StorageError(f"delete {key} {item['VersionId']}: {exc}") from exc

    # -- metadata ------------------------------------------------------------------------------
    @staticmethod
    def _encode_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
        # S3 metadata travels in HTTP headers (ASCII): percent-encode UTF-8 (Kazakh names).
        return {key: quote(value, safe="") for key, value in metadata.items()}


@dataclass(frozen=True)
class StagedUpload:
    """A multipart upload to a staging key (``begin_staged_upload``)."""

    key: str
    upload_id: str


@dataclass(frozen=True)
class StagedPart:
    number: int
    size: int
    etag: str


@dataclass(frozen=True)
class PresignedPart:
    """Where to ``PUT`` one part, and the headers the signature covers."""

    number: int
    url: str
    headers: dict[str, str]


class _Empty:
    def read(self, size: int = -1) -> bytes:
        return b""

    def close(self) -> None:
        pass
