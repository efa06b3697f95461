"""The centre's side of replication (R23): credentials per court, offers, verified chunks,
verification before acknowledgement, alarms, and the audit-chain witness.

A replica's bytes land in ``TASPA_HOME/replication/incoming/<id>/`` under the sealed layout's
names; only after every file hashes to what the court declared and ``verify_recording`` passes
against the centre's own trust anchors are they linked into the sealed directory, taken into
the blob store and acknowledged. A replica that does not verify is refused, alarmed, and never
stored as good.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from taspa.api.actions import issue_token
from taspa.audit.actions import record
from taspa.courts.actions import require
from taspa.courts.models import Court, User
from taspa.courts.policy import Action
from taspa.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from taspa.replication.mirror import mirror_case
from taspa.replication.models import Alarm, Peer, Replica, Witness
from taspa.replication.policy import (
    FILE_KINDS,
    MAX_CHUNK_BYTES,
    REQUIRED_KINDS,
    AlarmKind,
    ContentRange,
    ReplicaState,
    is_silent,
    sha256_matches,
)
from taspa.sealing.hashing import Piece, PieceHasher
from taspa.sealing.layout import SealedFiles
from taspa.sealing.verify import journal_pieces

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def require_central() -> None:
    if settings.TASPA_ROLE != "central":
        raise Conflict("not_central", "This server is a court server (TASPA_ROLE=court).")


def enrol_court(*, actor: User | None, court: Court) -> str:
    """R23: a bearer token with which ``court``'s server pushes its own recordings, and only
    them. A new token each time; earlier ones stay valid until revoked."""
    if actor is not None:  # who asks first: a refusal must not tell what kind of server this is
        require(actor, Action.MANAGE_COURTS)
    require_central()
    with transaction.atomic():
        peer = Peer.objects.filter(court=court).select_related("user").first()
        if peer is None:
            user = User(username=f"replication~{court.code}", full_name=f"Replication {court.code}")
            user.set_unusable_password()
            user.save()
            peer = Peer.objects.create(court=court, user=user, enrolled_at=timezone.now())
        record(actor=actor, action="replication.enrol", target=court, payload={})
    return issue_token(actor=actor, user=peer.user)


def peer_of(user: Any) -> Peer:
    """The court whose service user is calling; anyone else is refused (403)."""
    peer = Peer.objects.select_related("court").filter(user_id=getattr(user, "pk", None)).first()
    if peer is None:
        raise Forbidden("Only an enrolled court server may push replicas.", "not_a_peer")
    return peer


def incoming_dir(replica: Replica) -> Path:
    return Path(settings.TASPA_HOME) / "replication" / "incoming" / str(replica.pk)


def layout_names(file_name: str) -> dict[str, str]:
    files = SealedFiles.beside(Path(file_name))
    return {kind: getattr(files, kind).name for kind in FILE_KINDS}


@dataclass(frozen=True)
class Offer:
    """What a court offers: one sealed recording's files (kind -> {sha256, bytes}) and its
    metadata at ``metadata_version``."""

    court: str
    source_id: int
    file_name: str
    files: dict[str, dict[str, Any]]
    metadata: dict[str, Any]
    metadata_version: int
    audit_head: dict[str, Any] = field(default_factory=dict)


def _check_offer(peer: Peer, offer: Offer) -> None:
    if offer.court != peer.court.code:
        raise Forbidden(
            f"This credential is court {peer.court.code}'s; it may not write {offer.court}'s "
            "recordings.",
            "wrong_court",
        )
    if not _SAFE_NAME.match(offer.file_name):
        raise InvalidInput("invalid_file_name", "The file name is not a sealed recording's name.")
    missing = [kind for kind in REQUIRED_KINDS if kind not in offer.files]
    unknown = [kind for kind in offer.files if kind not in FILE_KINDS]
    if missing or unknown:
        raise InvalidInput("invalid_files", f"missing {missing}, unknown {unknown}")
    for kind, spec in offer.files.items():
        if not _HEX64.match(str(spec.get("sha256", ""))) or int(spec.get("bytes", -1)) < 0:
            raise InvalidInput("invalid_files", f"{kind}: sha256 and bytes are required")


def offer_replica(*, peer: Peer, offer: Offer) -> Replica:
    """Open (or resume) the upload of one recording; idempotent (R23).

    Same files as a replica already acknowledged: nothing to upload, only newer metadata is
    taken. Same files as one being received: its verified offsets stand (resume). Different
    files for an acknowledged recording are refused: a sealed recording never changes (R19).
    """
    require_central()
    _check_offer(peer, offer)
    files = {k: {"sha256": v["sha256"], "bytes": int(v["bytes"])} for k, v in offer.files.items()}
    with transaction.atomic():
        replica = (
            Replica.objects.select_for_update()
            .filter(court=peer.court, source_id=offer.source_id)
            .first()
        )
        if replica is None:
            replica = _new_replica(peer, offer, files)
        elif replica.files != files:
            replica = _replace_files(peer, replica, offer, files)
        elif replica.state == ReplicaState.REFUSED:
            replica = _restart(replica)
        if replica.state == ReplicaState.ACKNOWLEDGED:
            _take_metadata(replica, offer)
        _witness(peer.court, offer.audit_head)
        Peer.objects.filter(pk=peer.pk).update(last_seen_at=timezone.now())
        Alarm.objects.filter(court=peer.court, kind=AlarmKind.SILENT, cleared_at=None).update(
            cleared_at=timezone.now()
        )
    return replica


def _new_replica(peer: Peer, offer: Offer, files: dict[str, dict[str, Any]]) -> Replica:
    replica = Replica.objects.create(
        court=peer.court,
        source_id=offer.source_id,
        file_name=offer.file_name,
        sha256=files["media"]["sha256"],
        bytes=files["media"]["bytes"],
        files=files,
        offsets={kind: 0 for kind in files},
        metadata=offer.metadata,
        metadata_version=offer.metadata_version,
    )
    record(
        actor=peer.user,
        action="replication.offer",
        target=replica,
        payload={"court": peer.court.code, "source_id": offer.source_id, "sha256": replica.sha256},
    )
    return replica


def _replace_files(
    peer: Peer, replica: Replica, offer: Offer, files: dict[str, dict[str, Any]]
) -> Replica:
    if replica.state == ReplicaState.ACKNOWLEDGED:
        _alarm(
            peer.court,
            AlarmKind.REFUSED,
            f"{replica.file_name}: the court offered other bytes for a recording already "
            "acknowledged (R19)",
        )
        raise Conflict("replica_differs", "The centre holds other bytes for this recording.")
    replica.files, replica.file_name = files, offer.file_name
    replica.sha256, replica.bytes = files["media"]["sha256"], files["media"]["bytes"]
    replica.metadata, replica.metadata_version = offer.metadata, offer.metadata_version
    return _restart(replica)


def _restart(replica: Replica) -> Replica:
    """Start the upload again from zero (after a refusal, or for other files)."""
    from taspa.replication.multipart import discard_uploads  # it builds on this module

    shutil.rmtree(incoming_dir(replica), ignore_errors=True)
    discard_uploads(replica)
    replica.offsets = {kind: 0 for kind in replica.files}
    replica.uploads = {}
    replica.state, replica.error = ReplicaState.RECEIVING, ""
    replica.save()
    return replica


def _take_metadata(replica: Replica, offer: Offer) -> None:
    """Metadata changes (mark corrections, incidents, judgment dates) of an acknowledged
    replica; an older version than the one held is ignored (messages may cross)."""
    if offer.metadata_version <= replica.metadata_version:
        return
    replica.metadata, replica.metadata_version = offer.metadata, offer.metadata_version
    replica.save(update_fields=["metadata", "metadata_version", "updated_at"])
    mirror_case(replica.court, offer.metadata["case"])
    record(
        actor=None,
        action="replication.metadata",
        target=replica,
        payload={"version": offer.metadata_version},
    )


def _witness(court: Court, head: dict[str, Any]) -> None:
    """The court's audit-chain head, countersigned with the centre's audit key."""
    if not head or not _HEX64.match(str(head.get("hash", ""))):
        return
    seq, digest = int(head["seq"]), str(head["hash"])
    signature = hmac.new(
        settings.TASPA_AUDIT_KEY.encode(), f"{court.code}:{seq}:{digest}".encode(), "sha256"
    ).hexdigest()
    Witness.objects.get_or_create(
        court=court,
        seq=seq,
        defaults={"hash": digest, "countersignature": signature, "received_at": timezone.now()},
    )


def _alarm(court: Court, kind: AlarmKind, detail: str) -> Alarm:
    alarm = Alarm.objects.create(court=court, kind=kind, detail=detail, raised_at=timezone.now())
    record(
        actor=None,
        action="replication.alarm",
        target=court,
        payload={"kind": kind, "detail": detail},
    )
    return alarm


def replica_of(peer: Peer, replica_id: int) -> Replica:
    """A replica of the caller's own court; another court's is refused (403)."""
    replica = Replica.objects.filter(pk=replica_id).first()
    if replica is None:
        raise NotFound(f"No replica {replica_id}.")
    if replica.court_id != peer.court_id:
        raise Forbidden("This replica belongs to another court.", "wrong_court")
    return replica


@dataclass(frozen=True)
class ChunkResult:
    """The verified offset the centre holds for one file after a chunk (or a query)."""

    offset: int
    total: int
    accepted: bool
    reason: str = ""

    @property
    def complete(self) -> bool:
        return self.offset == self.total


def receive_chunk(
    *,
    peer: Peer,
    replica_id: int,
    kind: str,
    span: ContentRange,
    body: BinaryIO,
    digest: str,
    repr_digest: str = "",
    prefix_digest: str = "",
    max_length: int | None = MAX_CHUNK_BYTES,
) -> ChunkResult:
    """A ``Content-Range`` upload of one file's bytes.

    With a ``Repr-Digest`` (the SHA-256 of the whole file, which must be the offered one) it is
    a *streamed* upload: the rest of the file from the centre's offset in one request, hashed
    as it is written, the whole file's hash compared at its end (``_receive_stream``).

    Without, it is a chunk with its own ``Content-Digest``: it counts only if it starts at the
    verified offset and its bytes match; otherwise the answer says where the centre stands, so
    the court resumes from there (R23). Either way the body is streamed to the file while it
    is hashed (never held in memory)."""
    require_central()
    if max_length is not None and span.length > max_length:
        raise PayloadTooLarge("chunk_too_large", f"Send at most {max_length} bytes per chunk.")
    if repr_digest:
        return _receive_stream(peer, replica_id, kind, span, body, repr_digest, prefix_digest)
    with transaction.atomic():
        replica = Replica.objects.select_for_update().get(pk=replica_of(peer, replica_id).pk)
        total = _total(replica, kind, span)
        offset = int(replica.offsets.get(kind, 0))
        if replica.state != ReplicaState.RECEIVING or span.is_query:
            return ChunkResult(
                total if replica.state == ReplicaState.ACKNOWLEDGED else offset, total, False
            )
        if span.start != offset:
            return ChunkResult(offset, total, span.end is not None and span.end < offset, "offset")
        path = incoming_dir(replica) / layout_names(replica.file_name)[kind]
        refused = _write_checked(path, offset, body, span.length, digest)
        if refused:
            return ChunkResult(offset, total, False, refused)
        replica.offsets = replica.offsets | {kind: offset + span.length}
        replica.save(update_fields=["offsets", "updated_at"])
    return ChunkResult(offset + span.length, total, True)


def _total(replica: Replica, kind: str, span: ContentRange) -> int:
    if kind not in replica.files:
        raise NotFound(f"The replica has no {kind} file.")
    total = int(replica.files[kind]["bytes"])
    if span.total != total:
        raise InvalidInput("wrong_total", f"{kind} has {total} bytes, not {span.total}.")
    return total


def _write_checked(path: Path, offset: int, body: BinaryIO, length: int, digest: str) -> str:
    """Write ``length`` bytes of ``body`` at ``offset``, hashing them as they go; fsync once.
    Returns "" when they match ``digest``, else the refusal ("short", "digest"), the file cut
    back to ``offset`` (also whatever an unacknowledged earlier try left beyond it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    received_path(path).unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        hasher = hashlib.sha256()
        position = _write_hashed(fd, offset, body, length, hasher)
        refused = ""
        if position != offset + length:
            refused = "short"
        elif not sha256_matches(digest, hasher.digest()):
            refused = "digest"
        os.ftruncate(fd, offset if refused else offset + length)
        os.fsync(fd)
    finally:
        os.close(fd)
    return refused


def _write_hashed(
    fd: int, offset: int, body: BinaryIO, length: int, hasher: Any, flush: bool = False
) -> int:
    """Up to ``length`` bytes of ``body`` written at ``offset`` and hashed; the end position.
    ``flush``: the kernel writes the bytes out as they come (a background ``fdatasync`` per
    ``FLUSH_BYTES``), so the caller's one fsync at the end has little left to wait for."""
    position, end = offset, offset + length
    writeback = _Writeback(fd) if flush else None
    flushed = offset
    try:
        while position < end:
            data = body.read(min(STREAM_READ_BYTES, end - position))
            if not data:
                break
            if len(data) > end - position:
                data = memoryview(data)[: end - position]
            hasher.update(data)
            written = 0
            while written < len(data):  # pwrite may write less than asked
                written += os.pwrite(fd, memoryview(data)[written:], position + written)
            position += len(data)
            if writeback is not None and position - flushed >= FLUSH_BYTES:
                flushed = position if writeback.kick() else flushed
    finally:
        if writeback is not None:
            writeback.join()
    return position


FLUSH_BYTES = 32 << 20


class _Writeback:
    """One ``fdatasync`` at a time on a worker thread, while the writer goes on."""

    def __init__(self, fd: int) -> None:
        self.fd, self.thread = fd, None

    def kick(self) -> bool:
        if self.thread is not None and self.thread.is_alive():
            return False
        self.thread = threading.Thread(target=self._sync, name="replica-writeback", daemon=True)
        self.thread.start()
        return True

    def _sync(self) -> None:
        with contextlib.suppress(OSError):  # the caller's own fsync reports a failure
            os.fdatasync(self.fd)

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()


STREAM_READ_BYTES = 4 << 20  # per read of a body: hashlib releases the GIL; few syscalls


class StreamHash:
    """The SHA-256 of a file's bytes so far and, for a media whose journal the centre already
    holds whole, the SHA-256 of each journal piece, in the same pass (R19, R23): the commit
    then checks the segment chain on these hashes instead of reading the media again.
    ``journal``: the SHA-256 of the journal those pieces come from ("" without pieces)."""

    def __init__(self, journal: str = "", pieces: list[Piece] | None = None) -> None:
        self.whole = hashlib.sha256()
        self.journal = journal
        self.pieces = PieceHasher(pieces) if pieces is not None else None

    def update(self, data: bytes | memoryview) -> None:
        self.whole.update(data)
        if self.pieces is not None:
            self.pieces.update(data)

    def digest(self) -> bytes:
        return self.whole.digest()

    def copy(self) -> StreamHash:
        twin = StreamHash.__new__(StreamHash)
        twin.whole, twin.journal = self.whole.copy(), self.journal
        twin.pieces = self.pieces.copy() if self.pieces is not None else None
        return twin


# (replica id, kind) -> (offset, ``StreamHash`` of the file's bytes 0..offset): where a cut
# streamed upload stopped in this process, so its resume need not re-read what it holds.
_PREFIXES: dict[tuple[int, str], tuple[int, StreamHash]] = {}
_PREFIXES_LOCK = threading.Lock()
_LOCK_WAIT_S = 30.0


def _receive_stream(
    peer: Peer,
    replica_id: int,
    kind: str,
    span: ContentRange,
    body: BinaryIO,
    whole: str,
    prefix: str,
) -> ChunkResult:
    """The rest of one file, streamed: ``span`` runs from the centre's offset to the file's
    last byte; ``whole`` (``Repr-Digest``) names the whole file's SHA-256, the offered one.

    From offset N > 0 (at most the centre's) the court first proves the N bytes it holds: ``prefix``
    (``Prefix-Digest``) is the SHA-256 of the court's sealed bytes 0..N-1, compared with the
    centre's own hash of what it holds; a mismatch discards them and answers offset 0. The
    body is then written and hashed on from there, and fsync'd once. At its end the whole
    file's hash must be the offered digest (else it is discarded, offset 0). A body cut short
    keeps what arrived, fsync'd, as the offset to resume from: the next upload proves it
    before it counts, and nothing is acknowledged before the whole file and its signatures
    verify (``acknowledge.py``)."""
    replica = replica_of(peer, replica_id)
    total = _total(replica, kind, span)
    declared = bytes.fromhex(replica.files[kind]["sha256"])
    if not sha256_matches(whole, declared):
        raise InvalidInput("wrong_repr_digest", f"Repr-Digest is not the offered {kind}'s sha256.")
    if span.is_query or span.end != total - 1:
        raise InvalidInput("bad_content_range", "A streamed upload runs to the file's last byte.")
    path = incoming_dir(replica) / layout_names(replica.file_name)[kind]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _lock(fd)  # one writer per file: a resume waits for a cut upload's end
        replica = Replica.objects.get(pk=replica.pk)
        offset = int(replica.offsets.get(kind, 0))
        if replica.state != ReplicaState.RECEIVING:
            held = total if replica.state == ReplicaState.ACKNOWLEDGED else offset
            return ChunkResult(held, total, False)
        if span.start > offset:
            return ChunkResult(offset, total, False, "offset")
        # A court behind the centre (an offer answered while a cut upload was still being
        # put away) starts where it stands: what the centre holds beyond is received again.
        start = span.start
        journal = held_journal(replica, kind, path)
        hasher = _hash_of_prefix(replica.pk, kind, fd, start, *journal)
        if start and (hasher is None or not sha256_matches(prefix, hasher.digest())):
            os.ftruncate(fd, 0)
            os.fsync(fd)
            _save_offset(replica, kind, offset, 0)
            return ChunkResult(0, total, False, "prefix")
        received = received_path(path)
        received.unlink(missing_ok=True)
        position = _write_hashed(fd, start, body, total - start, hasher, flush=True)
        # Not the offered file: kept whole all the same, for the commit to refuse, quarantine
        # and alarm (R23), exactly as a replica whose bytes fail verification.
        refused = "whole" if position == total and hasher.digest() != declared else ""
        os.ftruncate(fd, position)
        os.fsync(fd)
        if position == total and not refused:  # hashed as written: commit need not re-read
            note_received(path, hasher, total)
        _save_offset(replica, kind, offset, position)
        with _PREFIXES_LOCK:
            if 0 < position < total:
                _PREFIXES[(replica.pk, kind)] = (position, hasher)
            else:
                _PREFIXES.pop((replica.pk, kind), None)
    finally:
        os.close(fd)
    if refused:
        return ChunkResult(total, total, False, refused)
    if position < total:
        return ChunkResult(position, total, False, "short")
    return ChunkResult(position, total, True)


def received_path(path: Path) -> Path:
    """Beside a streamed file: its SHA-256 and size as the centre hashed them while writing
    them (written after the fsync; removed before the file is written again), and, for a
    media whose journal had arrived first, the journal's SHA-256 and each piece's."""
    return path.with_name(path.name + ".received")


def note_received(path: Path, hasher: StreamHash, size: int, *, held_in: str = "") -> None:
    """Write ``received_path`` of ``path``: what ``hasher`` hashed of its ``size`` bytes.
    ``held_in``: where the bytes are when they are not at ``path`` (an S3 centre's staged
    object, hashed as S3 streamed it back: ``multipart.gather``)."""
    noted: dict[str, Any] = {"sha256": hasher.digest().hex(), "bytes": size}
    if hasher.pieces is not None:
        noted |= {"journal": hasher.journal, "pieces": hasher.pieces.hashes()}
    if held_in:
        noted["held_in"] = held_in
    received_path(path).write_text(json.dumps(noted))


def received_digest(path: Path) -> dict[str, Any] | None:
    """What ``received_path`` says of ``path``, if it still fits the file's size (or the bytes
    are held elsewhere, "held_in"): sha256 and bytes, and "journal" and "pieces" (a hash or
    None per piece) when they were hashed too."""
    try:
        noted = json.loads(received_path(path).read_text())
        fits = bool(noted.get("held_in")) or int(noted["bytes"]) == path.stat().st_size
        if fits and _HEX64.match(str(noted["sha256"])):
            found = {"sha256": str(noted["sha256"]), "bytes": int(noted["bytes"])}
            pieces = noted.get("pieces")
            if _HEX64.match(str(noted.get("journal", ""))) and isinstance(pieces, list):
                found |= {
                    "journal": str(noted["journal"]),
                    "pieces": [str(h) if h is not None else None for h in pieces],
                }
            return found
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def held_journal(replica: Replica, kind: str, path: Path) -> tuple[str, list[Piece] | None]:
    """For the media: the SHA-256 and pieces of the replica's journal when the centre holds it
    whole and it hashes to the declared digest (the court sends it first, ``FILE_KINDS``),
    so the pieces are hashed as the media is written. Else ("", None): an older court that
    sends the journal last, or an unreadable journal, leaves the commit to read the media
    (``verify_recording`` as before)."""
    spec = replica.files.get("journal")
    if kind != "media" or spec is None:
        return "", None
    if int(replica.offsets.get("journal", 0)) != int(spec["bytes"]):
        return "", None
    try:
        data = (path.parent / layout_names(replica.file_name)["journal"]).read_bytes()
    except OSError:
        return "", None
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != int(spec["bytes"]) or digest != spec["sha256"]:
        return "", None
    pieces = journal_pieces(data)
    return (digest, pieces) if pieces is not None else ("", None)


def _lock(fd: int) -> None:
    deadline = time.monotonic() + _LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise Conflict("upload_in_progress", "This file is being received.") from None
            time.sleep(0.05)


def _hash_of_prefix(
    replica_id: int,
    kind: str,
    fd: int,
    offset: int,
    journal: str = "",
    pieces: list[Piece] | None = None,
) -> StreamHash | None:
    """Hash state of the file's bytes 0..offset (with ``pieces`` of the journal ``journal``, if
    given): kept from a cut upload in this process when it hashed the same pieces, or re-read
    from the file; None when the file holds fewer bytes."""
    with _PREFIXES_LOCK:
        kept = _PREFIXES.get((replica_id, kind))
    if kept is not None and kept[0] == offset and kept[1].journal == journal:
        return kept[1].copy()
    hasher, position = StreamHash(journal, pieces), 0
    while position < offset:
        data = os.pread(fd, min(STREAM_READ_BYTES, offset - position), position)
        if not data:
            return None
        hasher.update(data)
        position += len(data)
    return hasher


def _save_offset(replica: Replica, kind: str, was: int, now: int) -> None:
    """The file's new offset, if the replica is still being received from ``was``."""
    with transaction.atomic():
        current = Replica.objects.select_for_update().get(pk=replica.pk)
        if (
            current.state == ReplicaState.RECEIVING
            and current.files == replica.files
            and int(current.offsets.get(kind, 0)) == was
        ):
            current.offsets = current.offsets | {kind: now}
            current.save(update_fields=["offsets", "updated_at"])


def raise_silence_alarms() -> str:
    """R23: an alarm for each enrolled court silent for more than 26 hours (one open alarm per
    court; it clears when the court is heard from again). Periodic at the centre."""
    if settings.TASPA_ROLE != "central":
        return "not the central server"
    now = timezone.now()
    raised = 0
    open_alarms = set(
        Alarm.objects.filter(kind=AlarmKind.SILENT, cleared_at=None).values_list(
            "court_id", flat=True
        )
    )
    for peer in Peer.objects.select_related("court").exclude(court_id__in=open_alarms):
        if is_silent(peer.last_seen_at, peer.enrolled_at, now):
            with transaction.atomic():
                since = peer.last_seen_at or peer.enrolled_at
                _alarm(peer.court, AlarmKind.SILENT, f"no replication since {since.isoformat()}")
            raised += 1
    return f"{raised} silent court(s) alarmed"
