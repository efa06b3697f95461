"""Every write of the retention area (R24, R27).

The transfer of one recording is a small state machine whose every step is idempotent and
recorded before the next: ``on_server`` → package, put into the archive, verify it there →
``archived`` (location recorded) → delete from the blob store and the sealed directory →
``deleted`` with its deletion certificate in the audit chain. A crash anywhere and a rerun give
exactly one archive copy, one deletion and one certificate; an archive that fails to write or
verify leaves everything on the server.
"""

from __future__ import annotations

import logging
from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from taspa.audit.actions import record
from taspa.courts.actions import require
from taspa.courts.models import Case, User
from taspa.courts.policy import Action
from taspa.errors import Conflict
from taspa.limits import require_moment
from taspa.recorder.models import Recording
from taspa.retention.models import CaseRetention, RecordingRetention
from taspa.retention.policy import retention_until, store_retention_moment
from taspa.retention.signals import retention_changed
from taspa.storage.store import StorageError, get_store

log = logging.getLogger("taspa.retention")
DIGEST_FIELDS = ("sha256", "signature_digest", "manifest_digest", "manifest_signature_digest")


def _years() -> int:
    return max(int(getattr(settings, "TASPA_RETENTION_YEARS", 1)), 1)


def _sync_recordings(case_retention: CaseRetention) -> None:
    """Copy the case's clock onto each of its sealed recordings' rows (bulk, no loops)."""
    recordings = Recording.objects.filter(
        hearing__case_id=case_retention.case_id, state=Recording.State.SEALED
    )
    RecordingRetention.objects.filter(recording__in=recordings).update(
        retention_until=case_retention.retention_until, hold=case_retention.hold
    )
    RecordingRetention.objects.bulk_create(
        [
            RecordingRetention(
                recording_id=pk,
                retention_until=case_retention.retention_until,
                hold=case_retention.hold,
            )
            for pk in recordings.filter(retention__isnull=True).values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )


def set_judgment_effective(*, actor: User | None, case: Case, effective_on: date) -> CaseRetention:
    """R24: the judgment took legal effect on ``effective_on``: the case's recordings stay on
    the court's server until ``effective_on + TASPA_RETENTION_YEARS`` (never under one year),
    and the blob store is told to keep them as long (S3 object lock where the bucket has it)."""
    if actor is not None:
        require(actor, Action.MANAGE_RETENTION, case)
    require_moment(effective_on, field="effective_on")
    until = retention_until(effective_on, _years())
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        previous = case.judgment_effective_on
        case.judgment_effective_on = effective_on
        case.save(update_fields=["judgment_effective_on"])
        kept, _ = CaseRetention.objects.update_or_create(
            case=case, defaults={"retention_until": until}
        )
        _sync_recordings(kept)
        record(
            actor=actor,
            action="retention.judgment_effective",
            target=case,
            payload={
                "effective_on": effective_on.isoformat(),
                "previous": previous.isoformat() if previous else None,
                "retention_until": until.isoformat(),
                "years": _years(),
            },
        )
        transaction.on_commit(lambda: retention_changed.send(sender=Case, case=case))
    extend_store_retention(case, until)
    return kept


def extend_store_retention(case: Case, until: date) -> int:
    """Ask the store to keep every blob of the case's recordings through ``until``; a store
    date that is already later stands (retention is only ever extended)."""
    moment = store_retention_moment(until, settings.TIME_ZONE)
    store, done = get_store(), 0
    rows = Recording.objects.filter(hearing__case=case, state=Recording.State.SEALED)
    for digests in rows.values_list(*DIGEST_FIELDS):
        for digest in filter(None, digests):
            try:
                store.set_retention(digest, moment)
                done += 1
            except StorageError as error:
                log.info("retention of sha256:%s stays: %s", digest, error)
    return done


def _set_hold(actor: User | None, case: Case, hold: bool, reason: str) -> CaseRetention:
    if actor is not None:
        require(actor, Action.MANAGE_RETENTION, case)
    with transaction.atomic():
        kept, _ = CaseRetention.objects.select_for_update().get_or_create(case=case)
        if kept.hold == hold:
            return kept
        kept.hold, kept.hold_reason = hold, reason if hold else ""
        kept.hold_set_at, kept.hold_set_by = timezone.now(), actor
        kept.save()
        _sync_recordings(kept)
        record(
            actor=actor,
            action="retention.hold" if hold else "retention.hold_lifted",
            target=case,
            payload={"reason": reason},
        )
        transaction.on_commit(lambda: retention_changed.send(sender=Case, case=case))
    return kept


def set_legal_hold(*, actor: User | None, case: Case, reason: str) -> CaseRetention:
    """R24: suspend deletion (e.g. a new review of the case) until lifted."""
    if not reason.strip():
        raise Conflict("hold_reason_required", gettext_lazy("A legal hold needs a reason."))
    return _set_hold(actor, case, True, reason)


def lift_legal_hold(*, actor: User | None, case: Case, reason: str = "") -> CaseRetention:
    return _set_hold(actor, case, False, reason)


def on_replica_held(*, recording: Recording, metadata: dict) -> CaseRetention:
    """R23, R24, R27 at the centre: a replica the centre acknowledged (or whose metadata changed)
    gets the retention clock of its case there too, so the centre's daily sweep moves it to the
    electronic archive and deletes it on schedule. The clock is the later of what the court
    declared and what the judgment date gives here (never under one year, R24); a legal hold
    the court set holds it here as well."""
    case = recording.hearing.case
    declared = metadata.get("retention") or {}
    candidates = [
        retention_until(case.judgment_effective_on, _years())
        if case.judgment_effective_on
        else None,
        date.fromisoformat(declared["retention_until"])
        if declared.get("retention_until")
        else None,
    ]
    until = max(filter(None, candidates), default=None)
    hold = bool(declared.get("hold"))
    with transaction.atomic():
        kept, _ = CaseRetention.objects.select_for_update().get_or_create(case=case)
        changed = (kept.retention_until, kept.hold) != (until, hold)
        kept.retention_until, kept.hold = until, hold
        if hold and not kept.hold_reason:
            kept.hold_reason = "legal hold set by the court server"
        kept.save()
        had_row = RecordingRetention.objects.filter(recording=recording).exists()
        _sync_recordings(kept)
        if changed or not had_row:
            record(
                actor=None,
                action="retention.centre_clock",
                target=case,
                payload={
                    "recording": recording.pk,
                    "retention_until": until.isoformat() if until else None,
                    "hold": hold,
                    "declared": declared.get("retention_until"),
                },
            )
    if until is not None:
        extend_store_retention(case, until)
    return kept


def on_recording_sealed(recording: Recording) -> None:
    """A recording sealed after its case's clock was set gets the case's clock."""
    kept = CaseRetention.objects.filter(case_id=recording.hearing.case_id).first()
    if kept is not None:
        _sync_recordings(kept)
