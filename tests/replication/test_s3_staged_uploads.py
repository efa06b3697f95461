"""The S3 store's staged uploads for replication (ADR 0006) against a real SeaweedFS: a peer
PUTs parts to presigned URLs; S3 checks each part's signed SHA-256; the store lists, completes,
reads back and adopts the object under its digest key with object lock."""

import hashlib
from datetime import timedelta

import pytest
from replica_io import put

from taspa.storage.base import utcnow

pytestmark = pytest.mark.slow
MiB = 1024 * 1024


@pytest.fixture
def store(locked_s3_store):
    return locked_s3_store


def test_r23_staged_upload_from_presigned_urls_is_adopted_under_its_digest(store, s3_server):
    first, last = b"a" * (5 * MiB), b"b" * 1000
    staged = store.begin_staged_upload()
    one = store.presign_part(staged, 1, sha256=hashlib.sha256(first).hexdigest())
    two = store.presign_part(staged, 2, sha256=hashlib.sha256(last).hexdigest())
    assert one.url.startswith(s3_server.endpoint + "/")  # the loopback S3, signed with SigV4
    assert "X-Amz-Signature=" in one.url and "x-amz-checksum-sha256" in one.url
    assert put(one.url, one.headers, first) == 200
    assert put(two.url, two.headers, b"c" * 1000) == 400  # not the bytes it was signed for
    assert {n: p.size for n, p in store.staged_parts(staged).items()} == {1: 5 * MiB}
    assert put(two.url, two.headers, last) == 200
    parts = store.staged_parts(staged)
    version = store.complete_staged(staged, [parts[1], parts[2]])
    assert store.staged_parts(staged) is None  # completed: no upload any more
    with store.open_staged(staged.key, version) as stream:
        assert stream.read() == first + last
    digest = hashlib.sha256(first + last).hexdigest()
    until = utcnow() + timedelta(days=2)
    ref = store.adopt_staged(
        staged.key, sha256=digest, size=len(first + last), version_id=version, retain_until=until
    )
    assert ref.created and store.verify(digest).status == "intact"
    assert abs(store.retained_until(digest) - until) < timedelta(seconds=1)  # object lock
    listing = store.client.list_object_versions(Bucket=store.bucket, Prefix="incoming/")
    assert listing.get("Versions", []) == []  # the staging is gone
    again = store.begin_staged_upload()
    part = store.presign_part(again, 1, sha256=hashlib.sha256(first + last).hexdigest())
    assert put(part.url, part.headers, first + last) == 200
    version = store.complete_staged(again, list(store.staged_parts(again).values()))
    same = store.adopt_staged(again.key, sha256=digest, size=ref.size, version_id=version)
    assert not same.created  # sending twice stores once


def test_r23_discarded_staged_upload_leaves_nothing(store):
    staged = store.begin_staged_upload()
    part = store.presign_part(staged, 1, sha256=hashlib.sha256(b"x").hexdigest())
    assert put(part.url, part.headers, b"x") == 200
    store.discard_staged(staged)
    assert store.staged_parts(staged) is None
    uploads = store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    assert uploads == []
