"""At a centre whose blob store is S3 (R23, docs/adr/0006-replication-protocol.md): a court's
bytes go straight into the centre's bucket as S3 multipart uploads to staging keys.

The centre opens one upload per file with the offer, presigns each part's URL with the part's
SHA-256 signed into it (S3 refuses other bytes), and lists the parts S3 holds, so a broken
upload resumes at the next part. At commit it completes the upload and reads the object back:
the small files into the replica's incoming directory, the media only hashed (with its journal
pieces) as S3 streams it, so that ``acknowledge`` verifies it exactly as a streamed
``Content-Range`` replica without writing or reading it again here; only a verified replica is
copied server-side to its content-addressed key, with object-lock retention, and the staging
removed.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from taspa.errors import Conflict, InvalidInput
from taspa.replication.central import (
    STREAM_READ_BYTES,
    StreamHash,
    held_journal,
    incoming_dir,
    layout_names,
    note_received,
    received_digest,
    replica_of,
    require_central,
)
from taspa.replication.models import Peer, Replica
from taspa.replication.policy import (
    ReplicaState,
    missing_parts,
    part_count,
    part_size_for,
    part_span,
)
from taspa.retention.policy import store_retention_moment
from taspa.sealing.layout import SealedFiles
from taspa.storage.s3store import PresignedPart, S3BlobStore, StagedUpload
from taspa.storage.store import StorageError, get_store

log = logging.getLogger("taspa.replication")
PRESIGN_AT_MOST = 64  # parts per presign request
_HEX64 = set("0123456789abcdef")


def s3_store() -> S3BlobStore | None:
    """The centre's store when it is S3 (then bytes come as multipart uploads), else None."""
    store = get_store()
    return store if isinstance(store, S3BlobStore) else None


def _staged(entry: dict[str, Any]) -> StagedUpload:
    return StagedUpload(entry["key"], entry["upload_id"])


def open_uploads(replica: Replica) -> Replica:
    """One staged multipart upload per file still to receive; a re-offer keeps the uploads
    it has (resume). A no-op on a file-backed centre or a replica not being received."""
    store = s3_store()
    if store is None or replica.state != ReplicaState.RECEIVING:
        return replica
    with transaction.atomic():
        replica = Replica.objects.select_for_update().get(pk=replica.pk)
        uploads = dict(replica.uploads)
        for kind, spec in replica.files.items():
            if kind in uploads or replica.offsets.get(kind, 0) == spec["bytes"]:
                continue
            staged = store.begin_staged_upload()
            uploads[kind] = {
                "key": staged.key,
                "upload_id": staged.upload_id,
                "part_size": part_size_for(spec["bytes"]),
            }
        if uploads != replica.uploads:
            replica.uploads = uploads
            replica.save(update_fields=["uploads", "updated_at"])
    return replica


def discard_uploads(replica: Replica) -> None:
    """Abort the replica's uploads and remove their staging (a restart or a refusal); the
    caller clears ``replica.uploads``."""
    store = s3_store()
    if store is None:
        return
    for entry in replica.uploads.values():
        try:
            store.discard_staged(_staged(entry))
        except StorageError as error:  # left for the bucket's lifecycle rule
            log.warning("staging %s not removed: %s", entry["key"], error)


@dataclass(frozen=True)
class Parts:
    """What S3 holds of one file's upload: part number -> size."""

    part_size: int
    total: int
    held: dict[int, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "part_size": self.part_size,
            "total": self.total,
            "parts": [{"number": n, "bytes": b} for n, b in sorted(self.held.items())],
            "missing": missing_parts(self.held, self.total, self.part_size),
        }


def _entry(replica: Replica, kind: str) -> dict[str, Any]:
    entry = replica.uploads.get(kind)
    if entry is None:
        raise Conflict("no_s3_upload", f"The replica has no S3 upload for its {kind} file.")
    return entry


def _all_parts(total: int, part_size: int) -> dict[int, int]:
    count = part_count(total, part_size)
    return {n: part_span(n, total, part_size)[1] for n in range(1, count + 1)}


def parts_held(*, peer: Peer, replica_id: int, kind: str) -> Parts:
    """The parts S3 already verified and holds (``ListParts`` through the centre)."""
    require_central()
    replica = replica_of(peer, replica_id)
    entry = _entry(replica, kind)
    total, size = int(replica.files[kind]["bytes"]), int(entry["part_size"])
    if replica.state == ReplicaState.ACKNOWLEDGED or "version_id" in entry:
        return Parts(size, total, _all_parts(total, size))
    held = _store().staged_parts(_staged(entry))
    if held is None:
        raise Conflict("upload_gone", "The S3 upload was completed or aborted; offer again.")
    return Parts(size, total, {n: p.size for n, p in held.items()})


def presign_parts(
    *, peer: Peer, replica_id: int, kind: str, parts: list[dict[str, Any]]
) -> list[PresignedPart]:
    """Presigned ``upload_part`` URLs, each bound to the part's declared SHA-256 and size."""
    require_central()
    replica = replica_of(peer, replica_id)
    entry = _entry(replica, kind)
    if replica.state != ReplicaState.RECEIVING or "version_id" in entry:
        raise Conflict("not_receiving", "The replica is not being received.")
    total, size = int(replica.files[kind]["bytes"]), int(entry["part_size"])
    if not 0 < len(parts) <= PRESIGN_AT_MOST:
        raise InvalidInput("invalid_parts", f"1 to {PRESIGN_AT_MOST} parts per request.")
    store, signed = _store(), []
    for part in parts:
        number, digest = int(part.get("number", 0)), str(part.get("sha256", ""))
        if not 1 <= number <= part_count(total, size):
            raise InvalidInput("invalid_parts", f"{kind} has no part {number}.")
        if int(part.get("bytes", -1)) != part_span(number, total, size)[1]:
            raise InvalidInput("invalid_parts", f"part {number} has the wrong size.")
        if len(digest) != 64 or not set(digest) <= _HEX64:
            raise InvalidInput("invalid_parts", f"part {number}: sha256 (hex) is required.")
        signed.append(store.presign_part(_staged(entry), number, sha256=digest))
    return signed


def _store() -> S3BlobStore:
    store = s3_store()
    if store is None:
        raise Conflict("not_s3", "This centre's store is not S3: use Content-Range uploads.")
    return store


def gather(replica: Replica) -> Replica:
    """At commit: complete every fully uploaded S3 file and read it back, counting it as
    received; ``acknowledge`` then verifies it like any replica. The small files are read back
    into the incoming directory; the media is only hashed as S3 streams it back (with its
    journal's pieces, read back before it), noted beside where it would lie and left in S3,
    from where ``store_files`` copies it (R19, R23). Idempotent: a completed upload keeps its
    version id, a file read back (or hashed) is not read again."""
    store = _store()
    where, names = incoming_dir(replica), layout_names(replica.file_name)
    for kind in sorted(replica.uploads, key=lambda kind: kind == "media"):
        entry, total = replica.uploads[kind], int(replica.files[kind]["bytes"])
        target = where / names[kind]
        if replica.offsets.get(kind, 0) == total and (
            kind != "media" or received_digest(target) is not None
        ):
            continue
        if "version_id" not in entry:
            version = _complete(store, entry, total)
            if version is None:
                continue  # parts missing: commit says incomplete
            replica.uploads = replica.uploads | {kind: entry | {"version_id": version}}
            replica.save(update_fields=["uploads", "updated_at"])
            entry = replica.uploads[kind]
        if kind == "media":
            _hash_back(store, replica, entry, target)
        else:
            _read_back(store, entry, target)
        replica.offsets = replica.offsets | {kind: total}
        replica.save(update_fields=["offsets", "updated_at"])
    return replica


def hold_locally(replica: Replica) -> None:
    """Read a refused replica's staged media back into its incoming directory, so that the
    quarantine keeps the bytes that failed verification before the staging is discarded."""
    store = s3_store()
    entry = replica.uploads.get("media") or {}
    target = incoming_dir(replica) / layout_names(replica.file_name)["media"]
    if store is None or "version_id" not in entry or target.exists():
        return
    try:
        _read_back(store, entry, target)
    except (StorageError, OSError) as error:
        log.warning("refused replica %s: staged media not kept: %s", replica.pk, error)


def _complete(store: S3BlobStore, entry: dict[str, Any], total: int) -> str | None:
    """Complete the upload when S3 holds every part; its version id ("" when unversioned or
    completed by an earlier commit that crashed before saving it)."""
    held = store.staged_parts(_staged(entry))
    if held is None:  # completed before the crash, or aborted (then the read-back fails)
        return ""
    size = int(entry["part_size"])
    if missing_parts({n: p.size for n, p in held.items()}, total, size):
        return None
    parts = [held[n] for n in range(1, part_count(total, size) + 1)]
    return store.complete_staged(_staged(entry), parts) or ""


def _read_back(store: S3BlobStore, entry: dict[str, Any], target: Path) -> None:
    """The staged object into ``target``: temp file, fsync, rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    source = store.open_staged(entry["key"], entry["version_id"] or None)
    with source, open(partial, "wb") as sink:
        while chunk := source.read(4 * 1024 * 1024):
            sink.write(chunk)
        sink.flush()
        os.fsync(sink.fileno())
    os.replace(partial, target)


def _hash_back(store: S3BlobStore, replica: Replica, entry: dict[str, Any], media: Path) -> None:
    """The staged media's SHA-256 (and its journal pieces') as S3 streams it back, noted
    beside ``media`` as held in S3: the bytes are read once and not written here."""
    journal, pieces = held_journal(replica, "media", media)
    hasher, size = StreamHash(journal, pieces), 0
    media.parent.mkdir(parents=True, exist_ok=True)
    with store.open_staged(entry["key"], entry["version_id"] or None) as source:
        while chunk := source.read(STREAM_READ_BYTES):
            hasher.update(chunk)
            size += len(chunk)
    note_received(media, hasher, size, held_in=f"s3://{store.bucket}/{entry['key']}")


def retain_until(replica: Replica) -> datetime | None:
    """R24: the moment the centre's copy may be released, when the court has set the
    judgment date (the start of the day after ``retention_until``); None when that is past
    (S3 refuses a lock in the past: the recording is already due for the archive)."""
    until = parse_date(str((replica.metadata.get("retention") or {}).get("retention_until")))
    moment = store_retention_moment(until, settings.TIME_ZONE) if until else None
    return moment if moment and moment > timezone.now() else None


def store_files(replica: Replica, files: SealedFiles) -> dict[str, str]:
    """Take a verified replica's files into the blob store: a staged S3 object is copied
    server-side to its digest key (object-locked when the judgment date is known); a file
    that came over ``Content-Range`` is adopted from the sealed directory."""
    store, digests = get_store(), {}
    staged = s3_store()
    until = retain_until(replica) if staged is not None and staged.object_lock else None
    for kind, spec in replica.files.items():
        entry = replica.uploads.get(kind) or {}
        if staged is not None and "version_id" in entry:
            ref = staged.adopt_staged(
                entry["key"],
                sha256=spec["sha256"],
                size=int(spec["bytes"]),
                version_id=entry["version_id"] or None,
                retain_until=until,
            )
        else:
            ref = store.adopt(getattr(files, kind), sha256=spec["sha256"])
        digests[kind] = ref.digest
    return digests
