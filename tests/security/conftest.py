"""Fixtures of the security suite: the scene (security/scene.py) and what it needs once."""

from __future__ import annotations

import pytest

from replication.sealed_factory import Pki, make_pki
from security.scene import Scene, build_scene, make_blank_pdf


@pytest.fixture(scope="session")
def security_pki(tmp_path_factory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("security-pki"))


@pytest.fixture(scope="session")
def blank_pdf() -> bytes:
    return make_blank_pdf()


@pytest.fixture
def scene(world, settings, tmp_path, security_pki, blank_pdf) -> Scene:
    return build_scene(world, settings, tmp_path, security_pki, blank_pdf)
