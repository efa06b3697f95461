"""R19/R20: the rolling fixity job re-hashes stored recordings and raises an incident on any
mismatch, whichever stored file was touched."""

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from taspa.courts.models import Hearing
from taspa.incidents.models import Incident
from taspa.recorder import actions as recorder
from taspa.recorder.models import Recording
from taspa.retention.models import RecordingRetention
from taspa.sealing import democa, fixity
from taspa.sealing.actions import register_signing_key
from taspa.sealing.fixity import run_fixity
from taspa.storage.store import get_store

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sealed(world, settings, tmp_path):
    settings.TASPA_STORAGE = f"file://{tmp_path / 'blobs'}"
    ca = democa.create_ca("Fixity CA")
    (tmp_path / "ca.pem").write_bytes(ca.pem)
    settings.TASPA_TRUST_ANCHORS = str(tmp_path / "ca.pem")
    secretary = world.person("secretary")
    register_signing_key(
        actor=world.admin,
        user=secretary,
        p12=democa.issue_p12(ca, common_name="Secretary", password="pw"),
        password="pw",
    )
    recordings = []
    for seconds in (1.0, 1.6):  # different lengths: two different media blobs
        hearing = world.hearing(court="a")
        recorder.start_recording(actor=secretary, hearing=hearing)
        time.sleep(seconds)
        hearing = Hearing.objects.get(pk=hearing.pk)
        recordings.append(recorder.stop_recording(actor=secretary, hearing=hearing))
    return recordings


def flip_byte(path: Path, offset: int = 200) -> None:
    os.chmod(path, 0o600)
    with path.open("r+b") as stream:
        stream.seek(offset)
        byte = stream.read(1)
        stream.seek(offset)
        stream.write(bytes([byte[0] ^ 0xFF]))


def test_r19_intact_store_passes_and_every_recording_is_covered(sealed):
    run = run_fixity()
    assert (run.checked, run.failed) == (2, 0)
    assert all(r.fixity_ok for r in Recording.objects.all())
    assert not Incident.objects.filter(kind="fixity_failed").exists()


@pytest.mark.parametrize("blob", ["media", "signature", "manifest"])
def test_r19_flipped_byte_in_a_stored_blob_raises_an_incident(sealed, blob):
    recording = sealed[0]
    digest = {
        "media": recording.sha256,
        "signature": recording.signature_digest,
        "manifest": recording.manifest_digest,
    }[blob]
    flip_byte(get_store().path(digest), offset=10)
    run = run_fixity()
    assert run.failed == 1
    incident = Incident.objects.get(kind="fixity_failed")
    assert incident.hearing_id == recording.hearing_id and blob in incident.detail
    assert Recording.objects.get(pk=recording.pk).fixity_ok is False


def test_rolling_budget_checks_the_longest_unchecked_first(sealed):
    first = run_fixity(bytes_budget=1)  # the budget admits one recording per run
    second = run_fixity(bytes_budget=1)
    assert first.checked == second.checked == 1
    checked = Recording.objects.order_by("fixity_checked_at")
    assert all(r.fixity_checked_at for r in checked)


def test_r20_a_pass_walks_the_whole_queue_in_batches_each_recording_once(world, monkeypatch):
    """Never checked first (by id), then the longest unchecked (ties by id), read 2 a query;
    archived (R27) and not yet stored recordings are not in the queue."""
    now = timezone.now()

    def recording(checked_at=None, stored=True) -> Recording:
        return Recording.objects.create(
            hearing=world.hearing(),
            state=Recording.State.SEALED,
            spool_dir="",
            started_at=now,
            stored_at=now if stored else None,
            fixity_checked_at=checked_at,
            bytes=10,
        )

    day, hour = now - timedelta(days=1), now - timedelta(hours=1)
    checked = [recording(hour), recording(day), recording(hour), recording(day)]
    never = [recording(), recording()]
    archived = recording(day - timedelta(days=1))
    RecordingRetention.objects.create(recording=archived, disposition="deleted", deleted_at=now)
    recording(stored=False)
    seen = []

    def check(recording, store=None):
        seen.append(recording.pk)
        Recording.objects.filter(pk=recording.pk).update(fixity_checked_at=timezone.now())
        return []

    monkeypatch.setattr(fixity, "BATCH", 2)
    monkeypatch.setattr(fixity, "check_recording", check)
    first = run_fixity(bytes_budget=1 << 30)
    expected = [r.pk for r in never] + [
        r.pk for r in (checked[1], checked[3], checked[0], checked[2])
    ]
    assert (first.checked, seen) == (6, expected)
    seen.clear()
    assert run_fixity(bytes_budget=1 << 30).checked == 6  # the next pass: each once again
    assert seen == expected
    seen.clear()
    assert run_fixity(bytes_budget=25).checked == 2 and seen == expected[:2]  # the budget
