"""R24 on the real server: what SeaweedFS's object lock refuses once a recording is locked in
COMPLIANCE mode, and Taspa's readiness refusing a bucket without object lock."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from taspa.storage.s3store import S3BlobStore

pytestmark = pytest.mark.slow


@pytest.fixture
def locked_blob(s3_client: Any, locked_bucket: str) -> tuple[S3BlobStore, str, str, bytes]:
    store = S3BlobStore(locked_bucket, client=s3_client)
    data = b"a sealed recording's bytes" * 100
    ref = store.put(io.BytesIO(data), retain_until=datetime.now(UTC) + timedelta(days=30))
    version = s3_client.head_object(Bucket=locked_bucket, Key=store.key(ref.digest))["VersionId"]
    return store, ref.digest, version, data


def _still_there(s3_client: Any, store: S3BlobStore, digest: str, data: bytes) -> None:
    body = s3_client.get_object(Bucket=store.bucket, Key=store.key(digest))["Body"].read()
    assert hashlib.sha256(body).hexdigest() == digest and body == data


def test_r24_version_specific_delete_is_refused(s3_client, locked_blob):
    store, digest, version, data = locked_blob
    for bypass in (False, True):
        with pytest.raises(s3_client.exceptions.ClientError):
            s3_client.delete_object(
                Bucket=store.bucket,
                Key=store.key(digest),
                VersionId=version,
                BypassGovernanceRetention=bypass,
            )
    _still_there(s3_client, store, digest, data)


def test_r24_shortening_the_retention_is_refused(s3_client, locked_blob):
    store, digest, version, data = locked_blob
    before = store.retained_until(digest)
    with pytest.raises(s3_client.exceptions.ClientError):
        s3_client.put_object_retention(
            Bucket=store.bucket,
            Key=store.key(digest),
            VersionId=version,
            Retention={
                "Mode": "COMPLIANCE",
                "RetainUntilDate": datetime.now(UTC) + timedelta(days=1),
            },
        )
    with pytest.raises(s3_client.exceptions.ClientError):
        s3_client.put_object_retention(
            Bucket=store.bucket,
            Key=store.key(digest),
            VersionId=version,
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": datetime.now(UTC)},
            BypassGovernanceRetention=True,
        )
    assert store.retained_until(digest) == before
    _still_there(s3_client, store, digest, data)


def test_r24_deleting_a_bucket_with_locked_recordings_is_refused(s3_client, locked_blob):
    store, digest, _, data = locked_blob
    with pytest.raises(s3_client.exceptions.ClientError):
        s3_client.delete_bucket(Bucket=store.bucket)
    _still_there(s3_client, store, digest, data)


@pytest.mark.django_db
def test_readyz_refuses_a_bucket_without_object_lock_unless_configured(
    client, settings, monkeypatch, s3_server, s3_client
):
    s3_client.create_bucket(Bucket="taspa-unlocked-readyz")
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    settings.TASPA_STORAGE = "s3://taspa-unlocked-readyz"
    refused = client.get("/readyz")
    assert refused.status_code == 503
    assert refused.json()["down"] == ["blob_store"]
    assert "no object lock" in refused.json()["detail"]
    settings.TASPA_S3_WITHOUT_OBJECT_LOCK = True
    assert client.get("/readyz").status_code == 200


def test_serve_and_worker_refuse_to_start_on_a_bucket_without_object_lock(
    tmp_path, s3_server, s3_client
):
    from .proc import free_port, operator_env, taspa

    s3_client.create_bucket(Bucket="taspa-unlocked-start")
    env = operator_env(tmp_path, TASPA_STORAGE="s3://taspa-unlocked-start", **s3_server.env)
    for command in (["serve", "--addr", f"127.0.0.1:{free_port()}"], ["worker"]):
        refused = taspa(env, *command, timeout=60)
        assert refused.returncode == 2, refused.stderr[-2000:]
        assert "no object lock" in refused.stderr
        assert "TASPA_S3_WITHOUT_OBJECT_LOCK" in refused.stderr
