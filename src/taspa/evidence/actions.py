"""Every write of the evidence area: building a day's hash tree and renewing it (RFC 4998).

A build timestamps one root per court and batch with the RFC 3161 TSA, then stores one DER
EvidenceRecord per recording in the blob store, rows and audit event in one transaction. The
TSA is asked before the transaction, so no lock is held while it answers; a crash after it
leaves at most unreferenced blobs and the next run builds the batch again.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError

from taspa.audit.actions import record as audit
from taspa.audit.models import AuditHead
from taspa.audit.policy import GENESIS
from taspa.evidence import ers
from taspa.evidence.models import EvidenceRecord, EvidenceTree
from taspa.evidence.policy import (
    DATA_FIELDS,
    DEFAULT_ALGORITHM,
    RENEW_MARGIN,
    audit_statement,
    day_bounds,
    local_day,
    renewal_due,
)
from taspa.recorder.models import Recording
from taspa.sealing.signing import run_async
from taspa.sealing.timestamps import TimestampUnavailable, configured_timestamper
from taspa.storage.base import StorageError
from taspa.storage.store import get_store

log = logging.getLogger("taspa.evidence")


class EvidenceUnavailable(Exception):
    """No TSA is configured, or it failed: the records wait for the next run."""


def _zone() -> str:
    return settings.TIME_ZONE


def target_algorithm() -> str:
    """``TASPA_EVIDENCE_HASH`` (default sha256): the hash the trees should be under."""
    name = getattr(settings, "TASPA_EVIDENCE_HASH", "") or DEFAULT_ALGORITHM
    if name not in ers.ALGORITHMS:
        raise ValueError(f"TASPA_EVIDENCE_HASH={name!r}: one of {', '.join(ers.ALGORITHMS)}")
    return name


def _timestamper(timestamper: TimeStamper | None) -> TimeStamper:
    timestamper = timestamper or configured_timestamper()
    if timestamper is None:
        raise EvidenceUnavailable("no TSA configured (TASPA_TSA_URL): evidence records wait")
    return timestamper


def _timestamp(timestamper: TimeStamper, imprint: bytes, algorithm: str) -> bytes:
    try:
        token = run_async(timestamper.async_timestamp(imprint, algorithm))
    except (TimestampRequestError, TimestampUnavailable, OSError, ValueError, TypeError) as error:
        raise EvidenceUnavailable(f"the TSA failed: {error}") from None
    return token.dump()


def _group(recording: Recording) -> list[bytes]:
    """The SHA-256 of each data object of the recording (known from sealing)."""
    return [
        bytes.fromhex(value)
        for field in DATA_FIELDS.values()
        if (value := getattr(recording, field, ""))
    ]


def _put(der: bytes, keep_as: str | None = None) -> str:
    store = get_store()
    until = store.retained_until(keep_as) if keep_as else None
    keep = until if until is not None and until > timezone.now() else None
    return store.put(io.BytesIO(der), size_hint=len(der), retain_until=keep).digest


def _read(digest: str) -> bytes:
    with get_store().open(digest) as stream:
        return stream.read()


@dataclass(frozen=True)
class BuildRun:
    trees: list[EvidenceTree]

    def __str__(self) -> str:
        count = sum(tree.recordings for tree in self.trees)
        return f"{len(self.trees)} evidence trees over {count} recordings"


def unbuilt(before: datetime | None = None) -> Iterable[Recording]:
    """Sealed recordings without an evidence record (sealed before ``before``). One still
    waiting for a signature timestamp or its revocation evidence waits: those change its
    signature blobs, and the record is to cover the signatures as they stay."""
    from taspa.sealing.models import PendingRevocation, PendingTimestamp

    rows = Recording.objects.filter(state=Recording.State.SEALED, evidence__isnull=True)
    for queue in (PendingTimestamp, PendingRevocation):
        rows = rows.exclude(pk__in=queue.objects.filter(done_at__isnull=True).values("recording"))
    if before is not None:
        rows = rows.filter(sealed_at__lt=before)
    return rows.select_related("hearing__case__court").order_by("sealed_at", "id")


def build_day(*, actor: Any, day: date, timestamper: TimeStamper | None = None) -> BuildRun:
    """The evidence records of every recording sealed on ``day`` (local) that has none yet:
    one tree per court over their data groups and the audit head."""
    start, end = day_bounds(day, _zone())
    return _build(actor, unbuilt().filter(sealed_at__gte=start, sealed_at__lt=end), timestamper)


def build_due(*, actor: Any = None, timestamper: TimeStamper | None = None) -> BuildRun:
    """Every past day not yet covered (the scheduled job); today waits for tomorrow."""
    start, _ = day_bounds(local_day(timezone.now(), _zone()), _zone())
    if not unbuilt(start).exists():
        return BuildRun([])
    return _build(actor, unbuilt(start), timestamper)


def _build(actor: Any, recordings: Iterable[Recording], timestamper) -> BuildRun:
    batches: dict[tuple[int, date], list[Recording]] = defaultdict(list)
    for recording in recordings:
        key = (recording.hearing.case.court_id, local_day(recording.sealed_at, _zone()))
        batches[key].append(recording)
    if not batches:
        return BuildRun([])
    stamper = _timestamper(timestamper)
    trees = [
        _build_tree(actor, court_id, day, batch, stamper)
        for (court_id, day), batch in sorted(batches.items(), key=lambda item: item[0][1])
    ]
    return BuildRun([tree for tree in trees if tree is not None])


def _audit_head() -> tuple[int, str]:
    head = AuditHead.objects.filter(id=1).first()
    return (head.seq, head.hash) if head else (0, GENESIS)


def _build_tree(actor, court_id, day, batch, timestamper) -> EvidenceTree | None:
    algorithm = "sha256"  # the blobs' own digests: a first tree reads no media
    seq, chain_hash = _audit_head()
    statement = audit_statement(seq, chain_hash)
    leaves = [_group(recording) for recording in batch] + [[ers.digest(algorithm, statement)]]
    root, paths = ers.build_tree(algorithm, leaves)
    token = _timestamp(timestamper, root, algorithm)
    digests = []
    for recording, path in zip([*batch, None], paths, strict=True):
        stamp = ers.ArchiveStamp(algorithm, tuple(tuple(node) for node in path), token)
        der = ers.encode(ers.Record(((stamp,),)))
        digests.append(_put(der, recording.sha256 if recording else None))
    with transaction.atomic():
        ids = [recording.pk for recording in batch]
        list(Recording.objects.select_for_update().filter(pk__in=ids).values_list("pk"))
        if EvidenceRecord.objects.filter(recording_id__in=ids).exists():
            return None  # a concurrent run covered them first: one record per recording
        tree = EvidenceTree.objects.create(
            court_id=court_id,
            day=day,
            algorithm=algorithm,
            root=root.hex(),
            recordings=len(batch),
            audit_seq=seq,
            audit_hash=chain_hash,
            audit_record_digest=digests[-1],
            timestamped_at=ers.token_info(token)["gen_time"].native,
            renew_by=ers.token_signer_not_after(token),
        )
        EvidenceRecord.objects.bulk_create(
            EvidenceRecord(recording=recording, tree=tree, digest=digest)
            for recording, digest in zip(batch, digests, strict=False)
        )
        audit(
            actor=actor,
            action="evidence.built",
            target=tree,
            payload={
                "court": court_id,
                "day": day.isoformat(),
                "root": tree.root,
                "recordings": len(batch),
                "audit_seq": seq,
            },
        )
    return tree


# Overdue records (issue 15, "bad input"): a TSA down for days never blocks sealing, but it
# must be seen.
EVIDENCE_ALERT = "The recording's evidence record is overdue (the TSA has not answered)"


def overdue_evidence(now: datetime | None = None):
    """Sealed recordings without an evidence record a day plus ``TASPA_PROOF_ALERT_AFTER_HOURS``
    after they were sealed (the build runs in the first hour after midnight)."""
    from taspa.sealing.proofs import alert_after

    cutoff = (now or timezone.now()) - timedelta(days=1) - alert_after()
    return unbuilt(cutoff)


def alert_overdue(now: datetime | None = None) -> int:
    """One incident per recording whose evidence record is overdue; a rerun opens none twice."""
    from taspa.incidents.actions import open_incident
    from taspa.incidents.models import Incident
    from taspa.incidents.policy import IncidentKind

    opened = 0
    for recording in overdue_evidence(now).select_related("hearing"):
        hearing = recording.hearing
        if Incident.objects.filter(
            hearing=hearing, kind=IncidentKind.SIGNING_FAILED, detail__startswith=EVIDENCE_ALERT
        ).exists():
            continue
        open_incident(
            actor=None,
            hearing=hearing,
            kind=IncidentKind.SIGNING_FAILED,
            detail=f"{EVIDENCE_ALERT}: sealed {recording.sealed_at:%Y-%m-%d %H:%M} UTC; the "
            "recording is sealed and safe, its record is built when the TSA answers.",
        )
        opened += 1
    return opened


# Renewal (RFC 4998 §5): the original signatures and media are only read, never changed.


@dataclass(frozen=True)
class RenewalRun:
    timestamps: int
    hash_trees: int
    failed: int

    def __str__(self) -> str:
        return (
            f"{self.timestamps} trees got a new archive timestamp, {self.hash_trees} were "
            f"rehashed, {self.failed} wait for the TSA"
        )


def renew_due(
    *,
    actor: Any = None,
    now: datetime | None = None,
    timestamper: TimeStamper | None = None,
    margin: timedelta = RENEW_MARGIN,
) -> RenewalRun:
    """Rehash every tree not under ``TASPA_EVIDENCE_HASH`` (§5.3), and give a new archive
    timestamp to every tree whose TSA certificate expires within ``margin`` (§5.2)."""
    now = now or timezone.now()
    algorithm = target_algorithm()
    done, rehashed, failed = 0, 0, 0
    for tree in EvidenceTree.objects.order_by("id").iterator():
        try:
            if tree.algorithm != algorithm:
                renew_hash_tree(
                    actor=actor, tree=tree, algorithm=algorithm, timestamper=timestamper
                )
                rehashed += 1
            elif renewal_due(tree.renew_by, now, margin):
                renew_timestamp(actor=actor, tree=tree, timestamper=timestamper)
                done += 1
        except (EvidenceUnavailable, StorageError) as error:
            log.warning("evidence tree %s not renewed: %s", tree.pk, error)
            failed += 1
    return RenewalRun(done, rehashed, failed)


def _records(tree: EvidenceTree) -> list[tuple[EvidenceRecord | None, ers.Record]]:
    """The tree's records (the audit head's as ``None``), decoded."""
    rows = list(tree.records.select_related("recording").order_by("id"))
    out = [(row, ers.decode(_read(row.digest))) for row in rows]
    return [*out, (None, ers.decode(_read(tree.audit_record_digest)))]


def _save(actor, tree: EvidenceTree, renewed, action: str, **fields) -> None:
    """Store the renewed records as new blobs and point the rows at them."""
    stored = [
        (row, _put(ers.encode(rec), row.recording.sha256 if row else None)) for row, rec in renewed
    ]
    with transaction.atomic():
        now = timezone.now()
        for row, digest in stored:
            if row is None:
                fields["audit_record_digest"] = digest
            else:
                EvidenceRecord.objects.filter(pk=row.pk).update(digest=digest, updated_at=now)
        EvidenceTree.objects.filter(pk=tree.pk).update(renewed_at=now, **fields)
        audit(actor=actor, action=action, target=tree, payload={"day": tree.day.isoformat()})


def renew_timestamp(*, actor: Any, tree: EvidenceTree, timestamper=None) -> None:
    """§5.2: a new archive timestamp over the last one's timestamp, added to the same chain."""
    records = _records(tree)
    last = records[0][1].last
    if any(rec.last.token != last.token for _, rec in records):
        raise ValueError(f"evidence tree {tree.pk}: its records end in different timestamps")
    algorithm = last.algorithm
    token = _timestamp(_timestamper(timestamper), ers.digest(algorithm, last.token), algorithm)
    stamp = ers.ArchiveStamp(algorithm, (), token)
    renewed = [(row, rec.with_stamp(stamp)) for row, rec in records]
    _save(
        actor,
        tree,
        renewed,
        "evidence.timestamp_renewed",
        renew_by=ers.token_signer_not_after(token),
    )


def _rehash(algorithm: str, digest: str) -> bytes:
    hasher = hashlib.new(algorithm)
    with get_store().open(digest) as stream:
        while chunk := stream.read(1 << 20):
            hasher.update(chunk)
    return hasher.digest()


def renew_hash_tree(*, actor: Any, tree: EvidenceTree, algorithm: str, timestamper=None) -> None:
    """§5.3: every data object hashed again under ``algorithm`` (read from the blob store),
    bound to the hash of the record's previous chains, under a new tree and timestamp: a new
    ArchiveTimeStampChain in each record."""
    records = _records(tree)
    leaves = []
    for row, rec in records:
        previous = ers.chains_hash(algorithm, rec.chains)
        if row is None:
            statement = audit_statement(tree.audit_seq, tree.audit_hash)
            hashes = [ers.digest(algorithm, statement)]
        else:
            digests = [getattr(row.recording, f, "") for f in DATA_FIELDS.values()]
            hashes = [_rehash(algorithm, d) for d in digests if d]
        leaves.append([ers.renewed_data_hash(algorithm, h, previous) for h in hashes])
    root, paths = ers.build_tree(algorithm, leaves)
    token = _timestamp(_timestamper(timestamper), root, algorithm)
    renewed = [
        (row, rec.with_chain(ers.ArchiveStamp(algorithm, tuple(map(tuple, path)), token)))
        for (row, rec), path in zip(records, paths, strict=True)
    ]
    _save(
        actor,
        tree,
        renewed,
        "evidence.hash_tree_renewed",
        algorithm=algorithm,
        renew_by=ers.token_signer_not_after(token),
    )
