"""Fixtures for the blob store suite: a real SeaweedFS S3 server and a store per backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from seaweed import SeaweedServer

from taspa.storage.store import BlobStore, FileBlobStore, S3BlobStore


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


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """The same suite runs against both backends."""
    if request.param == "file":
        return FileBlobStore(tmp_path / "blobs")
    client = request.getfixturevalue("s3_client")
    return S3BlobStore(request.getfixturevalue("locked_bucket"), client=client)
