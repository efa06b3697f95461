"""Probes are never starved: with every view slot taken (taspa.concurrency), /healthz,
/readyz and /metrics still answer at once instead of queueing for a slot and getting 503."""

from __future__ import annotations

import asyncio
import threading

from asgiref.sync import sync_to_async

from taspa.concurrency import BoundedViews
from test_concurrency import Response, _receive, _respond, run_in_own_loop


def test_the_server_exempts_the_operations_endpoints():
    from taspa.asgi import application

    assert application.exempt == {"/healthz", "/readyz", "/metrics"}


def test_probes_answer_while_every_slot_is_busy():
    release = threading.Event()

    async def app(scope, receive, send):
        if scope["path"] == "/slow":
            await sync_to_async(release.wait)(5)
        await _respond(send)

    async def main():
        bounded = BoundedViews(app, slots=1, wait_s=0.2, exempt=frozenset({"/healthz"}))
        slow, busy, probe = Response(), Response(), Response()
        scope = {"type": "http", "method": "GET", "headers": []}
        running = asyncio.ensure_future(bounded(scope | {"path": "/slow"}, _receive, slow.send))
        await asyncio.sleep(0.05)
        await bounded(scope | {"path": "/page"}, _receive, busy.send)
        await asyncio.wait_for(bounded(scope | {"path": "/healthz"}, _receive, probe.send), 0.1)
        assert (busy.status, probe.status) == (503, 200)
        release.set()
        await running

    run_in_own_loop(main())
