"""R23 with two real Taspa instances on loopback: this test's database and store are the court
server; a ``taspa serve`` subprocess with TASPA_ROLE=central, its own TASPA_HOME, SQLite and
blob store is the regional centre."""

import hashlib
import random
import time
import urllib.request
from datetime import date

import pytest
from sealed_factory import flip_stored_byte

from taspa.incidents.models import Incident
from taspa.recorder.models import Recording
from taspa.replication import court as court_side
from taspa.replication.client import Fault, HttpCentral
from taspa.replication.court import Progress, replicate
from taspa.replication.models import Outgoing, ReplicationRun
from taspa.retention.actions import set_judgment_effective
from taspa.sealing.layout import SealedRecording
from taspa.storage.store import get_store

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def centre_media(central, token: str, recording_id: int) -> bytes:
    request = urllib.request.Request(  # noqa: S310 — http on loopback
        f"{central.url}/api/v1/recordings/{recording_id}/media",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return response.read()


def held_at_centre(central) -> list[dict]:
    status, body = central.call("GET", "/recordings?court=court-a")
    assert status == 200, body
    return body["items"]


def test_r23_replicated_recordings_are_byte_identical_at_the_centre(
    make_sealed, central, small_chunks, world, api_as
):
    recordings = [make_sealed(size=700_000), make_sealed(size=250_000)]
    steps: list[Progress] = []
    result = replicate(
        central=HttpCentral(central.url, central.court_token()), progress=steps.append
    )
    assert (result.sent, result.failed, result.broken) == (2, 0, False)
    assert result.bytes > 950_000 and any(s.done < s.total for s in steps)  # chunked
    held = {item["file_name"]: item for item in held_at_centre(central)}
    assert set(held) == {r.file_name for r in recordings}
    for recording in recordings:
        item = held[recording.file_name]
        assert item["sha256"] == recording.sha256 and item["court"] == "court-a"
        media = centre_media(central, central.admin_token, item["id"])
        assert media == get_store().open(recording.sha256).read()
    # The centre verified what it holds with its own trust anchors.
    checks = central.query(
        "import json; from taspa.replication.models import Replica;"
        "print(json.dumps([r.state for r in Replica.objects.all()]))"
    )
    assert checks == ["acknowledged", "acknowledged"]
    _, centre_status = central.call("GET", "/replication/status")
    court_a = next(c for c in centre_status["courts"] if c["court"] == "court-a")
    assert court_a["held"] == 2 and court_a["last_replicated_at"] and not court_a["silent"]
    court_status = api_as(world.admin).get("/replication/status").json()
    assert court_status["pending"] == 0 and court_status["last_acknowledged_at"]
    assert court_status["last_run"]["sent"] == 2


def test_r23_sending_twice_stores_once(make_sealed, central):
    recording = make_sealed(size=200_000)
    peer = HttpCentral(central.url, central.court_token())
    assert replicate(central=peer).sent == 1
    assert replicate(central=peer).sent == 0  # nothing changed: nothing pending
    # The acknowledgement was lost: the court sends again; the centre stores nothing new.
    Outgoing.objects.update(pending=True, acked_version=0, state="pending")
    again = replicate(central=peer)
    assert (again.sent, again.bytes) == (1, 0)
    assert [i["sha256"] for i in held_at_centre(central)] == [recording.sha256]
    blobs = central.query(
        "import json; from taspa.storage.store import get_store;"
        "print(json.dumps(len(list(get_store().iter_digests()))))"
    )
    assert blobs == 4  # media, signature, manifest, manifest signature: once each


def test_r23_broken_transfers_resume_from_the_verified_offset_20_times(
    make_sealed, central, record_property
):
    """The sender's connection is cut mid-stream at 20 random points; each run resumes
    exactly where the centre stood after the cut (every byte that arrived counts, proved by
    the court's Prefix-Digest before more are taken), never from zero; the end result is
    identical bytes, one replica each."""
    recordings = [make_sealed(size=600_000) for _ in range(4)]
    total = sum(r.bytes for r in recordings)
    token, chance = central.court_token(), random.Random(23)
    sent_before_cuts, resumed_mid_file, last_cut = 0, 0, None
    for run in range(20):
        steps: list[Progress] = []
        fault = Fault(after_bytes=chance.randrange(1, 140_000))
        peer = HttpCentral(central.url, token, fault=fault)
        result = replicate(central=peer, progress=steps.append)
        assert result.broken and fault.fired, f"run {run} was not cut"
        if last_cut is not None:
            where, cut_at = last_cut
            first = next(s for s in steps if (s.file_name, s.kind) == where)
            assert first.resumed_from == first.done == cut_at, f"run {run}"
            resumed_mid_file += first.resumed_from > 0
        cut = steps[-1]  # the file being streamed when the connection was cut
        last_cut = ((cut.file_name, cut.kind), fault.cut_at)
        _settled(peer, cut, fault.cut_at)
        sent_before_cuts += result.bytes
    assert resumed_mid_file >= 10
    assert sent_before_cuts < total  # 20 cuts and still work left: never started over
    final = replicate(central=HttpCentral(central.url, token))
    assert not final.broken and final.failed == 0
    # Bytes received count once: the bytes sent in all runs add up to the files, plus at
    # most what was on the wire at each cut (never a restart from zero).
    media_total = sent_before_cuts + final.bytes
    record_property("cuts", 20)
    record_property("runs resumed mid-file", resumed_mid_file)
    assert media_total <= total + 20 * 2 * 64 * 1024 + 200_000
    held = held_at_centre(central)
    assert sorted(i["sha256"] for i in held) == sorted(r.sha256 for r in recordings)
    for item in held:
        local = next(r for r in recordings if r.sha256 == item["sha256"])
        media = centre_media(central, central.admin_token, item["id"])
        assert hashlib.sha256(media).hexdigest() == local.sha256
    assert ReplicationRun.objects.count() == 21


def test_r20_court_refuses_to_send_a_replica_over_wrong_bytes(make_sealed, central):
    """The court hashes what it sends: bytes that fail their sealed digest are not sent, the
    recording is marked failed with an incident, and the centre holds nothing of it."""
    recording = make_sealed(size=3_000_000)
    flip_stored_byte(recording.sha256, 2_900_000)  # bit rot or tampering after sealing
    result = replicate(central=HttpCentral(central.url, central.court_token()))
    assert (result.sent, result.failed) == (0, 1)
    assert "fixity_failed" in result.errors[0]
    assert held_at_centre(central) == []
    assert Recording.objects.get(pk=recording.pk).fixity_ok is False
    assert Incident.objects.filter(hearing=recording.hearing, kind="fixity_failed").count() == 1


def test_r23_tampered_replica_is_refused_and_alarmed(make_sealed, central, monkeypatch):
    """The centre's own check, on a court that does not check what it sends."""
    recording = make_sealed(size=200_000)
    flip_stored_byte(recording.sha256, 1000)  # bit rot or tampering after sealing
    monkeypatch.setattr(court_side, "require_servable", lambda r, store=None: SealedRecording.of(r))
    monkeypatch.setattr(court_side, "verified_chunks", _unchecked)
    result = replicate(central=HttpCentral(central.url, central.court_token()))
    assert (result.sent, result.failed) == (0, 1)
    assert "replica_not_verified" in result.errors[0]
    assert held_at_centre(central) == []
    _, alarms = central.call("GET", "/replication/alarms")
    assert [a["kind"] for a in alarms["items"]] == ["refused"]
    assert Outgoing.objects.get().state == "failed"


def test_r23_metadata_changes_follow_the_recording(make_sealed, central, world):
    recording = make_sealed(size=100_000)
    peer = HttpCentral(central.url, central.court_token())
    replicate(central=peer)
    set_judgment_effective(
        actor=world.admin, case=recording.hearing.case, effective_on=date(2025, 3, 1)
    )
    assert Outgoing.objects.get().pending
    result = replicate(central=peer)
    assert (result.sent, result.bytes) == (1, 0)  # metadata only, no bytes again
    held = central.query(
        "import json; from taspa.courts.models import Case;"
        "from taspa.replication.models import Replica;"
        "r = Replica.objects.get();"
        "print(json.dumps([str(Case.objects.get(court__code='court-a').judgment_effective_on),"
        " r.metadata['retention']['retention_until']]))"
    )
    assert held == ["2025-03-01", "2026-03-01"]


def test_r23_taspa_replicate_shows_progress(make_sealed, central, settings, capsys):
    from django.core.management import call_command

    recording = make_sealed(size=300_000)
    settings.TASPA_CENTRAL_URL, settings.TASPA_CENTRAL_TOKEN = central.url, central.court_token()
    call_command("replicate")
    out = capsys.readouterr().out
    assert f"{recording.file_name} media:" in out and "100%" in out
    assert "done: 1 acknowledged, 0 failed" in out
    assert [i["sha256"] for i in held_at_centre(central)] == [recording.sha256]


def _settled(peer: HttpCentral, cut: Progress, cut_at: int) -> None:
    """Wait until the centre has put away the cut upload: it holds every byte sent before
    the cut (loopback loses none), fsync'd, as the offset the next run is offered."""
    remote = Outgoing.objects.filter(recording__file_name=cut.file_name).get().remote_id
    deadline = time.monotonic() + 10
    while True:
        held = peer.put_chunk(remote, cut.kind, 0, b"", cut.total)["offset"]
        if held == cut_at or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    peer.close()
    assert held == cut_at


def _unchecked(recording, kind, store=None):
    with get_store().open(SealedRecording.of(recording).digest(kind)) as stream:
        while chunk := stream.read(1 << 20):
            yield chunk
