"""R23 / R19 at a centre whose store is S3 (a real SeaweedFS), in process: the court's parts go
to presigned URLs; at commit the centre hashes the media as S3 streams it back — the whole file
and its journal pieces — and never writes it to its own disk; a replica whose bytes are not
the sealed recording is refused and its quarantine keeps the bytes S3 held."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from replica_io import opens_of, put, sealed_bytes

from taspa.replication import multipart
from taspa.replication.acknowledge import commit_replica
from taspa.replication.central import Offer, enrol_court, incoming_dir, layout_names, offer_replica
from taspa.replication.court import offer_of
from taspa.replication.models import Peer, Replica
from taspa.replication.policy import ReplicaState, part_count, part_span, sending_order
from taspa.storage.s3store import S3BlobStore

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

MiB = 1024 * 1024
SIZE = 12 * MiB + 12345  # two parts of 8 MiB at the centre's part size
PIECE = 150_000  # ~86 journal pieces, some across a part's edge


@pytest.fixture
def s3_centre(monkeypatch, locked_s3_store) -> S3BlobStore:
    """The centre's store in this process: an object-locked bucket on the session's SeaweedFS."""
    monkeypatch.setattr(multipart, "s3_store", lambda: locked_s3_store)
    return locked_s3_store


def upload(peer: Peer, replica: Replica, kind: str, data: bytes) -> None:
    """Every part of ``data`` to the URLs the centre presigns (with each part's SHA-256)."""
    size = int(replica.uploads[kind]["part_size"])
    spans = [part_span(n, len(data), size) for n in range(1, part_count(len(data), size) + 1)]
    asked = [
        {"number": n, "bytes": length, "sha256": hashlib.sha256(data[s : s + length]).hexdigest()}
        for n, (s, length) in enumerate(spans, start=1)
    ]
    signed = multipart.presign_parts(peer=peer, replica_id=replica.pk, kind=kind, parts=asked)
    for part, (start, length) in zip(signed, spans, strict=True):
        assert put(part.url, part.headers, data[start : start + length]) == 200


def offered(world, settings, recording) -> tuple[Peer, Replica, dict]:
    body = offer_of(recording, 1)
    settings.TASPA_ROLE = "central"
    enrol_court(actor=None, court=world.courts["a"])
    peer = Peer.objects.get(court=world.courts["a"])
    replica = multipart.open_uploads(offer_replica(peer=peer, offer=Offer(**body)))
    assert set(replica.uploads) == set(body["files"])
    return peer, replica, body


def test_r23_an_s3_replicas_media_is_hashed_as_s3_returns_it_and_never_written_here(
    world, settings, court_home, make_sealed, s3_centre
):
    recording = make_sealed(size=SIZE, piece=PIECE)
    peer, replica, body = offered(world, settings, recording)
    data = sealed_bytes(recording)
    for kind in sending_order(body["files"]):
        upload(peer, replica, kind, data[kind])
    media = incoming_dir(replica) / layout_names(replica.file_name)["media"]
    with opens_of(media) as opens:
        answer = commit_replica(peer=peer, replica_id=replica.pk)
        opened = opens[os.fspath(media)]
    assert answer.acknowledged, answer.detail
    assert opened == 0  # neither written nor read at the centre
    checks = {c.name: c for c in answer.checks}
    assert checks["segment_chain"].ok and "piece" in checks["segment_chain"].detail
    with s3_centre.open(recording.sha256) as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == recording.sha256
    assert not incoming_dir(replica).exists()


def test_r23_an_s3_replica_that_is_not_the_recording_is_refused_and_its_bytes_quarantined(
    world, settings, court_home, make_sealed, s3_centre
):
    recording = make_sealed(size=SIZE, piece=PIECE)
    peer, replica, body = offered(world, settings, recording)
    data = sealed_bytes(recording)
    changed = bytearray(data["media"])
    changed[9 * MiB] ^= 0xFF  # in the second part; S3 accepts it (its own digest is signed)
    data["media"] = bytes(changed)
    for kind in sending_order(body["files"]):
        upload(peer, replica, kind, data[kind])
    answer = commit_replica(peer=peer, replica_id=replica.pk)
    assert not answer.acknowledged
    failed = {c.name for c in answer.checks if not c.ok}
    assert {"media_hash", "segment_chain"} <= failed
    assert Replica.objects.get(pk=replica.pk).state == ReplicaState.REFUSED
    assert not s3_centre.exists(recording.sha256)  # nothing reached the digest key
    quarantine = Path(django_settings.TASPA_HOME) / "replication" / "quarantine"
    [kept] = list(quarantine.glob(f"{replica.pk}-*"))
    assert (kept / layout_names(replica.file_name)["media"]).read_bytes() == data["media"]
