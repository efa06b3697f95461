"""R24/R27 on S3 with object lock (a real SeaweedFS server): the store itself refuses deletion
before the retention date, and the archive can be an S3 bucket too."""

from datetime import date, timedelta

import pytest

from taspa.retention import archive, transfer
from taspa.retention.actions import set_judgment_effective
from taspa.retention.models import RecordingRetention
from taspa.retention.policy import store_retention_moment
from taspa.storage.store import RetentionActive, get_store

pytestmark = pytest.mark.slow


@pytest.fixture
def s3_court(make_sealed, settings, monkeypatch, s3_server, s3_client, locked_bucket):
    """After the court fixture: its file stores are replaced by S3 buckets with object lock."""
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    settings.TASPA_STORAGE = f"s3://{locked_bucket}"
    archive_bucket = f"{locked_bucket}-arch"
    s3_client.create_bucket(Bucket=archive_bucket, ObjectLockEnabledForBucket=True)
    settings.TASPA_ARCHIVE_STORAGE = f"s3://{archive_bucket}"
    return locked_bucket


def test_r24_object_lock_refuses_deletion_before_retention_until(
    world, s3_court, make_sealed, settings
):
    recording = make_sealed()
    effective = date.today() + timedelta(days=10)
    set_judgment_effective(actor=world.admin, case=recording.hearing.case, effective_on=effective)
    store = get_store()
    kept_until = RecordingRetention.objects.get(recording=recording).retention_until
    moment = store_retention_moment(kept_until, settings.TIME_ZONE)  # next local midnight
    assert store.retained_until(recording.sha256) == moment
    assert type(store).__name__ == "S3BlobStore"
    with pytest.raises(RetentionActive):
        store.delete(recording.sha256, reason="an early deletion the store must refuse")


def test_r27_moves_from_s3_to_an_s3_archive(world, s3_court, make_sealed):
    recording = make_sealed()
    set_judgment_effective(
        actor=world.admin, case=recording.hearing.case, effective_on=date(2024, 3, 1)
    )
    result = transfer.sweep(today=date(2025, 3, 2))
    assert [i.outcome for i in result.items] == ["moved"], result.items
    row = RecordingRetention.objects.get(recording=recording)
    assert row.archive_location.startswith("s3://")
    assert not get_store().exists(recording.sha256)
    checks = archive.verify_archived(
        archive.archive_store(), row.archive_digest, recording.file_name
    )
    assert all(c.ok for c in checks), checks
