"""Fixtures for evidence records: a test PKI with a real RFC 3161 TSA on loopback, and
recordings sealed through the recorder's real sealing (CMS signatures, blob store)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from evidence_kit import PASSWORD, Pki, long_lived_tsa

from sealing.sealkit import LocalTsa
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Pki:
    directory = tmp_path_factory.mktemp("evidence-pki")
    ca = democa.create_ca("Evidence Test Root CA", valid_days=36500)
    (directory / "ca.pem").write_bytes(ca.pem)
    tsa = democa.issue_tsa(ca, "Evidence Test TSA")  # valid for a year, as usual
    return Pki(ca, directory / "ca.pem", tsa, long_lived_tsa(ca, "Evidence Renewal TSA"))


@pytest.fixture
def tsa(pki):
    server = LocalTsa(pki.tsa).start()
    yield server
    server.stop()


@pytest.fixture
def renewal_tsa(pki):
    server = LocalTsa(pki.renewal_tsa).start()
    yield server
    server.stop()


@dataclass
class Court:
    world: object
    spool: Path


@pytest.fixture
def court(world, settings, tmp_path, pki, tsa) -> Court:
    """A court server with its blob store, trust anchors and TSA; the secretaries of courts
    A and B hold registered EDS keys."""
    settings.TASPA_HOME = tmp_path / "home"
    settings.TASPA_HOME.mkdir()
    settings.TASPA_STORAGE = f"file://{tmp_path / 'blobs'}"
    settings.TASPA_TRUST_ANCHORS = str(pki.ca_pem)
    settings.TASPA_TSA_URL = tsa.url
    for key in ("a", "b"):
        register_signing_key(
            actor=world.admin,
            user=world.person("secretary", key),
            p12=democa.issue_p12(pki.ca, common_name=f"Secretary {key}", password=PASSWORD),
            password=PASSWORD,
        )
    return Court(world, tmp_path / "spool")
