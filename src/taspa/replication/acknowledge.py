"""At the centre: verify a fully received replica and acknowledge it, or refuse it (R23).

Acknowledged only when every file hashes to what the court declared and the sealed recording
verifies (hash, CMS signature, certificate chain to the centre's own trust anchors, manifest).
Steps are idempotent: a crash anywhere and a second commit give one replica, stored once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from taspa.audit.actions import record
from taspa.errors import Conflict
from taspa.replication.central import (
    _alarm,
    incoming_dir,
    layout_names,
    received_digest,
    replica_of,
    require_central,
)
from taspa.replication.mirror import mirror_recording
from taspa.replication.models import Peer, Replica
from taspa.replication.multipart import discard_uploads, gather, hold_locally, store_files
from taspa.replication.policy import AlarmKind, ReplicaState
from taspa.sealing.hashing import FileDigest, PiecedDigest
from taspa.sealing.layout import SealedFiles
from taspa.sealing.verify import Check, UnreadableInput, verify_recording


@dataclass(frozen=True)
class Acknowledgement:
    """The centre's answer to a commit: acknowledged (with the checks) or refused (why)."""

    replica: Replica
    acknowledged: bool
    checks: list[Check]
    detail: str = ""

    def as_dict(self) -> dict:
        return {
            "id": self.replica.pk,
            "state": self.replica.state,
            "sha256": self.replica.sha256,
            "recording": self.replica.recording_id,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
            "detail": self.detail,
        }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _checks(replica: Replica, where: Path) -> list[Check]:
    """The centre's own verification: every file against what the court declared, then
    ``verify_recording``. The media is hashed once, by ``verify_recording`` (against the
    manifest), so the declared media digest is compared with the signed manifest's."""
    names = layout_names(replica.file_name)
    checks = []
    for kind, spec in replica.files.items():
        if kind == "media":
            continue
        actual = _sha256(where / names[kind])
        checks.append(Check(f"declared_{kind}", actual == spec["sha256"], f"sha256 {actual}"))
    try:
        manifest = json.loads((where / names["manifest"]).read_bytes())
        signed = (manifest.get("file") or {}).get("sha256")
    except (OSError, ValueError, AttributeError):
        signed = None
    declared = replica.files["media"]["sha256"]
    checks.append(Check("declared_media", signed == declared, f"declared {declared}"))
    # Streamed in, the media was hashed as it was written (``central._receive_stream``), or as
    # S3 streamed it back (``multipart.gather``: it stays in S3), its journal pieces too when
    # the journal came first: those digests stand for the re-hash (the bytes are not read
    # twice); chunked, or a journal that came after the media, verify_recording hashes it.
    try:
        checks += verify_recording(
            where / names["media"],
            trust_anchors=settings.TASPA_TRUST_ANCHORS,
            media_digest=_media_digest(where / names["media"]),
        )
    except UnreadableInput as error:
        checks.append(Check("readable", False, str(error)))
    return checks


def _media_digest(media: Path) -> FileDigest | PiecedDigest | None:
    """What the centre hashed of ``media`` as it was received (``central.received_digest``)."""
    received = received_digest(media)
    if received is None:
        return None
    whole = FileDigest(received["sha256"], received["bytes"])
    if "pieces" not in received:
        return whole
    return PiecedDigest(whole, received["pieces"], journal_sha256=received["journal"])


def commit_replica(*, peer: Peer, replica_id: int) -> Acknowledgement:
    """Verify the received files and acknowledge (R23); idempotent."""
    require_central()
    replica = replica_of(peer, replica_id)
    if replica.state == ReplicaState.ACKNOWLEDGED:
        return Acknowledgement(replica, True, [], "already acknowledged")
    if replica.state == ReplicaState.REFUSED:
        return Acknowledgement(replica, False, [], replica.error)
    if replica.uploads:  # S3 multipart: complete the uploads, read the objects back
        replica = gather(replica)
    short = [k for k, v in replica.files.items() if replica.offsets.get(k, 0) != v["bytes"]]
    if short:
        raise Conflict("incomplete", f"Not all bytes received yet: {', '.join(short)}.")
    checks = _checks(replica, incoming_dir(replica))
    failed = [c for c in checks if not c.ok]
    if failed:
        return _refuse(peer, replica, checks, failed)
    # The verified files go into the centre's blob store straight from where they arrived:
    # the store is the only home of sealed bytes at the centre too (no named copies).
    files = SealedFiles.beside(incoming_dir(replica) / layout_names(replica.file_name)["media"])
    digests = store_files(replica, files)
    return _acknowledge(peer, replica, files, digests, checks)


def _refuse(
    peer: Peer, replica: Replica, checks: list[Check], failed: list[Check]
) -> Acknowledgement:
    """Never stored as good: the bytes go to quarantine, the court is alarmed about."""
    detail = "; ".join(f"{c.name}: {c.detail}" for c in failed)
    quarantine = Path(settings.TASPA_HOME) / "replication" / "quarantine"
    quarantine.mkdir(parents=True, exist_ok=True)
    target = quarantine / f"{replica.pk}-{timezone.now():%Y%m%dT%H%M%S%f}"
    hold_locally(replica)  # S3: the media was only hashed; the quarantine keeps its bytes
    if incoming_dir(replica).exists():
        os.replace(incoming_dir(replica), target)
    discard_uploads(replica)  # S3 staging: the quarantined copy is what is kept
    with transaction.atomic():
        Replica.objects.filter(pk=replica.pk).update(
            state=ReplicaState.REFUSED,
            error=detail,
            offsets={k: 0 for k in replica.files},
            uploads={},
        )
        _alarm(peer.court, AlarmKind.REFUSED, f"{replica.file_name}: {detail}")
        record(
            actor=peer.user,
            action="replication.refuse",
            target=replica,
            payload={"failed": [c.name for c in failed], "quarantine": str(target)},
        )
    replica.refresh_from_db()
    return Acknowledgement(replica, False, checks, detail)


def _acknowledge(
    peer: Peer, replica: Replica, files: SealedFiles, digests: dict[str, str], checks: list[Check]
) -> Acknowledgement:
    now = timezone.now()
    with transaction.atomic():
        replica = Replica.objects.select_for_update().get(pk=replica.pk)
        if replica.state != ReplicaState.ACKNOWLEDGED:
            recording = mirror_recording(
                peer.court,
                replica.metadata | {"recording": _recording_meta(replica)},
                files,
                digests,
            )
            replica.recording = recording
            replica.state, replica.acknowledged_at, replica.error = (
                ReplicaState.ACKNOWLEDGED,
                now,
                "",
            )
            replica.save()
            Peer.objects.filter(pk=peer.pk).update(last_acknowledged_at=now, last_seen_at=now)
            record(
                actor=peer.user,
                action="replication.acknowledge",
                target=replica,
                payload={
                    "sha256": replica.sha256,
                    "recording": recording.pk,
                    "bytes": replica.bytes,
                },
            )
    shutil.rmtree(incoming_dir(replica), ignore_errors=True)
    return Acknowledgement(replica, True, checks)


def _recording_meta(replica: Replica) -> dict:
    return (replica.metadata.get("recording") or {}) | {
        "sha256": replica.sha256,
        "bytes": replica.bytes,
    }
