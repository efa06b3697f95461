"""R23, R24, R27 at the centre: replicated recordings get retention rows there, so the centre's
sweep moves them to the electronic archive and deletes them on schedule; a court server that
replicates releases its own copy only once the centre acknowledged it and its retention ended."""

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone

from taspa.audit.models import AuditEvent
from taspa.replication.models import Outgoing
from taspa.retention import transfer
from taspa.retention.actions import set_judgment_effective
from taspa.retention.models import RecordingRetention
from taspa.sealing.layout import SealedRecording
from taspa.storage.store import get_store

EFFECTIVE = date(2020, 1, 10)  # retention (one year) ended on 2021-01-10


def held(recording) -> bool:
    store = get_store()
    return all(store.exists(d) for d in SealedRecording.of(recording).blobs().values())


@pytest.mark.django_db
def test_r27_a_replicating_court_releases_its_copy_only_once_the_centre_acknowledged_it(
    world, make_sealed, settings
):
    settings.TASPA_CENTRAL_URL = "http://centre.invalid"
    recording = make_sealed(size=60_000)
    set_judgment_effective(actor=world.admin, case=recording.hearing.case, effective_on=EFFECTIVE)

    waiting = transfer.sweep(today=date(2026, 1, 1))
    assert waiting.items[0].outcome.startswith("kept: the centre has not acknowledged")
    assert waiting.failed == 0 and held(recording)
    assert RecordingRetention.objects.get(recording=recording).disposition == "on_server"

    Outgoing.objects.update_or_create(
        recording=recording,
        defaults={"state": "acknowledged", "acked_version": 1, "pending": False,
                  "acknowledged_at": timezone.now(), "remote_id": 7},
    )  # fmt: skip
    released = transfer.sweep(today=date(2026, 1, 1))
    assert released.moved == 1 and not held(recording)
    row = RecordingRetention.objects.get(recording=recording)
    assert row.disposition == "deleted" and row.archive_location.startswith("http://centre.invalid")
    event = AuditEvent.objects.get(action="retention.release")
    assert event.payload["centre_replica"] == 7 and event.payload["sha256"] == recording.sha256
    # The court archived nothing itself: the centre keeps and archives the recording (п.23, п.27).
    assert not AuditEvent.objects.filter(action="retention.archive").exists()


@pytest.fixture
def central(tmp_path, court_home, monkeypatch):
    # the replication tests' real centre (``taspa serve`` with TASPA_ROLE=central)
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "replication"))
    from central_server import CentralServer
    from sealed_factory import clean_env

    template = tmp_path / "central-template"
    template.mkdir()
    env = clean_env(TASPA_HOME=str(template), TASPA_ROLE="central")
    migrated = subprocess.run(
        [sys.executable, "-m", "taspa", "migrate", "--verbosity", "0"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    for leftover in template.glob("*"):
        if leftover.is_dir():
            shutil.rmtree(leftover)
    server = CentralServer(
        tmp_path / "central",
        court_home.anchors,
        template,
        extra_env={
            "TASPA_ARCHIVE_STORAGE": f"file://{tmp_path / 'central-archive'}",
            "TASPA_RETENTION_YEARS": "1",
        },
    ).start()
    yield server
    server.stop()


ROWS = (
    "import json; from taspa.retention.models import RecordingRetention as R;"
    "from taspa.storage.store import get_store;"
    "print(json.dumps({r.recording.sha256: [str(r.retention_until), r.disposition,"
    " get_store().exists(r.recording.sha256), r.archive_digest] for r in R.objects.all()}))"
)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r23_r24_r27_the_centre_archives_and_deletes_replicas_on_schedule(
    world, make_sealed, central, settings
):
    from taspa.replication.client import HttpCentral
    from taspa.replication.court import replicate

    settings.TASPA_ROLE, settings.TASPA_COURT = "court", "court-a"
    due, running = make_sealed(size=80_000), make_sealed(size=50_000)
    set_judgment_effective(actor=world.admin, case=due.hearing.case, effective_on=EFFECTIVE)
    token = central.court_token()
    result = replicate(central=HttpCentral(central.url, token))
    assert (result.sent, result.failed) == (2, 0)

    # R24 at the centre: each replica has its clock there (the one still running has none).
    rows = central.query(ROWS)
    assert rows[due.sha256][:3] == ["2021-01-10", "on_server", True]
    assert rows[running.sha256][:3] == ["None", "on_server", True]

    # R27 at the centre: the daily sweep archives, verifies, then deletes from the centre's store.
    swept = central.taspa("retention", "run").stdout
    assert "1 moved to the archive, 0 failed" in swept
    rows = central.query(ROWS)
    assert rows[due.sha256][1:3] == ["deleted", False] and rows[due.sha256][3]
    assert rows[running.sha256][1:3] == ["on_server", True]
    archived = list((central.home.parent / "central-archive").rglob("*"))
    assert any(p.is_file() for p in archived)

    # The court's own copy: released now that the centre acknowledged it and retention ended.
    settings.TASPA_CENTRAL_URL, settings.TASPA_CENTRAL_TOKEN = central.url, token
    court = transfer.sweep()
    assert court.moved == 1 and not held(due) and held(running)
