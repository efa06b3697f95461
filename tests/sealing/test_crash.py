"""R14, R19: a crash at any step of sealing leaves either the unsealed recording (sealed by the
next ``seal_pending``, exactly once) or the sealed one — never a half state.

The process is "killed" by a ``BaseException`` raised right after the step: no ``except
Exception`` catches it, the open transaction rolls back, and nothing after the step runs — what
a real kill leaves, since every file write before it is already fsync'd and renamed.
"""

from __future__ import annotations

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from taspa.audit.models import AuditEvent
from taspa.courts.models import Hearing
from taspa.incidents.models import Incident
from taspa.recorder import actions as recorder
from taspa.recorder import sealing as recorder_sealing
from taspa.recorder.models import Recording
from taspa.sealing import seal as sealing
from taspa.sealing.actions import register_signing_key, revoke_current_signing_key
from taspa.sealing.layout import SealedFiles
from taspa.sealing.resume import GRACE, resume_sealing
from taspa.sealing.verify import verify_recording
from taspa.storage.store import get_store

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class Crash(BaseException):
    """The sealing process dies here."""


def crash_after(monkeypatch, module, name: str, when=lambda *args, **kwargs: True) -> None:
    """Run ``module.name`` for real, then die (when ``when`` holds for its arguments)."""
    real = getattr(module, name)

    def step(*args, **kwargs):
        result = real(*args, **kwargs)
        if when(*args, **kwargs):
            raise Crash(name)
        return result

    monkeypatch.setattr(module, name, step)


def writing(suffix: str):
    return lambda path, data: path.name.endswith(suffix)


STEPS = {
    "media_moved": lambda mp: crash_after(mp, sealing, "_move_media"),
    "manifest_written": lambda mp: crash_after(
        mp, sealing, "write_atomic", writing(".manifest.json")
    ),
    "manifest_signed": lambda mp: crash_after(
        mp, sealing, "write_atomic", writing(".manifest.json.p7s")
    ),
    "media_signed": lambda mp: crash_after(mp, sealing, "write_atomic", writing(".ts.p7s")),
    "stored_in_blob_store": lambda mp: crash_after(mp, recorder_sealing, "_store"),
    # Inside the transaction that marks it sealed, after the row was saved: rolled back.
    "db_update": lambda mp: crash_after(mp, recorder_sealing, "record"),
}


@pytest.fixture
def secretary(world, settings, tmp_path, pki):
    settings.TASPA_STORAGE = f"file://{tmp_path / 'blobs'}"
    settings.TASPA_TRUST_ANCHORS = str(pki.ca_pem)
    person = world.person("secretary")
    register_signing_key(actor=world.admin, user=person, p12=pki.p12(), password="secret-pin")
    return person


def taspa_verify(path) -> int:
    try:
        call_command("verify", str(path), stdout=StringIO())
    except CommandError as error:
        return error.returncode
    return 0


def seal_events() -> int:
    return AuditEvent.objects.filter(action="recording.seal").count()


def assert_sealed_whole(recording: Recording) -> None:
    """The database says sealed only with all four files on disk and in the blob store."""
    assert recording.state == Recording.State.SEALED
    files = SealedFiles.beside(recording.media_path)
    assert files.is_sealed
    store = get_store()
    for digest in (
        recording.sha256,
        recording.signature_digest,
        recording.manifest_digest,
        recording.manifest_signature_digest,
    ):
        assert digest and store.exists(digest)
    assert all(c.ok for c in verify_recording(files.media)), verify_recording(files.media)
    assert Hearing.objects.get(pk=recording.hearing_id).state == Hearing.State.SEALED


@pytest.mark.parametrize("step", list(STEPS))
def test_r14_crash_during_sealing_leaves_unsealed_or_sealed_never_half(
    world, secretary, monkeypatch, step
):
    hearing = world.hearing(court="a")
    recorder.start_recording(actor=secretary, hearing=hearing)
    time.sleep(0.7)
    STEPS[step](monkeypatch)
    with pytest.raises(Crash):
        recorder.stop_recording(actor=secretary, hearing=hearing)
    monkeypatch.undo()

    # After the crash: the database still says stopped, and no seal was recorded.
    stopped = Recording.objects.get(hearing=hearing)
    assert stopped.state == Recording.State.STOPPED and not stopped.signature_digest
    assert seal_events() == 0
    (media,) = recorder_sealing.sealed_dir(hearing).glob(f"*_h{hearing.pk}.ts")
    files = SealedFiles.beside(media)
    # On disk: either not sealed (taspa verify fails, naming the missing seal) or whole.
    checks = {c.name: c for c in verify_recording(media)}
    if files.is_sealed:
        assert all(c.ok for c in checks.values()), checks
        assert taspa_verify(media) == 0
    else:
        assert not checks["media_signature"].ok and "not sealed" in checks["media_signature"].detail
        assert taspa_verify(media) == 1
    assert files.is_sealed == (step in ("media_signed", "stored_in_blob_store", "db_update"))

    # The next run seals it, once.
    resumed = recorder_sealing.seal_pending()
    assert [r.pk for r in resumed] == [stopped.pk]
    assert_sealed_whole(Recording.objects.get(pk=stopped.pk))
    assert seal_events() == 1
    assert taspa_verify(media) == 0

    # Running again — the job, or a stale copy of the stopped row — changes nothing.
    assert recorder_sealing.seal_pending() == []
    recorder_sealing.seal_hearing_recording(stopped)
    assert seal_events() == 1
    assert_sealed_whole(Recording.objects.get(pk=stopped.pk))


def test_r14_resume_job_finishes_a_crashed_seal_once_it_has_a_key(
    world, secretary, monkeypatch, pki
):
    hearing = world.hearing(court="a")
    recorder.start_recording(actor=secretary, hearing=hearing)
    time.sleep(0.7)
    STEPS["manifest_signed"](monkeypatch)
    with pytest.raises(Crash):
        recorder.stop_recording(actor=secretary, hearing=hearing)
    monkeypatch.undo()
    later = timezone.now() + GRACE + timedelta(seconds=1)
    assert resume_sealing(now=timezone.now()).sealed == 0  # within the grace period: not yet

    revoke_current_signing_key(actor=world.admin, user=secretary)
    incidents = Incident.objects.count()
    run = resume_sealing(now=later)
    assert (run.sealed, run.waiting_for_key) == (0, 1)
    assert Incident.objects.count() == incidents  # no incident per run while it waits

    register_signing_key(actor=world.admin, user=secretary, p12=pki.p12(), password="secret-pin")
    assert resume_sealing(now=later).sealed == 1
    assert_sealed_whole(Recording.objects.get(hearing=hearing))
    assert resume_sealing(now=later).sealed == 0
    assert seal_events() == 1
