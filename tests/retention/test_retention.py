"""R24 and R27 at the court: the retention clock from the judgment date, legal hold, the dry
run, archive-then-delete with the archive copy verified, and a crash between the two."""

import importlib
import tarfile
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from taspa.audit.models import AuditEvent
from taspa.audit.selectors import verify_audit_chain
from taspa.recorder.models import Recording
from taspa.retention import archive, transfer
from taspa.retention.actions import set_judgment_effective
from taspa.retention.models import RecordingRetention
from taspa.sealing.layout import SealedRecording
from taspa.storage.store import RetentionActive, StorageError, get_store

EFFECTIVE = date(2024, 3, 1)
UNTIL = date(2025, 3, 1)


def test_r24_judgment_effective_sets_retention_until(world, api_as, make_sealed):
    recording = make_sealed()
    case = recording.hearing.case
    answer = api_as(world.person("judge")).post(
        f"/cases/{case.pk}/judgment-effective", {"date": "2024-03-01"}
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["retention_until"] == "2025-03-01"
    case.refresh_from_db()
    assert case.judgment_effective_on == EFFECTIVE
    row = RecordingRetention.objects.get(recording=recording)
    assert row.retention_until == UNTIL and row.disposition == "on_server"
    event = AuditEvent.objects.get(action="retention.judgment_effective")
    assert event.payload["retention_until"] == "2025-03-01"
    hearing = api_as(world.person("judge")).get(f"/hearings/{recording.hearing_id}").json()
    assert hearing["retention"]["retention_until"] == "2025-03-01"


def test_r24_who_may_set_the_date(world, api_as, make_sealed):
    case = make_sealed().hearing.case
    path = f"/cases/{case.pk}/judgment-effective"
    assert api_as(world.person("secretary")).post(path, {"date": "2024-03-01"}).status_code == 403
    assert api_as(world.person("judge", "b")).post(path, {"date": "2024-03-01"}).status_code == 404
    bad = api_as(world.person("judge")).post(path, {"date": "not a date"})
    assert bad.status_code == 422


def test_r24_configured_years_never_below_one(world, make_sealed, settings):
    case = make_sealed().hearing.case
    settings.TASPA_RETENTION_YEARS = 0
    kept = set_judgment_effective(actor=world.admin, case=case, effective_on=EFFECTIVE)
    assert kept.retention_until == UNTIL
    settings.TASPA_RETENTION_YEARS = 5
    kept = set_judgment_effective(actor=world.admin, case=case, effective_on=EFFECTIVE)
    assert kept.retention_until == date(2029, 3, 1)


def test_r24_store_keeps_the_blobs_until_retention_ends(world, make_sealed):
    recording = make_sealed()
    future = date.today() + timedelta(days=30)
    set_judgment_effective(actor=world.admin, case=recording.hearing.case, effective_on=future)
    store = get_store()
    until = store.retained_until(recording.sha256)
    assert until is not None and until.date() >= future.replace(year=future.year + 1)
    with pytest.raises(RetentionActive):  # deletion before retention_until: the store refuses
        store.delete(recording.sha256, reason="test")


def _moved(recording) -> bool:
    return RecordingRetention.objects.get(recording=recording).disposition == "deleted"


def test_r27_a_day_before_kept_the_day_after_moved(world, make_sealed):
    recording = make_sealed()
    set_judgment_effective(actor=world.admin, case=recording.hearing.case, effective_on=EFFECTIVE)
    assert transfer.sweep(today=UNTIL - timedelta(days=1)).items == []
    assert transfer.sweep(today=UNTIL).items == []  # R24: the whole last day still on the server
    assert get_store().exists(recording.sha256)
    result = transfer.sweep(today=UNTIL + timedelta(days=1))
    assert [i.outcome for i in result.items] == ["moved"] and _moved(recording)
    assert not any(map(get_store().exists, SealedRecording.of(recording).blobs().values()))
    row = RecordingRetention.objects.get(recording=recording)
    assert row.archive_location.startswith("file://") and row.archive_digest
    certificate = AuditEvent.objects.get(action="retention.delete").payload
    assert certificate["sha256"] == recording.sha256
    assert certificate["archive"] == row.archive_location
    assert verify_audit_chain().ok


def test_r27_the_archive_copy_is_a_verifiable_bagit_package(world, make_sealed, tmp_path):
    recording = make_sealed()
    set_judgment_effective(actor=world.admin, case=recording.hearing.case, effective_on=EFFECTIVE)
    transfer.sweep(today=UNTIL + timedelta(days=1))
    row = RecordingRetention.objects.get(recording=recording)
    store = archive.archive_store()
    checks = archive.verify_archived(store, row.archive_digest, recording.file_name)
    assert all(c.ok for c in checks), checks
    names = {c.name for c in checks}
    assert {"archive_fixity", "bag_manifest", "media_hash", "media_signature"} <= names
    with store.open(row.archive_digest) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
        members = {m.name.split("/", 1)[1] for m in tar}
    assert f"data/{recording.file_name}" in members and "manifest-sha256.txt" in members
    assert "data/metadata.json" in members


def test_r24_legal_hold_blocks_the_move_until_lifted(world, api_as, make_sealed):
    recording = make_sealed()
    case = recording.hearing.case
    set_judgment_effective(actor=world.admin, case=case, effective_on=EFFECTIVE)
    judge = api_as(world.person("judge"))
    held = judge.post(f"/cases/{case.pk}/legal-hold", {"reason": "new review of the case"})
    assert held.status_code == 200 and held.json()["hold"] is True
    later = UNTIL + timedelta(days=400)
    assert transfer.sweep(today=later).items == [] and not _moved(recording)
    assert judge.post(f"/cases/{case.pk}/legal-hold/lift", {}).json()["hold"] is False
    assert [i.outcome for i in transfer.sweep(today=later).items] == ["moved"]
    actions = list(
        AuditEvent.objects.filter(action__startswith="retention.hold").values_list(
            "action", flat=True
        )
    )
    assert actions == ["retention.hold", "retention.hold_lifted"]


def test_r27_dry_run_lists_without_moving(world, make_sealed, capsys, api_as):
    recording = make_sealed()
    set_judgment_effective(actor=world.admin, case=recording.hearing.case, effective_on=EFFECTIVE)
    call_command("retention", "run", "--dry-run")
    out = capsys.readouterr().out
    assert recording.file_name in out and "would move" in out and "dry run: 1" in out
    assert not _moved(recording) and get_store().exists(recording.sha256)
    due = api_as(world.person("archivist")).get("/retention/due").json()
    assert [i["file_name"] for i in due["items"]] == [recording.file_name]
    call_command("retention", "run")
    assert _moved(recording) and "1 moved" in capsys.readouterr().out


def test_r27_archive_write_failure_deletes_nothing(world, make_sealed, monkeypatch):
    recording = make_sealed()
    set_judgment_effective(actor=world.admin, case=recording.hearing.case, effective_on=EFFECTIVE)

    class BrokenArchive:
        def put_file(self, *args, **kwargs):
            raise StorageError("archive disk full")

    monkeypatch.setattr(archive, "archive_store", BrokenArchive)
    result = transfer.sweep(today=UNTIL + timedelta(days=1))
    assert result.items[0].outcome.startswith("failed") and result.failed == 1
    assert get_store().exists(recording.sha256)
    assert RecordingRetention.objects.get(recording=recording).disposition == "on_server"


def test_r27_crash_between_archive_and_delete_completes_exactly_once(
    world, make_sealed, monkeypatch
):
    recording = make_sealed()
    set_judgment_effective(actor=world.admin, case=recording.hearing.case, effective_on=EFFECTIVE)
    real_delete = transfer._delete_from_server

    def crash_after_first_blob(rec, reason):
        get_store().delete(rec.sha256, reason=reason)  # the media goes, then the power fails
        raise KeyboardInterrupt("power failure")

    monkeypatch.setattr(transfer, "_delete_from_server", crash_after_first_blob)
    with pytest.raises(KeyboardInterrupt):
        transfer.sweep(today=UNTIL + timedelta(days=1))
    row = RecordingRetention.objects.get(recording=recording)
    assert row.disposition == "archived" and row.archive_digest
    monkeypatch.setattr(transfer, "_delete_from_server", real_delete)
    transfer.sweep(today=UNTIL + timedelta(days=1))
    transfer.sweep(today=UNTIL + timedelta(days=2))  # and again: nothing more happens
    assert _moved(recording)
    assert AuditEvent.objects.filter(action="retention.archive").count() == 1
    assert AuditEvent.objects.filter(action="retention.delete").count() == 1
    assert list(archive.archive_store().iter_digests()) == [row.archive_digest]
    store = get_store()
    assert not any(
        store.exists(d)
        for d in (recording.signature_digest, recording.manifest_digest, recording.sha256)
    )


def test_r27_moved_recording_answers_410_with_its_archive_location(world, api_as, make_sealed):
    from taspa.sealing.fixity import run_fixity

    recording = make_sealed()
    set_judgment_effective(actor=world.admin, case=recording.hearing.case, effective_on=EFFECTIVE)
    transfer.sweep(today=UNTIL + timedelta(days=1))
    client = api_as(world.person("secretary"))
    for path in ("media", "signature", "manifest"):
        answer = client.get(f"/recordings/{recording.pk}/{path}")
        assert answer.status_code == 410
        assert answer.json()["error"] == "moved_to_archive"
        assert "file://" in answer.json()["detail"]
    assert run_fixity().checked == 0  # the archive copy is checked there, not as a loss here
    assert Recording.objects.get(pk=recording.pk).stored_at is None  # out of the fixity index


def _due_row(world, until: date, **fields) -> RecordingRetention:
    hearing = world.hearing()
    recording = Recording.objects.create(
        hearing=hearing,
        state=Recording.State.SEALED,
        spool_dir="",
        started_at=timezone.now(),
        file_name=f"h{hearing.pk}.ts",
    )
    return RecordingRetention.objects.create(recording=recording, retention_until=until, **fields)


def test_r27_sweep_meets_every_due_row_once_across_batches(world, monkeypatch):
    """The keyset on (retention_until, id) with batches of 2: days shared by several rows
    straddle the batch edges, and ids do not follow the dates."""
    monkeypatch.setattr(transfer, "BATCH", 2)
    due = [_due_row(world, UNTIL - timedelta(days=d)) for d in (1, 3, 1, 3, 0, 2, 1, 3, 1)]
    _due_row(world, UNTIL - timedelta(days=5), hold=True)  # R24: a legal hold stays
    _due_row(world, UNTIL - timedelta(days=5), disposition="deleted")  # already moved
    _due_row(world, UNTIL + timedelta(days=1))  # its last day on the server
    result = transfer.sweep(today=UNTIL + timedelta(days=1), dry_run=True)
    expected = sorted(due, key=lambda row: (row.retention_until, row.pk))
    assert [item.recording for item in result.items] == [row.recording_id for row in expected]
    limited = transfer.sweep(today=UNTIL + timedelta(days=1), dry_run=True, limit=5)
    assert [item.recording for item in limited.items] == [r.recording_id for r in expected[:5]]


def test_r27_recordings_moved_before_the_upgrade_leave_the_store_too(world):
    """The data migration: what R27 moved before deletion cleared ``stored_at`` leaves the
    fixity queue's index like what it moves now."""
    migration = importlib.import_module(
        "taspa.retention.migrations.0002_moved_recordings_not_stored"
    )
    moved, kept = _due_row(world, UNTIL), _due_row(world, UNTIL)
    RecordingRetention.objects.filter(pk=moved.pk).update(
        disposition="deleted", deleted_at=timezone.now()
    )
    Recording.objects.update(stored_at=timezone.now())
    migration.moved_recordings_not_stored(apps, None)
    assert Recording.objects.get(pk=moved.recording_id).stored_at is None
    assert Recording.objects.get(pk=kept.recording_id).stored_at is not None
