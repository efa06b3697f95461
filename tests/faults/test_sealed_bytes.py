"""R19, R20 (issue 13): the bytes served are the bytes sealed, or the request is refused.

Every reader of a sealed recording takes its bytes from the blob store by digest. Behind
Taspa's back the store's content-addressed files are swapped with another hearing's, deleted,
or have a byte flipped; the API, copies and the archive then serve exactly the sealed bytes or
refuse with 409 ``fixity_failed`` and an incident — never a 500, never another hearing's
audio, never a copy signed over wrong bytes. The old attack on the named files under
``TASPA_HOME/recordings`` has nothing left to act on.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from django.conf import settings

from taspa.access.copies import copies_dir
from taspa.access.models import Copy
from taspa.courts.models import Hearing
from taspa.incidents.models import Incident
from taspa.recorder import actions as recorder
from taspa.recorder.models import Recording
from taspa.retention import archive
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key
from taspa.sealing.fixity import run_fixity
from taspa.sealing.reading import SealedBytesRefused, write_sealed
from taspa.sealing.verify import verify_recording
from taspa.storage.store import get_store

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def secretary(world, settings, tmp_path):
    settings.TASPA_HOME = tmp_path / "home"
    settings.TASPA_HOME.mkdir()
    settings.TASPA_STORAGE = f"file://{tmp_path / 'blobs'}"
    ca = democa.create_ca("Sealed Bytes CA")
    (tmp_path / "ca.pem").write_bytes(ca.pem)
    settings.TASPA_TRUST_ANCHORS = str(tmp_path / "ca.pem")
    person = world.person("secretary")
    register_signing_key(
        actor=world.admin,
        user=person,
        p12=democa.issue_p12(ca, common_name="Secretary", password="pw"),
        password="pw",
    )
    return person


@pytest.fixture
def two(world, secretary) -> list[Recording]:
    """Two hearings recorded and sealed in the server, of different lengths."""
    recordings = []
    for seconds in (1.2, 2.4):
        hearing = world.hearing(court="a", kind="civil")
        recorder.start_recording(actor=secretary, hearing=hearing)
        time.sleep(seconds)
        hearing = Hearing.objects.get(pk=hearing.pk)
        recordings.append(recorder.stop_recording(actor=secretary, hearing=hearing))
    assert all(r.state == Recording.State.SEALED for r in recordings)
    return recordings


@pytest.fixture
def staff(world, api_as, secretary):
    return api_as(secretary)


def blob_path(digest: str) -> Path:
    return get_store().path(digest)


def writable(path: Path) -> Path:
    os.chmod(path, 0o644)
    return path


def media(staff, recording: Recording, byte_range: str | None = None):
    headers = staff.headers | ({"Range": byte_range} if byte_range else {})
    return staff.client.get(f"/api/v1/recordings/{recording.pk}/media", headers=headers)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def sealed_bytes(recording: Recording) -> bytes:
    """What the store held when sealed (read before any attack): its digest is the sealed one."""
    data = get_store().open(recording.sha256).read()
    assert hashlib.sha256(data).hexdigest() == recording.sha256
    return data


def refused(response) -> bool:
    return response.status_code == 409 and response.json()["error"] == "fixity_failed"


def incidents(recording: Recording) -> int:
    return Incident.objects.filter(hearing=recording.hearing, kind="fixity_failed").count()


def petition_copy(staff, recording: Recording):
    petition = staff.post(
        "/petitions",
        {
            "hearing": recording.hearing_id,
            "kind": "copy",
            "applicant": {"name": "Әсел Үмбетова", "role": "plaintiff", "address": "", "phone": ""},
            "delivery": "online",
            "personal_data_warning_acknowledged": True,
        },
    ).json()
    return staff.post(f"/petitions/{petition['id']}/fulfil")


def test_r19_no_named_files_and_the_old_swap_has_no_effect(two, staff, tmp_path):
    one, other = two
    assert not (Path(settings.TASPA_HOME) / "recordings").exists()  # nothing to swap there
    # The old attack: another hearing's bytes put where the named file used to be.
    named = Path(settings.TASPA_HOME) / "recordings" / "court-a" / one.file_name
    named.parent.mkdir(parents=True)
    named.write_bytes(sealed_bytes(other))
    whole = media(staff, one)
    assert whole.status_code == 200 and body(whole) == sealed_bytes(one)
    part = media(staff, one, "bytes=188-5000")
    assert part.status_code == 206 and body(part) == sealed_bytes(one)[188:5001]
    assert staff.get(f"/recordings/{one.pk}/signature").content == (
        get_store().open(one.signature_digest).read()
    )
    manifest = staff.get(f"/recordings/{one.pk}/manifest").content
    assert str(tmp_path).encode() not in manifest and b"media_path" not in manifest
    # What a user downloads verifies.
    files = write_sealed(one, tmp_path / "download")
    assert all(c.ok for c in verify_recording(files.media))


def test_r19_swapped_blob_is_refused_with_an_incident_never_served(two, staff):
    """Hearing 2's stored bytes moved over hearing 1's content-addressed file (and its .p7s):
    neither the media nor a copy of hearing 1 ever carries hearing 2's audio."""
    one, other = two
    target = writable(blob_path(one.sha256))
    target.write_bytes(sealed_bytes(other))
    writable(blob_path(one.signature_digest)).write_bytes(
        get_store().open(other.signature_digest).read()
    )
    assert refused(media(staff, one))
    assert incidents(one) == 1
    assert refused(media(staff, one, "bytes=0-187"))  # now marked failed: refused outright
    assert refused(staff.get(f"/recordings/{one.pk}/signature"))
    assert refused(staff.get(f"/recordings/{one.pk}/manifest"))
    assert incidents(one) == 1  # one incident for the discovery, not one per request
    answer = petition_copy(staff, one)
    assert refused(answer) and not Copy.objects.exists() and not list(copies_dir().glob("*.zip"))
    assert run_fixity().failed == 1
    # The other hearing is untouched and still served.
    assert body(media(staff, other)) == sealed_bytes(other)


def test_r20_deleted_blob_is_refused_with_409_never_500(two, staff):
    one, other = two
    blob_path(one.sha256).unlink()
    for path in ("/media", "/signature", "/manifest", "/manifest/signature"):
        answer = staff.client.get(f"/api/v1/recordings/{one.pk}{path}", headers=staff.headers)
        assert refused(answer), (path, answer.status_code)
    assert incidents(one) == 1
    # Only the signature's blob gone: its endpoint refuses, with its own incident.
    blob_path(other.signature_digest).unlink()
    assert refused(staff.get(f"/recordings/{other.pk}/signature"))
    assert incidents(other) == 1
    assert refused(media(staff, other))  # marked failed: nothing of it is served


def test_r20_flipped_byte_whole_download_never_completes(two, staff):
    """Same size, one byte flipped: the cheap checks pass, the hash as it streams does not; the
    response is cut before its last chunk, the recording is marked failed, an incident opened."""
    one, _ = two
    good = sealed_bytes(one)
    path = writable(blob_path(one.sha256))
    data = bytearray(good)
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    answer = media(staff, one)
    assert answer.status_code == 200
    with pytest.raises(SealedBytesRefused):
        body(answer)
    assert incidents(one) == 1
    assert Recording.objects.get(pk=one.pk).fixity_ok is False
    assert refused(media(staff, one))


def test_r20_flipped_byte_range_is_checked_piece_by_piece(two, staff):
    """A Range is checked against the sealed journal's pieces: bytes away from the flip are
    served exactly; a range over it is cut before the damaged piece goes out."""
    one, _ = two
    good = sealed_bytes(one)
    flip = len(good) - 1000
    path = writable(blob_path(one.sha256))
    data = bytearray(good)
    data[flip] ^= 0xFF
    path.write_bytes(bytes(data))
    early = media(staff, one, "bytes=0-999")
    assert early.status_code == 206 and body(early) == good[:1000]
    late = media(staff, one, f"bytes={flip - 10}-{flip + 10}")
    assert late.status_code == 206
    with pytest.raises(SealedBytesRefused):
        body(late)
    assert incidents(one) == 1
    assert refused(media(staff, one, "bytes=0-999"))


def test_r31_copy_is_never_signed_over_wrong_bytes(two, staff):
    """A flipped byte that no check has seen yet: the copy hashes the original as it copies it
    and refuses before signing; no copy, no zip, one incident."""
    one, other = two
    path = writable(blob_path(one.sha256))
    data = bytearray(sealed_bytes(one))
    data[500] ^= 0xFF
    path.write_bytes(bytes(data))
    assert Recording.objects.get(pk=one.pk).fixity_ok is None  # not yet seen by fixity
    answer = petition_copy(staff, one)
    assert refused(answer), answer.content
    assert not Copy.objects.exists() and not list(copies_dir().glob("*.zip"))
    assert incidents(one) == 1
    good = petition_copy(staff, other)  # the intact hearing's copy is made and verifies
    assert good.status_code == 200, good.content


def test_r27_archive_package_is_refused_over_wrong_bytes(two, tmp_path):
    one, _ = two
    writable(blob_path(one.manifest_digest)).write_bytes(b'{"format":"forged"}')
    with pytest.raises(SealedBytesRefused):
        archive.build_package(Recording.objects.get(pk=one.pk), tmp_path / "staging")
    assert incidents(one) == 1


# --- two web processes, one PostgreSQL/SQLite database, one SeaweedFS bucket -------------------

SEAL = """
import time
from taspa.courts.models import Hearing
from taspa.demo import install_demo_keys, seed_demo
from taspa.recorder import actions as recorder
world = seed_demo()
install_demo_keys(world)
recorder.start_recording(actor=world.secretary, hearing=world.hearing)
time.sleep(3)
hearing = Hearing.objects.get(pk=world.hearing.pk)
print(recorder.stop_recording(actor=world.secretary, hearing=hearing).state)
"""
TOKEN = """
import json
from taspa.api.actions import issue_token
from taspa.courts.models import User
from taspa.recorder.models import Recording
r = Recording.objects.get(state="sealed")
print(json.dumps({"id": r.pk, "sha256": r.sha256, "bytes": r.bytes,
                  "signature": r.signature_digest, "manifest": r.manifest_digest,
                  "token": issue_token(actor=None, user=User.objects.get(username="secretary"))}))
"""


def _get(url: str, token: str, byte_range: str | None = None) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    headers = {"Authorization": f"Bearer {token}"} | ({"Range": byte_range} if byte_range else {})
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http://127.0.0.1 only)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_r20_a_second_web_process_serves_the_sealed_bytes_from_s3(
    s3_server, s3_client, locked_bucket, tmp_path
):
    """One ``taspa`` seals a recording into SeaweedFS; a second ``taspa serve`` with its own,
    empty TASPA_HOME (another machine), the same database and the same bucket serves its media
    (whole and with Range), signature and manifest, byte for byte as sealed."""
    import json
    import subprocess
    import sys

    from agent_harness import clean_env, free_port, wait_for

    shared = {
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'shared.db'}",
        "TASPA_STORAGE": f"s3://{locked_bucket}",
        **s3_server.env,
    }
    if shared["DATABASE_URL"].startswith("postgres"):
        pytest.skip("needs a database of its own: the PostgreSQL pass runs it in the SQLite one")
    first, second = tmp_path / "web1", tmp_path / "web2"
    first.mkdir()
    second.mkdir()

    def taspa(home: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "taspa", *args],
            env=clean_env(home) | shared, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    migrated = taspa(first, "migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    sealed = taspa(first, "shell", "-c", SEAL)
    assert sealed.stdout.strip().endswith("sealed"), sealed.stdout + sealed.stderr
    found = json.loads(taspa(first, "shell", "-c", TOKEN).stdout.strip().splitlines()[-1])
    assert not (first / "recordings").exists()
    key = f"sha256/{found['sha256'][:2]}/{found['sha256'][2:4]}/{found['sha256']}"
    stored = s3_client.get_object(Bucket=locked_bucket, Key=key)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == found["sha256"]

    port = free_port()
    log = open(second / "serve.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "taspa", "serve", "--no-migrate", "--no-worker",
         "--addr", f"127.0.0.1:{port}"],
        env=clean_env(second) | shared, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    log.close()
    base = f"http://127.0.0.1:{port}/api/v1/recordings/{found['id']}"
    try:

        def up() -> bool:
            assert server.poll() is None, (second / "serve.log").read_text(errors="replace")
            try:
                return _get(base, found["token"])[0] == 200
            except OSError:
                return False

        wait_for("the second server", up, 60, lambda: (second / "serve.log").read_text())
        status, whole = _get(f"{base}/media", found["token"])
        assert status == 200 and hashlib.sha256(whole).hexdigest() == found["sha256"]
        status, part = _get(f"{base}/media", found["token"], "bytes=1000-50999")
        assert status == 206 and part == stored[1000:51000]
        status, tail = _get(f"{base}/media", found["token"], "bytes=-188")
        assert status == 206 and tail == stored[-188:]
        status, signature = _get(f"{base}/signature", found["token"])
        assert status == 200 and hashlib.sha256(signature).hexdigest() == found["signature"]
        status, manifest = _get(f"{base}/manifest", found["token"])
        assert status == 200 and hashlib.sha256(manifest).hexdigest() == found["manifest"]
        assert json.loads(manifest)["file"]["sha256"] == found["sha256"]
        assert not (second / "recordings").exists() and not (second / "blobs").exists()
        # Someone with the bucket's keys overwrites the object (a new version on top of ours):
        # the second server refuses it, for every process of the court.
        s3_client.put_object(Bucket=locked_bucket, Key=key, Body=stored[:-188])
        status, answer = _get(f"{base}/media", found["token"], "bytes=0-187")
        assert status == 409 and json.loads(answer)["error"] == "fixity_failed"
        status, answer = _get(f"{base}/signature", found["token"])
        assert status == 409 and json.loads(answer)["error"] == "fixity_failed"
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
