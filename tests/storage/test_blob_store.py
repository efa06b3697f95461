"""The blob store contract (R19 no edits, R20 protected storage, R24/R27 retention and deletion),
run against the filesystem backend and a real SeaweedFS S3 server with object lock."""

from __future__ import annotations

import hashlib
import io
import os
import random
import stat
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from taspa.storage import store as store_module
from taspa.storage.store import (
    BlobNotFound,
    BlobStore,
    DigestMismatch,
    FileBlobStore,
    Fixity,
    InvalidDigest,
    InvalidRange,
    RetentionActive,
    S3BlobStore,
    StorageError,
    get_store,
)

MiB = 1 << 20
KAZAKH_NAME = "Қылмыстық іс №1"


@pytest.fixture(scope="module")
def large() -> bytes:
    """Over 16 MiB, not a multiple of the 8 MiB part size: three parts on S3."""
    return random.Random(19).randbytes(17 * MiB + 12_345)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(store: BlobStore, digest: str) -> bytes:
    with store.open(digest) as stream:
        return stream.read()


def stored_leftovers(store: BlobStore) -> list[str]:
    """Anything the store keeps besides finished blobs: temp files, staged or partial uploads."""
    if isinstance(store, FileBlobStore):
        return [p.name for p in (store.root / "tmp").iterdir()]
    assert isinstance(store, S3BlobStore)
    client = store.client
    uploads = client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    versions = client.list_object_versions(Bucket=store.bucket)
    objects = versions.get("Versions", []) + versions.get("DeleteMarkers", [])
    return [u["Key"] for u in uploads] + [o["Key"] for o in objects]


def test_both_backends_implement_the_protocol(store: BlobStore) -> None:
    assert isinstance(store, BlobStore)


@pytest.mark.parametrize("size", [0, 1, 4096])
def test_small_blob_round_trip(store: BlobStore, size: int) -> None:
    data = random.Random(size).randbytes(size)
    ref = store.put(io.BytesIO(data))
    assert (ref.digest, ref.size, ref.created) == (sha(data), size, True)
    assert read(store, ref.digest) == data
    assert store.size(ref.digest) == size
    assert store.exists(ref.digest)
    assert list(store.iter_digests()) == [ref.digest]
    assert store.verify(ref.digest).ok


def test_large_stream_round_trip_multipart(store: BlobStore, large: bytes) -> None:
    """No digest known in advance: S3 stages a multipart upload, then copies it server-side."""
    ref = store.put(io.BytesIO(large))
    assert (ref.digest, ref.size) == (sha(large), len(large))
    assert read(store, ref.digest) == large
    assert list(store.iter_digests()) == [ref.digest]
    staged = [] if isinstance(store, FileBlobStore) else [store.key(ref.digest)]
    assert stored_leftovers(store) == staged  # the staging upload is gone


def test_large_file_with_kazakh_name_round_trip(
    store: BlobStore, large: bytes, tmp_path: Path
) -> None:
    source = tmp_path / f"{KAZAKH_NAME}.mka"
    source.write_bytes(large)
    ref = store.put_file(source, metadata={"name": source.name})
    assert ref.digest == sha(large)
    assert read(store, ref.digest) == large
    assert store.stat(ref.digest).metadata == {"name": f"{KAZAKH_NAME}.mka"}
    assert store.verify(ref.digest).ok


def test_large_put_with_expected_digest(store: BlobStore, large: bytes) -> None:
    ref = store.put(io.BytesIO(large), expected_sha256=sha(large), size_hint=len(large))
    assert ref.created and read(store, ref.digest) == large


def test_kazakh_metadata_survives(store: BlobStore) -> None:
    ref = store.put(io.BytesIO(b"audio"), metadata={"name": KAZAKH_NAME, "court": "court-a"})
    assert dict(store.stat(ref.digest).metadata) == {"name": KAZAKH_NAME, "court": "court-a"}


@pytest.mark.parametrize("kind", ["small", "large"])
def test_r19_re_put_is_an_idempotent_no_op(store: BlobStore, large: bytes, kind: str) -> None:
    data = b"same bytes" if kind == "small" else large
    first = store.put(io.BytesIO(data), metadata={"name": "first"})
    again = store.put(io.BytesIO(data), metadata={"name": "second"})
    again_known = store.put(io.BytesIO(data), expected_sha256=first.digest)
    assert first.created and not again.created and not again_known.created
    assert first.digest == again.digest == again_known.digest
    assert list(store.iter_digests()) == [first.digest]
    # Metadata belongs to the first put that carried any; later puts cannot edit it.
    assert store.stat(first.digest).metadata == {"name": "first"}
    assert read(store, first.digest) == data


@pytest.mark.parametrize("kind", ["small", "large"])
def test_r19_expected_digest_mismatch_refused_and_nothing_left(
    store: BlobStore, large: bytes, kind: str
) -> None:
    data = b"what was recorded" if kind == "small" else large
    claimed = sha(b"something else")
    with pytest.raises(DigestMismatch) as refused:
        store.put(io.BytesIO(data), expected_sha256=claimed)
    assert (refused.value.expected, refused.value.actual) == (claimed, sha(data))
    assert not store.exists(claimed) and not store.exists(sha(data))
    assert list(store.iter_digests()) == []
    assert stored_leftovers(store) == []


def test_mismatch_against_an_already_stored_blob_is_refused(store: BlobStore, large: bytes) -> None:
    stored = store.put(io.BytesIO(large))
    with pytest.raises(DigestMismatch):
        store.put(io.BytesIO(large[:-1] + b"!"), expected_sha256=stored.digest)
    assert read(store, stored.digest) == large


def test_concurrent_puts_of_the_same_bytes_store_one_blob(store: BlobStore) -> None:
    data = b"x" * 100_000
    refs = []
    threads = [
        threading.Thread(target=lambda: refs.append(store.put(io.BytesIO(data)))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {ref.digest for ref in refs} == {sha(data)}
    assert read(store, sha(data)) == data
    assert list(store.iter_digests()) == [sha(data)]


def test_range_reads(store: BlobStore, large: bytes) -> None:
    ref = store.put(io.BytesIO(large), expected_sha256=sha(large))

    def get(start: int, end: int) -> bytes:
        with store.open_range(ref.digest, start, end) as stream:
            return stream.read()

    assert get(0, 10) == large[:10]
    assert get(8 * MiB - 5, 8 * MiB + 5) == large[8 * MiB - 5 : 8 * MiB + 5]  # across parts
    assert get(len(large) - 3, len(large) + 100) == large[-3:]  # end clamped, as HTTP does
    assert get(42, 42) == b""
    with pytest.raises(InvalidRange):
        store.open_range(ref.digest, 10, 5)
    with pytest.raises(InvalidRange):
        store.open_range(ref.digest, len(large) + 1, len(large) + 2)


def test_missing_blob(store: BlobStore) -> None:
    absent = sha(b"never stored")
    with pytest.raises(BlobNotFound):
        store.open(absent)
    with pytest.raises(BlobNotFound):
        store.open_range(absent, 0, 1)
    with pytest.raises(BlobNotFound):
        store.size(absent)
    with pytest.raises(BlobNotFound):
        store.stat(absent)
    with pytest.raises(BlobNotFound):
        store.delete(absent, reason="test")
    assert not store.exists(absent)
    assert store.verify(absent).status is Fixity.MISSING


@pytest.mark.parametrize("bad", ["", "ABC", "A" * 64, "../" + "0" * 61, "0" * 63 + "g"])
def test_digests_are_validated(store: BlobStore, bad: str) -> None:
    with pytest.raises(InvalidDigest):
        store.exists(bad)
    with pytest.raises(InvalidDigest):
        store.put(io.BytesIO(b"x"), expected_sha256=bad)


def test_r24_delete_refused_under_retention_then_allowed_after(store: BlobStore) -> None:
    """R24: retained blobs cannot be deleted, and retention only grows. R27: after the date,
    deletion (with a reason) removes the blob. On S3 this is COMPLIANCE object lock, which the
    server enforces too; on files it is the ``.retain`` record the store checks."""
    soon = datetime.now(UTC) + timedelta(seconds=3)
    ref = store.put(io.BytesIO(b"hearing"), retain_until=soon)
    assert abs(store.retained_until(ref.digest) - soon) < timedelta(seconds=1)
    with pytest.raises(RetentionActive):
        store.delete(ref.digest, reason="archive transfer verified")
    with pytest.raises(RetentionActive):
        store.set_retention(ref.digest, soon - timedelta(days=1))
    assert store.exists(ref.digest)
    with pytest.raises(StorageError):
        store.delete(ref.digest, reason=" ")
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 1.5)
    store.delete(ref.digest, reason="R27: moved to the electronic archive, copy verified")
    assert not store.exists(ref.digest)
    assert list(store.iter_digests()) == []


def test_retention_can_be_extended(store: BlobStore) -> None:
    ref = store.put(io.BytesIO(b"hearing"))
    assert store.retained_until(ref.digest) is None
    first = datetime(2030, 1, 1, tzinfo=UTC)
    store.set_retention(ref.digest, first)
    store.set_retention(ref.digest, first + timedelta(days=365))
    assert store.retained_until(ref.digest) == first + timedelta(days=365)
    assert store.stat(ref.digest).retain_until == first + timedelta(days=365)
    with pytest.raises(RetentionActive) as refused:
        store.delete(ref.digest, reason="too early")
    assert refused.value.until == first + timedelta(days=365)
    with pytest.raises(ValueError):
        store.set_retention(ref.digest, datetime(2031, 1, 1))  # naive: refused


def test_re_put_extends_retention_but_never_shortens_it(store: BlobStore) -> None:
    first = datetime(2030, 1, 1, tzinfo=UTC)
    ref = store.put(io.BytesIO(b"hearing"), retain_until=first)
    store.put(io.BytesIO(b"hearing"), retain_until=first - timedelta(days=30))
    assert store.retained_until(ref.digest) == first
    store.put(io.BytesIO(b"hearing"), retain_until=first + timedelta(days=30))
    assert store.retained_until(ref.digest) == first + timedelta(days=30)


def test_delete_without_retention(store: BlobStore) -> None:
    ref = store.put(io.BytesIO(b"a test blob"), metadata={"name": KAZAKH_NAME})
    store.delete(ref.digest, reason="test clean-up")
    assert not store.exists(ref.digest)
    assert stored_leftovers(store) == []
    again = store.put(io.BytesIO(b"a test blob"))  # the same bytes may come back later
    assert again.created and read(store, again.digest) == b"a test blob"


# -- backend-specific: what an attacker with direct access can and cannot do --------------------


def test_file_blobs_are_read_only_and_corruption_is_detected(tmp_path: Path) -> None:
    """R20: files are 0444; someone who makes one writable and flips a byte is caught by
    verify(), which re-hashes the bytes and compares them with the file's name."""
    store = FileBlobStore(tmp_path / "blobs")
    data = b"the recording" * 1000
    ref = store.put(io.BytesIO(data))
    path = store.path(ref.digest)
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert ref.location == path.as_uri()
    os.chmod(path, 0o644)  # chmod u+w, as an intruder would
    with open(path, "r+b") as handle:
        handle.seek(100)
        handle.write(bytes([data[100] ^ 0x01]))
    result = store.verify(ref.digest)
    assert result.status is Fixity.CORRUPT and not result.ok
    assert result.actual_sha256 == sha(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    assert "hashes to" in result.detail


def test_file_retention_record_is_a_read_only_sidecar(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs")
    ref = store.put(io.BytesIO(b"x"), retain_until=datetime(2030, 1, 1, tzinfo=UTC))
    sidecar = store.path(ref.digest).with_name(ref.digest + ".retain")
    assert stat.S_IMODE(sidecar.stat().st_mode) == 0o444
    assert "2030-01-01T00:00:00+00:00" in sidecar.read_text()
    assert list(store.iter_digests()) == [ref.digest]  # sidecars are not blobs


@pytest.mark.slow
def test_s3_overwrite_by_an_attacker_is_detected_and_the_original_kept(
    s3_client: Any, locked_bucket: str
) -> None:
    """R19/R20 on S3: an attacker with bucket credentials PUTs other bytes at a blob's key.
    Both defences hold: verify() re-hashes the current object and reports CORRUPT, and because
    the bucket is versioned with COMPLIANCE object lock the original version is still there,
    retrievable and undeletable — even by a versioned DELETE — until its retention ends."""
    store = S3BlobStore(locked_bucket, client=s3_client)
    data = b"the original recording"
    ref = store.put(io.BytesIO(data), retain_until=datetime.now(UTC) + timedelta(days=1))
    key = store.key(ref.digest)
    s3_client.put_object(Bucket=locked_bucket, Key=key, Body=b"forged")  # plain overwrite

    result = store.verify(ref.digest)
    assert result.status is Fixity.CORRUPT and result.actual_sha256 == sha(b"forged")

    versions = s3_client.list_object_versions(Bucket=locked_bucket, Prefix=key)["Versions"]
    original = [v for v in versions if not v["IsLatest"]]
    assert len(original) == 1
    body = s3_client.get_object(Bucket=locked_bucket, Key=key, VersionId=original[0]["VersionId"])
    with body["Body"] as stream:
        assert stream.read() == data
    with pytest.raises(s3_client.exceptions.ClientError):
        s3_client.delete_object(Bucket=locked_bucket, Key=key, VersionId=original[0]["VersionId"])
    with pytest.raises(RetentionActive):
        store.delete(ref.digest, reason="attacker")


@pytest.mark.slow
def test_s3_retention_needs_object_lock(s3_client: Any) -> None:
    s3_client.create_bucket(Bucket="taspa-plain-bucket")
    store = S3BlobStore("taspa-plain-bucket", client=s3_client)
    assert not store.object_lock
    ref = store.put(io.BytesIO(b"x"))
    with pytest.raises(StorageError, match="no object lock"):
        store.set_retention(ref.digest, datetime(2030, 1, 1, tzinfo=UTC))
    with pytest.raises(StorageError, match="no object lock"):
        store.put(io.BytesIO(b"y"), retain_until=datetime(2030, 1, 1, tzinfo=UTC))


@pytest.mark.slow
def test_s3_prefix_and_location(s3_client: Any, locked_bucket: str) -> None:
    store = S3BlobStore(locked_bucket, client=s3_client, prefix="court-a/")
    ref = store.put(io.BytesIO(b"x"))
    assert (
        ref.location
        == f"s3://{locked_bucket}/court-a/sha256/{ref.digest[:2]}/{ref.digest[2:4]}/{ref.digest}"
    )
    assert list(store.iter_digests()) == [ref.digest]
    assert list(S3BlobStore(locked_bucket, client=s3_client, prefix="court-b").iter_digests()) == []


# -- configuration ---------------------------------------------------------------------------


def test_get_store_file_url_is_cached(tmp_path: Path) -> None:
    with override_settings(TASPA_STORAGE=f"file://{tmp_path / 'blobs'}"):
        first = get_store()
        assert isinstance(first, FileBlobStore) and first.root == (tmp_path / "blobs").resolve()
        assert get_store() is first


@pytest.mark.slow
def test_get_store_s3_url_uses_aws_environment(
    s3_server: Any, locked_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    with override_settings(TASPA_STORAGE=f"s3://{locked_bucket}/court-a"):
        built = get_store()
    try:
        assert isinstance(built, S3BlobStore)
        assert (built.bucket, built.prefix) == (locked_bucket, "court-a/")
        ref = built.put(io.BytesIO(KAZAKH_NAME.encode()))
        assert read(built, ref.digest) == KAZAKH_NAME.encode()
    finally:
        built.client.close()
        store_module._cached_store.cache_clear()


def test_unknown_storage_url_refused() -> None:
    with pytest.raises(StorageError):
        store_module.store_from_url("ftp://example/blobs")
