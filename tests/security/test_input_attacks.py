"""Hostile input (R19, R20): path traversal, oversized and malformed uploads, and CSRF.

* Every parameter that reaches the file system (an agent's upload file, a medium's mount
  point, a replica's file names and kinds, a case number in a sealed file's name, a playback
  file, a blob key, static files) refuses ``..``, encoded ``..`` and absolute paths with 4xx,
  and nothing is written outside the store.
* Bodies larger than the server takes are refused with 413 before they are stored.
* Malformed uploads (bad JSON, a wrong content type, a bad or lying Content-Range, a wrong
  SHA-256) get a clear error in the contract's shape, and nothing already stored changes.
* Every state-changing web form refuses a request without its CSRF token; so does the API
  when it is called with a session cookie instead of a bearer token.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from replication.sealed_factory import sealed_recording
from security.scene import Scene
from taspa.courts import actions as court_actions
from taspa.recorder import actions as recorder
from taspa.recorder.journal import CHAIN_GENESIS, chain_link
from taspa.recorder.models import Recording
from taspa.recorder.remote import upload_dir
from taspa.recorder.uploads import MAX_CHUNK
from taspa.replication.central import enrol_court
from taspa.replication.policy import MAX_CHUNK_BYTES, content_digest
from taspa.sealing.layout import SealedRecording
from taspa.sealing.models import SigningKey
from taspa.storage.store import get_store

TRAVERSALS = [
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%2E%2E/%2E%2E/escape",
    "..",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "media/../../escape",
    "media%00",
    "..\\..\\escape",
]


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its SHA-256: what a refused request must leave alone."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _contract_error(answer) -> bool:
    body = answer.json()
    return isinstance(body.get("error"), str) and isinstance(body.get("detail"), str)


def _recording_hearing(scene: Scene):
    """Court A's idle hearing, started by its secretary: the agent is now uploading."""
    recorder.start_recording(actor=scene.users["secretary@own"], hearing=scene.hearing)
    return scene.hearing


def _agent_put(scene: Scene, hearing_id: int, which: str, data: bytes, content_range: str | None):
    headers = {"Content-Range": content_range} if content_range is not None else {}
    return scene.api("agent@own").generic(
        "PUT",
        f"/api/v1/agent/courtrooms/{scene.room.pk}/uploads/{hearing_id}/files/{which}",
        data,
        content_type="application/octet-stream",
        headers=headers,
    )


# --- path traversal ------------------------------------------------------------------------


def test_r20_agent_upload_file_names_cannot_leave_the_upload_directory(scene: Scene, tmp_path):
    hearing = _recording_hearing(scene)
    before = _tree(tmp_path)
    wrong = []
    for which in TRAVERSALS:
        answer = _agent_put(scene, hearing.pk, which, b"evil", "bytes 0-3/*")
        if not 400 <= answer.status_code < 500:
            wrong.append(f"{which} → {answer.status_code}")
    for ids in ("..%2F1", "1%2F..%2F..", "-1", "1.5", "%2e%2e"):
        answer = scene.api("agent@own").get(
            f"/api/v1/agent/courtrooms/{scene.room.pk}/uploads/{ids}"
        )
        if not 400 <= answer.status_code < 500:
            wrong.append(f"uploads/{ids} → {answer.status_code}")
    assert wrong == []
    assert _tree(tmp_path) == before
    assert not Path("/etc/passwd.taspa").exists() and not (tmp_path.parent / "escape").exists()


def test_r33_medium_mount_outside_the_media_roots_wipes_nothing(scene: Scene, tmp_path):
    """A medium is wiped only under the configured mount roots (R33); ``..``, absolute paths
    elsewhere and Taspa's own home are refused and the files there stay."""
    fresh = sealed_recording(scene.world, scene.home / "spool-2", size=2048, court="a")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me", encoding="utf-8")
    root = tmp_path / "mnt"
    client = scene.api("secretary@own")
    wrong = []
    for mount in (
        f"{root}/../victim",
        str(victim),
        str(root),
        f"{root}/%2e%2e/victim",
        str(scene.home),
        "/",
        "/etc",
        "../../victim",
    ):
        answer = client.post(
            f"/api/v1/recordings/{fresh.pk}/medium",
            {"mount": mount},
            content_type="application/json",
        )
        if answer.status_code != 422 or not _contract_error(answer):
            wrong.append(f"{mount} → {answer.status_code}")
    assert wrong == []
    assert (victim / "precious.txt").read_text(encoding="utf-8") == "keep me"


def test_r20_case_number_cannot_steer_a_sealed_file_out_of_the_store(scene: Scene):
    world = scene.world
    case = court_actions.register_case(
        actor=world.admin, court=scene.court, number="../../../../tmp/evil", kind="civil"
    )
    hearing = court_actions.schedule_hearing(
        actor=world.admin,
        case=case,
        courtroom=scene.room,
        instance="first",
        closed=False,
        judge=scene.users["judge@own"],
        secretary=scene.users["secretary@own"],
        scheduled_at=scene.hearing.scheduled_at,
        participants=[],
        circumstances={},
    )
    from datetime import timedelta

    from django.utils import timezone

    from taspa.recorder.actions import seal_stopped

    spool = scene.home / "spool-evil"
    spool.mkdir()
    media = spool / "capture.ts"
    media.write_bytes(b"\x47" * 1880)
    now = timezone.now()
    # the hearing stands where a stop leaves it: stopped, not yet sealed
    type(hearing).objects.filter(pk=hearing.pk).update(state="stopped")
    recording = Recording.objects.create(
        hearing=hearing,
        state=Recording.State.STOPPED,
        spool_dir=str(spool),
        started_at=now - timedelta(seconds=2),
        stopped_at=now,
        container="mpegts",
        sha256=hashlib.sha256(media.read_bytes()).hexdigest(),
        bytes=1880,
        duration_s=2.0,
        media_path=str(media),
    )
    sealed = seal_stopped(recording)
    assert "/" not in sealed.file_name and ".." not in sealed.file_name
    assert SealedRecording.of(sealed).complete  # its bytes are blobs, named by digest only
    assert not (scene.home / "recordings").exists()
    assert not Path("/tmp/evil").exists()


@pytest.mark.parametrize(
    "url",
    [
        "/static/../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2fsettings.py",
        "/static/web/../../settings.py",
        "/static/web/%2e%2e/%2e%2e/settings.py",
        "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd",
        "/static/web/..%5c..%5csettings.py",
    ],
)
def test_r20_static_files_do_not_reach_outside_static(url, db):
    answer = Client().get(url)
    assert answer.status_code == 404
    body = b"".join(answer.streaming_content) if answer.streaming else answer.content
    assert b"root:" not in body and b"SECRET_KEY" not in body


def test_r20_playback_file_names_are_a_closed_list(scene: Scene):
    client = scene.web("secretary@own")
    base = f"/recordings/{scene.recording.pk}/files/"
    assert client.get(base + "peaks.json").status_code == 200
    for name in (*TRAVERSALS, "peaks.json%00", ".peaks.json", "PEAKS.JSON", "track-99.webm"):
        assert client.get(base + name).status_code == 404, name


@pytest.mark.parametrize("language", ["../../etc/passwd", "..%2F..%2Fx", "/etc/passwd", "k k"])
def test_r20_document_language_is_not_a_path(scene: Scene, language: str):
    client = scene.api("secretary@own")
    for url in (
        f"/api/v1/recordings/{scene.recording.pk}/protocol-extract",
        f"/api/v1/acts/{scene.act.pk}/pdf",
        f"/api/v1/destruction-acts/{scene.destruction_act.pk}/pdf",
        f"/api/v1/media/{scene.medium.pk}/label",
        f"/api/v1/petitions/{scene.copy_petition.pk}/form",
    ):
        answer = client.get(url, {"language": language})
        assert answer.status_code == 422 and _contract_error(answer), url


def test_r19_blob_keys_are_digests_not_paths(scene: Scene):
    store = get_store()
    for key in ("../../etc/passwd", "/etc/passwd", "..", "a" * 63 + "/", "A" * 64):
        with pytest.raises(Exception, match="SHA-256"):
            store.open(key)
        with pytest.raises(Exception, match="SHA-256"):
            store.exists(key)


@pytest.fixture
def centre(scene: Scene, settings):
    """This server as the central one, and court A's server enrolled with a token."""
    settings.TASPA_ROLE = "central"
    token = enrol_court(actor=None, court=scene.court)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _offer(file_name: str = "court-a_1_2024-01-01_h1.ts", kinds=None) -> dict:
    spec = {"sha256": "a" * 64, "bytes": 100}
    kinds = kinds or ("media", "signature", "manifest", "manifest_signature")
    return {
        "court": "court-a",
        "source_id": 1,
        "file_name": file_name,
        "files": {kind: spec for kind in kinds},
        "metadata": {"case": {"number": "1", "kind": "civil"}},
        "metadata_version": 1,
    }


def test_r23_replica_names_and_kinds_cannot_leave_the_incoming_directory(scene, centre, tmp_path):
    before = _tree(tmp_path)
    wrong = []
    for name in (*TRAVERSALS, "a/../../b.ts", ".hidden.ts"):
        answer = centre.post("/api/v1/replication/replicas", _offer(name), "application/json")
        if answer.status_code != 422:
            wrong.append(f"file_name {name} → {answer.status_code}")
    evil_kinds = ("media", "signature", "manifest", "manifest_signature", "../../escape")
    answer = centre.post(
        "/api/v1/replication/replicas", _offer(kinds=evil_kinds), "application/json"
    )
    if answer.status_code != 422:
        wrong.append(f"kind ../../escape → {answer.status_code}")
    assert wrong == []
    assert _tree(tmp_path) == before
    offered = centre.post("/api/v1/replication/replicas", _offer(), "application/json")
    assert offered.status_code == 200
    replica = offered.json()["id"]
    for kind in TRAVERSALS:
        answer = centre.generic(
            "PUT",
            f"/api/v1/replication/replicas/{replica}/files/{kind}",
            b"x" * 100,
            content_type="application/octet-stream",
            headers={"Content-Range": "bytes 0-99/100", "Content-Digest": content_digest(b"x")},
        )
        assert 400 <= answer.status_code < 500, kind
    assert _tree(tmp_path) == before


# --- oversized bodies -----------------------------------------------------------------------


def test_r20_json_body_over_the_limit_is_413_and_nothing_is_made(scene: Scene, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    body = {"number": "2-big", "kind": "civil", "court": "court-a", "pad": "x" * 5000}
    answer = scene.api("secretary@own").post("/api/v1/cases", body, "application/json")
    assert answer.status_code == 413 and answer.json()["error"] == "request_too_large"
    assert not scene.court.cases.filter(number="2-big").exists()


def test_r20_default_request_limit_is_configurable_and_fits_an_agent_chunk(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE >= MAX_CHUNK


def test_r19_agent_chunk_over_the_limit_is_413_and_not_stored(scene: Scene):
    hearing = _recording_hearing(scene)
    held = _agent_put(scene, hearing.pk, "media", b"\x47" * 188, "bytes 0-187/*")
    assert held.json() == {"offset": 188}
    big = b"\x47" * (MAX_CHUNK + 1)
    answer = _agent_put(scene, hearing.pk, "media", big, f"bytes 188-{188 + len(big) - 1}/*")
    assert answer.status_code == 413 and answer.json()["error"] == "chunk_too_large"
    huge = b"\x47" * (3 << 20)  # over the request limit: refused before it is read
    answer = _agent_put(scene, hearing.pk, "media", huge, f"bytes 188-{188 + len(huge) - 1}/*")
    assert answer.status_code == 413 and answer.json()["error"] == "request_too_large"
    assert (upload_dir(hearing.pk) / "recording.ts").stat().st_size == 188


def test_r14_signing_key_file_over_the_limit_is_413(scene: Scene):
    from django.core.files.uploadedfile import SimpleUploadedFile

    secretary = scene.users["secretary@own"]
    keys = SigningKey.objects.filter(user=secretary).count()
    answer = scene.api("court_admin@own").post(
        f"/api/v1/users/{secretary.pk}/signing-key",
        {"p12": SimpleUploadedFile("key.p12", b"\x30" * (65 * 1024)), "password": "x"},
    )
    assert answer.status_code == 413 and answer.json()["error"] == "p12_too_large"
    assert SigningKey.objects.filter(user=secretary).count() == keys


def test_r23_replication_chunk_over_the_limit_is_413(scene, centre):
    offer = _offer()
    offer["files"]["media"] = {"sha256": "a" * 64, "bytes": MAX_CHUNK_BYTES * 2}
    replica = centre.post("/api/v1/replication/replicas", offer, "application/json").json()["id"]
    answer = centre.generic(
        "PUT",
        f"/api/v1/replication/replicas/{replica}/files/media",
        b"x" * 10,
        content_type="application/octet-stream",
        headers={"Content-Range": f"bytes 0-{MAX_CHUNK_BYTES}/{MAX_CHUNK_BYTES * 2}"},
    )
    assert answer.status_code == 413 and answer.json()["error"] == "chunk_too_large"


# --- malformed uploads ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"number": "2-1", "kind": ', "application/json"),
        ("not json at all", "application/json"),
        ('["a", "list"]', "application/json"),
        ("number=2-1&kind=civil&court=court-a", "application/x-www-form-urlencoded"),
        ('{"number": "2-1", "kind": "civil", "court": "court-a"}', "text/plain"),
        ("\xff\xfe\x00garbage", "application/json"),
        ('{"number": "2-1", "kind": "civil", "court": "court-a"}', "application/xml"),
    ],
)
def test_r20_malformed_json_gets_a_clear_contract_error(scene: Scene, body, content_type):
    cases = scene.court.cases.count()
    answer = scene.api("secretary@own").generic("POST", "/api/v1/cases", body, content_type)
    expected = 415 if content_type != "application/json" else (422 if "list" in body else 400)
    assert answer.status_code == expected, answer.content
    assert _contract_error(answer)
    assert scene.court.cases.count() == cases


def test_r20_nul_characters_are_refused_before_the_database(scene: Scene):
    """PostgreSQL stores U+0000 neither in text nor in JSON: refused in bodies, keys and
    queries alike, with the contract's error."""
    client = scene.api("secretary@own")
    cases = scene.court.cases.count()
    for body in (
        {"number": "2-\x00", "kind": "civil", "court": "court-a"},
        {"number": "2-1", "kind": "civil", "court": "court-a", "x\x00": 1},
        {"number": "2-1", "kind": "civil", "court": "court-a", "x": ["\x00"]},
    ):
        answer = client.post("/api/v1/cases", body, "application/json")
        assert answer.status_code == 422 and answer.json()["error"] == "nul_character", body
    assert scene.court.cases.count() == cases
    for url in ("/api/v1/recordings?court=%00", "/api/v1/hearings?state=idle%00"):
        answer = client.get(url)
        assert answer.status_code == 422 and answer.json()["error"] == "nul_character", url


@pytest.mark.parametrize(
    "moment",
    ["2030-01-01T10:00:00", "2031-04-01T15:26:25-20:33", "2030-01-01T10:00:00+23:59", "soon"],
)
def test_r20_times_need_a_sane_utc_offset(scene: Scene, moment: str):
    """A naive time is ambiguous and refused; an aware one is kept as UTC, whatever offset it
    came with (PostgreSQL cannot store offsets beyond ±15:59)."""
    body = {
        "case": scene.case.pk,
        "courtroom": scene.room.pk,
        "instance": "first",
        "judge": "judge-a",
        "secretary": "secretary-a",
        "scheduled_at": moment,
    }
    answer = scene.api("secretary@own").post("/api/v1/hearings", body, "application/json")
    if moment in ("2030-01-01T10:00:00", "soon"):
        assert answer.status_code == 422 and answer.json()["error"] == "invalid_input"
    else:
        assert answer.status_code == 201, answer.json()
        hearing = scene.case.hearings.get(pk=answer.json()["id"])
        assert hearing.scheduled_at.utcoffset().total_seconds() == 0


def test_r19_agent_upload_with_a_bad_content_range_changes_nothing(scene: Scene):
    hearing = _recording_hearing(scene)
    assert _agent_put(scene, hearing.pk, "media", b"\x47" * 10, "bytes 0-9/*").status_code == 200
    path = upload_dir(hearing.pk) / "recording.ts"
    held = path.read_bytes()
    cases = [
        (None, 422, "content_range"),  # missing
        ("bytes=10-19", 422, "content_range"),  # a Range, not a Content-Range
        ("bytes 19-10/*", 422, "content_range"),  # backwards
        ("bytes 10-99/*", 422, "content_range"),  # claims more than the body holds (truncated)
        ("bytes 10-14/*", 422, "content_range"),  # claims less than the body holds
        ("bytes -5-4/*", 422, "content_range"),
        ("bytes 0-9/*", 409, "offset_mismatch"),  # rewriting what the server holds
        ("bytes 5-14/*", 409, "offset_mismatch"),  # overlapping it
        ("bytes 20-29/*", 409, "offset_mismatch"),  # leaving a hole
    ]
    wrong = []
    for content_range, status, code in cases:
        answer = _agent_put(scene, hearing.pk, "media", b"\x00" * 10, content_range)
        if answer.status_code != status or answer.json().get("error") != code:
            wrong.append(f"{content_range} → {answer.status_code} {answer.content[:80]!r}")
    assert wrong == []
    assert path.read_bytes() == held


def test_r19_upload_with_a_wrong_sha256_is_not_sealed(scene: Scene):
    """The journal's chain holds but the agent's whole-file SHA-256 does not match the bytes:
    the server refuses to seal, discards the upload for a resend, and seals nothing."""
    hearing = _recording_hearing(scene)
    media = b"\x47" * 376
    piece = hashlib.sha256(media).hexdigest()
    chain = chain_link(CHAIN_GENESIS, piece)
    journal = "".join(
        json.dumps(line) + "\n"
        for line in (
            {"type": "start", "container": "mpegts"},
            {
                "type": "piece",
                "index": 0,
                "offset": 0,
                "length": 376,
                "sha256": piece,
                "chain": chain,
            },
            {"type": "stop", "bytes": 376, "sha256": "f" * 64, "chain_head": chain},
        )
    ).encode()
    assert _agent_put(scene, hearing.pk, "media", media, "bytes 0-375/*").status_code == 200
    end = len(journal) - 1
    assert _agent_put(scene, hearing.pk, "journal", journal, f"bytes 0-{end}/*").status_code == 200
    answer = scene.api("agent@own").post(
        f"/api/v1/agent/courtrooms/{scene.room.pk}/uploads/{hearing.pk}/complete"
    )
    assert answer.status_code == 409 and answer.json()["error"] == "upload_unverified"
    assert "SHA-256" in answer.json()["detail"]
    recording = Recording.objects.get(hearing=hearing)
    assert recording.state == Recording.State.CAPTURING and not recording.sha256
    assert not (upload_dir(hearing.pk) / "recording.ts").exists()  # the agent sends it again


def _stored(recording: Recording) -> dict[str, bytes]:
    blobs = SealedRecording.of(recording).blobs()
    return {kind: get_store().open(digest).read() for kind, digest in blobs.items()}


def test_r19_nothing_appends_to_a_sealed_recording(scene: Scene):
    """The sealed recording's courtroom agent cannot add a byte to it, and its blobs stay."""
    before = _stored(scene.recording)
    hearing = scene.sealed_hearing
    for which in ("media", "journal"):
        answer = _agent_put(scene, hearing.pk, which, b"evil", "bytes 0-3/*")
        assert answer.status_code in (409, 422), which
    complete = scene.api("agent@own").post(
        f"/api/v1/agent/courtrooms/{scene.room.pk}/uploads/{hearing.pk}/complete"
    )
    assert complete.status_code < 500
    assert _stored(Recording.objects.get(pk=scene.recording.pk)) == before
    assert Recording.objects.get(pk=scene.recording.pk).sha256 == scene.recording.sha256


def test_r14_malformed_signing_key_uploads_are_422(scene: Scene):
    from django.core.files.uploadedfile import SimpleUploadedFile

    secretary = scene.users["secretary@own"]
    url = f"/api/v1/users/{secretary.pk}/signing-key"
    client = scene.api("court_admin@own")
    keys = SigningKey.objects.filter(user=secretary).count()
    garbage = client.post(url, {"p12": SimpleUploadedFile("k.p12", b"garbage"), "password": "x"})
    assert garbage.status_code == 422 and garbage.json()["error"] == "p12_unreadable"
    as_json = client.post(url, {"p12": "abc", "password": "x"}, content_type="application/json")
    assert as_json.status_code in (400, 422) and _contract_error(as_json)
    no_file = client.post(url, {"password": "x"})
    assert no_file.status_code == 422 and _contract_error(no_file)
    assert SigningKey.objects.filter(user=secretary).count() == keys


def test_r23_replication_chunk_with_a_wrong_digest_is_not_kept(scene, centre):
    replica = centre.post("/api/v1/replication/replicas", _offer(), "application/json").json()["id"]
    url = f"/api/v1/replication/replicas/{replica}/files/media"
    data = b"y" * 100

    def put(content_range: str, digest: str):
        return centre.generic(
            "PUT",
            url,
            data,
            content_type="application/octet-stream",
            headers={"Content-Range": content_range, "Content-Digest": digest},
        )

    wrong = put("bytes 0-99/100", content_digest(b"z" * 100))
    assert wrong.status_code == 409 and wrong.json()["error"] == "chunk_digest_mismatch"
    assert wrong.json()["offset"] == 0
    bad = put("bytes 0-99", content_digest(data))
    assert bad.status_code == 422 and bad.json()["error"] == "bad_content_range"
    short = put("bytes 0-199/200", content_digest(data))
    assert 400 <= short.status_code < 500


# --- CSRF -----------------------------------------------------------------------------------

SAMPLES = {"operation": "start", "name": "peaks.json", "app_label": "courts", "url": "x/"}


def _routes(resolver: URLResolver, prefix: str = "") -> list[tuple[str, str]]:
    """Every URL pattern as a concrete path (converters filled with samples) and its name."""
    found = []
    for pattern in resolver.url_patterns:
        route = _concrete(str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            found += _routes(pattern, prefix + route)
        elif isinstance(pattern, URLPattern):
            found.append(("/" + prefix + route, pattern.name or ""))
    return found


def _concrete(route: str) -> str:
    route = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: SAMPLES.get(m[2], "1"), route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLES.get(m[1], "1"), route)
    return route.lstrip("^").rstrip("$").replace("\\", "")


def test_r20_every_web_form_refuses_a_post_without_the_csrf_token(scene: Scene):
    """Walks every URL pattern outside the API (which authenticates by bearer token): any
    POST, PUT or DELETE without the token is refused with 403 before the view runs."""
    routes = [(p, n) for p, n in _routes(get_resolver()) if not p.startswith("/api/")]
    assert len(routes) > 20  # the web UI, the access pages, sign-in and the admin site
    client = Client(enforce_csrf_checks=True)
    client.force_login(scene.users["system_admin"])
    operator = Client(enforce_csrf_checks=True)
    operator.force_login(scene.users["secretary@own"])
    wrong = []
    for path, name in routes:
        for who in (client, operator):
            for method in ("post", "put", "delete"):
                answer = getattr(who, method)(path, {"language": "ru"})
                if answer.status_code != 403:
                    wrong.append(f"{method.upper()} {path} ({name}) → {answer.status_code}")
    assert wrong == []


def test_r20_console_button_with_the_csrf_token_works_and_without_it_does_nothing(
    scene: Scene,
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(scene.users["secretary@own"])
    url = f"/hearings/{scene.hearing.pk}/console/start"
    assert client.post(url).status_code == 403
    scene.hearing.refresh_from_db()
    assert scene.hearing.state == "idle"
    page = client.get(f"/hearings/{scene.hearing.pk}/console")
    token = page.cookies["csrftoken"].value
    assert client.post(url, HTTP_X_CSRFTOKEN=token).status_code == 200
    scene.hearing.refresh_from_db()
    assert scene.hearing.state == "recording"


def test_r20_sign_in_and_language_forms_need_the_csrf_token(scene: Scene):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/login/", {"username": "secretary-a", "password": "pw"}).status_code == 403
    assert "_auth_user_id" not in client.session
    assert client.post("/language/", {"language": "ru"}).status_code == 403


def test_r20_api_with_a_session_cookie_needs_the_csrf_token(scene: Scene):
    """The API also takes the web session (django-ninja's ``django_auth``): without the CSRF
    token a state-changing call is refused and changes nothing."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(scene.users["secretary@own"])
    start = f"/api/v1/hearings/{scene.hearing.pk}/start"
    refused = client.post(start)
    assert refused.status_code == 403
    scene.hearing.refresh_from_db()
    assert scene.hearing.state == "idle"
    assert client.get(f"/api/v1/hearings/{scene.hearing.pk}").status_code == 200
    token = client.get("/").cookies["csrftoken"].value
    # A form body is refused as any non-JSON body is (415), never a 500.
    as_form = client.post(start, {"override_reason": "x"}, HTTP_X_CSRFTOKEN=token)
    assert as_form.status_code == 415 and as_form.json()["error"] == "unsupported_media_type"
    started = client.post(start, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert started.status_code == 200
