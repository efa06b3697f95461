"""The court's side of replication (R23): what changed, and sending it to the centre.

Every sealed first-instance or appeal recording has an ``Outgoing`` row whose ``version`` grows
with each change (seal, mark correction, incident, judgment date, legal hold). A run offers
each pending recording, uploads what the centre does not yet hold from the offset it verified,
asks it to verify and acknowledge, and then marks the version acknowledged. To a centre whose
store is S3 the files go as S3 multipart uploads instead, part by part to the URLs the centre
presigns, resuming at the first part S3 does not hold.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import queue
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from taspa.audit.actions import record
from taspa.audit.models import AuditHead
from taspa.recorder.models import Recording
from taspa.recorder.selectors import incident_list, pause_list
from taspa.replication.client import Central, CentralError, HttpCentral, TransferBroken
from taspa.replication.models import Outgoing, ReplicationRun
from taspa.replication.policy import (
    CHUNK_BYTES,
    REPLICATED_INSTANCES,
    OutgoingState,
    missing_parts,
    part_span,
    sending_order,
)
from taspa.sealing.layout import SealedRecording
from taspa.sealing.reading import SealedBytesRefused, require_servable, verified_chunks
from taspa.storage.store import BlobStore, get_store

PLAN_BATCH = 1000
S3_PARALLEL = 4  # S3 parts in flight at once (4 x 8 MiB in memory), each on its own connection


@dataclass(frozen=True)
class Progress:
    """One step of a transfer, for the command line and logs."""

    file_name: str
    kind: str
    done: int
    total: int
    resumed_from: int = 0


ProgressFn = Callable[[Progress], None]


@dataclass(frozen=True)
class RunResult:
    """What one replication run did."""

    sent: int
    failed: int
    bytes: int
    broken: bool
    errors: list[str]

    def summary(self) -> str:
        state = "interrupted" if self.broken else "done"
        return f"{state}: {self.sent} acknowledged, {self.failed} failed, {self.bytes} bytes sent"


def replicated_recordings() -> QuerySet[Recording]:
    """R23: this court's sealed first-instance and appeal recordings."""
    rows = Recording.objects.filter(
        state=Recording.State.SEALED, hearing__instance__in=REPLICATED_INSTANCES
    )
    if settings.TASPA_COURT:
        rows = rows.filter(hearing__case__court__code=settings.TASPA_COURT)
    return rows


def mark_changed(recordings: QuerySet[Recording]) -> int:
    """Something about these recordings changed: they are pending again (court servers only)."""
    if settings.TASPA_ROLE != "court":
        return 0
    ids = list(
        recordings.filter(pk__in=replicated_recordings().values("pk")).values_list("pk", flat=True)
    )
    if not ids:
        return 0
    Outgoing.objects.filter(recording_id__in=ids).update(
        version=F("version") + 1, pending=True, state=OutgoingState.PENDING
    )
    Outgoing.objects.bulk_create([Outgoing(recording_id=i) for i in ids], ignore_conflicts=True)
    return len(ids)


def plan(limit: int | None = None) -> list[Outgoing]:
    """Pending rows, oldest first; sealed recordings without a row (sealed before replication
    was configured) get one first, in batches (an anti-join on an index, not a table walk)."""
    while True:
        missing = list(
            replicated_recordings()
            .filter(replication__isnull=True)
            .values_list("pk", flat=True)[:PLAN_BATCH]
        )
        if not missing:
            break
        Outgoing.objects.bulk_create(
            [Outgoing(recording_id=i) for i in missing], ignore_conflicts=True
        )
    rows = Outgoing.objects.filter(pending=True).select_related("recording").order_by("id")
    return list(rows[:limit] if limit else rows)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _person(user: Any) -> dict[str, str]:
    return {"username": user.username, "name": str(user)}


def metadata_of(recording: Recording) -> dict[str, Any]:
    """What the centre keeps beside the bytes: case (judgment date), hearing, recording, every
    mark (corrections included, R12), pauses, incidents, and the retention state (R24)."""
    hearing = recording.hearing
    case = hearing.case
    marks = [
        {
            "id": m.pk,
            "speaker": m.speaker,
            "role": m.role,
            "offset_s": m.offset_s,
            "at": m.at,
            "supersedes": m.supersedes_id,
        }
        for m in recording.marks.order_by("id")
    ]
    return _jsonable(
        {
            "case": {
                "number": case.number,
                "kind": case.kind,
                "language": case.language,
                "judgment_effective_on": case.judgment_effective_on,
            },
            "hearing": {
                "id": hearing.pk,
                "instance": hearing.instance,
                "closed": hearing.closed,
                "scheduled_at": hearing.scheduled_at,
                "courtroom": hearing.courtroom.name,
                "judge": _person(hearing.judge),
                "secretary": _person(hearing.secretary),
                "circumstances": hearing.circumstances,
                "recording_required": hearing.recording_required,
                "rule": hearing.recording_rule,
                "explanation_ru": hearing.recording_explanation_ru,
                "explanation_en": hearing.recording_explanation_en,
            },
            "recording": {
                "id": recording.pk,
                "started_at": recording.started_at,
                "stopped_at": recording.stopped_at,
                "container": recording.container,
                "duration_s": recording.duration_s,
                "chain_head": recording.chain_head,
                "pieces": recording.pieces,
                "sealed_at": recording.sealed_at,
                "signer_subject": recording.signer_subject,
            },
            "marks": marks,
            "pauses": pause_list(recording),
            "incidents": incident_list(hearing),
            "retention": _retention(recording),
        }
    )


def _retention(recording: Recording) -> dict[str, Any] | None:
    from taspa.retention.selectors import retention_summary  # optional neighbour

    return retention_summary(recording)


def files_of(recording: Recording, store: BlobStore | None = None) -> dict[str, dict[str, Any]]:
    """kind -> {sha256, bytes} of every sealed blob (``SealedRecording``), from the store."""
    store = store or get_store()
    sealed = require_servable(recording, store)  # 409 fixity_failed: a damaged one is not sent
    files = {}
    for kind, digest in sealed.blobs().items():
        size = sealed.bytes if kind == "media" else store.size(digest)
        files[kind] = {"sha256": digest, "bytes": size}
    return files


def _audit_head() -> dict[str, Any]:
    head = AuditHead.objects.filter(pk=1).first()
    return {"seq": head.seq, "hash": head.hash} if head else {}


STREAM_AHEAD = 8  # 1 MiB chunks read and hashed ahead of the socket
STREAM_TRIES = 3  # a stream the centre answers with another offset is sent again from there
_RESTART = {"offset_mismatch", "prefix_digest_mismatch"}


def _upload(
    central: Central,
    recording: Recording,
    replica: int,
    kind: str,
    spec: dict[str, Any],
    offset: int,
    progress: ProgressFn,
) -> int:
    """Send one blob from the centre's ``offset`` in one streamed request; returns the bytes
    the centre took. The blob is read once, from the start, and hashed as it goes (the bytes
    the centre holds are hashed, not sent: their digest proves them, ``Prefix-Digest``); the
    centre hashes what arrives and compares the whole file with ``Repr-Digest``. Reading and
    hashing here overlap sending on a worker thread. Wrong bytes raise ``SealedBytesRefused``
    before the last chunk goes out, so the centre never completes the file (R19, R20)."""
    total, sent, name = int(spec["bytes"]), 0, _name(recording, kind)
    for _ in range(STREAM_TRIES):
        progress(Progress(name, kind, offset, total, resumed_from=offset))
        if offset >= total:
            return sent
        answer = _stream(central, recording, replica, kind, spec, offset, progress)
        if answer["offset"] == total:  # whole at the centre (its commit gives the verdict)
            progress(Progress(name, kind, total, total))
            return sent + total - offset
        if answer.get("error") not in _RESTART:
            raise CentralError(409, answer.get("error", "stalled"), answer.get("detail", ""))
        offset = int(answer["offset"])  # where the centre stands: from there again
    raise CentralError(409, "stalled", f"{name} {kind}: the centre's offset kept moving")


def _stream(
    central: Central,
    recording: Recording,
    replica: int,
    kind: str,
    spec: dict[str, Any],
    offset: int,
    progress: ProgressFn,
) -> dict[str, Any]:
    total, name = int(spec["bytes"]), _name(recording, kind)
    chunks = verified_chunks(recording, kind)
    prefix, position, first = hashlib.sha256(), 0, b""
    for chunk in chunks:  # what the centre holds: hashed, not sent
        if position + len(chunk) <= offset:
            prefix.update(chunk)
            position += len(chunk)
            continue
        prefix.update(chunk[: offset - position])
        first, position = chunk[offset - position :], position + len(chunk)
        break
    feed = _Feed(STREAM_AHEAD)
    digests = (str(spec["sha256"]), prefix.hexdigest())
    with ThreadPoolExecutor(1, thread_name_prefix="replicate-send") as pool:
        request = pool.submit(central.put_stream, replica, kind, offset, total, digests, feed)
        try:
            step = offset + CHUNK_BYTES
            for chunk in itertools.chain([first], chunks):
                if not feed.put(chunk, request):
                    break  # the request ended (broken): its error is raised below
                if position >= step:
                    progress(Progress(name, kind, position, total))
                    step = position + CHUNK_BYTES
                position += len(chunk) if chunk is not first else 0
            feed.end()
        except BaseException:
            feed.abort()
            with contextlib.suppress(Exception):
                request.result()
            raise
        return request.result()


class _Feed:
    """Chunks handed from the reading thread to the sending one (at most ``depth`` waiting)."""

    _END, _ABORT = object(), object()

    def __init__(self, depth: int) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(depth)

    def put(self, chunk: bytes, request: Future[Any]) -> bool:
        """Queue ``chunk``; False when ``request`` ended first (nobody takes it any more)."""
        while not request.done():
            try:
                self._queue.put(chunk, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def end(self) -> None:
        self._queue.put(self._END)

    def abort(self) -> None:
        with contextlib.suppress(queue.Empty):  # make room: the sender may wait for a chunk
            self._queue.get_nowait()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(self._ABORT)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if item is self._ABORT:
                raise _Aborted
            yield item


class _Aborted(Exception):
    """The reading side stopped (wrong bytes): the request is left unfinished."""


def _name(recording: Recording, kind: str) -> str:
    return SealedRecording.of(recording).name(kind)


def _send_part(
    central: Central, replica: int, kind: str, number: int, data: bytes
) -> tuple[int, int]:
    """On a worker: hash one part, have the centre presign it with that SHA-256, ``PUT`` it
    to S3 (which checks it); returns (number, bytes)."""
    wanted = [{"number": number, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}]
    (part,) = central.presign(replica, kind, wanted)["parts"]
    central.put_part(part["url"], part["headers"], data)
    return number, len(data)


def _upload_parts(
    central: Central,
    recording: Recording,
    replica: int,
    kind: str,
    spec: dict[str, Any],
    progress: ProgressFn,
) -> int:
    """Send one blob as S3 multipart parts: the parts S3 lacks go up ``S3_PARALLEL`` at once,
    each hashed, presigned by the centre with its SHA-256 and ``PUT`` straight to S3, which
    checks it; returns bytes sent. The blob is read once and hashed as it goes; the last part
    leaves only after the whole blob matched its sealed digest: wrong bytes never complete an
    upload (R19, R20). A cut leaves the parts S3 verified; the next run sends the others."""
    state = central.parts(replica, kind)
    total, size = int(spec["bytes"]), int(state["part_size"])
    held = {int(p["number"]): int(p["bytes"]) for p in state["parts"]}
    todo = set(missing_parts(held, total, size))
    done = total - sum(part_span(number, total, size)[1] for number in todo)
    name = _name(recording, kind)
    progress(Progress(name, kind, done, total, resumed_from=done))
    sent, position, number = 0, 0, 1
    pending = bytearray()
    in_flight: set[Future[tuple[int, int]]] = set()

    def landed(future: Future[tuple[int, int]]) -> None:
        nonlocal sent, done
        in_flight.discard(future)
        _, length = future.result()
        sent, done = sent + length, done + length
        progress(Progress(name, kind, done, total))

    def settle(at_most: int) -> None:
        while len(in_flight) > at_most:
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                landed(future)

    with ThreadPoolExecutor(S3_PARALLEL, thread_name_prefix="replicate-part") as pool:
        try:
            for chunk in verified_chunks(recording, kind):
                position += len(chunk)
                pending += chunk
                while len(pending) >= size or (position >= total and pending):
                    data = bytes(pending[:size])
                    del pending[:size]
                    if number in todo:
                        settle(S3_PARALLEL - 1)
                        in_flight.add(pool.submit(_send_part, central, replica, kind, number, data))
                    number += 1
            if not total and 1 in todo:  # an empty file is one empty part
                in_flight.add(pool.submit(_send_part, central, replica, kind, 1, b""))
            settle(0)
        finally:  # refused or broken: the parts S3 took still count, the others are sent later
            for future in list(in_flight):
                future.cancel()
            for future in list(in_flight):
                with contextlib.suppress(Exception):
                    landed(future)
    return sent


def offer_of(recording: Recording, version: int) -> dict[str, Any]:
    return {
        "court": recording.hearing.case.court.code,
        "source_id": recording.pk,
        "file_name": recording.file_name,
        "files": files_of(recording),
        "metadata": metadata_of(recording),
        "metadata_version": version,
        "audit_head": _audit_head(),
    }


def send_one(outgoing: Outgoing, central: Central, progress: ProgressFn) -> int:
    """Offer one recording, upload what the centre lacks, have it verified and acknowledged.
    Returns the bytes sent. Raises ``CentralError`` (refused) or ``TransferBroken``."""
    recording = Recording.objects.select_related(
        "hearing__case__court", "hearing__courtroom", "hearing__judge", "hearing__secretary"
    ).get(pk=outgoing.recording_id)
    version = outgoing.version
    Outgoing.objects.filter(pk=outgoing.pk).update(
        state=OutgoingState.IN_FLIGHT, attempts=F("attempts") + 1
    )
    try:
        offer = offer_of(recording, version)
    except SealedBytesRefused as error:
        raise CentralError(0, error.code, error.detail) from None
    files = offer["files"]
    answer = central.offer(offer)
    Outgoing.objects.filter(pk=outgoing.pk).update(remote_id=answer["id"])
    sent = 0
    if answer["state"] != "acknowledged":
        s3 = answer.get("s3") or {}  # a centre whose store is S3 presigns part uploads
        try:
            for kind in sending_order(files):  # the journal before the media
                spec = files[kind]
                if kind in s3:
                    sent += _upload_parts(central, recording, answer["id"], kind, spec, progress)
                    continue
                offset = int(answer["offsets"].get(kind, 0))
                sent += _upload(central, recording, answer["id"], kind, spec, offset, progress)
        except SealedBytesRefused as error:  # nothing is committed at the centre
            raise CentralError(0, error.code, error.detail) from None
        central.commit(answer["id"])
    _acknowledged(outgoing, version, sent)
    return sent


def _acknowledged(outgoing: Outgoing, version: int, sent: int) -> None:
    """The centre holds ``version``; if nothing changed meanwhile the row is settled."""
    now = timezone.now()
    with transaction.atomic():
        settled = Outgoing.objects.filter(pk=outgoing.pk, version=version).update(
            acked_version=version,
            pending=False,
            state=OutgoingState.ACKNOWLEDGED,
            acknowledged_at=now,
            last_error="",
            bytes_sent=F("bytes_sent") + sent,
        )
        if not settled:  # changed while in flight: acknowledged up to version, still pending
            Outgoing.objects.filter(pk=outgoing.pk).update(
                acked_version=version, state=OutgoingState.PENDING, acknowledged_at=now
            )


def _failed(outgoing: Outgoing, error: CentralError) -> None:
    Outgoing.objects.filter(pk=outgoing.pk).update(
        state=OutgoingState.FAILED, last_error=str(error)[:2000]
    )


def central_from_settings() -> HttpCentral:
    """The centre this court replicates to (``TASPA_CENTRAL_URL``, ``TASPA_CENTRAL_TOKEN``)."""
    if settings.TASPA_ROLE != "court":
        raise CentralError(0, "not_a_court", "TASPA_ROLE is not court: nothing to replicate.")
    if not (settings.TASPA_CENTRAL_URL and settings.TASPA_CENTRAL_TOKEN and settings.TASPA_COURT):
        raise CentralError(
            0,
            "not_configured",
            "Set TASPA_COURT, TASPA_CENTRAL_URL and TASPA_CENTRAL_TOKEN to replicate (R23).",
        )
    return HttpCentral(settings.TASPA_CENTRAL_URL, settings.TASPA_CENTRAL_TOKEN)


def replicate(
    *, central: Central | None = None, progress: ProgressFn | None = None, limit: int | None = None
) -> RunResult:
    """R23: send everything pending now. A broken connection ends the run (the next one
    resumes from the centre's verified offsets); a refusal fails that recording only."""
    central = central or central_from_settings()
    progress = progress or (lambda step: None)
    run = ReplicationRun.objects.create(started_at=timezone.now())
    sent = failed = total_bytes = 0
    errors: list[str] = []
    broken = False
    for outgoing in plan(limit):
        try:
            total_bytes += send_one(outgoing, central, progress)
            sent += 1
        except CentralError as error:
            _failed(outgoing, error)
            failed += 1
            errors.append(f"{outgoing.recording.file_name}: {error}")
            if isinstance(error, TransferBroken):
                broken = True
                break
    from taspa.evidence.witness import witness_run  # issue 15: the centre witnesses the head

    errors += witness_run(central)
    result = RunResult(sent, failed, total_bytes, broken, errors)
    _finish(run, result)
    return result


def _finish(run: ReplicationRun, result: RunResult) -> None:
    with transaction.atomic():
        ReplicationRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(),
            sent=result.sent,
            failed=result.failed,
            bytes=result.bytes,
            outcome="\n".join([result.summary(), *result.errors])[:10000],
        )
        record(
            actor=None,
            action="replication.run",
            target=run,
            payload={"sent": result.sent, "failed": result.failed, "bytes": result.bytes},
        )


def replicate_daily() -> str:
    """The periodic job at ``TASPA_REPLICATION_TIME`` (R23)."""
    if settings.TASPA_ROLE != "court" or not settings.TASPA_CENTRAL_URL:
        return "not a replicating court server"
    try:
        return replicate().summary()
    except CentralError as error:
        return f"failed: {error}"
