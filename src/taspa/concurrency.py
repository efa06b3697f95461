"""A bound on the requests whose views run at once in the server process.

Under ASGI, Django runs each request's synchronous view in a thread of its own, and each such
thread opens its own database connection. Nothing bounds them: a burst of slow requests — or
clients that give up and ask again, since Django cannot stop a view whose client left — opens
a thread and a PostgreSQL connection per request until the database refuses more. Here a
request first takes one of ``slots``; it waits for one at most ``wait_s`` seconds and is then
answered 503 with ``Retry-After``, so an overloaded server sheds load instead of piling it up.

A slot is given back when the response starts (what is left is sending it: an event stream or
a listening monitor may go on for hours without running a view), or else when the request's
thread is idle: a view whose client disconnected keeps its slot until it has really finished.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext

BUSY_BODY = b'{"error": "busy", "detail": "The server is busy; try again in a few seconds."}'


class BoundedViews:
    """ASGI middleware: at most ``slots`` HTTP requests run their views at the same time."""

    def __init__(
        self, app, *, slots: int, wait_s: float, exempt: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self.slots = asyncio.Semaphore(slots)
        self.wait_s = wait_s
        # Paths that never wait for a slot: health probes and scrapes (taspa.ops).
        self.exempt = exempt

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        try:
            await asyncio.wait_for(self.slots.acquire(), self.wait_s)
        except TimeoutError:
            await _busy(send, self.wait_s)
            return
        held, loop = True, asyncio.get_running_loop()

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self.slots.release()

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                release()
            await send(message)

        # The request's thread-sensitive work (its view, its database connection) runs on this
        # one thread, so the slot can follow it.
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="taspa-request")
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.app(scope, receive, sending)
        finally:
            # Queued behind whatever the thread still runs: a view whose client left.
            idle = thread.submit(_nothing)
            idle.add_done_callback(lambda _: loop.call_soon_threadsafe(release))
            thread.shutdown(wait=False)


def _nothing() -> None:
    pass


async def _busy(send, wait_s: float) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(max(1, round(wait_s))).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": BUSY_BODY})
