"""Fixtures for sealing: demo CAs, PKCS#12 keys, and recordings with their segment journal."""

from __future__ import annotations

import pytest
from sealkit import LocalTsa, Pki

from taspa.sealing import democa


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = democa.create_ca("Taspa Test Root CA")
    other = democa.create_ca("Some Other CA", key_type="rsa2048")
    (directory / "ca.pem").write_bytes(ca.pem)
    (directory / "other.pem").write_bytes(other.pem)
    return Pki(ca, other, directory / "ca.pem", directory / "other.pem")


@pytest.fixture(scope="session")
def demo_tsa(pki) -> democa.DemoTsa:
    return democa.issue_tsa(pki.ca)


@pytest.fixture
def tsa(demo_tsa):
    server = LocalTsa(demo_tsa).start()
    yield server
    server.stop()
