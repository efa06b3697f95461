"""Fixtures for incidents and acts: a real SMTP server on loopback, EDS keys for signers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key

PASSWORD = "pin-1234"


@dataclass
class Mailbox:
    """Every message the loopback SMTP server accepted."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (it was free a moment ago)."""
    return free_port()


@pytest.fixture
def smtp_server(settings) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port; Django sends to it over SMTP."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Keys:
    ca: democa.DemoCA
    anchors: str

    def register(self, admin, user, name: str | None = None) -> None:
        register_signing_key(
            actor=admin,
            user=user,
            p12=democa.issue_p12(self.ca, common_name=name or str(user), password=PASSWORD),
            password=PASSWORD,
        )


@pytest.fixture(scope="session")
def demo_ca() -> democa.DemoCA:
    return democa.create_ca("Taspa Test Court CA")


@pytest.fixture
def keys(demo_ca, settings, tmp_path) -> Keys:
    """A trusted demo CA: ``keys.register(admin, user)`` gives ``user`` an EDS key."""
    anchors = tmp_path / "trust-anchors.pem"
    anchors.write_bytes(demo_ca.pem)
    settings.TASPA_TRUST_ANCHORS = str(anchors)
    return Keys(demo_ca, str(anchors))
