"""The centre's API in process (R23): court tokens, a court writing only its own recordings,
Content-Range chunks verified by their digest, silence alarms, and the status answers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from taspa.audit.models import AuditEvent
from taspa.replication import central
from taspa.replication.models import Alarm, Peer, Replica, Witness
from taspa.replication.policy import content_digest, content_range

DATA = b"x" * 1000


@pytest.fixture
def centre(settings):
    settings.TASPA_ROLE = "central"


def offer_body(court: str = "court-a", source_id: int = 1) -> dict:
    spec = {"sha256": "a" * 64, "bytes": len(DATA)}
    return {
        "court": court,
        "source_id": source_id,
        "file_name": "court-a_1_2024-01-01_h1.ts",
        "files": {k: spec for k in ("media", "signature", "manifest", "manifest_signature")},
        "metadata": {"case": {"number": "1", "kind": "civil"}},
        "metadata_version": 1,
        "audit_head": {"seq": 3, "hash": "b" * 64},
    }


def token_client(api_as, world, court: str):
    client = api_as(None)
    answer = api_as(world.admin).post(f"/courts/{world.courts[court].pk}/replication-token")
    assert answer.status_code == 201
    client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    return client


def put(client, path: str, data: bytes, start: int, total: int, digest: str | None = None):
    return client.client.put(
        f"/api/v1{path}",
        data=data,
        content_type="application/octet-stream",
        headers=client.headers
        | {
            "Content-Range": content_range(start, len(data), total),
            "Content-Digest": digest or content_digest(data),
        },
    )


def test_r23_replication_token_only_at_the_centre_and_for_admins(world, api_as, settings):
    court = world.courts["a"].pk
    assert api_as(world.admin).post(f"/courts/{court}/replication-token").status_code == 409
    settings.TASPA_ROLE = "central"
    assert (
        api_as(world.person("court_admin")).post(f"/courts/{court}/replication-token").status_code
        == 403
    )
    answer = api_as(world.admin).post(f"/courts/{court}/replication-token")
    assert answer.status_code == 201 and answer.json()["token"].startswith("tsp_")
    assert AuditEvent.objects.filter(action="replication.enrol").count() == 1


def test_r23_a_court_writes_only_its_own_recordings(world, api_as, centre):
    court_a, court_b = token_client(api_as, world, "a"), token_client(api_as, world, "b")
    refused = court_b.post("/replication/replicas", offer_body("court-a"))
    assert refused.status_code == 403 and refused.json()["error"] == "wrong_court"
    offered = court_a.post("/replication/replicas", offer_body("court-a"))
    assert offered.status_code == 200, offered.json()
    replica = offered.json()["id"]
    path = f"/replication/replicas/{replica}/files/media"
    assert put(court_b, path, DATA[:100], 0, len(DATA)).status_code == 403
    assert court_b.post(f"/replication/replicas/{replica}/commit").status_code == 403
    # A person's token is not a court's credential either.
    assert api_as(world.admin).post("/replication/replicas", offer_body()).status_code == 403


def test_r23_chunks_count_only_at_the_verified_offset_with_their_digest(world, api_as, centre):
    client = token_client(api_as, world, "a")
    replica = client.post("/replication/replicas", offer_body()).json()["id"]
    path = f"/replication/replicas/{replica}/files/media"
    first = put(client, path, DATA[:400], 0, len(DATA))
    assert first.status_code == 200 and first.json()["offset"] == 400
    assert first["Range"] == "bytes=0-399"
    skipped = put(client, path, DATA[500:600], 500, len(DATA))
    assert skipped.status_code == 409 and skipped.json() == {
        "offset": 400, "total": 1000, "complete": False,
        "error": "offset_mismatch", "detail": skipped.json()["detail"],
    }  # fmt: skip
    bad = put(client, path, DATA[400:600], 400, len(DATA), digest=content_digest(b"other"))
    assert bad.status_code == 409 and bad.json()["error"] == "chunk_digest_mismatch"
    again = put(client, path, DATA[:400], 0, len(DATA))  # a chunk sent twice counts once
    assert again.json()["offset"] == 400
    status = client.client.put(
        f"/api/v1{path}", data=b"", content_type="application/octet-stream",
        headers=client.headers | {"Content-Range": f"bytes */{len(DATA)}"},
    )  # fmt: skip
    assert status.json()["offset"] == 400
    offered_again = client.post("/replication/replicas", offer_body()).json()
    assert offered_again["id"] == replica and offered_again["offsets"]["media"] == 400
    incomplete = client.post(f"/replication/replicas/{replica}/commit")
    assert incomplete.status_code == 409 and incomplete.json()["error"] == "incomplete"
    assert Replica.objects.count() == 1
    assert Witness.objects.get().seq == 3


def test_r23_a_court_silent_over_26_hours_raises_one_alarm(world, api_as, centre):
    client = token_client(api_as, world, "a")
    peer = Peer.objects.get(court=world.courts["a"])
    Peer.objects.filter(pk=peer.pk).update(last_seen_at=timezone.now() - timedelta(hours=25))
    assert central.raise_silence_alarms().startswith("0 ")
    Peer.objects.filter(pk=peer.pk).update(last_seen_at=timezone.now() - timedelta(hours=27))
    assert central.raise_silence_alarms().startswith("1 ")
    assert central.raise_silence_alarms().startswith("0 ")  # one open alarm per court
    status = api_as(world.admin).get("/replication/status").json()
    court_a = next(c for c in status["courts"] if c["court"] == "court-a")
    assert court_a["silent"] is True and court_a["alarms"][0]["kind"] == "silent"
    client.post("/replication/replicas", offer_body())  # heard from again: the alarm clears
    assert Alarm.objects.get().cleared_at is not None
    alarms = api_as(world.person("regional_staff", "a")).get("/replication/alarms").json()
    assert [a["kind"] for a in alarms["items"]] == ["silent"]
    assert api_as(world.person("regional_staff", "z")).get("/replication/alarms").json() == {
        "items": []
    }
