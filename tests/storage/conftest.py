"""Fixtures for the blob store suite: a real SeaweedFS S3 server and a store per backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from taspa.storage.store import BlobStore, FileBlobStore, S3BlobStore


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """The same suite runs against both backends."""
    if request.param == "file":
        return FileBlobStore(tmp_path / "blobs")
    client = request.getfixturevalue("s3_client")
    return S3BlobStore(request.getfixturevalue("locked_bucket"), client=client)
