"""R23 / R19 at the centre, in process: a journaled replica (the journal sent before the media)
is verified on the hashes taken while the media was written — whole file and journal pieces —
so the commit never opens the media again; a cut upload resumes from the verified offset with
its piece hashes; a flipped byte is still named by the segment chain and the media hash."""

from __future__ import annotations

import hashlib
import io
import os
import random
from pathlib import Path

import pytest
from replica_io import opens_of, sealed_bytes

from taspa.replication import central
from taspa.replication.acknowledge import commit_replica
from taspa.replication.central import Offer, enrol_court, incoming_dir, layout_names, offer_replica
from taspa.replication.court import offer_of
from taspa.replication.models import Peer, Replica
from taspa.replication.policy import FILE_KINDS, ContentRange, repr_digest, sending_order
from taspa.sealing.hashing import Piece, PieceHasher, sha256_file_with_pieces

SIZE = 400_000
PIECE = 7_000  # about a second of media as the recorder journals it (57 pieces)


@pytest.fixture
def centre(world, settings, court_home, make_sealed):
    """This process as the centre too: the court's sealed recording, offered to it."""

    def offer(recording) -> tuple[Peer, Replica, dict]:
        body = offer_of(recording, 1)
        settings.TASPA_ROLE = "central"
        enrol_court(actor=None, court=world.courts["a"])
        peer = Peer.objects.get(court=world.courts["a"])
        return peer, offer_replica(peer=peer, offer=Offer(**body)), body

    return offer


def stream(peer, replica, kind: str, spec: dict, data: bytes, start: int = 0, stop=None):
    """One streamed upload of ``data[start:stop]`` (the rest of the file unless cut short)."""
    total = len(data)
    prefix = repr_digest(hashlib.sha256(data[:start]).hexdigest()) if start else ""
    return central.receive_chunk(
        peer=peer,
        replica_id=replica.pk,
        kind=kind,
        span=ContentRange(start, total - 1, total),
        body=io.BytesIO(data[start:stop]),
        digest="",
        repr_digest=repr_digest(spec["sha256"]),
        prefix_digest=prefix,
        max_length=None,
    )


def incoming_media(replica: Replica) -> Path:
    return incoming_dir(replica) / layout_names(replica.file_name)["media"]


def test_r23_the_court_sends_the_journal_before_the_media():
    assert FILE_KINDS[0] == "journal"
    kinds = ["media", "signature", "manifest", "manifest_signature", "journal"]
    assert sending_order(kinds) == ["journal", *kinds[:4]]
    assert sending_order(kinds[:4]) == kinds[:4]  # no journal: as before


def test_r23_a_journaled_replica_is_acknowledged_without_reading_the_media_again(
    centre, make_sealed
):
    recording = make_sealed(size=SIZE, piece=PIECE)
    peer, replica, body = centre(recording)
    data = sealed_bytes(recording)
    assert set(data) == set(FILE_KINDS)
    for kind in sending_order(body["files"]):
        assert stream(peer, replica, kind, body["files"][kind], data[kind]).accepted
    media = incoming_media(replica)
    noted = central.received_digest(media)
    assert noted["journal"] == body["files"]["journal"]["sha256"]
    assert len(noted["pieces"]) == -(-SIZE // PIECE)
    with opens_of(media) as opens:
        answer = commit_replica(peer=peer, replica_id=replica.pk)
        opened = opens[os.fspath(media)]
    assert answer.acknowledged, answer.detail
    chain = next(c for c in answer.checks if c.name == "segment_chain")
    assert chain.code == "pieces_ok" and chain.params["pieces"] == len(noted["pieces"])
    assert opened == 0  # hashed once, as it arrived: never read back at commit


def test_r23_a_journal_after_the_media_falls_back_to_reading_it(centre, make_sealed):
    """An older court sends the journal last: the centre cannot hash the pieces as the media
    arrives, so the commit reads the media once for them (today's path), and the verdict is
    the same."""
    recording = make_sealed(size=SIZE, piece=PIECE)
    peer, replica, body = centre(recording)
    data = sealed_bytes(recording)
    for kind in ["media", "signature", "manifest", "manifest_signature", "journal"]:
        assert stream(peer, replica, kind, body["files"][kind], data[kind]).accepted
    media = incoming_media(replica)
    assert "pieces" not in central.received_digest(media)
    with opens_of(media) as opens:
        answer = commit_replica(peer=peer, replica_id=replica.pk)
        opened = opens[os.fspath(media)]
    assert answer.acknowledged, answer.detail
    assert next(c for c in answer.checks if c.name == "segment_chain").code == "pieces_ok"
    assert opened == 1


@pytest.mark.parametrize("forget", [False, True], ids=["kept", "restarted"])
def test_r23_a_cut_journaled_media_resumes_from_the_verified_offset_with_its_pieces(
    centre, make_sealed, forget
):
    """Cut at random bytes (inside a piece, on a piece's edge), resumed from where the centre
    stands; ``restarted``: the centre process lost its kept hash state, so it re-hashes the
    held prefix from disk, pieces included. Either way no second read at commit."""
    recording = make_sealed(size=SIZE, piece=PIECE)
    peer, replica, body = centre(recording)
    data = sealed_bytes(recording)
    chance = random.Random(19 + forget)
    cuts = sorted({PIECE * 3, PIECE * 3 + 1, *(chance.randrange(1, SIZE) for _ in range(4))})
    for kind in sending_order(body["files"]):
        if kind != "media":
            assert stream(peer, replica, kind, body["files"][kind], data[kind]).accepted
            continue
        offset = 0
        for cut in cuts:
            answer = stream(peer, replica, kind, body["files"][kind], data[kind], offset, cut)
            assert (answer.offset, answer.accepted, answer.reason) == (cut, False, "short")
            assert Replica.objects.get(pk=replica.pk).offsets["media"] == cut
            offset = cut
            if forget:
                central._PREFIXES.clear()
        assert stream(peer, replica, kind, body["files"][kind], data[kind], offset).accepted
    media = incoming_media(replica)
    assert media.read_bytes() == data["media"]
    with opens_of(media) as opens:
        answer = commit_replica(peer=peer, replica_id=replica.pk)
        opened = opens[os.fspath(media)]
    assert answer.acknowledged, answer.detail
    assert opened == 0


def test_r19_a_flipped_byte_in_a_journaled_media_is_named_at_the_centre(
    centre, make_sealed, monkeypatch
):
    """A court whose stored media was altered and which declares the altered bytes' digest:
    the stream matches what was declared, so the centre's verdict rests on the hashes it took
    as the bytes arrived; the segment chain names the piece, the media hash fails, refused."""
    recording = make_sealed(size=SIZE, piece=PIECE)
    data = sealed_bytes(recording)
    at = PIECE * 11 + 123
    flipped = bytearray(data["media"])
    flipped[at] ^= 0xFF
    peer, replica, body = centre(recording)
    body["files"]["media"]["sha256"] = hashlib.sha256(flipped).hexdigest()
    replica = offer_replica(peer=peer, offer=Offer(**body))  # the altered declaration
    for kind in sending_order(body["files"]):
        sent = bytes(flipped) if kind == "media" else data[kind]
        assert stream(peer, replica, kind, body["files"][kind], sent).accepted
    media = incoming_media(replica)
    assert "pieces" in central.received_digest(media)
    with opens_of(media) as opens:
        answer = commit_replica(peer=peer, replica_id=replica.pk)
        opened = opens[os.fspath(media)]
    assert not answer.acknowledged
    failed = {c.name: c for c in answer.checks if not c.ok}
    assert {"media_hash", "segment_chain"} <= set(failed)
    assert failed["segment_chain"].code == "piece_bytes"
    assert failed["segment_chain"].params["index"] == 11
    assert opened == 0  # the piece was named from the hashes taken on arrival
    assert Replica.objects.get(pk=replica.pk).state == "refused"


def test_r19_piece_hashes_fed_in_any_chunks_match_one_pass_over_the_file(tmp_path):
    """``PieceHasher`` fed as a stream arrives (random chunk sizes, copied mid-way as a cut
    upload's kept state is) gives exactly the hashes of ``sha256_file_with_pieces``."""
    chance = random.Random(23)
    data = chance.randbytes(50_000)
    path = tmp_path / "media"
    path.write_bytes(data)
    pieces, offset = [], 0
    while offset < len(data) + 2_000:  # the last pieces run past the end of the file
        length = chance.choice([0, chance.randrange(1, 3_000)])
        pieces.append(Piece(len(pieces), offset, length, "", ""))
        offset += length
    hasher, position = PieceHasher(pieces), 0
    while position < len(data):
        size = chance.randrange(1, 5_000)
        hasher.update(data[position : position + size])
        position += size
        if chance.random() < 0.3:
            hasher = hasher.copy()
    expected = sha256_file_with_pieces(path, pieces, buffer_size=4_096).piece_hashes
    assert hasher.hashes() == expected
    assert expected[-1] is None and expected[0] is not None
