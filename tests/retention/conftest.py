"""Fixtures for retention: sealed recordings at a court with its own store and archive."""

from __future__ import annotations

import pytest

from replication.sealed_factory import make_pki, register_key, sealed_recording


@pytest.fixture
def court_home(settings, tmp_path):
    pki = make_pki(tmp_path)
    settings.TASPA_HOME = tmp_path / "court"
    settings.TASPA_STORAGE = f"file://{tmp_path / 'court' / 'blobs'}"
    settings.TASPA_ARCHIVE_STORAGE = f"file://{tmp_path / 'archive'}"
    settings.TASPA_TRUST_ANCHORS = str(pki.anchors)
    settings.TASPA_RETENTION_YEARS = 1
    (tmp_path / "court").mkdir()
    return pki


@pytest.fixture
def make_sealed(world, court_home, tmp_path):
    register_key(world, court_home, "a")

    def make(size: int = 120_000):
        return sealed_recording(world, tmp_path / "court" / "spool", size=size, court="a")

    return make
