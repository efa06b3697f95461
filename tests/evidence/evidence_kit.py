"""Helpers for the evidence tests (a module of its own: test files import it by name)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from replication import sealed_factory
from taspa.recorder.models import Recording
from taspa.sealing import democa
from taspa.sealing.layout import SealedFiles
from taspa.sealing.reading import write_sealed

PASSWORD = "pin-1234"
GROUP = ("media", "signature", "manifest", "manifest_signature")


@dataclass
class Pki:
    ca: democa.DemoCA
    ca_pem: Path
    tsa: democa.DemoTsa
    renewal_tsa: democa.DemoTsa


def long_lived_tsa(ca: democa.DemoCA, name: str, days: int = 3650) -> democa.DemoTsa:
    """A TSA certificate valid ``days`` (the TSA a renewal uses once the first one's certificate
    nears its end)."""
    return democa.issue_tsa(ca, name, days=days)


def sealed_recording(world, spool: Path, court: str = "a", size: int = 200_000) -> Recording:
    """A criminal hearing in ``court`` with a sealed recording of ``size`` pseudo-random bytes
    (the replication tests' factory: one way to make a sealed recording in the suite)."""
    return sealed_factory.sealed_recording(world, spool, court=court, size=size)


def download(recording: Recording, directory: Path) -> SealedFiles:
    """The recording's media, signatures and manifest as files side by side."""
    directory.mkdir(parents=True, exist_ok=True)
    return write_sealed(recording, directory, kinds=GROUP)


def flip_byte(path: Path, offset: int) -> None:
    os.chmod(path, 0o600)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
