"""R23: a file's rest streamed to a real centre in one request (the route in front of Django):
the same credential rule as the API, the whole file checked against its Repr-Digest, the
bytes a centre holds proved by the court's Prefix-Digest before more count."""

import hashlib
import os
import time

import pytest

from taspa.replication.client import CentralError, Fault, HttpCentral, TransferBroken

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DATA = os.urandom(3 * 1024 * 1024 + 17)
SHA = hashlib.sha256(DATA).hexdigest()


def offer(peer: HttpCentral, court: str = "court-a", data: bytes = DATA) -> int:
    spec = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    small = {"sha256": "a" * 64, "bytes": 10}
    answer = peer.offer(
        {
            "court": court,
            "source_id": 1,
            "file_name": f"{court}_1_2024-01-01_h1.ts",
            "files": {"media": spec}
            | {k: small for k in ("signature", "manifest", "manifest_signature")},
            "metadata": {"case": {"number": "1", "kind": "civil"}},
            "metadata_version": 1,
        }
    )
    assert answer["offsets"]["media"] == 0
    return answer["id"]


def pieces(data: bytes, size: int = 256 * 1024):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def held(peer: HttpCentral, replica: int, total: int = len(DATA)) -> int:
    return peer.put_chunk(replica, "media", 0, b"", total)["offset"]


def test_r23_a_whole_file_in_one_request_is_received_and_checked(central):
    peer = HttpCentral(central.url, central.court_token())
    replica = offer(peer)
    answer = peer.put_stream(replica, "media", 0, len(DATA), (SHA, ""), pieces(DATA))
    assert answer == {"offset": len(DATA), "total": len(DATA), "complete": True}
    assert held(peer, replica) == len(DATA)


def test_r23_a_streamed_file_that_is_not_its_digest_is_not_taken_as_received(central):
    peer = HttpCentral(central.url, central.court_token())
    replica = offer(peer)
    wrong = DATA[:1000] + b"?" + DATA[1001:]
    answer = peer.put_stream(replica, "media", 0, len(DATA), (SHA, ""), pieces(wrong))
    assert answer["error"] == "repr_digest_mismatch" and answer["offset"] == len(DATA)
    # Kept whole for the commit, which re-hashes it (no digest of its own was noted), refuses,
    # quarantines and alarms (test_r23_tampered_replica_is_refused_and_alarmed).
    noted = central.query(
        "import json; from pathlib import Path; from django.conf import settings;"
        "print(json.dumps(sorted(p.name for p in"
        " (Path(settings.TASPA_HOME) / 'replication' / 'incoming').rglob('*'))))"
    )
    assert noted == [str(replica), "court-a_1_2024-01-01_h1.ts"]


def test_r23_held_bytes_count_only_when_the_court_proves_them(central):
    peer = HttpCentral(central.url, central.court_token())
    replica = offer(peer)
    cut = 1_000_000
    # The connection drops after ``cut`` bytes: the centre keeps them as its offset.
    _stream_cut(central, replica, cut)
    assert held(peer, replica) == cut
    # A resume whose prefix digest is not the centre's bytes: they are discarded.
    other = hashlib.sha256(b"other").hexdigest()
    refused = peer.put_stream(replica, "media", cut, len(DATA), (SHA, other), pieces(DATA[cut:]))
    assert refused["error"] == "prefix_digest_mismatch" and refused["offset"] == 0
    assert held(peer, replica) == 0
    # Cut again, then resumed with the right prefix digest: the rest completes the file.
    _stream_cut(central, replica, cut)
    assert held(peer, replica) == cut
    prefix = hashlib.sha256(DATA[:cut]).hexdigest()
    done = peer.put_stream(replica, "media", cut, len(DATA), (SHA, prefix), pieces(DATA[cut:]))
    assert done["offset"] == len(DATA) and done["complete"]


def test_r23_a_stream_is_refused_without_a_court_credential(central):
    stranger = HttpCentral(central.url, "tsp_not-a-token")
    court_b = HttpCentral(central.url, central.court_token("court-b"))
    replica = offer(HttpCentral(central.url, central.court_token()))
    with pytest.raises(CentralError) as unknown:
        stranger.put_stream(replica, "media", 0, len(DATA), (SHA, ""), pieces(DATA))
    assert (unknown.value.status, unknown.value.code) == (401, "unauthorized")
    with pytest.raises(CentralError) as other_court:
        court_b.put_stream(replica, "media", 0, len(DATA), (SHA, ""), pieces(DATA))
    assert (other_court.value.status, other_court.value.code) == (403, "wrong_court")
    admin = HttpCentral(central.url, central.admin_token)  # a person's token: not a court's
    with pytest.raises(CentralError) as person:
        admin.put_stream(replica, "media", 0, len(DATA), (SHA, ""), pieces(DATA))
    assert (person.value.status, person.value.code) == (403, "not_a_peer")


def _stream_cut(central, replica: int, after: int) -> None:
    """The body's first ``after`` bytes, then the connection is cut (the client's test hook);
    the centre has put them away once it answers the next query with them."""
    cutting = HttpCentral(central.url, central.court_token(), fault=Fault(after_bytes=after))
    with pytest.raises(TransferBroken):
        cutting.put_stream(replica, "media", 0, len(DATA), (SHA, ""), pieces(DATA))
    query = HttpCentral(central.url, central.court_token())
    deadline = time.monotonic() + 10
    while held(query, replica) != after and time.monotonic() < deadline:
        time.sleep(0.05)
