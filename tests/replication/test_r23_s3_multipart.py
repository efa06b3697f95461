"""R23 to a centre whose blob store is S3 (a real SeaweedFS): the court PUTs each part straight
to S3 at URLs the centre presigns with the part's SHA-256; a break resumes at the next part;
the centre completes, re-hashes and verifies before it copies the object to its digest key."""

import hashlib
import itertools
import uuid

import pytest
from central_server import CentralServer
from django.conf import settings
from django.utils import timezone
from sealed_factory import flip_stored_byte

from taspa.replication import court as court_side
from taspa.replication.client import CentralError, Fault, HttpCentral
from taspa.replication.court import Progress, replicate
from taspa.replication.models import Outgoing
from taspa.retention.actions import set_judgment_effective
from taspa.retention.policy import add_years, store_retention_moment
from taspa.sealing.layout import SealedRecording
from taspa.storage.store import get_store

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MiB = 1024 * 1024
PART = 8 * MiB  # the centre's part size for files under 78 GiB


@pytest.fixture
def s3_bucket(s3_client) -> str:
    name = f"centre-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


@pytest.fixture
def s3_central(tmp_path, pki, central_template, s3_server, s3_bucket):
    env = s3_server.env | {"TASPA_STORAGE": f"s3://{s3_bucket}"}
    server = CentralServer(tmp_path / "central", pki.anchors, central_template, env).start()
    yield server
    server.stop()


def digest_key(digest: str) -> str:
    return f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"


def object_bytes(s3_client, bucket: str, key: str) -> bytes:
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()


def keys(s3_client, bucket: str, prefix: str = "") -> list[str]:
    listing = s3_client.list_object_versions(Bucket=bucket, Prefix=prefix)
    return sorted(v["Key"] for v in listing.get("Versions", []))


def assert_no_staging_left(s3_client, bucket: str) -> None:
    assert keys(s3_client, bucket, "incoming/") == []
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def held_at_centre(central) -> list[dict]:
    status, body = central.call("GET", "/recordings?court=court-a")
    assert status == 200, body
    return body["items"]


def test_r23_s3_bytes_go_to_s3_and_are_identical_under_the_digest_key(
    make_sealed, s3_central, s3_client, s3_bucket, world
):
    recording = make_sealed(size=20 * MiB)
    effective = timezone.localdate()
    set_judgment_effective(actor=world.admin, case=recording.hearing.case, effective_on=effective)
    steps: list[Progress] = []
    result = replicate(
        central=HttpCentral(s3_central.url, s3_central.court_token()), progress=steps.append
    )
    assert (result.sent, result.failed, result.broken) == (1, 0, False), result.errors
    media_steps = [s.done for s in steps if s.kind == "media"]
    landed = sorted(b - a for a, b in itertools.pairwise(media_steps))
    assert media_steps[0] == 0 and landed == [4 * MiB, PART, PART]  # parts: 8 + 8 + 4 MiB
    key = digest_key(recording.sha256)
    assert object_bytes(s3_client, s3_bucket, key) == get_store().open(recording.sha256).read()
    head = s3_client.head_object(Bucket=s3_bucket, Key=key)
    # R24: the centre's copy is object-locked until the day after retention_until.
    assert head["ObjectLockMode"] == "COMPLIANCE"
    until = store_retention_moment(add_years(effective, 1), settings.TIME_ZONE)
    assert head["ObjectLockRetainUntilDate"] == until
    assert_no_staging_left(s3_client, s3_bucket)
    uploads = s3_central.query(
        "import json; from taspa.replication.models import Replica;"
        "r = Replica.objects.get();"
        "print(json.dumps([r.state, sorted(r.uploads), r.offsets == {k: v['bytes']"
        " for k, v in r.files.items()}]))"
    )
    assert uploads[0] == "acknowledged" and "media" in uploads[1] and uploads[2]
    assert [i["sha256"] for i in held_at_centre(s3_central)] == [recording.sha256]


def test_r23_s3_a_break_resumes_at_the_first_part_s3_has_not_verified(
    make_sealed, s3_central, s3_client, s3_bucket
):
    """Parts go up several at once, so a cut can leave any set of them: each run starts from
    exactly the parts S3 holds (counted as done, never sent again), sends only the others, and
    only whole parts count; the end result is the sealed bytes under their digest key."""
    recording = make_sealed(size=36 * MiB)  # parts 1-4 of 8 MiB and a last one of 4 MiB
    token = s3_central.court_token()
    peer = HttpCentral(s3_central.url, token)
    held_before: list[int] = []
    for after in (12 * MiB, 6 * MiB, 3 * MiB):  # the last cuts whichever part is left
        steps: list[Progress] = []
        fault = Fault(after_bytes=after)
        result = replicate(
            central=HttpCentral(s3_central.url, token, fault=fault), progress=steps.append
        )
        assert result.broken and fault.fired
        media = [s for s in steps if s.kind == "media"]
        held_bytes = sum(min(PART, recording.bytes - (n - 1) * PART) for n in held_before)
        # The run resumed at what S3 held, and sent only parts S3 did not hold.
        assert media[0].resumed_from == media[0].done == held_bytes
        held = peer.parts(Outgoing.objects.get().remote_id, "media")
        now_held = [p["number"] for p in held["parts"]]
        assert set(held_before) <= set(now_held)
        sent_parts = set(now_held) - set(held_before)
        assert media[-1].done - held_bytes == sum(  # only whole parts S3 verified count
            min(PART, recording.bytes - (n - 1) * PART) for n in sent_parts
        )
        held_before = now_held
    assert held_before, "three cuts and S3 verified no part at all"
    assert len(held_before) < 5  # still work left: never started over
    steps = []
    final = replicate(central=peer, progress=steps.append)
    assert (final.sent, final.failed, final.broken) == (1, 0, False), final.errors
    first = next(s for s in steps if s.kind == "media")
    assert first.resumed_from == sum(
        min(PART, recording.bytes - (n - 1) * PART) for n in held_before
    )
    assert final.bytes < recording.bytes - first.resumed_from + MiB  # the missing parts only
    data = object_bytes(s3_client, s3_bucket, digest_key(recording.sha256))
    assert hashlib.sha256(data).hexdigest() == recording.sha256
    assert_no_staging_left(s3_client, s3_bucket)


def test_r23_s3_sending_twice_stores_once(make_sealed, s3_central, s3_client, s3_bucket):
    recording = make_sealed(size=6 * MiB)
    peer = HttpCentral(s3_central.url, s3_central.court_token())
    assert replicate(central=peer).sent == 1
    stored = keys(s3_client, s3_bucket)
    Outgoing.objects.update(pending=True, acked_version=0, state="pending")  # ack was lost
    again = replicate(central=peer)
    assert (again.sent, again.bytes) == (1, 0)
    assert keys(s3_client, s3_bucket) == stored  # one version of each object, nothing new
    assert len(stored) == 4 and digest_key(recording.sha256) in stored
    assert [i["sha256"] for i in held_at_centre(s3_central)] == [recording.sha256]


class CorruptingCentral(HttpCentral):
    """A part whose bytes change on the wire after the centre presigned its SHA-256."""

    def put_part(self, url, headers, data):
        if not getattr(self, "corrupted", False) and len(data) > 1000:
            self.corrupted = True
            data = data[:1000] + bytes([data[1000] ^ 0xFF]) + data[1001:]
        return super().put_part(url, headers, data)


def test_r23_s3_refuses_a_part_that_does_not_match_its_signed_digest(
    make_sealed, s3_central, s3_client, s3_bucket
):
    recording = make_sealed(size=10 * MiB)
    token = s3_central.court_token()
    result = replicate(central=CorruptingCentral(s3_central.url, token))
    assert (result.sent, result.failed) == (0, 1)
    assert "s3_BadDigest" in result.errors[0]  # S3 itself refused the part
    held = HttpCentral(s3_central.url, token).parts(Outgoing.objects.get().remote_id, "media")
    assert held["missing"]  # the changed part is not in S3 (its sibling, sent beside it, may be)
    final = replicate(central=HttpCentral(s3_central.url, token))
    assert final.sent == 1
    data = object_bytes(s3_client, s3_bucket, digest_key(recording.sha256))
    assert hashlib.sha256(data).hexdigest() == recording.sha256


def test_r23_s3_tampered_object_is_refused_at_commit(
    make_sealed, s3_central, s3_client, s3_bucket, monkeypatch
):
    """Parts that S3 accepts (their own digests match) but that are not the sealed recording:
    the centre re-hashes and verifies at commit and refuses; nothing reaches a digest key. (The
    court's own check is switched off here, as on a court that does not check: the centre does
    not trust it; with the check on, the court refuses first, see test_r20_court_refuses_...)."""
    recording = make_sealed(size=10 * MiB)
    flip_stored_byte(recording.sha256, 9 * MiB)  # tampered after sealing, in the second part
    monkeypatch.setattr(court_side, "verified_chunks", _unchecked)
    token = s3_central.court_token()
    result = replicate(central=HttpCentral(s3_central.url, token))
    assert (result.sent, result.failed) == (0, 1)
    assert "replica_not_verified" in result.errors[0]
    assert keys(s3_client, s3_bucket, "sha256/") == []
    assert_no_staging_left(s3_client, s3_bucket)
    assert held_at_centre(s3_central) == []
    _, alarms = s3_central.call("GET", "/replication/alarms")
    assert [a["kind"] for a in alarms["items"]] == ["refused"]
    with pytest.raises(CentralError):  # the refused replica's uploads are gone
        HttpCentral(s3_central.url, token).parts(Outgoing.objects.get().remote_id, "media")


def _unchecked(recording, kind, store=None):
    """The stored bytes as they are, without the court's hash check."""
    with get_store().open(SealedRecording.of(recording).digest(kind)) as stream:
        while chunk := stream.read(1 << 20):
            yield chunk
