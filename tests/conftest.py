"""Fixtures shared by the whole suite: a small judicial world and API clients per role."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from seaweed import SeaweedServer
from taspa.api.actions import issue_token
from taspa.courts import actions
from taspa.courts.actions import RoleGrant
from taspa.courts.models import Case, Court, Courtroom, Hearing, User
from taspa.courts.policy import Role
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key


@dataclass
class World:
    """Court A and B in region Almaty, court R the Almaty regional (appeal) court, court Z in
    another region. ``people[(role, court_code)]`` is a user holding that role there."""

    admin: User
    courts: dict[str, Court]
    rooms: dict[str, Courtroom]
    people: dict[tuple[str, str], User] = field(default_factory=dict)

    def person(self, role: str, court: str = "a") -> User:
        return self.people[(role, court)]

    def case(self, court: str = "a", kind: str = "civil", number: str | None = None) -> Case:
        number = number or f"{court}-{kind}-{Case.objects.count() + 1}"
        return actions.register_case(
            actor=self.admin, court=self.courts[court], number=number, kind=kind
        )

    def hearing(
        self,
        court: str = "a",
        kind: str = "civil",
        instance: str = "first",
        closed: bool = False,
        **circumstances: bool,
    ) -> Hearing:
        return actions.schedule_hearing(
            actor=self.admin,
            case=self.case(court, kind),
            courtroom=self.rooms[court],
            instance=instance,
            closed=closed,
            judge=self.person("judge", court),
            secretary=self.person("secretary", court),
            scheduled_at=timezone.now(),
            participants=[{"name": "Әсел Үмбетова", "role": "plaintiff"}],
            circumstances=circumstances,
        )


COURTS = {
    "a": ("court-a", "district", "Almaty"),
    "b": ("court-b", "district", "Almaty"),
    "r": ("court-r", "regional", "Almaty"),
    "z": ("court-z", "district", "Astana"),
}
COURT_ROLES = [r for r in Role if r != Role.SYSTEM_ADMIN]


def pytest_collection_modifyitems(config, items):
    """With TASPA_TEST_DATABASE_ONLY=1 (the PostgreSQL pass of scripts/test) run only the tests
    that use the test database: the rest (media engine, subprocess servers with their own
    SQLite, storage) behave the same whatever DATABASE_URL says, and already ran once."""
    if os.environ.get("TASPA_TEST_DATABASE_ONLY") != "1":
        return
    database = {"db", "transactional_db", "django_db_setup"}
    keep = [
        item
        for item in items
        if item.get_closest_marker("django_db") or database & set(getattr(item, "fixturenames", ()))
    ]
    dropped = [i for i in items if i not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


_TRIGGERS = importlib.import_module("taspa.audit.migrations.0003_append_only_triggers")


@pytest.fixture(autouse=True)
def _audit_triggers_allow_flush(request):
    """Transactional tests end with a flush of every table, which the audit log's append-only
    triggers refuse: lift them for the flush only, and put them back for the next test."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        yield
        return
    request.getfixturevalue("transactional_db")  # set up first, so flushed after our teardown
    with connection.schema_editor() as editor:
        _TRIGGERS.backwards(None, editor)
        _TRIGGERS.forwards(None, editor)
    yield
    with connection.schema_editor() as editor:
        _TRIGGERS.backwards(None, editor)


@pytest.fixture
def world(db) -> World:
    admin = actions.bootstrap_system_admin(username="root", full_name="Root", password="pw")
    courts, rooms = {}, {}
    for key, (code, level, region) in COURTS.items():
        courts[key] = actions.create_court(
            actor=admin, code=code, name=f"Court {key.upper()}", level=level, region=region
        )
        rooms[key] = actions.create_courtroom(
            actor=admin,
            court=courts[key],
            name="Room 1",
            sources=[{"kind": "audio", "format": "lavfi", "input": "sine=frequency=440"}],
        )
    built = World(admin=admin, courts=courts, rooms=rooms)
    for key, court in courts.items():
        for role in COURT_ROLES:
            built.people[(role.value, key)] = actions.create_user(
                actor=admin,
                username=f"{role.value}-{key}",
                full_name=f"{role.value} of {key}",
                roles=[RoleGrant(role=role.value, court=court)],
                password="pw",
            )
    return built


class ApiClient:
    """A Django test client speaking JSON with a bearer token."""

    def __init__(self, user: User | None) -> None:
        self.client = Client()
        self.headers = {}
        if user is not None:
            self.headers["Authorization"] = f"Bearer {issue_token(actor=None, user=user)}"

    def _call(self, method: str, path: str, body=None, raw: str | None = None):
        data = raw if raw is not None else (None if body is None else body)
        return getattr(self.client, method)(
            f"/api/v1{path}",
            data=data,
            content_type="application/json",
            headers=self.headers,
        )

    def get(self, path: str):
        return self.client.get(f"/api/v1{path}", headers=self.headers)

    def post(self, path: str, body=None, raw: str | None = None):
        return self._call("post", path, body, raw)


@pytest.fixture
def api_as():
    return ApiClient


SIGNING_PIN = "pin-1234"


@pytest.fixture(scope="session")
def signing_ca() -> democa.DemoCA:
    """One demo CA for the session's signing keys (creating a CA is the slow part)."""
    return democa.create_ca("Taspa Test Court CA")


@pytest.fixture
def register_signer(world, signing_ca, settings, tmp_path) -> Callable[..., User]:
    """``register_signer(user, common_name=None)``: the user gets a registered EDS key (PIN
    ``pin-1234``) issued by ``signing_ca``, which this test's TASPA_TRUST_ANCHORS trust — so
    the user seals a recording (R14) and signs an act (R18)."""
    anchors = tmp_path / "trust-anchors.pem"
    anchors.write_bytes(signing_ca.pem)
    settings.TASPA_TRUST_ANCHORS = str(anchors)

    def register(user: User, common_name: str | None = None) -> User:
        p12 = democa.issue_p12(
            signing_ca, common_name=common_name or str(user), password=SIGNING_PIN
        )
        register_signing_key(actor=world.admin, user=user, p12=p12, password=SIGNING_PIN)
        return user

    return register


@pytest.fixture
def signing_secretary(world, register_signer) -> User:
    """Court A's secretary with a registered EDS key (PIN ``pin-1234``) that this test's trust
    anchors accept: a stop seals the recording (R14)."""
    return register_signer(world.person("secretary"), common_name="Айгүл Жұмабаева")


@pytest.fixture
def loop_device(tmp_path) -> Iterator[tuple[str, Path]]:
    """A real block device, as a USB stick stands in the court: a loop device over a 32 MiB
    image with an ext4 file system labelled OLDSTICK holding somebody's old file (old.doc),
    mounted at a directory under tmp_path: (device, mount point). Root and losetup only (the
    test is skipped otherwise); the finalizer unmounts it and detaches it (losetup -d)."""
    if os.geteuid() != 0:
        pytest.skip("loop devices and mounting need root")
    if shutil.which("losetup") is None:
        pytest.skip("losetup (util-linux) is not installed: no loop device to format")
    image = tmp_path / "stick.img"
    with open(image, "wb") as handle:
        handle.truncate(32 << 20)
    found = subprocess.run(
        ["losetup", "--find", "--show", str(image)], capture_output=True, text=True, timeout=30
    )
    if found.returncode != 0:
        pytest.skip(f"no loop device: {found.stderr.strip()}")
    device = found.stdout.strip()
    point = tmp_path / "stick"
    point.mkdir()
    try:
        subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "OLDSTICK", device], check=True, timeout=60)
        subprocess.run(["mount", device, str(point)], check=True, timeout=30)
        (point / "old.doc").write_text("somebody's old file")
        yield device, point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False, timeout=30)
        subprocess.run(["losetup", "-d", device], check=False, timeout=30)


# A real S3 server (SeaweedFS) for every test that needs one, started once per session.


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """One SeaweedFS (master, volume, filer, S3) on free loopback ports for the session."""
    server = SeaweedServer(tmp_path_factory.mktemp("seaweedfs")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_client(s3_server: SeaweedServer) -> Iterator[Any]:
    client = s3_server.client()
    yield client
    client.close()


@pytest.fixture
def locked_bucket(s3_client: Any) -> str:
    """A fresh bucket with object lock (and so versioning) enabled."""
    name = f"taspa-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium through Playwright, one for the whole session: Playwright's sync API
    runs an event loop on the main thread, so a second instance (another folder's browser
    tests) could not start beside the first."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
