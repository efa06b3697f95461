"""Fixtures of the web pages' tests: court A's secretary able to seal (a registered signing key
that this test's trust anchors accept), a hearing for the console whose recorder is stopped
after the test, and browsers (Django test clients) signed in by user name."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client

from taspa.courts.models import Hearing, User
from taspa.recorder import runtime
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key

PASSWORD = "pin-1234"


@pytest.fixture
def signing_secretary(world, settings, tmp_path) -> User:
    """Court A's secretary with a registered EDS key (PIN ``pin-1234``) issued by a test CA
    that TASPA_TRUST_ANCHORS trusts: a stop in the console seals the recording."""
    ca = democa.create_ca("Test Court CA")
    anchors = tmp_path / "trust-anchors.pem"
    anchors.write_bytes(ca.pem)
    settings.TASPA_TRUST_ANCHORS = str(anchors)
    secretary = world.person("secretary")
    register_signing_key(
        actor=world.admin,
        user=secretary,
        p12=democa.issue_p12(ca, common_name="Айгүл Жұмабаева", password=PASSWORD),
        password=PASSWORD,
    )
    return secretary


@pytest.fixture
def hearing(world, signing_secretary) -> Iterator[Hearing]:
    """A hearing of today in court A (judge-a, secretary-a); its capture, if a test started
    one, is stopped and forgotten afterwards."""
    hearing = world.hearing(court="a")
    yield hearing
    engine = runtime.engine_for(hearing.pk)
    if engine is not None and engine.running:
        engine.stop()
    runtime.forget(hearing.pk)


@pytest.fixture
def client_for() -> Callable[[str], Client]:
    """``client_for(username)``: a browser signed in as that user of the world (password pw)."""

    def signed_in(username: str) -> Client:
        client = Client()
        assert client.login(username=username, password="pw")
        return client

    return signed_in
