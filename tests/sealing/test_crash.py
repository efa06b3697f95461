"""R14, R19: a crash at any step of sealing leaves either the unsealed recording (sealed by the
next ``seal_pending``, exactly once) or the sealed one — never a half state.

The process is "killed" by a ``BaseException`` raised right after the step: no ``except
Exception`` catches it, the open transaction rolls back, and nothing after the step runs — what
a real kill leaves, since every file write before it is already fsync'd and renamed.
"""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from taspa.audit.models import AuditEvent
from taspa.courts.models import Hearing
from taspa.incidents.models import Incident
from taspa.recorder import actions as recorder
from taspa.recorder.models import Recording
from taspa.sealing import actions as sealing
from taspa.sealing.actions import register_signing_key, revoke_current_signing_key
from taspa.sealing.layout import SealedRecording
from taspa.sealing.reading import write_sealed
from taspa.sealing.resume import GRACE, resume_sealing
from taspa.sealing.verify import verify_recording
from taspa.storage.store import FileBlobStore, get_store

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


def nth_put(n: int):
    """True at the n-th new blob of the seal: 1 journal, 2 manifest, 3 its signature, 4 the
    media's signature (the seal itself)."""
    calls = []
    return lambda *args, **kwargs: calls.append(1) or len(calls) == n


STEPS = {
    "media_adopted": lambda mp: crash_after(mp, FileBlobStore, "adopt"),
    "journal_stored": lambda mp: crash_after(mp, sealing, "_put_bytes", nth_put(1)),
    "manifest_stored": lambda mp: crash_after(mp, sealing, "_put_bytes", nth_put(2)),
    "manifest_signed": lambda mp: crash_after(mp, sealing, "_put_bytes", nth_put(3)),
    "media_signed": lambda mp: crash_after(mp, sealing, "_put_bytes", nth_put(4)),
    # Inside the transaction that marks it sealed, after the row was saved: rolled back.
    "db_update": lambda mp: crash_after(
        mp, recorder, "record", lambda **kw: kw.get("action") == "recording.seal"
    ),
}


def seal_pending() -> list[Recording]:
    return [recorder.seal_stopped(r) for r in Recording.objects.filter(state="stopped")]


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


def assert_sealed_whole(recording: Recording, where) -> None:
    """The database says sealed only with every blob in the store, and the files a user
    downloads verify; nothing of it lies under TASPA_HOME/recordings."""
    assert recording.state == Recording.State.SEALED
    store = get_store()
    sealed = SealedRecording.of(recording)
    assert sealed.complete and sealed.journal
    assert all(store.verify(digest).ok for digest in sealed.blobs().values())
    files = write_sealed(recording, where)
    assert all(c.ok for c in verify_recording(files.media)), verify_recording(files.media)
    assert taspa_verify(files.media) == 0
    assert Hearing.objects.get(pk=recording.hearing_id).state == Hearing.State.SEALED
    assert not (Path(settings.TASPA_HOME) / "recordings").exists()
    shutil.rmtree(where)


@pytest.mark.parametrize("step", list(STEPS))
def test_r14_crash_during_sealing_leaves_unsealed_or_sealed_never_half(
    world, secretary, monkeypatch, step, tmp_path
):
    hearing = world.hearing(court="a")
    recorder.start_recording(actor=secretary, hearing=hearing)
    time.sleep(0.7)
    STEPS[step](monkeypatch)
    with pytest.raises(Crash):
        recorder.stop_recording(actor=secretary, hearing=Hearing.objects.get(pk=hearing.pk))
    monkeypatch.undo()

    # After the crash: the database still says stopped, and no seal was recorded; the
    # captured media is kept (in the spool or already in the store), never half-sealed.
    stopped = Recording.objects.get(hearing=hearing)
    assert stopped.state == Recording.State.STOPPED and not stopped.signature_digest
    assert seal_events() == 0
    assert Path(stopped.media_path).is_file() or get_store().exists(stopped.sha256)
    assert not (Path(settings.TASPA_HOME) / "recordings").exists()

    # The next run seals it, once.
    resumed = seal_pending()
    assert [r.pk for r in resumed] == [stopped.pk]
    assert_sealed_whole(Recording.objects.get(pk=stopped.pk), tmp_path / "download")
    assert seal_events() == 1
    assert not Path(stopped.media_path).exists()  # the store holds the only copy

    # Running again — the job, or a stale copy of the stopped row — changes nothing.
    assert seal_pending() == []
    recorder.seal_stopped(stopped)
    assert seal_events() == 1
    assert_sealed_whole(Recording.objects.get(pk=stopped.pk), tmp_path / "download")


def test_r14_resume_job_finishes_a_crashed_seal_once_it_has_a_key(
    world, secretary, monkeypatch, pki, tmp_path
):
    hearing = world.hearing(court="a")
    recorder.start_recording(actor=secretary, hearing=hearing)
    time.sleep(0.7)
    STEPS["manifest_signed"](monkeypatch)
    with pytest.raises(Crash):
        recorder.stop_recording(actor=secretary, hearing=Hearing.objects.get(pk=hearing.pk))
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
    assert_sealed_whole(Recording.objects.get(hearing=hearing), tmp_path / "download")
    assert resume_sealing(now=later).sealed == 0
    assert seal_events() == 1
