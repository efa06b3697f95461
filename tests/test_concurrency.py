"""The server's bound on requests whose views run at once (taspa/concurrency.py, issue #9): a
burst waits for a slot or gets 503, and a slot follows the view's thread, not the client."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

from asgiref.sync import sync_to_async

from taspa.concurrency import BoundedViews


def run_in_own_loop(coroutine):
    """``asyncio.run`` on a thread of its own: the browser tests' Playwright keeps an event loop
    running on the main thread for the whole session, and ``asyncio.run`` refuses to nest."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


SCOPE = {"type": "http", "method": "GET", "path": "/", "headers": []}


class Response:
    """What one request got back."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def send(self, message: dict) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int | None:
        starts = [m for m in self.messages if m["type"] == "http.response.start"]
        return starts[0]["status"] if starts else None


async def _receive() -> dict:
    return {"type": "http.request", "body": b""}


async def _respond(send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_a_request_past_the_slots_waits_then_gets_503_with_retry_after():
    release = threading.Event()
    threads: set[str] = set()

    def view() -> None:
        threads.add(threading.current_thread().name)
        release.wait(5)

    async def app(scope, receive, send):
        await sync_to_async(view)()
        await _respond(send)

    async def main():
        bounded = BoundedViews(app, slots=1, wait_s=0.2)
        first, second = Response(), Response()
        running = asyncio.ensure_future(bounded(SCOPE, _receive, first.send))
        await asyncio.sleep(0.05)
        await bounded(SCOPE, _receive, second.send)  # waits 0.2 s for the busy slot
        assert (first.status, second.status) == (None, 503)
        headers = dict(second.messages[0]["headers"])
        assert headers[b"retry-after"] == b"1"
        release.set()
        await running
        third = Response()
        await bounded(SCOPE, _receive, third.send)
        assert (first.status, third.status) == (200, 200)

    run_in_own_loop(main())
    assert all(name.startswith("taspa-request") for name in threads)


def test_the_slot_is_back_when_the_response_starts():
    """An event stream goes on without a view: it does not hold a slot for its hours."""

    async def main():
        done = asyncio.Event()

        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            if scope["path"] == "/stream":
                await done.wait()
            await send({"type": "http.response.body", "body": b""})

        bounded = BoundedViews(app, slots=1, wait_s=0.2)
        stream, other = Response(), Response()
        running = asyncio.ensure_future(bounded(SCOPE | {"path": "/stream"}, _receive, stream.send))
        await asyncio.sleep(0.05)
        await bounded(SCOPE, _receive, other.send)
        assert other.status == 200
        done.set()
        await running

    run_in_own_loop(main())


def test_a_view_whose_client_left_keeps_its_slot_until_its_thread_is_done():
    """Django cancels a request whose client disconnected, but its view runs on in the thread
    (and on the database): the next request waits for that thread, not for the client."""
    release, order = threading.Event(), []

    def slow_view() -> None:
        release.wait(5)
        order.append("slow view done")

    def next_view() -> None:
        order.append("next view")

    async def main():
        async def app(scope, receive, send):
            if scope["path"] == "/slow":
                view = asyncio.ensure_future(sync_to_async(slow_view)())
                await asyncio.sleep(0.05)
                view.cancel()  # what Django does when the client disconnects
                return
            await sync_to_async(next_view)()
            await _respond(send)

        bounded = BoundedViews(app, slots=1, wait_s=2)
        await bounded(SCOPE | {"path": "/slow"}, _receive, Response().send)
        waiting = asyncio.ensure_future(bounded(SCOPE, _receive, Response().send))
        await asyncio.sleep(0.2)
        assert order == []  # still waiting for the slow view's thread
        release.set()
        await waiting
        assert order == ["slow view done", "next view"]

    run_in_own_loop(main())


def test_other_scopes_pass_through():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    run_in_own_loop(BoundedViews(app, slots=1, wait_s=1)({"type": "lifespan"}, _receive, None))
    assert seen == ["lifespan"]


def test_the_server_application_is_bounded_by_the_settings(settings):
    from taspa.asgi import application

    assert isinstance(application, BoundedViews)
    assert application.wait_s == settings.TASPA_WEB_QUEUE_SECONDS
