"""Fixtures of the web pages' tests: a hearing for the console whose secretary can seal
(``signing_secretary``, tests/conftest.py) and whose recorder is stopped after the test, and
browsers (Django test clients) signed in by user name."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client

from taspa.courts.models import Hearing
from taspa.recorder import runtime


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
