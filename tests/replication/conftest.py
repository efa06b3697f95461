"""Fixtures for replication: a PKI trusted by both ends, sealed recordings at the court (the
test's database), and a real central server process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from central_server import CentralServer
from sealed_factory import Pki, clean_env, make_pki, register_key, sealed_recording

from taspa.replication import court as court_side


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def central_template(tmp_path_factory) -> Path:
    """A migrated central TASPA_HOME, copied for each central server (migrating takes time)."""
    home = tmp_path_factory.mktemp("central-template")
    env = clean_env(TASPA_HOME=str(home), TASPA_ROLE="central")
    result = subprocess.run(
        [sys.executable, "-m", "taspa", "migrate", "--verbosity", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for leftover in home.glob("*"):
        if leftover.is_dir():
            shutil.rmtree(leftover)
    return home


@pytest.fixture
def court_home(settings, tmp_path, pki):
    """This test's court server: its own sealed directory and blob store, the shared PKI."""
    settings.TASPA_HOME = tmp_path / "court"
    settings.TASPA_STORAGE = f"file://{tmp_path / 'court' / 'blobs'}"
    settings.TASPA_TRUST_ANCHORS = str(pki.anchors)
    settings.TASPA_ROLE = "court"
    settings.TASPA_COURT = "court-a"
    (tmp_path / "court").mkdir()
    return tmp_path / "court"


@pytest.fixture
def make_sealed(world, pki, court_home):
    register_key(world, pki, "a")
    register_key(world, pki, "b")

    def make(size: int = 300_000, court: str = "a", piece: int | None = None):
        return sealed_recording(world, court_home / "spool", size=size, court=court, piece=piece)

    return make


@pytest.fixture
def central(tmp_path, pki, central_template):
    server = CentralServer(tmp_path / "central", pki.anchors, central_template).start()
    yield server
    server.stop()


@pytest.fixture
def small_chunks(monkeypatch):
    """64 KiB chunks, so a few hundred kilobytes make many chunks."""
    monkeypatch.setattr(court_side, "CHUNK_BYTES", 64 * 1024)


@pytest.fixture
def locked_s3_store(s3_server, locked_bucket):
    """An ``S3BlobStore`` on a fresh object-locked bucket of the session's SeaweedFS, its client
    configured as the store's own (SigV4 presigning, checksums only where required)."""
    import boto3
    from botocore.config import Config

    from seaweed import ACCESS_KEY, REGION, SECRET_KEY
    from taspa.storage.s3store import S3BlobStore

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=s3_server.endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    yield S3BlobStore(locked_bucket, client=client)
    client.close()
